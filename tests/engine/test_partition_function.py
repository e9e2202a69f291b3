"""The partition function on its own: Arrow tables in, Arrow tables out, what a local run gives.

No cluster here: the lines are cut by member, by staff member and by claim_id
the way any engine (Spark's applyInPandas, a plain loop) would, the checks
that cross members are decided first, and the partitions' outputs put
together give the local run's clean lines, findings and counts.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from cmclaims.engine.counting import combine_counts, combine_findings
from cmclaims.engine.layout import Layout, describe_file, lines_table, route, split_by
from cmclaims.engine.partition import PartitionPlan, claim_findings, staff_findings, validate_partition
from cmclaims.io.reader import read_source
from cmclaims.pipeline.request import ValidateRequest
from cmclaims.pipeline.validate import validate
from cmclaims.schema.columns import ENCOUNTER
from cmclaims.side.bundle import SideData
from tests.helpers import TODAY

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data" / "pa-performcare" / "export.csv"
PARTS = 4


def test_partitions_by_member_give_the_local_outputs(tmp_path: Path) -> None:
    local = validate(ValidateRequest([SAMPLE], "pa-performcare", tmp_path / "local", today=TODAY))
    source = read_source(SAMPLE, ENCOUNTER)
    plan = PartitionPlan(Layout((describe_file(source),), source.table.schema), "pa-performcare", SideData(),
                         TODAY, "reject")
    table = lines_table(source, 0)
    claim = source.columns["claim_id"]
    # CM010: every line whose claim_id repeats, together (the sample has some, on different members).
    counts = pc.value_counts(pc.utf8_trim_whitespace(table.column(claim)))
    repeated = counts.field("values").filter(pc.greater(counts.field("counts"), 1))
    claim_given = claim_findings(table.filter(pc.is_in(pc.utf8_trim_whitespace(table.column(claim)), repeated)),
                                 plan)
    # CM403: by staff member; its findings cut by member partition.
    by_staff = split_by(table, route(table, source.columns["staff_id"], PARTS), PARTS)
    staff_given = [staff_findings(part, claim_given, replace(plan), PARTS) for part in by_staff]
    # Every other rule: by member, with the decided findings handed in.
    by_member = split_by(table, route(table, source.columns["member_id"], PARTS), PARTS)
    outputs = [
        validate_partition(part, None, pa.concat_tables([claim_given, *[s[k] for s in staff_given]]), plan)
        for k, part in enumerate(by_member)
    ]

    assert claim_given.num_rows > 0
    clean = pa.concat_tables([o.clean for o in outputs]).sort_by([("__file", "ascending"), ("__row", "ascending")])
    expected = pacsv.read_csv(tmp_path / "local" / "clean.csv",
                              convert_options=pacsv.ConvertOptions(column_types={"claim_id": pa.string()}))
    assert clean.column("claim_id").to_pylist() == expected.column("claim_id").to_pylist()
    assert clean.column("billable_units").to_pylist() == expected.column("billable_units").to_pylist()
    assert combine_counts([o.counts for o in outputs]) == {k: local.summary[k] for k in ("counts", "units",
                                                                                          "dollars")}
    assert combine_findings([o.findings for o in outputs]) == local.summary["findings"]
