"""The careful CSV reader: RFC 4180 records, and damage kept to the row it is on (SPEC section 2).

The fast reader (pyarrow, `reader.py`) reads a file whose every line is a
row. A file it cannot read that way comes here: a quoted value spanning lines
(a note with line breaks), a stray or unclosed quote, a NUL byte, bytes that
are not text in the file's encoding, an over-long value. This reader takes
the file record by record with Python's `csv` module (the same quoting rules
as pyarrow: a quote opens a value only at the start of a field, `""` inside
it is a quote) and keeps each record's physical lines, so that:

- a quoted value spanning lines is one row, and `source_row` stays the data
  row number (the header is row 0; a blank line counts as a row, as in the
  fast reader, so both number a file the same way);
- a row holding a NUL, bytes that are not text in the file's encoding, a
  carriage return outside quotes, or a value over `MAX_VALUE_BYTES` is a CM0
  finding on that row alone, and the other rows keep their text;
- a quote that never closes is reported once, on the row where it opens (with
  the number of lines it would have swallowed), and the lines after it are
  read on their own.

It costs a Python loop over records (README, "What a multi-line note costs");
only files that need it pay for it.
"""

from __future__ import annotations

import codecs
import csv
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

MAX_VALUE_BYTES = 1 << 20  # 1 MiB: a longer value is a CM0 finding on its row (README, "Limits")
_NEWLINE = ord("\n")
_ENCODING_NAMES = {"utf-8": "UTF-8", "cp1252": "Windows-1252"}


@dataclass
class Records:
    """What the careful reader made of a file's data lines."""

    table: pa.Table  # the rows it could read: text columns named as the header
    rows: np.ndarray  # the 1-based data row of each table row
    bad: list[tuple[int, str]]  # (data row, problem) of every row it could not take, in row order


def undecodable(body: bytes, encoding: str) -> np.ndarray:
    """Byte offsets where `body` does not decode in `encoding`, each bad stretch once.

    Decoding stops at the first bad byte; it resumes just after it, so the
    cost is one pass over the body whatever the number of bad bytes.
    """
    positions = []
    start = 0
    view = memoryview(body)
    decode = codecs.getdecoder(encoding)
    while start < len(body):
        try:
            decode(view[start:])
            break
        except UnicodeDecodeError as exc:
            positions.append(start + exc.start)
            start += exc.end
    return np.array(positions, dtype=np.int64)


def mostly_utf8(body: bytes, bad_positions: np.ndarray) -> bool:
    """Whether a file that is not all UTF-8 is UTF-8 with a few damaged bytes, rather than Windows-1252.

    Real UTF-8 text shows itself by its multi-byte characters (é is two
    bytes, 日 three), which Windows-1252 text almost never forms by chance:
    when those outweigh the bytes that do not decode, the file is UTF-8.
    """
    multibyte_extra = len(body) - len(body.decode("utf-8", errors="surrogateescape"))
    return multibyte_extra > bad_positions.size


@dataclass
class _Lines:
    """The physical lines of a body: where each starts, and what is wrong with the damaged ones."""

    starts: np.ndarray  # byte offset of each line's start, and the body's length last
    damaged: np.ndarray  # sorted 0-based lines holding something no row may hold
    problems: dict[int, str]

    @classmethod
    def of(cls, body: bytes, encoding: str, bad_positions: np.ndarray) -> _Lines:
        buffer = np.frombuffer(body, dtype=np.uint8)
        starts = np.concatenate(([0], np.flatnonzero(buffer == _NEWLINE) + 1)).astype(np.int64)
        if starts[-1] != len(body):
            starts = np.concatenate((starts, [len(body)]))
        problems: dict[int, str] = {}
        for line in cls._holding(starts, np.flatnonzero(buffer == 0)):
            problems[line] = "it holds a NUL byte (binary data, not text)"
        name = _ENCODING_NAMES.get(encoding, encoding)
        for line in cls._holding(starts, bad_positions):
            problems.setdefault(line, f"it holds bytes that are not {name} text")
        return cls(starts, np.array(sorted(problems), dtype=np.int64), problems)

    @staticmethod
    def _holding(starts: np.ndarray, positions: np.ndarray) -> list[int]:
        return np.unique(np.searchsorted(starts, positions, side="right") - 1).tolist()

    @property
    def count(self) -> int:
        return int(self.starts.size - 1)

    def problem(self, first: int, last: int) -> str | None:
        """The problem of the first damaged line among lines first..last (0-based), or None."""
        at = int(np.searchsorted(self.damaged, first))
        if at < self.damaged.size and self.damaged[at] <= last:
            return self.problems[int(self.damaged[at])]
        return None



def _span(first: int, last: int) -> str:
    """Which lines of the file a row spanning several took (the header is line 1)."""
    return f" (lines {first + 2}-{last + 2} of the file)" if last > first else ""


def _split_lines(text: str) -> list[str]:
    """The text's physical lines, each with its newline: lines end at \n only, as the line offsets count."""
    parts = text.split("\n")
    lines = [part + "\n" for part in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def _never_closes(lines: list[str], first: int, delimiter: str) -> bool:
    """Whether the record starting at line `first` (and running to the end) has a quote that never closes."""
    strict = csv.reader(iter(lines[first:]), delimiter=delimiter, strict=True)
    try:
        for _ in strict:
            pass
    except csv.Error as exc:
        return "unexpected end of data" in str(exc)
    return False


def _one_strict_record(lines: list[str], delimiter: str) -> bool:
    """Whether a record spanning these lines is RFC 4180: its closing quote followed by a delimiter or the line's end.

    The lenient pass reads `"a<newline>b"c` as one value; a quote that pairs
    with a stray quote lines later is damage, not a value with line breaks.
    """
    strict = csv.reader(iter(lines), delimiter=delimiter, strict=True)
    try:
        return sum(1 for _ in strict) == 1
    except csv.Error:
        return False


def _problem_of(error: str) -> str:
    if "new-line character seen in unquoted field" in error:
        return "it holds a carriage return outside quotes (a line break inside a value must be quoted)"
    return f"its quoting cannot be read ({error.split(' - ')[0]})"


def read_records(body: bytes, encoding: str, names: list[str], delimiter: str,
                 bad_positions: np.ndarray | None = None) -> Records:
    """Read the data lines of a CSV body (the bytes after its header) record by record.

    `body` is in `encoding`; `bad_positions` are the offsets of the bytes that
    do not decode (found here when None). See the module's docstring.
    """
    if bad_positions is None:
        bad_positions = undecodable(body, encoding)
    # The csv module's own limit (128 KiB a field) would cut a long value and read its rest as rows:
    # it is lifted while this body is read, and values over MAX_VALUE_BYTES are found afterwards.
    limit = csv.field_size_limit(len(body) + 1)
    try:
        return _read(body, encoding, names, delimiter, bad_positions)
    finally:
        csv.field_size_limit(limit)


def _read(body: bytes, encoding: str, names: list[str], delimiter: str, bad_positions: np.ndarray) -> Records:
    lines = _Lines.of(body, encoding, bad_positions)
    texts = _split_lines(body.decode(encoding, errors="surrogateescape"))
    # One pass of the csv module notes each record's lines, its width and its error; the rest is vectorised.
    firsts: list[int] = []
    lasts: list[int] = []
    widths: list[int] = []
    errors: dict[int, str] = {}  # record index -> problem (csv errors, quotes that never close)
    start: int | None = 0
    while start is not None:
        restart = None
        reader = csv.reader(iter(texts[start:]), delimiter=delimiter, strict=False)
        consumed = 0
        while True:
            try:
                width = len(next(reader))
            except StopIteration:
                break
            except csv.Error as exc:
                width, errors[len(firsts)] = -1, _problem_of(str(exc))
            first, consumed = start + consumed, max(reader.line_num, consumed + 1)
            firsts.append(first)
            lasts.append(start + consumed - 1)
            widths.append(width)
            problem = None
            if start + consumed == len(texts) and width >= 0 and _never_closes(texts, first, delimiter):
                problem = (f"a quoted value opens on this line and never closes (it would take in the "
                           f"{len(texts) - 1 - first:,} lines after it, which are read on their own)")
            elif lasts[-1] > first and width >= 0 and not _one_strict_record(texts[first:lasts[-1] + 1], delimiter):
                problem = (f"a quoted value opens on this line and is not closed as CSV closes one (text follows "
                           f"its closing quote {lasts[-1] - first:,} lines later; those lines are read on their own)")
            if problem is not None:
                # A quote opened on this row swallows the lines after it: say so here, once, and
                # read the lines after this one on their own.
                lasts[-1] = first
                errors[len(firsts) - 1] = problem
                restart = first + 1
                break
        start = restart
    first_of, last_of, width_of = (np.array(x, dtype=np.int64) for x in (firsts, lasts, widths))
    row_of = np.arange(1, first_of.size + 1, dtype=np.int64)  # a blank line counts, as in the fast reader
    blank = width_of == 0
    damaged = _damaged_records(lines, first_of, last_of)
    ragged = (width_of != len(names)) & ~blank & (width_of >= 0)
    error_at = np.zeros(first_of.size, dtype=bool)
    error_at[list(errors)] = True
    keep = ~(blank | damaged | ragged | error_at)
    bad: list[tuple[int, str]] = []
    for index in np.flatnonzero(damaged | ragged | error_at).tolist():
        first, last = int(first_of[index]), int(last_of[index])
        problem = lines.problem(first, last) or errors.get(index) or \
            f"it has {int(width_of[index])} values where the header has {len(names)}"
        bad.append((int(row_of[index]), problem + _span(first, last)))
    table = _parse_kept(body, lines, first_of[keep], last_of[keep], names, delimiter, encoding)
    table, rows, long_rows = _without_long_values(table, row_of[keep])
    return Records(table, rows, sorted(bad + long_rows))


def _damaged_records(lines: _Lines, first_of: np.ndarray, last_of: np.ndarray) -> np.ndarray:
    """Per record: does one of its lines hold a NUL or bytes that are not text?"""
    if lines.damaged.size == 0:
        return np.zeros(first_of.size, dtype=bool)
    at = np.searchsorted(lines.damaged, first_of)
    found = np.minimum(at, lines.damaged.size - 1)
    return (at < lines.damaged.size) & (lines.damaged[found] <= last_of)


def _parse_kept(body: bytes, lines: _Lines, first_of: np.ndarray, last_of: np.ndarray, names: list[str],
                delimiter: str, encoding: str) -> pa.Table:
    """The kept records' own bytes, parsed by pyarrow (quoted line breaks allowed): no Python loop over values."""
    if first_of.size == 0:
        return _columns([], names)
    starts, ends = lines.starts[first_of], lines.starts[last_of + 1]
    runs = np.flatnonzero(starts[1:] != ends[:-1]) + 1  # adjacent records are copied in one piece
    run_starts = starts[np.concatenate(([0], runs))]
    run_ends = ends[np.concatenate((runs - 1, [ends.size - 1]))]
    view = memoryview(body)
    kept = b"".join(view[s:e] for s, e in zip(run_starts.tolist(), run_ends.tolist(), strict=True))
    if not kept.endswith(b"\n"):
        kept += b"\n"
    if encoding != "utf-8":
        kept = kept.decode(encoding).encode("utf-8")
    table = pacsv.read_csv(
        pa.BufferReader(pa.py_buffer(kept)),
        read_options=pacsv.ReadOptions(column_names=names, use_threads=True, block_size=1 << 24),
        parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True),
        convert_options=pacsv.ConvertOptions(column_types={name: pa.string() for name in names},
                                             strings_can_be_null=False, quoted_strings_can_be_null=False),
    )
    if table.num_rows == first_of.size:
        return table
    # The two parsers disagree on some odd quoting: the csv module, which found the records, gives the values.
    records = list(csv.reader(iter(_split_lines(kept.decode("utf-8"))), delimiter=delimiter, strict=False))
    return _columns([record for record in records if record], names)


def _columns(records: list[list[str]], names: list[str]) -> pa.Table:
    if not records:
        return pa.table({name: pa.array([], pa.string()) for name in names})
    columns = zip(*records, strict=True)
    return pa.table([pa.array(column, pa.string()) for column in columns], names=names)


def _without_long_values(table: pa.Table, rows: np.ndarray) -> tuple[pa.Table, np.ndarray, list[tuple[int, str]]]:
    """Rows with a value over MAX_VALUE_BYTES taken out as findings, naming the first such column."""
    too_long = np.zeros(table.num_rows, dtype=bool)
    problems: dict[int, str] = {}
    for name, column in zip(table.column_names, table.columns, strict=True):
        if table.num_rows == 0:
            break
        long_here = pc.greater(pc.binary_length(column), MAX_VALUE_BYTES).to_numpy(zero_copy_only=False)
        for position in np.flatnonzero(long_here & ~too_long).tolist():
            problems[position] = f"its value in {name} is longer than 1 MiB, the most a value may hold"
        too_long |= long_here
    if not too_long.any():
        return table, rows, []
    bad = [(int(rows[p]), problems[p]) for p in np.flatnonzero(too_long).tolist()]
    return table.filter(pa.array(~too_long)), rows[~too_long], bad
