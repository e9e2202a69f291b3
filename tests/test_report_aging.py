"""Aging on fixed dates: the bucket boundaries, and what is open as of a day."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from cmclaims.report.aging import BUCKET_ORDER, age_days, bucket_of
from cmclaims.report.open_items import aging_table, resolve
from cmclaims.report.run_files import exceptions_frame

AS_OF = dt.date(2026, 10, 31)


def _service_days(ages: list[int]) -> pd.Series:
    return pd.Series([pd.Timestamp(AS_OF) - pd.Timedelta(days=a) for a in ages])


def test_bucket_boundaries() -> None:
    ages = [0, 30, 31, 60, 61, 90, 91, 180, 181, 400]
    buckets = bucket_of(age_days(_service_days(ages), AS_OF)).astype(str).tolist()
    assert buckets == ["0-30", "0-30", "31-60", "31-60", "61-90", "61-90", "91-180", "91-180", "over 180",
                       "over 180"]


def test_no_date_or_a_future_date_has_no_age() -> None:
    days = pd.Series([pd.NaT, pd.Timestamp(AS_OF) + pd.Timedelta(days=3)])
    assert bucket_of(age_days(days, AS_OF)).astype(str).tolist() == ["no valid date", "no valid date"]


def _runs() -> pd.DataFrame:
    finished = pd.to_datetime(["2026-10-01T08:00:00+00:00", "2026-10-20T08:00:00+00:00"], utc=True)
    return pd.DataFrame({"run_id": ["r1", "r2"], "finished": finished, "day": finished.tz_localize(None).normalize(),
                         "order": [0, 1]})


def _finding(claim: str, run: str, service_date: str, held: float, rule: str = "CM302") -> dict:
    return {"claim_id": claim, "run_id": run, "service_date": service_date, "disposition": "rejected", "rule": rule,
            "rule_name": "activity.not_billable", "charge": held, "charge_held": held, "source_file": "e.csv",
            "source_row": 1, "staff_id": "S1", "member_id": "MBR1"}


def test_open_items_as_of_month_end_on_fixed_dates() -> None:
    service = {claim: (pd.Timestamp(AS_OF) - pd.Timedelta(days=age)).strftime("%Y-%m-%d")
               for claim, age in (("D30", 30), ("D31", 31), ("D60", 60), ("D61", 61), ("D90", 90), ("D91", 91),
                                  ("D180", 180), ("D181", 181))}
    rows = [_finding(claim, "r1", day, 10.0) for claim, day in service.items()]
    rows += [_finding("PASSED", "r1", "2026-09-01", 50.0), _finding("OFF", "r1", "2026-09-01", 70.0),
             _finding("BADDATE", "r2", "2026-02-30", 5.0)]
    findings = exceptions_frame(__import__("pyarrow").Table.from_pylist(rows)).assign(
        run_id=[r["run_id"] for r in rows])
    accepted = pd.DataFrame({"claim_id": ["PASSED"], "original_claim_id": [None], "run_id": ["r2"]})
    writeoffs = pd.DataFrame({"claim_id": ["OFF"], "reason": ["too old"],
                              "written_off_at": ["2026-10-10T12:00:00+00:00"]})
    items = resolve(findings, accepted, _runs(), writeoffs, AS_OF)
    buckets = dict(zip(items.claims["claim_id"], items.claims["aging_bucket"].astype(str), strict=True))
    assert buckets == {"D30": "0-30", "D31": "31-60", "D60": "31-60", "D61": "61-90", "D90": "61-90",
                       "D91": "91-180", "D180": "91-180", "D181": "over 180", "BADDATE": "no valid date"}
    assert (items.resolved_passed, items.written_off) == (1, 1)
    aging = aging_table(items).set_index("age")
    assert aging["open_claims"].tolist() == [1, 2, 2, 2, 1, 1]
    assert aging.index.tolist() == BUCKET_ORDER
    assert aging["dollars_held"].sum() == 85.0


def test_a_rejection_after_the_write_off_is_open_again() -> None:
    rows = [_finding("A", "r2", "2026-09-01", 40.0)]
    findings = exceptions_frame(__import__("pyarrow").Table.from_pylist(rows)).assign(run_id=["r2"])
    empty = pd.DataFrame({"claim_id": [], "original_claim_id": [], "run_id": []})
    # Written off on 10 October; run r2 rejected it again on 20 October: new work.
    writeoffs = pd.DataFrame({"claim_id": ["A"], "reason": ["x"], "written_off_at": ["2026-10-10T12:00:00+00:00"]})
    assert resolve(findings, empty, _runs(), writeoffs, AS_OF).claims["claim_id"].tolist() == ["A"]
    # A write-off made after the as-of day does not count at month end either.
    later = writeoffs.assign(written_off_at=["2026-11-02T12:00:00+00:00"])
    assert resolve(findings, empty, _runs(), later, AS_OF).claims["claim_id"].tolist() == ["A"]
    assert resolve(findings, empty, _runs(), later, dt.date(2026, 11, 30)).claims.empty
