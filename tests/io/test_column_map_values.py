"""Column maps with [values.COLUMN] tables: read strictly, applied once per distinct value, reported."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cmclaims.cli import main
from tests.helpers import read_csv, write_csv
from tests.mapping.exports import ok_line


@pytest.fixture(autouse=True)
def _workplace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "200")


def _validate(tmp_path: Path, lines: list[dict], column_map: str, *options: str) -> int:
    export = write_csv(tmp_path / "export.csv", lines)
    (tmp_path / "map.toml").write_text(column_map)
    return main(["validate", str(export), "--profile", "ok-soonercare", "--out", str(tmp_path / "out"),
                 "--no-ledger", "--column-map", str(tmp_path / "map.toml"), *options])


def _lines(contacts: list[str]) -> list[dict]:
    return [ok_line(f"A{i}", f"{8 + i:02d}:00", f"{8 + i:02d}:30", staff_id=f"S{i}", contact_type=c)
            for i, c in enumerate(contacts)]


def test_spellings_are_mapped_whatever_their_case_and_counted(tmp_path: Path) -> None:
    contacts = ["Face to Face", "FACE TO FACE", " face to face ", "Phone", "Telehealth", "video"]
    column_map = '[values.contact_type]\n"Face to Face" = "face_to_face"\nphone = "telephone"\n' \
                 '"Telehealth" = "video"\n"Letter" = "mail"\n\n[values.note_signed]\n"Signed" = "Y"\n'
    assert _validate(tmp_path, _lines(contacts), column_map) == 0
    clean = read_csv(tmp_path / "out" / "clean.csv")
    assert [r["contact_type"] for r in clean] == contacts  # the clean file keeps what the export said
    report = json.loads((tmp_path / "out" / "summary.json").read_text())["column_map"]
    assert report["values"] == [
        {"column": "contact_type", "from": "Face to Face", "to": "face_to_face", "lines": 3},
        {"column": "contact_type", "from": "phone", "to": "telephone", "lines": 1},
        {"column": "contact_type", "from": "Telehealth", "to": "video", "lines": 1},
    ]
    # named in the map, but in no line tonight: reported, not silently ignored
    assert report["values_not_in_export"] == [{"column": "contact_type", "value": "Letter"},
                                              {"column": "note_signed", "value": "Signed"}]


def test_without_the_map_the_same_spellings_are_cm009(tmp_path: Path) -> None:
    export = write_csv(tmp_path / "export.csv", _lines(["Face to Face", "telephone"]))
    assert main(["validate", str(export), "--profile", "ok-soonercare", "--out", str(tmp_path / "out"),
                 "--no-ledger", "--max-input-errors", "1"]) == 1
    [finding] = read_csv(tmp_path / "out" / "exceptions.csv")
    assert (finding["claim_id"], finding["rule"]) == ("A0", "CM009")


def test_a_mapped_value_reaches_the_rules(tmp_path: Path) -> None:
    """'Draft' mapped to N is an unsigned note (CM701), not an unknown value."""
    lines = _lines(["face_to_face", "face_to_face"])
    lines[0]["note_signed"], lines[1]["note_signed"] = "Final", "Draft"
    assert _validate(tmp_path, lines, '[values.note_signed]\nFinal = "Y"\nDraft = "N"\n',
                     "--max-input-errors", "1") == 1
    [finding] = read_csv(tmp_path / "out" / "exceptions.csv")
    assert (finding["claim_id"], finding["rule"]) == ("A1", "CM701")


def test_a_header_the_export_does_not_have_is_reported_even_when_our_column_is_there(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    column_map = '[columns]\ncontact_type = "Contact Method"\n'
    assert _validate(tmp_path, _lines(["video"]), column_map, "--quiet") == 0
    assert "the column map names headers the export does not have: 'Contact Method' (contact_type)" in \
        capsys.readouterr().err
    report = json.loads((tmp_path / "out" / "summary.json").read_text())["column_map"]
    assert report["headers_not_in_export"] == [{"column": "contact_type", "header": "Contact Method"}]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('[values.member_id]\n"1" = "2"\n', "[values.member_id] names a column whose values cannot be mapped"),
        ('[values.charge]\n"1" = "2"\n', "[values.charge] names a column whose values cannot be mapped"),
        ('[values.contact_type]\n"Collateral" = ""\n', "[values.contact_type] gives no value for 'Collateral'"),
        ('[values.contact_type]\n"Zoom" = "zoom_call"\n', "maps to 'zoom_call', which contact_type does not accept"),
        ('[values.place_of_service]\n"Office" = "Office"\n', "not a two-digit place of service code"),
        ('values = "x"\n', "'values' must hold tables"),
        ('member_id = "A"\n[columns]\nmember_id = "B"\n', "member_id mapped both under [columns] and above it"),
    ],
)
def test_a_map_that_cannot_be_right_exits_2_before_anything_is_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, message: str
) -> None:
    assert _validate(tmp_path, _lines(["video"]), content) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
