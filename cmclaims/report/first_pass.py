"""First-pass clean rate: the share of claims that were clean on the first run that saw them.

A claim is followed by its claim_id across the ledger's committed validate
runs: its first run is the earliest one that accepted or rejected it, and it
was clean on first pass when none of its lines was rejected in that run
(adjusted and warned lines are in the clean file: they count as clean).
Claims the ledger knows from an imported billing history were billed before
cmclaims saw them and are left out; a rejected line without a claim_id is a
claim of its own, seen once and not clean. Each claim keeps the date of
service it had in its first run, so that the rate can be counted by the
month of service as well as by run.
"""

from __future__ import annotations

import pandas as pd

from cmclaims.ledger.store import LedgerStore

_NO_CLAIMS = {"claim_id": pd.Series(dtype=object), "run_id": pd.Series(dtype=object),
              "rejected": pd.Series(dtype="int64"), "service_day": pd.Series(dtype="datetime64[ns]")}


def first_pass_by_claim(store: LedgerStore, runs: pd.DataFrame) -> pd.DataFrame:
    """Per claim: the run that first saw it, whether it was rejected there (0/1), its date of service."""
    committed = runs[runs["status"] == "committed"]
    validate_ids = committed.loc[committed["kind"] == "validate", "run_id"].tolist()
    import_ids = committed.loc[committed["kind"] == "import", "run_id"].tolist()
    if not validate_ids:
        return pd.DataFrame(_NO_CLAIMS)
    accepted = store.lines(columns=["claim_id", "service_day"], run_ids=validate_ids).to_pandas()
    accepted = accepted.assign(service_day=pd.to_datetime(accepted["service_day"].astype("int64"), unit="D"))
    findings = store.findings(validate_ids)
    if findings.num_rows:
        wanted = ["claim_id", "run_id", "disposition", "source_file", "source_row", "service_date"]
        rejected = findings.select(wanted).to_pandas()
        rejected = rejected[rejected["disposition"] == "rejected"]
        # Without a claim_id a line cannot be followed: it stands for itself.
        own_key = rejected["run_id"] + "\x1f" + rejected["source_file"].fillna("") + "\x1f" + \
            rejected["source_row"].astype("string").fillna("")
        rejected = rejected.assign(claim_id=rejected["claim_id"].where(rejected["claim_id"].notna(), own_key),
                                   service_day=pd.to_datetime(rejected["service_date"], format="%Y-%m-%d",
                                                              errors="coerce"))
    else:
        rejected = pd.DataFrame(columns=["claim_id", "run_id", "service_day"])
    events = pd.concat([accepted[["claim_id", "run_id", "service_day"]].assign(rejected=0),
                        rejected[["claim_id", "run_id", "service_day"]].assign(rejected=1)], ignore_index=True)
    if import_ids:
        imported = store.lines(columns=["claim_id"], run_ids=import_ids).column("claim_id").to_pandas()
        events = events[~events["claim_id"].isin(imported)]
    events["order"] = events["run_id"].map(runs.set_index("run_id")["order"])
    events = events[events["order"] == events.groupby("claim_id")["order"].transform("min")]
    per_claim = events.groupby("claim_id").agg(run_id=("run_id", "first"), rejected=("rejected", "max"),
                                               service_day=("service_day", "min")).reset_index()
    return per_claim if len(per_claim) else pd.DataFrame(_NO_CLAIMS)


def first_pass_by_run(store: LedgerStore, runs: pd.DataFrame) -> pd.DataFrame:
    """Per run: claims first seen in it, and how many of them were clean (run_id, first_seen, first_clean)."""
    per_claim = first_pass_by_claim(store, runs)
    per_run = per_claim.groupby("run_id").agg(first_seen=("rejected", "size"),
                                             first_rejected=("rejected", "sum")).reset_index()
    per_run["first_clean"] = per_run["first_seen"] - per_run["first_rejected"]
    return per_run[["run_id", "first_seen", "first_clean"]].astype({"first_seen": "int64", "first_clean": "int64"})
