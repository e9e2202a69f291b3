"""Which ledger line each remitted line pays (SPEC section 11).

First by the line item control number: the 837 sent our claim_id as REF*6R
and the payer returns it. A payer that drops it (or a 4010 remittance) is
matched on what identifies a service line instead: member, date of service,
code, units, and the service's level modifier among the line's modifiers
(the ledger keeps each line's service, `T1017:TF`, not every modifier).
When several ledger lines share all of these (two sessions on one day),
the remitted lines take them in claim_id order, a reversal and its
re-payment each counting separately, so that both land on the same line.
A line that matches nothing is kept with match `none` and listed: nothing
is dropped.

Everything is joins over whole columns: no loop over lines.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

BY_CONTROL_NUMBER = "line_control"  # REF*6R = claim_id
BY_SERVICE = "member_date_code_units"
UNMATCHED = "none"
LEDGER_COLUMNS = ["claim_id", "member_id", "service", "hcpcs", "service_day", "units", "charge", "run_id",
                  "profile"]
_KEY = ["member_id", "service_day", "hcpcs", "units"]


def match_lines(lines: pd.DataFrame, ledger: pd.DataFrame) -> pd.DataFrame:
    """Per remitted line (line_no): claim_id, run_id, service, profile and how it matched.

    `lines` has line_no, line_control, member_id, service_date (ISO), hcpcs,
    modifiers (`HE:TF`), units_billed and claim_status; `ledger` has LEDGER_COLUMNS,
    the lines committed runs recorded, latest run last.
    """
    result = pd.DataFrame({"line_no": lines["line_no"].to_numpy(), "claim_id": None, "run_id": None,
                           "service": None, "profile": None, "match": UNMATCHED})
    if lines.empty or ledger.empty:
        return result
    latest = ledger.drop_duplicates("claim_id", keep="last").set_index("claim_id")
    control = lines["line_control"].where(lines["line_control"].isin(latest.index))
    by_control = control.notna().to_numpy()
    found = latest.reindex(control[by_control].to_numpy())
    result.loc[by_control, "claim_id"] = control[by_control].to_numpy()
    for column in ("run_id", "service", "profile"):
        result.loc[by_control, column] = found[column].to_numpy()
    result.loc[by_control, "match"] = BY_CONTROL_NUMBER

    rest = lines[~by_control]
    if len(rest):
        # A ledger line this file already answers by its control number is not another line's match.
        taken = set(control[by_control])
        chosen = _by_service(rest, ledger[~ledger["claim_id"].isin(taken)])
        where = result["line_no"].isin(chosen.index).to_numpy()
        picked = chosen.reindex(result.loc[where, "line_no"].to_numpy())
        for column in ("claim_id", "run_id", "service", "profile"):
            result.loc[where, column] = picked[column].to_numpy()
        result.loc[where, "match"] = BY_SERVICE
    return result


def _by_service(lines: pd.DataFrame, ledger: pd.DataFrame) -> pd.DataFrame:
    """The ledger line each remitted line (without a usable REF*6R) pays, indexed by line_no."""
    days = pd.to_datetime(lines["service_date"], format="%Y-%m-%d", errors="coerce")
    remit = pd.DataFrame({
        "line_no": lines["line_no"].to_numpy(),
        "member_id": lines["member_id"].to_numpy(),
        "service_day": ((days - pd.Timestamp("1970-01-01")).dt.days).to_numpy(),
        "hcpcs": lines["hcpcs"].to_numpy(),
        "units": np.abs(lines["units_billed"].to_numpy(dtype=float)),
        "reversal": (lines["claim_status"] == "22").to_numpy(),
        "modifiers": lines["modifiers"].fillna("").to_numpy(),
    }).dropna(subset=["member_id", "service_day", "hcpcs"])
    if remit.empty:
        return pd.DataFrame(columns=["claim_id", "run_id", "service", "profile"])
    remit["service_day"] = remit["service_day"].astype("int64")
    # The n-th remitted line of a key (reversals counted apart) takes the n-th ledger line of that key.
    remit["rank"] = remit.groupby([*_KEY, "reversal"]).cumcount()
    book = ledger.drop_duplicates("claim_id", keep="last").assign(
        service_day=lambda f: f["service_day"].astype("int64"), units=lambda f: f["units"].astype(float),
        level=lambda f: f["service"].fillna("").str.split(":", n=1).str[1].fillna(""))
    candidates = remit.merge(book, on=_KEY, how="inner")
    # The service's level modifier must be among the line's modifiers.
    modifiers = remit[["line_no", "modifiers"]].assign(level=remit["modifiers"].str.split(":")).explode("level")
    carried = pd.MultiIndex.from_frame(modifiers[["line_no", "level"]])
    level_ok = (candidates["level"] == "") | pd.MultiIndex.from_frame(candidates[["line_no", "level"]]).isin(carried)
    candidates = candidates[level_ok].sort_values(["line_no", "claim_id"], kind="stable")
    if candidates.empty:
        return pd.DataFrame(columns=["claim_id", "run_id", "service", "profile"])
    position = candidates.groupby("line_no").cumcount()
    count = candidates.groupby("line_no")["claim_id"].transform("size")
    chosen = candidates[position == candidates["rank"] % count]
    return chosen.set_index("line_no")[["claim_id", "run_id", "service", "profile"]]
