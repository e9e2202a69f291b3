"""The fast reader and the careful (RFC 4180) reader agree on every file without multi-line values."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cmclaims.io.csv_records import read_records
from cmclaims.io.reader import read_source
from cmclaims.schema.columns import ENCOUNTER
from tests.io.hostile_corpus import HEADER

_VALUE = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\n\r\x00\"", max_codepoint=0x2FFF),
                 max_size=8)
_QUOTED = _VALUE.map(lambda v: '"' + v.replace(",", " ") + '"') | st.builds(
    lambda a, b: f'"{a}, ""{b}"""', _VALUE, _VALUE)


@st.composite
def _files(draw: st.DrawFn) -> str:
    rows = []
    for n in range(draw(st.integers(0, 12))):
        kind = draw(st.sampled_from(["good", "good", "blank", "ragged", "quoted"]))
        values = [f"A{n}", f"M{n}", "1980-05-01", "2026-03-04", "09:00", "09:30", "T1017", "HE", "TF", "S1", "111",
                  "monitoring", draw(_VALUE).replace(",", " ")]
        if kind == "blank":
            rows.append("")
            continue
        if kind == "ragged":
            values.append(draw(_VALUE).replace(",", " "))
        if kind == "quoted":
            values[-1] = draw(_QUOTED)
        rows.append(",".join(values))
    ending = draw(st.sampled_from(["\n", "\r\n"]))
    return ending.join([",".join(HEADER), *rows]) + (ending if draw(st.booleans()) else "")


@given(_files())
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_the_fast_and_the_careful_reader_agree(tmp_path: Path, text: str) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes(text.encode())
    fast = read_source(path, ENCOUNTER)
    body = text.encode().split(b"\n", 1)[1] if "\n" in text else b""
    careful = read_records(body, "utf-8", fast.table.column_names, ",")
    assert careful.table.to_pylist() == fast.table.to_pylist()
    assert np.array_equal(careful.rows, fast.rows)
    assert [row for row, _ in careful.bad] == [bad.row for bad in fast.bad_rows]
