"""Physical lines of a CSV buffer, checked with numpy so that huge exports stay fast.

The fast CSV parser (pyarrow) cannot say which source row a value came from once
it has skipped a row, and an unmatched quote makes it swallow the lines after it
(or, on the last line, run to the end of the file without complaint). The reader
therefore parses optimistically (skipping blank lines) and compares the rows it
got with the lines the file has, and checks the last line's quotes. Only when
something is off does it call `scan_lines` here, which finds the lines the
parser must not see: blank lines (skipped, but they keep their row number) and
lines with an odd number of double quotes (a quote that never closes on its
line: rejected as unparseable). It first holds back only blank lines and an
unbalanced last line, so that a stray quote inside a value (`5" tall`), which
the parser takes as data, is treated the same whether or not the file has blank
lines; only when rows still go missing does it hold back every unbalanced line.
Every other line is handed on unchanged, with the map from the parser's row back
to the row number in the file.

A file with a line whose quotes do not balance (a value spanning lines, a
quote that never closes, a stray quote) is read by the careful reader
(`csv_records`) instead, which reads RFC 4180 records.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

Buffer = bytes | memoryview  # the raw file, or a zero-copy view of it

_CHUNK = 1 << 26  # scan 64 MiB at a time so the temporary arrays stay small
_NEWLINE = ord("\n")
_QUOTE = ord('"')


@dataclass
class LineScan:
    """The data lines of a buffer after its header line.

    `body` is the buffer the parser should read; `rows[i]` is the 1-based data
    row (header = row 0) of the parser's i-th line; `bad_quote_rows` lists the
    data rows held back because their quotes do not balance.
    """

    body: Buffer
    rows: np.ndarray | None  # None: the parser's line i is data row i + 1
    bad_quote_rows: np.ndarray


def count_lines(body: Buffer) -> int:
    """Lines in `body`, counting a last line that has no newline."""
    buf = np.frombuffer(body, dtype=np.uint8)
    newlines = sum(int(np.count_nonzero(buf[s : s + _CHUNK] == _NEWLINE)) for s in range(0, buf.size, _CHUNK))
    return newlines + (1 if buf.size and buf[-1] != _NEWLINE else 0)


def unchanged(body: Buffer) -> LineScan:
    """A scan that keeps every line: the parser's row i is data row i + 1."""
    return LineScan(body, None, np.empty(0, dtype=np.int64))


def _line_ends_and_quote_parity(buf: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Position of every newline, and whether the quotes before it are odd in number.

    A running count of quotes in uint8 wraps at 256, which keeps its parity: all
    we need to know whether each line's quotes balance.
    """
    ends, parity = [], []
    carry = 0
    for start in range(0, buf.size, _CHUNK):
        chunk = buf[start : start + _CHUNK]
        newlines = np.flatnonzero(chunk == _NEWLINE)
        running = np.cumsum(chunk == _QUOTE, dtype=np.uint8)
        parity.append((running[newlines] + carry) & 1)
        ends.append(newlines + start)
        carry = (int(running[-1]) + carry) & 1 if chunk.size else carry
    if buf.size and (not ends or not ends[-1].size or ends[-1][-1] != buf.size - 1) and buf[-1] != _NEWLINE:
        ends.append(np.array([buf.size], dtype=np.int64))  # a last line without a newline
        parity.append(np.array([carry], dtype=np.uint8))
    return np.concatenate(ends), np.concatenate(parity).astype(bool)


def has_odd_quote_line(body: Buffer) -> bool:
    """Whether some line has an odd number of double quotes: a value spanning lines, or a stray quote.

    Either way the fast reader cannot number the rows; the careful reader (csv_records) can.
    """
    buf = np.frombuffer(body, dtype=np.uint8)
    if buf.size == 0:
        return False
    _, cumulative_odd = _line_ends_and_quote_parity(buf)
    return bool((cumulative_odd ^ np.concatenate(([False], cumulative_odd[:-1]))).any())


def last_line_quotes_odd(tail: bytes, delimiter: bytes = b",") -> bool:
    """Whether the last non-blank line of a buffer ending in `tail` leaves a quoted value open.

    The parser takes a quote opened on the last line as running to the end of
    the file without complaint, so that line is read here, the way the parser
    reads it: a quote opens a value only at the start of a field, `""` inside
    a quoted value is a quote, and a quote elsewhere (`5" tall`) is just data.
    Only one line is read, whatever the size of the file.
    """
    line = tail.rstrip(b"\r\n").rsplit(b"\n", 1)[-1]
    quoted, at_field_start, position = False, True, 0
    while position < len(line):
        char = line[position : position + 1]
        if quoted:
            if char == b'"':
                if line[position + 1 : position + 2] == b'"':
                    position += 1  # an escaped quote inside the value
                else:
                    quoted = False
        elif char == b'"' and at_field_start:
            quoted = True
        at_field_start = not quoted and char == delimiter
        position += 1
    return quoted


def scan_lines(body: Buffer, all_odd_quotes: bool = True) -> LineScan:
    """Drop blank lines and lines with unbalanced quotes from `body`, remembering row numbers.

    With `all_odd_quotes` False only the last non-blank line is held back for its
    quotes: a stray quote inside a value elsewhere is data the parser takes as it
    is, and a quote that really opens a value and never closes shows itself by
    swallowing the lines after it (the caller then scans again with True).
    """
    buf = np.frombuffer(body, dtype=np.uint8)
    if buf.size == 0:
        return unchanged(body)
    ends, cumulative_odd = _line_ends_and_quote_parity(buf)
    if ends.size == 0:
        return unchanged(body)
    starts = np.concatenate(([0], ends[:-1] + 1))
    lengths = ends - starts
    last_byte = buf[np.clip(ends - 1, 0, buf.size - 1)]
    blank = (lengths == 0) | ((lengths == 1) & (last_byte == ord("\r")))
    odd_quotes = cumulative_odd ^ np.concatenate(([False], cumulative_odd[:-1]))
    bad_quote = odd_quotes & ~blank
    if not all_odd_quotes:
        last = np.flatnonzero(~blank)
        only_last = np.zeros_like(bad_quote)
        if last.size:
            only_last[last[-1]] = bad_quote[last[-1]]
        bad_quote = only_last
    keep = ~(blank | bad_quote)
    row_numbers = np.arange(1, ends.size + 1, dtype=np.int64)
    if keep.all():
        return unchanged(body)
    cleaned = _join_runs(body, starts[keep], np.minimum(ends[keep] + 1, buf.size))
    if cleaned and not cleaned.endswith(b"\n"):
        cleaned += b"\n"
    return LineScan(cleaned, row_numbers[keep], row_numbers[bad_quote])


def _join_runs(raw: Buffer, starts: np.ndarray, ends: np.ndarray) -> bytes:
    """Join the kept line slices, merging adjacent ones so the copy is a few large memcpys."""
    if starts.size == 0:
        return b""
    breaks = np.flatnonzero(starts[1:] != ends[:-1]) + 1
    run_starts = starts[np.concatenate(([0], breaks))]
    run_ends = ends[np.concatenate((breaks - 1, [ends.size - 1]))]
    view = memoryview(raw)
    return b"".join(view[s:e] for s, e in zip(run_starts.tolist(), run_ends.tolist(), strict=True))
