"""The DuckDB peer of `make bench`: the core of a night's work as one hand-written SQL query.

What a competent analyst would write instead of cmclaims, and what cmclaims
must beat: read the export, compute each line's billable minutes and units
(15-minute units with midpoint rounding, hourly H2035, one unit a day for the
per-diem codes), running sums of units per member and service by day, month
and year in the order member, date, start, claim, and write every line with its
units to clean.csv and the lines over a limit or without billable time to
exceptions.csv. It has none of cmclaims' exact semantics (a rejected line's
units still count toward the sums) and none of its other rules: it is a floor
for the work, not a validator.

    .venv/bin/python scripts/bench_peer.py EXPORT.csv OUT_FOLDER
"""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb

# Limits the sums are checked against (the shape of Oklahoma's daily and monthly
# limits and Idaho's annual cap); the figures only decide which lines are written
# to the exceptions file.
DAILY, MONTHLY, ANNUAL = 16, 56, 240

QUERY = """
CREATE TEMP TABLE lines AS
WITH typed AS (
    SELECT *,
        TRY_CAST(service_date AS DATE) AS day,
        TRY_CAST(split_part(start_time, ':', 1) AS INTEGER) * 60
            + TRY_CAST(split_part(start_time, ':', 2) AS INTEGER) AS start_minute,
        TRY_CAST(split_part(end_time, ':', 1) AS INTEGER) * 60
            + TRY_CAST(split_part(end_time, ':', 2) AS INTEGER) AS end_minute,
        COALESCE(TRY_CAST(travel_minutes AS INTEGER), 0) AS travel
    FROM read_csv('{export}', header = true, all_varchar = true)
), minutes AS (
    SELECT *, GREATEST(end_minute - start_minute - travel, 0) AS billable_minutes FROM typed
), units AS (
    SELECT *,
        CASE
            WHEN hcpcs IN ('H2036', 'H0023') THEN 1
            WHEN hcpcs = 'H2035' THEN CAST(floor((billable_minutes + 29) / 60) AS INTEGER)
            ELSE CAST(floor((billable_minutes + 7) / 15) AS INTEGER)
        END AS billable_units
    FROM minutes
)
SELECT *,
    SUM(billable_units) OVER (PARTITION BY member_id, hcpcs, modifier1, day
        ORDER BY start_minute, claim_id ROWS UNBOUNDED PRECEDING) AS daily_units,
    SUM(billable_units) OVER (PARTITION BY member_id, hcpcs, modifier1, date_trunc('month', day)
        ORDER BY day, start_minute, claim_id ROWS UNBOUNDED PRECEDING) AS monthly_units,
    SUM(billable_units) OVER (PARTITION BY member_id, year(day)
        ORDER BY day, start_minute, claim_id ROWS UNBOUNDED PRECEDING) AS annual_units
FROM units;

COPY (SELECT * EXCLUDE (day, start_minute, end_minute, travel) FROM lines)
    TO '{out}/clean.csv' (HEADER);
COPY (
    SELECT claim_id, member_id, service_date, hcpcs, modifier1, staff_id, billable_units,
        CASE
            WHEN billable_units <= 0 THEN 'no billable time'
            WHEN daily_units > {daily} THEN 'over the daily limit'
            WHEN monthly_units > {monthly} THEN 'over the monthly limit'
            ELSE 'over the annual cap'
        END AS message
    FROM lines
    WHERE billable_units <= 0 OR day IS NULL
       OR daily_units > {daily} OR monthly_units > {monthly} OR annual_units > {annual}
) TO '{out}/exceptions.csv' (HEADER);
"""


def run(export: Path, out: Path) -> None:
    """Run the query over `export`, writing clean.csv and exceptions.csv to `out`."""
    out.mkdir(parents=True, exist_ok=True)
    connection = duckdb.connect(":memory:")
    connection.execute(f"SET temp_directory = '{out / 'spill'}'")
    connection.execute(QUERY.format(export=export, out=out, daily=DAILY, monthly=MONTHLY, annual=ANNUAL))
    connection.close()


if __name__ == "__main__":
    run(Path(sys.argv[1]), Path(sys.argv[2]))
