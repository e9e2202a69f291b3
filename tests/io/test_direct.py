"""Outputs written past the page cache hold exactly the bytes written, wherever O_DIRECT is refused."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cmclaims.io import direct
from cmclaims.io.direct import DirectFile

# Pieces around the alignment and the (shrunk) buffer: empty, one byte, a block and a byte, several buffers.
PIECES = st.lists(st.binary(min_size=0, max_size=40_000), max_size=12)


@pytest.fixture(autouse=True)
def small_buffer(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(direct, "BUFFER_BYTES", 4 * direct.ALIGNMENT)  # many full buffers from small pieces


def _write(path: Path, pieces: list[bytes]) -> None:
    with DirectFile(path) as stream:
        for piece in pieces:
            assert stream.write(piece) == len(piece)


@settings(max_examples=60, deadline=None)
@given(pieces=PIECES)
def test_the_file_holds_every_byte_in_order(tmp_path_factory: pytest.TempPathFactory, pieces: list[bytes]) -> None:
    path = tmp_path_factory.mktemp("direct") / "out.csv"
    _write(path, pieces)
    assert path.read_bytes() == b"".join(pieces)


def test_a_file_system_without_o_direct_gets_the_same_bytes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_open = os.open

    def no_direct(path, flags, mode=0o777):  # type: ignore[no-untyped-def]
        if flags & getattr(os, "O_DIRECT", 0):
            raise OSError(errno.EINVAL, "Invalid argument")
        return real_open(path, flags, mode)

    monkeypatch.setattr(direct.os, "open", no_direct)
    pieces = [b"a" * 5000, b"b" * 70_000, b"tail"]
    _write(tmp_path / "out.csv", pieces)
    assert (tmp_path / "out.csv").read_bytes() == b"".join(pieces)


def test_a_refused_direct_write_is_written_buffered(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_write = os.write
    refused = []

    def refuse_first(fd: int, data: memoryview) -> int:
        if not refused:
            refused.append(len(data))
            raise OSError(errno.EINVAL, "Invalid argument")
        return real_write(fd, data)

    monkeypatch.setattr(direct.os, "write", refuse_first)
    pieces = [bytes(range(256)) * 100, b"x" * 3]
    _write(tmp_path / "out.csv", pieces)
    assert refused
    assert (tmp_path / "out.csv").read_bytes() == b"".join(pieces)


def _open_files() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="counts open files in /proc")
def test_a_failed_write_is_raised_and_the_file_closed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def disk_full(fd: int, data: memoryview) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(direct.os, "write", disk_full)
    before = _open_files()
    with pytest.raises(OSError) as raised, DirectFile(tmp_path / "out.csv") as stream:
        stream.write(b"z" * (5 * direct.ALIGNMENT))
    assert raised.value.errno == errno.ENOSPC
    assert _open_files() == before  # nothing is left open for the caller that removes the file
