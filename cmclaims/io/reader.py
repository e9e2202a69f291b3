"""Reading one input file (CSV or Parquet) into an Arrow table, keeping every row.

Rows the parser cannot take (ragged, unbalanced quotes) are not lost: they are
returned as `bad_rows` with their row number and the problem, and become CM0
findings. A file that cannot be read at all raises InputMissing (66) or
InputUnusable (65) with a message naming the file and what to do.

A file's lines are counted in one streaming pass, then it is parsed straight
from disk; only a file whose rows do not add up is loaded whole. Its SHA-256
is taken once it is parsed, on a thread of its own, while the run goes on.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import mmap
import threading
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
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
from cmclaims.io.csv_lines import Buffer, count_lines, has_odd_quote_line, last_line_quotes_odd, scan_lines
from cmclaims.io.csv_records import MAX_VALUE_BYTES, mostly_utf8, read_records, undecodable
from cmclaims.io.paths import require_regular_file
from cmclaims.schema.columns import FileColumns, header_key

CSV_SUFFIXES = (".csv", ".txt")
PARQUET_SUFFIXES = (".parquet", ".pq")
_BOM = b"\xef\xbb\xbf"
_DELIMITERS = (",", "\t", "|", ";")
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
# The longest header line read (README, "Limits"): a 10,000-column export's header is a few hundred KiB.
MAX_HEADER_BYTES = 1 << 20


@dataclass
class BadRow:
    """A row the parser could not take."""

    row: int  # 1-based data row, header = 0
    problem: str


@dataclass
class SourceFile:
    """One input file as read: its table, its rows' numbers, and what could not be parsed."""

    path: Path
    digest: str | Future[str]  # the file's SHA-256, or the hashing under way (see `sha256`)
    format: str  # "csv" or "parquet"
    encoding: str
    table: pa.Table  # the file's own columns; CSV columns are all text (strings, or dictionary-encoded strings)
    columns: dict[str, str]  # canonical name -> the file's header for it
    rows: np.ndarray  # 1-based data row of each table row
    bad_rows: list[BadRow] = field(default_factory=list)

    @property
    def sha256(self) -> str:
        """The file's SHA-256 (waiting for it when it is still being computed)."""
        if isinstance(self.digest, Future):
            self.digest = self.digest.result()
        return self.digest

    def __getstate__(self) -> dict[str, object]:
        """A SourceFile sent to another process (a Dask worker's read) carries its SHA-256, not the hashing."""
        state = dict(self.__dict__)
        state["digest"] = self.sha256
        return state

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
    """What one streaming pass over a file learns: lines, first and last bytes, and what needs care."""

    lines: int
    head: bytes  # the first MAX_HEADER_BYTES + 1 bytes: room for the header line
    tail: bytes
    utf8: bool
    nuls: int  # NUL bytes: binary data, never text
    quotes: int  # double quotes: without any, no value can span lines
    long_lines: bool  # a line longer than MAX_VALUE_BYTES


# Every stretch of this many bytes holding a line end bounds each line within MAX_VALUE_BYTES.
_LINE_BOUND = MAX_VALUE_BYTES // 2


def _ends_long_line(chunk: bytes, open_line: int) -> tuple[bool, int]:
    """Whether a line over MAX_VALUE_BYTES ends in `chunk` or is left open at its end; the open line's bytes.

    `open_line` bytes of the chunk's first line came before it. Line ends are
    found with bytes.find, a stretch of _LINE_BOUND bytes at a time: a line
    longer than twice that would hold one whole stretch without a line end.
    Only a chunk with such a stretch has its lines measured one by one.
    """
    first = chunk.find(b"\n")
    if first == -1:
        return open_line + len(chunk) > MAX_VALUE_BYTES, open_line + len(chunk)
    last = chunk.rfind(b"\n")
    long_line = open_line + first > MAX_VALUE_BYTES
    if not long_line and any(chunk.find(b"\n", at, at + _LINE_BOUND) == -1 for at in range(first, last, _LINE_BOUND)):
        ends = np.flatnonzero(np.frombuffer(chunk, dtype=np.uint8)[first : last + 1] == ord("\n"))
        long_line = int(np.diff(ends).max(initial=1)) - 1 > MAX_VALUE_BYTES
    open_after = len(chunk) - 1 - last
    return long_line or open_after > MAX_VALUE_BYTES, open_after


def _fingerprint(path: Path) -> _Fingerprint:
    """Count lines, NULs and quotes in 16 MiB reads, so the file's pages are not all held at once.

    The file's SHA-256 is not taken here: `read_source` hashes it on a thread
    of its own once it is parsed (`hash_in_background`).
    """
    newlines = nuls = quotes = 0
    long_lines = False
    open_line = 0  # bytes of the line still open at the end of the last read
    head = b""
    tail = b""
    # Knowing the encoding before parsing keeps a Windows-1252 file away from the
    # UTF-8 parser, which cannot even report a ragged row it cannot decode.
    decoder = codecs.getincrementaldecoder("utf-8")()
    utf8 = True
    with _reading(path) as handle:
        while chunk := handle.read(1 << 24):
            newlines += chunk.count(b"\n")
            nuls += chunk.count(b"\0")
            quotes += chunk.count(b'"')
            long_here, open_line = _ends_long_line(chunk, open_line)
            long_lines = long_lines or long_here
            if len(head) <= MAX_HEADER_BYTES:
                head += chunk[: MAX_HEADER_BYTES + 1 - len(head)]
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
    return _Fingerprint(lines, head, tail, utf8, nuls, quotes, long_lines)


_HASHED_LATER = ""  # a SourceFile's digest until read_source starts hashing it
_HASHERS: ThreadPoolExecutor | None = None
_HASHERS_LOCK = threading.Lock()


def hash_in_background(path: Path) -> Future[str]:
    """The file's SHA-256, computed on a thread of its own (hashlib reads large pieces without the GIL).

    Started once a file is parsed, it runs while the lines are normalised and
    checked, which leave a core idle; a file that can no longer be read is
    InputMissing (66) when the hash is asked for.
    """
    global _HASHERS
    with _HASHERS_LOCK:
        if _HASHERS is None:
            _HASHERS = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cmclaims-hash")
        return _HASHERS.submit(file_sha256, path)


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file's bytes, read in 16 MiB pieces."""
    digest = hashlib.sha256()
    with _reading(path) as handle:
        while chunk := handle.read(1 << 24):
            digest.update(chunk)
    return digest.hexdigest()


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
    """Why the file's start says it is not CSV text, or None. A NUL further on is a finding on its row."""
    if head.startswith(b"PK\x03\x04"):
        return "it looks like an Excel workbook or a zip file; save it as CSV"
    if head.startswith(b"PAR1"):
        return "it is a Parquet file; give it a .parquet name"
    first_line = head.split(b"\n", 1)[0]
    if first_line.count(b"\x00") * 3 > len(first_line) > 0:
        return "it looks like UTF-16 text without a byte order mark; save it as UTF-8"
    if b"\x00" in first_line:
        return "its header line contains binary data, not text"
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


class _NeedsCare(Exception):
    """The fast reader cannot tell this file's rows apart; the careful reader (csv_records) reads it."""


# Where the parser reads from: the file itself (header skipped), or a buffer of data lines.
_Source = Path | Buffer


# A column the parser encodes as it reads: distinct values once, and a code per row.
ENCODED_TEXT = pa.dictionary(pa.int32(), pa.string())


def _text_types(names: list[str], columns: dict[str, str], plain: frozenset[str] | None) -> dict[str, pa.DataType]:
    """Each column's type for the fast parser: ENCODED_TEXT, except the `plain` canonical columns (all when None)."""
    plain_names = {columns[c] for c in plain if c in columns} if plain is not None else set(names)
    return {name: pa.string() if name in plain_names else ENCODED_TEXT for name in names}


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
    """The fast reader: the lines after the header, the table, its rows' numbers and its ragged rows.

    The parser first reads the file directly (`body` None) and its row count is
    checked against the file's lines. When they differ (blank lines), the data
    lines are loaded, blank lines held back, and the rest parsed with their row
    numbers. When rows still go missing, or the last line leaves a quote open,
    the file is the careful reader's (_NeedsCare).
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
    scan = scan_lines(body, all_odd_quotes=False)
    table, invalid = _parse(scan.body, types, delimiter, threads=True)
    last_open = last_line_quotes_odd(bytes(scan.body[-65536:]), delimiter.encode())
    if table is None or table.num_rows + len(invalid) != count_lines(scan.body) or last_open or \
            scan.bad_quote_rows.size:
        raise _NeedsCare  # a value spans lines or a quote never closes: the careful reader's work
    rows = scan.rows if scan.rows is not None else np.arange(1, count_lines(scan.body) + 1, dtype=np.int64)
    table, rows, ragged = _number_rows(table, invalid, rows, lambda: _parse(scan.body, types, delimiter, False))
    return table, rows, ragged


def _data_lines(data: memoryview) -> memoryview:
    """The bytes after the header line (and after a UTF-8 byte order mark)."""
    start = 3 if bytes(data[:3]) == _BOM else 0
    newline = bytes(data[start : start + 65536]).find(b"\n")
    if newline == -1:
        newline = len(bytes(data[start:]).split(b"\n", 1)[0])
    return data[start + newline + 1 :]


def _header(head: bytes, path: Path, encoding: str | None) -> tuple[str, str, int]:
    """The header line's text, its encoding and its length in bytes (without the line end)."""
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
    if newline == -1 and len(head) > MAX_HEADER_BYTES:
        raise InputUnusable(f"{path}: the first line is longer than 1 MiB, the longest header cmclaims reads",
                            hint="is this a CSV export? Its first line must be the column names")
    line = (head if newline == -1 else head[:newline]).rstrip(b"\r")
    if encoding is None:
        text, encoding = _decode_header(line, path)
    else:
        try:
            text = line.decode(encoding)
        except UnicodeDecodeError as exc:
            raise InputUnusable(f"{path}: the header is not {encoding} text") from exc
    return text, encoding, len(head) if newline == -1 else newline


def _columns_of(path: Path, header_text: str, expected: FileColumns,
                column_map: ColumnMap | None) -> tuple[dict[str, str], list[str], str]:
    if header_text.count('"') % 2:
        raise InputUnusable(f"{path}: the header line has an unmatched double quote")
    delimiter = max(_DELIMITERS, key=header_text.count)
    try:
        headers = [h.strip() for h in next(csv.reader([header_text], delimiter=delimiter))]
    except csv.Error as exc:
        raise InputUnusable(f"{path}: the header line cannot be read as CSV ({exc})") from exc
    columns = _match_columns(path, headers, expected, column_map)
    names = _unique_names(headers)
    return {canonical: names[headers.index(header)] for canonical, header in columns.items()}, names, delimiter


def _careful(path: Path, body: bytes, encoding: str, bad_positions: np.ndarray | None,
             names: list[str], delimiter: str, columns: dict[str, str], label: str) -> SourceFile:
    """The careful reader (cmclaims.io.csv_records): RFC 4180 records, damage kept to its row."""
    records = read_records(body, encoding, names, delimiter, bad_positions)
    bad_rows = [BadRow(row, problem) for row, problem in records.bad]
    return SourceFile(path, _HASHED_LATER, "csv", label, records.table, columns, records.rows, bad_rows)


def _read_utf16(path: Path, expected: FileColumns, column_map: ColumnMap | None) -> SourceFile:
    """A UTF-16 export (with its byte order mark, as Excel's "Unicode text" writes it), read as text."""
    with _mapped(path) as data:
        try:
            text = bytes(data).decode("utf-16")
        except UnicodeDecodeError as exc:
            raise InputUnusable(f"{path}: it starts as UTF-16 text but does not decode as UTF-16",
                                hint="export the file as UTF-8") from exc
    data_utf8 = text.encode("utf-8", errors="surrogatepass")
    header_text, _, header_length = _header(data_utf8[:MAX_HEADER_BYTES + 1], path, "utf-8")
    columns, names, delimiter = _columns_of(path, header_text, expected, column_map)
    body = data_utf8[header_length + 1:] if len(data_utf8) > header_length else b""
    return _careful(path, body, "utf-8", None, names, delimiter, columns, "utf-16")


def _read_csv(
    path: Path, expected: FileColumns, column_map: ColumnMap | None, plain: frozenset[str] | None
) -> SourceFile:
    print_ = _fingerprint(path)
    head = print_.head
    if head.startswith(_UTF16_BOMS) and not head.startswith(codecs.BOM_UTF32_LE):
        return _read_utf16(path, expected, column_map)
    label = "utf-8-sig" if head.startswith(_BOM) else "utf-8"
    head = head[len(_BOM) :] if label == "utf-8-sig" else head
    header_text, header_encoding, _ = _header(head, path, None)
    columns, names, delimiter = _columns_of(path, header_text, expected, column_map)
    types = _text_types(names, columns, plain)

    data_lines = max(print_.lines - 1, 0)
    sound = print_.nuls == 0 and not print_.long_lines
    try:
        if sound and print_.utf8 and header_encoding == "utf-8":
            # The fast reader, straight from the file, when no value can span lines.
            with _mapped(path) as data:
                spanning = print_.quotes > 0 and has_odd_quote_line(_data_lines(data))
            if not spanning:
                last_odd = data_lines > 0 and last_line_quotes_odd(print_.tail, delimiter.encode())
                table, rows, bad_rows = _parse_rows(path, None, data_lines, last_odd, types, delimiter)
                return SourceFile(path, _HASHED_LATER, "csv", label, table, columns, rows, bad_rows)
    except (pa.ArrowInvalid, _NeedsCare):
        pass  # the fast reader lost its place: the careful one reads the file
    with _mapped(path) as data:
        body = bytes(_data_lines(data))
    encoding, bad_positions = _encoding_of(body, print_.utf8, header_encoding)
    if sound and bad_positions.size == 0 and encoding == "cp1252":
        transcoded = body.decode("cp1252").encode("utf-8")
        if not (print_.quotes and has_odd_quote_line(transcoded)):
            try:
                table, rows, bad_rows = _parse_rows(
                    path, transcoded, count_lines(transcoded),
                    last_line_quotes_odd(transcoded[-65536:], delimiter.encode()), types, delimiter)
                return SourceFile(path, _HASHED_LATER, "csv", "cp1252", table, columns, rows, bad_rows)
            except (pa.ArrowInvalid, _NeedsCare):
                pass
    return _careful(path, body, encoding, bad_positions, names, delimiter, columns,
                    label if encoding == "utf-8" else encoding)


def _encoding_of(body: bytes, utf8: bool, header_encoding: str) -> tuple[str, np.ndarray]:
    """UTF-8 or Windows-1252 (SPEC section 2), and the offsets of the bytes that do not decode in it."""
    if utf8 and header_encoding == "utf-8":
        return "utf-8", np.empty(0, dtype=np.int64)
    bad = undecodable(body, "utf-8")
    if header_encoding == "utf-8" and mostly_utf8(body, bad):
        return "utf-8", bad  # UTF-8 with a few damaged bytes: those rows are findings, the rest keep their text
    return "cp1252", undecodable(body, "cp1252")


def _read_parquet(path: Path, expected: FileColumns, column_map: ColumnMap | None) -> SourceFile:
    print_ = _fingerprint(path)
    if not print_.head:
        raise InputUnusable(f"{path}: the file is empty")
    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise InputUnusable(f"{path}: not a readable Parquet file ({_arrow_reason(exc)})") from exc
    table = table.rename_columns(_unique_names([str(name) for name in table.column_names]))
    table, bad_rows = parquet_as_readable(path, table)
    columns = _match_columns(path, table.column_names, expected, column_map)
    rows = np.arange(1, table.num_rows + len(bad_rows) + 1, dtype=np.int64)
    if bad_rows:
        bad = np.array([b.row for b in bad_rows], dtype=np.int64)
        rows = rows[~np.isin(rows, bad)]
    return SourceFile(path, _HASHED_LATER, "parquet", "parquet", table, columns, rows, bad_rows)


def _arrow_reason(exc: BaseException) -> str:
    """Arrow's reason in a few words; never the text of a value (it could be PHI)."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return type(exc).__name__


def _is_kept(kind: pa.DataType) -> bool:
    """Types the outputs carry as they came in, and that read as text."""
    t = pa.types
    return (t.is_string(kind) or t.is_large_string(kind) or t.is_boolean(kind) or t.is_integer(kind)
            or (t.is_floating(kind) and not t.is_float16(kind)) or t.is_decimal(kind) or t.is_date(kind)
            or t.is_timestamp(kind) or t.is_time(kind))


def _as_text(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """A column of any Arrow type that has a text form, as text; raises ArrowException when it has none."""
    kind = column.type
    if isinstance(kind, pa.ExtensionType):
        column = pa.chunked_array([chunk.storage for chunk in column.chunks], type=kind.storage_type)
        return _as_text(column)
    if pa.types.is_dictionary(kind):
        return _as_text(column.cast(kind.value_type))
    if pa.types.is_float16(kind):
        column = column.cast(pa.float32())
    return column.cast(pa.string())


def _binary_text(column: pa.ChunkedArray) -> tuple[pa.ChunkedArray, np.ndarray]:
    """A binary column as text, and which rows are not UTF-8 (those become null here and CM0 findings)."""
    try:
        return column.cast(pa.string()), np.zeros(len(column), dtype=bool)
    except pa.ArrowInvalid:
        pass
    values = column.cast(pa.large_binary()).to_pylist()  # rare: only a column with bytes that are not text
    text, bad = [], np.zeros(len(values), dtype=bool)
    for position, value in enumerate(values):
        try:
            text.append(None if value is None else value.decode("utf-8"))
        except UnicodeDecodeError:
            text.append(None)
            bad[position] = True
    return pa.chunked_array([pa.array(text, pa.string())]), bad


def parquet_as_readable(path: Path, table: pa.Table) -> tuple[pa.Table, list[BadRow]]:
    """Every column in a type the outputs can carry and the checks can read as text.

    Numbers, booleans, decimals, dates, times and timestamps stay as they are;
    string views, dictionaries, half floats, durations, intervals and extension
    types become their text. Binary columns become text where they are UTF-8;
    a row whose bytes are not is a CM0 finding. A column with no text form
    (list, struct, map, union) makes the file unusable (65), named.
    """
    columns, bad = [], np.zeros(table.num_rows, dtype=bool)
    problems: dict[int, str] = {}
    for name, column in zip(table.column_names, table.columns, strict=True):
        kind = column.type
        if _is_kept(kind):
            columns.append(column)
            continue
        if pa.types.is_binary(kind) or pa.types.is_large_binary(kind) or pa.types.is_fixed_size_binary(kind) \
                or pa.types.is_binary_view(kind):
            text, not_text = _binary_text(column)
            for position in np.flatnonzero(not_text & ~bad).tolist():
                problems[position] = f"{name} holds bytes that are not UTF-8 text"
            bad |= not_text
            columns.append(text)
            continue
        try:
            columns.append(_as_text(column))
        except (pa.ArrowException, ValueError, TypeError) as exc:
            raise InputUnusable(
                f"{path}: column '{name}' is of type {kind}, which has no text form cmclaims can check",
                hint="leave that column out of the export, or export it as text",
            ) from exc
    readable = pa.table(columns, names=table.column_names)
    if not bad.any():
        return readable, []
    bad_rows = [BadRow(position + 1, problems[position]) for position in np.flatnonzero(bad).tolist()]
    return readable.filter(pa.array(~bad)), bad_rows


def read_source(
    path: Path, expected: FileColumns, column_map: ColumnMap | None = None, plain: frozenset[str] | None = None
) -> SourceFile:
    """Read `path` as a file of kind `expected`; every row is in `table` or `bad_rows`.

    A CSV's columns are text. With `plain` None they are plain strings; with a
    set of canonical columns, the fast parser reads every other column straight
    into a dictionary array (ENCODED_TEXT): it finds each block's distinct
    values on every core while it parses, and the table weighs a code per row
    instead of the text. `plain` names the columns whose values nearly all
    differ (claim ids), where a dictionary would only add its codes. (The
    careful RFC 4180 reader, for the rare file the fast one cannot number,
    gives plain strings.)
    """
    require_regular_file(path)  # never open() a FIFO: it would wait for a writer forever
    if file_format(path) == "parquet":
        source = _read_parquet(path, expected, column_map)
    else:
        source = _read_csv(path, expected, column_map, plain)
    source.digest = hash_in_background(path)
    return source
