"""The batch holds its text dictionary-encoded, and gives back exactly the text of the file."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa

from cmclaims.io.batch import read_batch
from cmclaims.io.reader import read_source
from cmclaims.normalize.lines import build_lines
from cmclaims.schema.columns import ENCOUNTER
from cmclaims.tables import load_profile

HEADER = "claim_id,member_id,member_dob,service_date,start_time,end_time,hcpcs,modifier1,staff_id,note\n"
ROWS = [
    'C1, M1 ,2010-01-02,2026-03-04,09:00,09:30,t1017,HE,S1,"a, quoted note"\n',
    "C2,M1,2010-01-02,2026-03-04,10:00,10:30,T1017,,S1,\n",
    'C3,m2,2011-05-06,2026-03-05,09:00,09:45,T1017 , he ,S2,"""quotes"""\n',
    "C2,M3,,2026-03-05,11:00,11:15,T1016,HE,S2,plain\n",
]


def _write(folder: Path, name: str, rows: list[str]) -> Path:
    path = folder / name
    path.write_text(HEADER + "".join(rows), encoding="utf-8")
    return path


def test_encoded_columns_hold_the_files_text_before_and_after_normalising(tmp_path: Path) -> None:
    paths = [_write(tmp_path, "a.csv", ROWS * 3), _write(tmp_path, "b.csv", ROWS[1:])]
    plain = [read_source(p, ENCOUNTER).table for p in paths]
    batch = read_batch(paths, ENCOUNTER)
    # The reader encodes every column but the claim ids, whose values nearly all differ.
    assert pa.types.is_dictionary(batch.files[0].table.schema.field("member_id").type)
    assert batch.files[0].table.schema.field("claim_id").type == pa.string()
    for source, table in zip(batch.files, plain, strict=True):
        for name in table.column_names:
            assert source.table.column(name).cast(pa.string()).to_pylist() == table.column(name).to_pylist()
    build_lines(batch, load_profile("mi-dwihn").catalog, dt.date(2026, 12, 1))
    for source, table in zip(batch.files, plain, strict=True):
        assert pa.types.is_dictionary(source.table.schema.field("hcpcs").type)
        for name in table.column_names:
            assert source.table.column(name).cast(pa.string()).to_pylist() == table.column(name).to_pylist(), name
