"""The Dask engine gives what the local engine gives: the same bytes, counts and ledger records.

Every test runs both engines on the same input and compares what a clerk and
finance read: clean and exceptions files byte for byte (CSV), the same rows
(Parquet datasets against the local file), summary.json's counts, units,
dollars, findings per rule and exit code, and the lines recorded in the
ledger. The cluster is a small LocalCluster (two workers, threads), started
once for the module.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cmclaims.engine.dask import validate_on_dask
from cmclaims.pipeline.request import ValidateRequest
from cmclaims.pipeline.validate import validate
from cmclaims.sample import generate
from cmclaims.sample.output import write_sample_table
from tests.helpers import TODAY, new_ledger

SAMPLES = Path(__file__).resolve().parents[2] / "sample_data"
PROFILES = ("ok-soonercare", "id-optum", "mi-dwihn", "az-ahcccs", "pa-performcare")
SAME = ("counts", "units", "dollars", "findings", "rules_applied", "rules_skipped", "exit_code", "inputs", "run_id")

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None)
    with cluster, distributed.Client(cluster) as dask_client:
        yield dask_client


def _request(inputs: list[Path], profile: str, out: Path, **options) -> ValidateRequest:
    return ValidateRequest(inputs=inputs, profile=profile, out=out, today=TODAY, **options)


def _both(tmp: Path, inputs: list[Path], profile: str, client, ledger: Path | None = None, **options):
    """Run the local and the Dask engine (each on its own copy of the ledger); their output folders."""
    local_ledger = dask_ledger = None
    if ledger is not None:
        local_ledger, dask_ledger = tmp / "local.sqlite3", tmp / "dask.sqlite3"
        shutil.copyfile(ledger, local_ledger)
        shutil.copyfile(ledger, dask_ledger)
    local = validate(_request(inputs, profile, tmp / "local", ledger=local_ledger, **options))
    on_dask = validate_on_dask(_request(inputs, profile, tmp / "dask", ledger=dask_ledger, **options), client=client,
                               partitions=3)
    return local, on_dask, local_ledger, dask_ledger


def _assert_same_summary(local: dict, on_dask: dict) -> None:
    for key in SAME:
        assert on_dask[key] == local[key], key
    assert on_dask["ledger"].get("lines_recorded") == local["ledger"].get("lines_recorded")


def _ledger_lines(ledger: Path) -> pa.Table:
    from cmclaims.ledger.store import SqliteLedger

    store = SqliteLedger(ledger, read_only=True)
    try:
        lines = store.lines()
    finally:
        store.close()
    keep = [c for c in lines.column_names if c != "block_row"]
    return lines.select(keep).sort_by([(c, "ascending") for c in ("claim_id", "run_id")])


def _side(profile: str) -> dict[str, Path]:
    folder = SAMPLES / profile
    return {"authorizations": folder / "authorizations.csv", "stays": folder / "stays.csv",
            "staff": folder / "staff.csv"}


@pytest.mark.parametrize("profile", PROFILES)
def test_bundled_samples_give_the_same_bytes(tmp_path: Path, profile: str, client) -> None:
    """Each bundled sample with its side files: the same clean and exceptions bytes, the same counts."""
    local, on_dask, _, _ = _both(tmp_path, [SAMPLES / profile / "export.csv"], profile, client, **_side(profile))
    for name in ("clean.csv", "exceptions.csv"):
        assert (tmp_path / "dask" / name).read_bytes() == (tmp_path / "local" / name).read_bytes(), name
    _assert_same_summary(local.summary, on_dask.summary)
    assert local.summary["counts"]["lines_rejected"] > 0  # the samples hold every kind of problem


@pytest.mark.parametrize("profile", ["id-optum", "ok-soonercare"])  # annual cap and authorizations; daily, monthly
def test_second_night_with_a_ledger_gives_the_same_bytes_and_records(tmp_path: Path, profile: str, client) -> None:
    """Two nights over a sample (the second with the first in the ledger): same files, counts, ledger lines."""
    folder = SAMPLES / profile
    side = _side(profile)
    lines = (folder / "export.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    first, second = tmp_path / "night1.csv", tmp_path / "night2.csv"
    first.write_text("".join(lines[:1001]), encoding="utf-8")
    second.write_text(lines[0] + "".join(lines[1001:]), encoding="utf-8")
    ledger = new_ledger(tmp_path / "ledger.sqlite3")
    validate(_request([first], profile, tmp_path / "night1", ledger=ledger, **side))

    local, on_dask, local_ledger, dask_ledger = _both(tmp_path, [second], profile, client, ledger, **side)

    for name in ("clean.csv", "exceptions.csv"):
        assert (tmp_path / "dask" / name).read_bytes() == (tmp_path / "local" / name).read_bytes(), name
    _assert_same_summary(local.summary, on_dask.summary)
    assert local.summary["ledger"]["lines_recorded"] > 0
    assert _ledger_lines(dask_ledger).equals(_ledger_lines(local_ledger))



def test_an_original_in_another_month_is_released_on_dask_as_locally(tmp_path: Path, client) -> None:
    """Idaho's annual cap: a May replacement of a March line frees the March units on both engines (the
    Dask partitions have no ledger; the driver ships them the originals the batch names, in any month)."""
    from tests.helpers import write_csv
    from tests.ledger.support import optum_line

    ledger = new_ledger(tmp_path / "ledger.sqlite3")
    march = write_csv(tmp_path / "march.csv", [optum_line(f"A{i}", "M1", f"2026-03-{i + 2:02d}", 10)
                                               for i in range(24)])  # 240 of 240
    validate(_request([march], "id-optum", tmp_path / "night1", ledger=ledger))
    may = write_csv(tmp_path / "may.csv", [
        optum_line("R0", "M1", "2026-05-04", 2, claim_frequency="7", original_claim_id="A0"),  # frees 8
        optum_line("N1", "M1", "2026-05-04", 8, start="10:00"),
        optum_line("N2", "M2", "2026-05-04", 8, staff_id="S2"),
    ])
    local, on_dask, local_ledger, dask_ledger = _both(tmp_path, [may], "id-optum", client, ledger)
    assert local.summary["counts"]["lines_rejected"] == 0  # R0 and N1 fit in what A0 freed
    for name in ("clean.csv", "exceptions.csv"):
        assert (tmp_path / "dask" / name).read_bytes() == (tmp_path / "local" / name).read_bytes(), name
    _assert_same_summary(local.summary, on_dask.summary)
    assert _ledger_lines(dask_ledger).equals(_ledger_lines(local_ledger))

def test_a_replaced_claim_sent_again_is_billed_already_on_dask_as_locally(tmp_path: Path, client) -> None:
    """Night 1 bills X, night 2 replaces it by Y; X sent again on night 3 is still billed (Y carries it):
    CM402 on both engines (the driver ships the partitions the claims replacements carry)."""
    from tests.helpers import write_csv
    from tests.ledger.support import optum_line

    ledger = new_ledger(tmp_path / "ledger.sqlite3")
    nights = [
        [optum_line("X", "M1", "2026-03-02", 4)],
        [optum_line("Y", "M1", "2026-03-02", 3, claim_frequency="7", original_claim_id="X")],
    ]
    for number, lines in enumerate(nights, start=1):
        validate(_request([write_csv(tmp_path / f"night{number}.csv", lines)], "id-optum", tmp_path / f"out{number}",
                          ledger=ledger))
    again = write_csv(tmp_path / "night3.csv", [optum_line("X", "M1", "2026-03-09", 4)])
    local, on_dask, local_ledger, dask_ledger = _both(tmp_path, [again], "id-optum", client, ledger)
    assert [(f["rule"], f["lines_rejected"]) for f in local.summary["findings"]] == [("CM402", 1)]
    for name in ("clean.csv", "exceptions.csv"):
        assert (tmp_path / "dask" / name).read_bytes() == (tmp_path / "local" / name).read_bytes(), name
    _assert_same_summary(local.summary, on_dask.summary)
    assert _ledger_lines(dask_ledger).equals(_ledger_lines(local_ledger))


def test_a_rerun_keeps_its_void_whose_original_was_billed_again_on_dask_as_locally(tmp_path: Path, client) -> None:
    """Night 2 voids C2 under the id V; night 3 bills V as a claim of its own and C2 again. Night 2 validated
    again leaves its void as it was on both engines (rejecting it would bring C2's original back: billed
    twice); the driver ships the partitions what the run retired before."""
    from tests.helpers import write_csv
    from tests.ledger.support import optum_line

    ledger = new_ledger(tmp_path / "ledger.sqlite3")
    night2 = write_csv(tmp_path / "night2.csv", [
        optum_line("V", "M1", "2026-03-02", 2, claim_frequency="8", original_claim_id="C2")])
    for number, path in enumerate([
        write_csv(tmp_path / "night1.csv", [optum_line("C2", "M1", "2026-03-02", 2)]),
        night2,
        write_csv(tmp_path / "night3.csv", [optum_line("V", "M1", "2026-03-03", 4),
                                            optum_line("C2", "M1", "2026-03-04", 2)]),
    ], start=1):
        validate(_request([path], "id-optum", tmp_path / f"out{number}", ledger=ledger))
    local, on_dask, local_ledger, dask_ledger = _both(tmp_path, [night2], "id-optum", client, ledger)
    assert local.summary["counts"]["lines_rejected"] == 0
    for name in ("clean.csv", "exceptions.csv"):
        assert (tmp_path / "dask" / name).read_bytes() == (tmp_path / "local" / name).read_bytes(), name
    _assert_same_summary(local.summary, on_dask.summary)
    assert _ledger_lines(dask_ledger).equals(_ledger_lines(local_ledger))


def _perturbed(profile: str, rows: int, seed: int) -> pa.Table:
    """A generated export with what crosses members: a claim_id on two members' lines, one staff
    member with two members at once, member and staff ids written with stray spaces."""
    export = generate(profile, rows, seed).export
    rng = np.random.default_rng(seed)
    lines = [{k: (None if v is None else str(v)) for k, v in row.items()} for row in export.to_pylist()]
    n = len(lines)
    for _ in range(max(4, n // 100)):
        a, b, c, d = (int(i) for i in rng.integers(0, n, 4))
        for _ in range(50):  # another member's line (a batch has many members)
            if lines[d]["member_id"] != lines[c]["member_id"]:
                break
            d = int(rng.integers(0, n))
        # the same claim_id exported for another member's line
        lines[b]["claim_id"] = lines[a]["claim_id"]
        # the same staff member, another member, the same hour
        lines.append({**lines[c], "member_id": lines[d]["member_id"], "claim_id": f"X{seed}-{c}-{d}"})
        # one member and one staff member written with spaces around the id
        for column in ("member_id", "staff_id"):
            if lines[d][column] is not None:
                lines[d][column] = f"  {lines[d][column]} "
    return pa.Table.from_pylist(lines, schema=pa.schema([(name, pa.string()) for name in export.column_names]))


@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    profile=st.sampled_from(PROFILES),
    rows=st.integers(min_value=50, max_value=600),
    seed=st.integers(min_value=0, max_value=10_000),
    files=st.integers(min_value=1, max_value=3),
    over_limit=st.sampled_from(["reject", "cutback"]),
)
def test_generated_batches_give_the_same_outputs(tmp_path_factory, client, profile: str, rows: int, seed: int,
                                                  files: int, over_limit: str) -> None:
    """Any generated batch, cut into several CSV files: the same bytes, counts and findings."""
    tmp = tmp_path_factory.mktemp("generated")
    table = _perturbed(profile, rows, seed)
    cuts = np.linspace(0, table.num_rows, files + 1).astype(int)
    inputs = []
    for i in range(files):
        path = tmp / f"part{i}.csv"
        write_sample_table(table.slice(cuts[i], cuts[i + 1] - cuts[i]), path)
        inputs.append(path)
    local, on_dask, _, _ = _both(tmp, inputs, profile, client, over_limit=over_limit)
    found = {f["rule"] for f in local.summary["findings"]}
    assert {"CM010", "CM403"} <= found  # the checks that cross members were put to the test
    for name in ("clean.csv", "exceptions.csv"):
        assert (tmp / "dask" / name).read_bytes() == (tmp / "local" / name).read_bytes(), name
    _assert_same_summary(local.summary, on_dask.summary)


def test_parquet_folder_in_parquet_datasets_out(tmp_path: Path, client) -> None:
    """A folder of Parquet parts in; clean and exceptions as datasets (folders of parts) with the local rows."""
    table = _perturbed("ok-soonercare", 400, 7)
    folder = tmp_path / "export"
    folder.mkdir()
    for i, start in enumerate(range(0, table.num_rows, 150)):
        write_sample_table(table.slice(start, 150), folder / f"part-{i:03d}.parquet")
    parts = sorted(folder.iterdir())
    local = validate(_request(parts, "ok-soonercare", tmp_path / "local", output_format="parquet"))
    from cmclaims.engine import run

    request = _request([folder], "ok-soonercare", tmp_path / "dask", output_format="parquet", engine="dask")
    from cmclaims.engine.dask import validate_on_dask as on_dask_run
    from cmclaims.engine.inputs import expand_inputs

    request.inputs = expand_inputs(request.inputs)
    on_dask = on_dask_run(request, client=client, partitions=3)
    assert run is not None
    for name in ("clean", "exceptions"):
        dataset = tmp_path / "dask" / f"{name}.parquet"
        assert dataset.is_dir() and any(dataset.iterdir())
        expected = pq.read_table(tmp_path / "local" / f"{name}.parquet")
        got = pa.concat_tables(pq.read_table(p) for p in sorted(dataset.iterdir()))
        assert got.cast(expected.schema).equals(expected), name
    _assert_same_summary(local.summary, on_dask.summary)
    assert json.loads((tmp_path / "dask" / "summary.json").read_text())["outputs"]["clean"].endswith("clean.parquet")
