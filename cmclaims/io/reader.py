"""Reading one input file (CSV or Parquet) into an Arrow table, keeping every row.

Rows the parser cannot take (ragged, unbalanced quotes) are not lost: they are
returned as `bad_rows` with their row number and the problem, and become CM0
findings. A file that cannot be read at all raises InputMissing (66) or
InputUnusable (65) with a message naming the file and what to do.

A file is hashed and its lines counted in one streaming pass, then parsed
straight from disk; only a file whose rows do not add up is loaded whole.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import mmap
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from cmclaims.errors import InputMissing, InputUnusable
from cmclaims.io.column_map import ColumnMap
from cmclaims.io.csv_lines import Buffer, count_lines, last_line_quotes_odd, scan_lines
from cmclaims.schema.columns import FileColumns, header_key

CSV_SUFFIXES = (".csv", ".txt")
PARQUET_SUFFIXES = (".parquet", ".pq")
_BOM = b"\xef\xbb\xbf"
_DELIMITERS = (",", "\t", "|", ";")
_UNBALANCED = "its double quotes do not balance (a quoted value must close on the same line)"


@dataclass
class BadRow:
    """A row the parser could not take."""

    row: int  # 1-based data row, header = 0
    problem: str


@dataclass
class SourceFile:
    """One input file as read: its table, its rows' numbers, and what could not be parsed."""

    path: Path
    sha256: str
    format: str  # "csv" or "parquet"
    encoding: str
    table: pa.Table  # the file's own columns; CSV columns are all text (strings, or dictionary-encoded strings)
    columns: dict[str, str]  # canonical name -> the file's header for it
    rows: np.ndarray  # 1-based data row of each table row
    bad_rows: list[BadRow] = field(default_factory=list)

    @property
    def name(self) -> str:
        """The file as the user named it, for messages and outputs."""
        return str(self.path)

    @property
    def line_count(self) -> int:
        """Rows read plus rows the parser could not take."""
        return self.table.num_rows + len(self.bad_rows)


def file_format(path: Path) -> str:
    """"csv" or "parquet", from the file name; anything else is unusable (65)."""
    suffix = path.suffix.lower()
    if suffix in PARQUET_SUFFIXES:
        return "parquet"
    if suffix in CSV_SUFFIXES:
        return "csv"
    # A file that is not there is "not found" (66) whatever its name says.
    if not path.exists():
        raise InputMissing(f"{path}: file not found")
    if path.is_dir():
        raise InputMissing(f"{path}: is a folder, not a file")
    raise InputUnusable(
        f"{path}: '{suffix or 'no extension'}' is not an input cmclaims reads",
        hint="give a .csv, .txt or .parquet file",
    )


@dataclass
class _Fingerprint:
    """What one streaming pass over a file learns: hash, line count, first and last bytes, UTF-8 or not."""

    sha256: str
    lines: int
    head: bytes
    tail: bytes
    utf8: bool


def _fingerprint(path: Path) -> _Fingerprint:
    """Hash and count lines in 16 MiB reads, so the file's pages are not all held at once."""
    digest = hashlib.sha256()
    newlines = 0
    head = b""
    tail = b""
    # Knowing the encoding before parsing keeps a Windows-1252 file away from the
    # UTF-8 parser, which cannot even report a ragged row it cannot decode.
    decoder = codecs.getincrementaldecoder("utf-8")()
    utf8 = True
    with _reading(path) as handle:
        while chunk := handle.read(1 << 24):
            digest.update(chunk)
            newlines += int(np.count_nonzero(np.frombuffer(chunk, dtype=np.uint8) == ord("\n")))
            if len(head) < 65536:
                head += chunk[: 65536 - len(head)]
            tail = (tail + chunk)[-65536:] if len(chunk) < 65536 else chunk[-65536:]
            if utf8 and not (chunk.isascii() and not decoder.getstate()[0]):
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError:
                    utf8 = False
        if utf8:
            try:
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                utf8 = False
    lines = newlines + (1 if tail and not tail.endswith(b"\n") else 0)
    return _Fingerprint(digest.hexdigest(), lines, head, tail, utf8)


@contextmanager
def _reading(path: Path) -> Iterator[BinaryIO]:
    """The file open for reading; any failure to open or read it, in words, as exit code 66."""
    try:
        with path.open("rb") as handle:
            yield handle
    except FileNotFoundError as exc:
        raise InputMissing(f"{path}: file not found") from exc
    except IsADirectoryError as exc:
        raise InputMissing(f"{path}: is a folder, not a file") from exc
    except OSError as exc:
        raise InputMissing(f"{path}: cannot be read ({exc.strerror})") from exc


@contextmanager
def _mapped(path: Path) -> Iterator[memoryview]:
    """The file's bytes, memory-mapped read-only (an empty file gives an empty view)."""
    with _reading(path) as handle:
        try:
            mapping = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        except ValueError:  # an empty file cannot be mapped
            mapping = None
    # The mapping outlives the handle; what the caller does with it is not a reading error.
    if mapping is None:
        yield memoryview(b"")
        return
    view = memoryview(mapping)
    try:
        yield view
    finally:
        view.release()
        mapping.close()


def _match_columns(
    path: Path, headers: list[str], expected: FileColumns, column_map: ColumnMap | None
) -> dict[str, str]:
    """Canonical name -> header, matched case-insensitively, the column map first."""
    by_key: dict[str, str] = {}
    for header in headers:
        key = header_key(header)
        if key in by_key and key in expected.known:
            raise InputUnusable(f"{path}: the header has two columns named '{key}'", hint="remove or rename one")
        by_key.setdefault(key, header)
    matched: dict[str, str] = {}
    for canonical, export_header in (column_map or {}).items():
        if canonical in expected.known and header_key(export_header) in by_key:
            matched[canonical] = by_key[header_key(export_header)]
    for canonical in expected.known:
        if canonical not in matched and canonical in by_key and by_key[canonical] not in matched.values():
            matched[canonical] = by_key[canonical]
    missing = expected.missing(matched)
    if missing:
        mapped = [f"{c} (mapped to '{column_map[c]}')" for c in missing if column_map and c in column_map]
        raise InputUnusable(
            f"{path}: the {expected.kind} has no {', '.join(missing)} column"
            + (f"; the column map names headers it lacks: {', '.join(mapped)}" if mapped else ""),
            hint="add the column, or map the export's header to it with --column-map",
        )
    return matched


def _decode_header(line: bytes, path: Path) -> tuple[str, str]:
    for encoding in ("utf-8", "cp1252"):
        try:
            return line.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise InputUnusable(f"{path}: the header is neither UTF-8 nor Windows-1252 text")


def _looks_binary(head: bytes) -> str | None:
    if head.startswith(b"PK\x03\x04"):
        return "it looks like an Excel workbook or a zip file; save it as CSV"
    if head.startswith(b"PAR1"):
        return "it is a Parquet file; give it a .parquet name"
    if b"\x00" in head:
        return "it contains binary data, not text"
    return None


def _unique_names(headers: list[str]) -> list[str]:
    """Arrow needs distinct column names; repeated extra columns get a suffix."""
    seen: dict[str, int] = {}
    names = []
    for header in headers:
        count = seen.get(header, 0)
        seen[header] = count + 1
        names.append(header if count == 0 else f"{header}.{count}")
    return names


# Where the parser reads from: the file itself (header skipped), or a buffer of data lines.
_Source = Path | Buffer


# A column the parser encodes as it reads: distinct values once, and a code per row.
ENCODED_TEXT = pa.dictionary(pa.int32(), pa.string())


def _parse(
    source: _Source, types: dict[str, pa.DataType], delimiter: str, threads: bool
) -> tuple[pa.Table | None, list[tuple]]:
    """Parse CSV lines into text columns of `types` (name -> string or ENCODED_TEXT), in that order.

    (None, []) when the parser loses its place. Raises UnicodeError when the
    text is not UTF-8, so the caller can transcode.
    """
    invalid: list[tuple] = []
    names = list(types)
    if not isinstance(source, Path) and len(source) == 0:
        return _empty_table(types), []

    def on_invalid(row: pacsv.InvalidRow) -> str:
        invalid.append((row.number, row.expected_columns, row.actual_columns))
        return "skip"

    from_file = isinstance(source, Path)
    try:
        table = pacsv.read_csv(
            source if from_file else pa.BufferReader(pa.py_buffer(source)),
            read_options=pacsv.ReadOptions(
                column_names=names, skip_rows=1 if from_file else 0, use_threads=threads, block_size=1 << 24
            ),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, invalid_row_handler=on_invalid),
            convert_options=pacsv.ConvertOptions(
                column_types=types,
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except pa.ArrowInvalid as exc:
        text = str(exc).lower()
        if "utf8" in text or "utf-8" in text:
            raise UnicodeError(str(exc)) from exc
        return None, []
    if from_file and invalid:
        # numbers count the skipped header line; make them count data lines like a buffer's
        invalid = [(number - 1 if number is not None else None, *rest) for number, *rest in invalid]
    return table, invalid


def _empty_table(types: dict[str, pa.DataType]) -> pa.Table:
    return pa.table({name: pa.array([], kind) for name, kind in types.items()})


def _number_rows(
    table: pa.Table, invalid: list[tuple], parser_rows: np.ndarray, reparse
) -> tuple[pa.Table, np.ndarray, list[BadRow]]:
    """Row numbers of the parsed rows, and the ragged rows as BadRows."""
    if not invalid:
        return table, parser_rows, []
    # Multi-threaded parsing does not number the rows it skipped: parse again on one
    # thread, which does. Only files with ragged rows pay for this.
    table, invalid = reparse()
    positions = np.array([number - 1 for number, _, _ in invalid], dtype=np.int64)
    bad_rows = [
        BadRow(int(parser_rows[position]), f"it has {actual} values where the header has {expected}")
        for (_, expected, actual), position in zip(invalid, positions.tolist(), strict=True)
    ]
    keep = np.ones(parser_rows.size, dtype=bool)
    keep[positions] = False
    return table, parser_rows[keep], bad_rows


def _parse_rows(
    path: Path, body: Buffer | None, data_lines: int, last_odd: bool, types: dict[str, pa.DataType], delimiter: str
) -> tuple[pa.Table, np.ndarray, list[BadRow]]:
    """Parse the lines after the header: the table, its rows' numbers, and the rows it could not take.

    The parser first reads the file directly (`body` None) and its row count is
    checked against the file's lines. When they differ (blank lines, or an
    unmatched quote that swallowed what followed it), or the last line has an
    unmatched quote (which the parser lets run to the end of the file), the data
    lines are loaded, the bad ones held back, and the rest parsed with their row
    numbers: first holding back only blank lines (and an unbalanced last line),
    then, when rows still go missing, every line whose quotes do not balance.
    """
    if data_lines == 0:
        return _empty_table(types), np.empty(0, dtype=np.int64), []
    source: _Source = path if body is None else body
    if not last_odd:
        table, invalid = _parse(source, types, delimiter, threads=True)
        if table is not None and table.num_rows + len(invalid) == data_lines:
            rows = np.arange(1, data_lines + 1, dtype=np.int64)
            return _number_rows(table, invalid, rows, lambda: _parse(source, types, delimiter, threads=False))
    if body is None:
        with _mapped(path) as data:
            body = bytes(_data_lines(data))
    for all_odd_quotes in (False, True):
        scan = scan_lines(body, all_odd_quotes)
        table, invalid = _parse(scan.body, types, delimiter, threads=True)
        # Holding back the last line may leave another unbalanced line last, which the
        # parser would again let run to the end: then hold back every unbalanced line.
        last_open = not all_odd_quotes and last_line_quotes_odd(bytes(scan.body[-65536:]), delimiter.encode())
        if table is not None and table.num_rows + len(invalid) == count_lines(scan.body) and not last_open:
            break
    else:
        raise pa.ArrowInvalid("its rows cannot be told apart")
    rows = scan.rows if scan.rows is not None else np.arange(1, count_lines(scan.body) + 1, dtype=np.int64)
    table, rows, ragged = _number_rows(table, invalid, rows, lambda: _parse(scan.body, types, delimiter, False))
    bad_rows = sorted([*(BadRow(int(r), _UNBALANCED) for r in scan.bad_quote_rows), *ragged], key=lambda b: b.row)
    return table, rows, bad_rows


def _data_lines(data: memoryview) -> memoryview:
    """The bytes after the header line (and after a UTF-8 byte order mark)."""
    start = 3 if bytes(data[:3]) == _BOM else 0
    newline = bytes(data[start : start + 65536]).find(b"\n")
    if newline == -1:
        newline = len(bytes(data[start:]).split(b"\n", 1)[0])
    return data[start + newline + 1 :]


def _read_csv(
    path: Path, expected: FileColumns, column_map: ColumnMap | None, plain: frozenset[str] | None
) -> SourceFile:
    print_ = _fingerprint(path)
    head = print_.head
    encoding = "utf-8-sig" if head.startswith(_BOM) else "utf-8"
    head = head[len(_BOM) :] if encoding == "utf-8-sig" else head
    if not head.strip():
        raise InputUnusable(f"{path}: the file is empty", hint="an export needs at least its header line")
    if (problem := _looks_binary(head)) is not None:
        raise InputUnusable(f"{path}: not a CSV file: {problem}")
    newline = head.find(b"\n")
    if newline == -1 and b"\r" in head.rstrip(b"\r"):
        raise InputUnusable(
            f"{path}: its lines end in a carriage return alone (old Mac line endings)",
            hint="save it again as CSV with Windows or Unix line endings",
        )
    if newline == -1 and len(head) == 65536:
        raise InputUnusable(f"{path}: the first line is longer than 64 KiB; it is not a CSV header")
    header_text, header_encoding = _decode_header((head if newline == -1 else head[:newline]).rstrip(b"\r"), path)
    if header_text.count('"') % 2:
        raise InputUnusable(f"{path}: the header line has an unmatched double quote")
    delimiter = max(_DELIMITERS, key=header_text.count)
    try:
        headers = [h.strip() for h in next(csv.reader([header_text], delimiter=delimiter))]
    except csv.Error as exc:
        raise InputUnusable(f"{path}: the header line cannot be read as CSV ({exc})") from exc
    columns = _match_columns(path, headers, expected, column_map)
    names = _unique_names(headers)
    columns = {canonical: names[headers.index(header)] for canonical, header in columns.items()}
    plain_names = {columns[c] for c in plain if c in columns} if plain is not None else set(names)
    types = {name: pa.string() if name in plain_names else ENCODED_TEXT for name in names}

    data_lines = max(print_.lines - 1, 0)
    try:
        try:
            if header_encoding == "cp1252" or not print_.utf8:
                raise UnicodeError("the file is not UTF-8")
            last_odd = data_lines > 0 and last_line_quotes_odd(print_.tail, delimiter.encode())
            table, rows, bad_rows = _parse_rows(path, None, data_lines, last_odd, types, delimiter)
        except UnicodeError:
            with _mapped(path) as data:
                try:
                    body = bytes(_data_lines(data)).decode("cp1252").encode("utf-8")
                except UnicodeDecodeError as exc:
                    raise InputUnusable(
                        f"{path}: the text is neither UTF-8 nor Windows-1252", hint="export the file as UTF-8"
                    ) from exc
            encoding = "cp1252"
            table, rows, bad_rows = _parse_rows(
                path, body, count_lines(body), last_line_quotes_odd(body[-65536:], delimiter.encode()), types,
                delimiter
            )
    except pa.ArrowInvalid as exc:
        raise InputUnusable(f"{path}: cannot be parsed as CSV ({exc})") from exc
    return SourceFile(path, print_.sha256, "csv", encoding, table, columns, rows, bad_rows)


def _read_parquet(path: Path, expected: FileColumns, column_map: ColumnMap | None) -> SourceFile:
    print_ = _fingerprint(path)
    if not print_.head:
        raise InputUnusable(f"{path}: the file is empty")
    try:
        table = pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise InputUnusable(f"{path}: not a readable Parquet file ({exc})") from exc
    columns = _match_columns(path, table.column_names, expected, column_map)
    rows = np.arange(1, table.num_rows + 1, dtype=np.int64)
    return SourceFile(path, print_.sha256, "parquet", "parquet", table, columns, rows)


def read_source(
    path: Path, expected: FileColumns, column_map: ColumnMap | None = None, plain: frozenset[str] | None = None
) -> SourceFile:
    """Read `path` as a file of kind `expected`; every row is in `table` or `bad_rows`.

    A CSV's columns are text. With `plain` None they are plain strings; with a
    set of canonical columns, every other column is parsed straight into a
    dictionary array (ENCODED_TEXT): the parser finds each block's distinct
    values on every core while it reads, and the table then weighs a code per
    row instead of the text. `plain` names the columns whose values nearly all
    differ (claim ids), where a dictionary would only add its codes.
    """
    if file_format(path) == "parquet":
        return _read_parquet(path, expected, column_map)
    return _read_csv(path, expected, column_map, plain)
