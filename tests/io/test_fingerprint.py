"""The reader's streaming pass (line ends, over-long lines) and its SHA-256, taken on a thread after parsing."""

from __future__ import annotations

import hashlib
import random
from pathlib import Path

import pytest

from cmclaims.errors import InputMissing
from cmclaims.io.csv_records import MAX_VALUE_BYTES
from cmclaims.io.reader import _ends_long_line, _fingerprint, hash_in_background, read_source
from cmclaims.schema.columns import HISTORY


def _longest(data: bytes) -> int:
    return max(len(line) for line in data.split(b"\n"))


def _long_in_pieces(data: bytes, piece: int) -> bool:
    long_lines, open_line = False, 0
    for start in range(0, len(data), piece):
        long_here, open_line = _ends_long_line(data[start : start + piece], open_line)
        long_lines = long_lines or long_here
    return long_lines


@pytest.mark.parametrize("seed", range(6))
def test_long_lines_are_found_wherever_the_reads_cut_them(seed: int) -> None:
    rng = random.Random(seed)
    sizes = [rng.choice([10, 200, MAX_VALUE_BYTES // 2 + 1, MAX_VALUE_BYTES - 1, MAX_VALUE_BYTES,
                         MAX_VALUE_BYTES + 1, 2 * MAX_VALUE_BYTES]) for _ in range(8)]
    data = b"\n".join(b"x" * size for size in sizes) + rng.choice([b"", b"\n"])
    for piece in (MAX_VALUE_BYTES // 3, MAX_VALUE_BYTES + 7, 5 * MAX_VALUE_BYTES, len(data)):
        assert _long_in_pieces(data, piece) == (_longest(data) > MAX_VALUE_BYTES), (sizes, piece)


def test_a_line_of_exactly_the_limit_is_not_long_and_one_byte_more_is(tmp_path: Path) -> None:
    short = tmp_path / "short.csv"
    short.write_bytes(b"a\n" + b"y" * MAX_VALUE_BYTES + b"\nb\n")
    long = tmp_path / "long.csv"
    long.write_bytes(b"a\n" + b"y" * (MAX_VALUE_BYTES + 1))
    assert not _fingerprint(short).long_lines and _fingerprint(short).lines == 3
    assert _fingerprint(long).long_lines and _fingerprint(long).lines == 2


def test_the_sha256_is_the_files(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_text("claim_id,member_id,service_date,hcpcs,units\nC1,M1,2026-01-02,T1017,2\n", encoding="utf-8")
    source = read_source(path, HISTORY)
    assert source.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_file_gone_before_it_is_hashed_is_missing(tmp_path: Path) -> None:
    with pytest.raises(InputMissing):
        hash_in_background(tmp_path / "gone.csv").result()


def test_a_source_file_pickles_with_its_sha256(tmp_path: Path) -> None:
    import pickle

    path = tmp_path / "export.csv"
    path.write_text("claim_id,member_id,service_date,hcpcs,units\nC1,M1,2026-01-02,T1017,2\n", encoding="utf-8")
    copy = pickle.loads(pickle.dumps(read_source(path, HISTORY)))
    assert copy.digest == hashlib.sha256(path.read_bytes()).hexdigest()
