"""`cmclaims sample`: the files it writes, their reproducibility, and what the validator makes of them."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from cmclaims.cli import main
from cmclaims.pipeline.validate import ValidateRequest, validate
from cmclaims.sample import generate
from cmclaims.schema.columns import AUTHORIZATIONS, ENCOUNTER, STAFF, STAYS
from cmclaims.tables import profile_names
from tests.helpers import TODAY

ROWS = 1500


def _sample(folder: Path, profile: str, rows: int = ROWS, seed: int = 7, suffix: str = "csv") -> dict[str, Path]:
    paths = {
        "export": folder / f"export.{suffix}",
        "authorizations": folder / "authorizations.csv",
        "stays": folder / "stays.csv",
        "staff": folder / "staff.csv",
    }
    code = main([
        "sample", "--rows", str(rows), "--out", str(paths["export"]), "--seed", str(seed), "--profile", profile,
        "--authorizations", str(paths["authorizations"]), "--stays", str(paths["stays"]),
        "--staff", str(paths["staff"]),
    ])
    assert code == 0
    return paths


def _header_and_rows(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


def test_command_writes_the_export_and_side_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    paths = _sample(tmp_path, "id-optum", rows=600)
    header, rows = _header_and_rows(paths["export"])
    assert len(rows) == 600
    assert set(ENCOUNTER.required) <= set(header)
    assert len({r["claim_id"] for r in rows}) >= 595  # unique, but for the few reused on purpose
    for name, columns in (("authorizations", AUTHORIZATIONS), ("stays", STAYS), ("staff", STAFF)):
        side_header, _ = _header_and_rows(paths[name])
        assert set(columns.required) <= set(side_header), name
    out = capsys.readouterr().out
    assert "600 rows" in out
    assert not any(r["member_id"] in out for r in rows)  # counts and file names only, never a member id


def test_same_seed_same_bytes_and_another_seed_differs(tmp_path: Path) -> None:
    first = _sample(tmp_path / "a", "mi-dwihn", rows=800, seed=3)
    again = _sample(tmp_path / "b", "mi-dwihn", rows=800, seed=3)
    other = _sample(tmp_path / "c", "mi-dwihn", rows=800, seed=4)
    for name in first:
        assert first[name].read_bytes() == again[name].read_bytes(), name
    assert first["export"].read_bytes() != other["export"].read_bytes()


def test_parquet_export_is_reproducible_and_holds_the_same_lines(tmp_path: Path) -> None:
    one = _sample(tmp_path / "a", "ok-soonercare", rows=300, suffix="parquet")
    two = _sample(tmp_path / "b", "ok-soonercare", rows=300, suffix="parquet")
    assert one["export"].read_bytes() == two["export"].read_bytes()
    table = pq.read_table(one["export"])
    assert table.num_rows == 300
    assert str(table.schema.field("member_id").type) == "string"
    as_csv = generate("ok-soonercare", 300, seed=7).export
    assert table.column("claim_id").to_pylist() == as_csv.column("claim_id").to_pylist()


@pytest.mark.parametrize("profile", profile_names())
def test_sample_validates_to_a_mix_of_clean_and_rejected_lines(tmp_path: Path, profile: str) -> None:
    paths = _sample(tmp_path, profile)
    request = ValidateRequest(
        inputs=[paths["export"]], profile=profile, out=tmp_path / "out", today=TODAY,
        authorizations=paths["authorizations"], stays=paths["stays"], staff=paths["staff"],
    )
    summary = validate(request).summary
    counts = summary.get("counts", summary)
    assert counts["lines_in"] == ROWS
    assert counts["lines_clean"] + counts["lines_rejected"] == ROWS
    _, clean = _header_and_rows(tmp_path / "out" / "clean.csv")
    _, findings = _header_and_rows(tmp_path / "out" / "exceptions.csv")
    assert len(clean) == counts["lines_clean"]
    rejected_rows = {(f["source_file"], f["source_row"]) for f in findings if f["disposition"] == "rejected"}
    assert len(rejected_rows) == counts["lines_rejected"]
    # Mostly billable, as a real night's export is, with something for several rules to find.
    assert 0.75 <= counts["lines_clean"] / ROWS <= 0.97
    fired = Counter(f["rule"] for f in findings)
    assert len(fired) >= 8, fired
    assert {rule[:3] for rule in fired} >= {"CM0", "CM1", "CM3", "CM4"}, fired


def test_problems_of_each_profile_reach_their_rules(tmp_path: Path) -> None:
    """Each profile's own policies get lines to judge: limits, caps, settings, stays, credentials."""
    expected = {
        "ok-soonercare": {"CM202", "CM511", "CM512", "CM601", "CM701"},
        "id-optum": {"CM204", "CM302"},
        "mi-dwihn": {"CM203", "CM514", "CM601"},
        "az-ahcccs": {"CM503", "CM606"},
        "pa-performcare": {"CM521"},
    }
    for profile, rules in expected.items():
        folder = tmp_path / profile
        paths = _sample(folder, profile, rows=2000, seed=11)
        request = ValidateRequest(
            inputs=[paths["export"]], profile=profile, out=folder / "out", today=TODAY,
            authorizations=paths["authorizations"], stays=paths["stays"], staff=paths["staff"],
        )
        fired = {finding["rule"] for finding in validate(request).summary["findings"]}
        assert rules <= fired, (profile, rules - fired)


@pytest.mark.parametrize(
    "arguments",
    [
        ["--rows", "0", "--out", "x.csv"],
        ["--rows", "10", "--out", "x.xlsx"],
        ["--rows", "10", "--out", "x.csv", "--profile", "nowhere"],
    ],
)
def test_bad_options_exit_2(tmp_path: Path, arguments: list[str]) -> None:
    arguments = [str(tmp_path / a) if a.startswith("x.") else a for a in arguments]
    assert main(["sample", *arguments]) == 2
    assert not list(tmp_path.iterdir())
