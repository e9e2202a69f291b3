"""First-pass clean rate: the share of claims that were clean on the first run that saw them.

A claim is followed by its claim_id across the ledger's committed validate
runs: its first run is the earliest one that accepted or rejected it, and it
was clean on first pass when none of its lines was rejected in that run
(adjusted and warned lines are in the clean file: they count as clean).
Claims the ledger knows from an imported billing history were billed before
cmclaims saw them and are left out; a rejected line without a claim_id is a
claim of its own, seen once and not clean.
"""

from __future__ import annotations

import pandas as pd

from cmclaims.ledger.store import LedgerStore


def first_pass_by_run(store: LedgerStore, runs: pd.DataFrame) -> pd.DataFrame:
    """Per run: claims first seen in it, and how many of them were clean (run_id, first_seen, first_clean)."""
    committed = runs[runs["status"] == "committed"]
    validate_ids = committed.loc[committed["kind"] == "validate", "run_id"].tolist()
    import_ids = committed.loc[committed["kind"] == "import", "run_id"].tolist()
    empty = pd.DataFrame({"run_id": pd.Series(dtype=object), "first_seen": pd.Series(dtype="int64"),
                          "first_clean": pd.Series(dtype="int64")})
    if not validate_ids:
        return empty
    accepted = store.lines(columns=["claim_id"], run_ids=validate_ids).to_pandas()[["claim_id", "run_id"]]
    findings = store.findings(validate_ids)
    if findings.num_rows:
        wanted = ["claim_id", "run_id", "disposition", "source_file", "source_row"]
        rejected = findings.select(wanted).to_pandas()
        rejected = rejected[rejected["disposition"] == "rejected"]
        # Without a claim_id a line cannot be followed: it stands for itself.
        own_key = rejected["run_id"] + "\x1f" + rejected["source_file"].fillna("") + "\x1f" + \
            rejected["source_row"].astype("string").fillna("")
        rejected = rejected.assign(claim_id=rejected["claim_id"].where(rejected["claim_id"].notna(), own_key))
    else:
        rejected = pd.DataFrame(columns=["claim_id", "run_id"])
    events = pd.concat([accepted.assign(rejected=0), rejected[["claim_id", "run_id"]].assign(rejected=1)],
                       ignore_index=True)
    if import_ids:
        imported = store.lines(columns=["claim_id"], run_ids=import_ids).column("claim_id").to_pandas()
        events = events[~events["claim_id"].isin(imported)]
    events["order"] = events["run_id"].map(runs.set_index("run_id")["order"])
    events = events[events["order"] == events.groupby("claim_id")["order"].transform("min")]
    per_claim = events.groupby("claim_id").agg(run_id=("run_id", "first"), rejected=("rejected", "max"))
    per_run = per_claim.groupby("run_id").agg(first_seen=("rejected", "size"),
                                             first_rejected=("rejected", "sum")).reset_index()
    per_run["first_clean"] = per_run["first_seen"] - per_run["first_rejected"]
    return per_run[["run_id", "first_seen", "first_clean"]] if len(per_run) else empty
