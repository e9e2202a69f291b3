"""Remittances: what the payer did with what cmclaims passed (SPEC section 11).

    x12_read.py      reading an X12 835 with pyx12: payments, service lines, adjustments; or a clear error
    x12_write.py     writing an 835 from a table of lines (the tests' and the sample's payer)
    matching.py      each remitted line to the ledger line it pays: REF*6R = claim_id, else member, date,
                     code, modifiers and units
    ledger_tables.py the ledger's remittance tables, created with the first posting
    post.py          `cmclaims remit`: read every file, match, record once, in one transaction
    outcome.py       each claim's fate across its remittances: paid in full, partly paid, denied, reversed
"""
