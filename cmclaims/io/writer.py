"""Writing outputs: atomically, readable by their owner only, safe to open in a spreadsheet.

Each file is written to a temporary file in the same folder, flushed to disk,
and renamed over the old one, so a run that dies leaves the previous file or
the new one, never half of either. Files are created with mode 0600 and
folders 0700 whatever the umask (cmclaims.io.private): they hold PHI. A
temporary file's name carries the id of the process writing it, so the next
run into the folder removes what a killed run left behind (and never a live
run's). Every staged file's SHA-256 is known when it is complete, for
summary.json, so that a folder mixing two runs is found out: a CSV file's is
computed from the bytes as they are written, any other file's by reading it back.

A CSV file is written as a pipeline: the calling thread makes its record
batches, a pool of threads turns them into CSV text (Arrow formats without
the GIL), a few batches ahead, and a writing thread appends each batch's
text in order and hashes it. The bytes are those one CSV writer would write: the header is written
once, and no state passes from one batch's rows to the next.

Text cells that a spreadsheet would run as a formula (starting with =, +, -,
@, a tab or a carriage return) get a leading apostrophe in CSV outputs,
header cells included; cells that are numbers (-12.50) stay numbers.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from queue import Queue

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from cmclaims.errors import CannotWrite, InputUnusable
from cmclaims.io.direct import DirectFile
from cmclaims.io.private import FILE_MODE, private_folder

OWNER_ONLY = FILE_MODE
PENDING = ".pending-outputs.json"  # the run's output hashes, present only while its renames are under way
_TEMPORARY = re.compile(r"^\.(?P<target>.+)\.(?P<pid>\d+)-[^.]+\.tmp$")
_FORMULA_START = np.zeros(256, dtype=bool)  # by first byte: = + - @ tab carriage-return
_FORMULA_START[np.frombuffer(b"=+-@\t\r", dtype=np.uint8)] = True
_NUMBER = r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"


def _starts_risky(chunk: pa.Array) -> np.ndarray:
    """Per cell: does its text start with a character that makes a spreadsheet formula?

    Reads the first byte of each value straight from Arrow's buffers: no copy of the text.
    """
    offset_type = np.int64 if pa.types.is_large_string(chunk.type) else np.int32
    _, offsets_buffer, data_buffer = chunk.buffers()
    if data_buffer is None or len(chunk) == 0:
        return np.zeros(len(chunk), dtype=bool)
    offsets = np.frombuffer(offsets_buffer, dtype=offset_type)[chunk.offset : chunk.offset + len(chunk) + 1]
    data = np.frombuffer(data_buffer, dtype=np.uint8)
    starts = offsets[:-1]
    non_empty = np.greater(offsets[1:], starts)
    first = data[np.minimum(starts, max(data.size - 1, 0))] if data.size else np.zeros(starts.size, np.uint8)
    return non_empty & _FORMULA_START[first]


def escape_formulas(table: pa.Table) -> pa.Table:
    """Prefix text cells a spreadsheet would execute with an apostrophe; numbers are left alone."""
    columns = []
    for column in table.columns:
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            risky = pa.chunked_array([pa.array(_starts_risky(c)) for c in column.chunks], type=pa.bool_())
            if pc.any(risky).as_py():  # the number test runs only on the rare columns that need it
                risky = pc.and_(risky, pc.invert(pc.match_substring_regex(column, _NUMBER)))
                column = pc.if_else(risky, pc.binary_join_element_wise("'", column, ""), column)
        columns.append(column)
    return pa.table(columns, names=table.column_names)


def escape_header(name: str) -> str:
    """A column name as a safe header cell: an apostrophe before a formula-like start, like a data cell."""
    return f"'{name}" if name and name[0] in "=+-@\t\r" else name


def ensure_folder(folder: Path) -> None:
    """Create the output folder and its missing parents 0700; exit 73 when that is impossible."""
    private_folder(folder, "output folder")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise CannotWrite(f"{folder}: the output folder is not writable")


def _alive(pid: int) -> bool:
    """Whether process `pid` still runs (on Windows, where signal 0 would end it, always True)."""
    if sys.platform == "win32" or pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # it exists, owned by someone else
    return True


def remove_leftovers(folder: Path, names: tuple[str, ...]) -> list[Path]:
    """Remove the temporaries of `names` that a run killed while writing them left in `folder`.

    A temporary is `.<name>.<pid>-<random>.tmp`; one whose process no longer
    runs is a leftover (it holds PHI and would never be renamed). A stale
    PENDING note goes too: the run it describes is over.
    """
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        match = _TEMPORARY.match(entry.name)
        stale = match is not None and match["target"] in names and not _alive(int(match["pid"]))
        if stale or (entry.name == PENDING and not _pending_owner_alive(Path(entry.path))):
            try:
                os.unlink(entry.path)
                removed.append(Path(entry.path))
            except OSError:
                continue  # gone already, or not ours to remove: the run goes on
    return removed


def _pending_owner_alive(path: Path) -> bool:
    try:
        return _alive(int(json.loads(path.read_text(encoding="utf-8")).get("pid", 0)))
    except (OSError, ValueError, TypeError, AttributeError):
        return False


@contextmanager
def temporary_beside(target: Path) -> Iterator[Path]:
    """An owner-only temporary file beside `target`, fsynced when the block ends and deleted on error."""
    try:
        handle, name = tempfile.mkstemp(prefix=f".{target.name}.{os.getpid()}-", suffix=".tmp", dir=target.parent)
        os.close(handle)
        temporary = Path(name)
        os.chmod(temporary, OWNER_ONLY)
    except OSError as exc:
        raise CannotWrite(f"{target.parent}: cannot write there ({exc.strerror})") from exc
    try:
        yield temporary
        with temporary.open("rb+") as stream:
            os.fsync(stream.fileno())
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def commit(temporary: Path, target: Path) -> None:
    """Rename a finished temporary file over its target and make the rename durable."""
    try:
        os.replace(temporary, target)
        directory = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
    except OSError as exc:
        raise CannotWrite(f"{target}: cannot be written ({exc.strerror})") from exc


def write_table(table: pa.Table, path: Path, fmt: str) -> str | None:
    """Write a whole table as CSV (formulas escaped) or Parquet; a CSV file's SHA-256 (see write_batches)."""
    return write_batches(table.schema, iter(table.to_batches()), path, fmt)


def write_batches(schema: pa.Schema, batches: Iterator[pa.RecordBatch], path: Path, fmt: str) -> str | None:
    """Write record batches one at a time, so a large file never has to be held whole in memory.

    A batch's columns may be dictionary-encoded where `schema` has their text:
    they are written as that text. Returns the SHA-256 of a CSV file's bytes,
    hashed as they were written (None for Parquet).
    """
    if fmt == "parquet":
        with pq.ParquetWriter(path, schema) as parquet:
            for batch in batches:
                parquet.write_batch(as_schema(batch, schema))
        return None
    # A header is a cell too: an input column named =HYPERLINK(...) is written as text.
    header = pa.schema([field.with_name(escape_header(field.name)) for field in schema])
    digest = hashlib.sha256()
    try:
        with DirectFile(path) as stream:
            _write_in_order((_csv_text(batch, schema, header) for batch in _header_first(schema, batches)),
                            stream, digest)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as exc:
        nested = [f.name for f in schema if pa.types.is_nested(f.type)]
        raise InputUnusable(
            f"an input column cannot be written to CSV ({', '.join(nested) or 'a column of an unusual type'})",
            hint="validate with --format parquet, or leave that column out of the export",
        ) from exc
    return digest.hexdigest()


def as_schema(batch: pa.RecordBatch, schema: pa.Schema) -> pa.RecordBatch:
    """`batch` with the types of `schema` (dictionary-encoded text decoded); no copy when they already match."""
    if batch.schema.equals(schema):
        return batch
    columns = [column.cast(field.type) for column, field in zip(batch.columns, schema, strict=True)]
    return pa.RecordBatch.from_arrays(columns, schema=schema)


_HEADER = None  # in the stream of batches: the header line's place


CSV_ROWS = 1 << 14  # rows formatted as one job: the text of a few jobs weighs little, and its buffers are reused


def _header_first(schema: pa.Schema, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch | None]:
    """The header's place, then the batches cut into slices of CSV_ROWS rows (slices share the batch's buffers)."""
    yield _HEADER
    for batch in batches:
        for start in range(0, batch.num_rows, CSV_ROWS):
            yield batch.slice(start, CSV_ROWS)


def _csv_text(batch: pa.RecordBatch | None, schema: pa.Schema, header: pa.Schema) -> Callable[[], pa.Buffer]:
    """The work of turning one batch (or, for None, the header) into CSV text, to run on a formatting thread."""

    def text() -> pa.Buffer:
        sink = pa.BufferOutputStream()
        if batch is None:
            pacsv.write_csv(header.empty_table(), sink, pacsv.WriteOptions(include_header=True))
        else:
            table = escape_formulas(pa.Table.from_batches([as_schema(batch, schema)]))
            pacsv.write_csv(table.rename_columns(header.names), sink, pacsv.WriteOptions(include_header=False))
        return sink.getvalue()

    return text


_FORMATTERS: ThreadPoolExecutor | None = None
_FORMATTERS_LOCK = threading.Lock()


def _formatters() -> ThreadPoolExecutor:
    """The threads every CSV file of the process is formatted on, one a core, shared by files written at once."""
    global _FORMATTERS
    with _FORMATTERS_LOCK:
        if _FORMATTERS is None:
            _FORMATTERS = ThreadPoolExecutor(max_workers=os.cpu_count() or 1, thread_name_prefix="cmclaims-csv")
        return _FORMATTERS


def _write_in_order(jobs: Iterator[Callable[[], pa.Buffer]], stream: DirectFile, digest: hashlib._Hash) -> None:
    """Run `jobs` on the formatting threads; write their text to `stream` in order, and hash it, on a thread of its own.

    This thread only makes the jobs (the batches are produced here: the
    exceptions file's messages, the clean file's rows); a writing thread
    takes each job's text in turn, writes it and hashes it (both without the
    GIL). At most one job a core plus one waits to be written, so a file's
    text is never held much beyond a few batches. A failure on either side
    stops both: the writing thread drains what was queued without writing it,
    and the first error is raised here once it has finished.
    """
    pool = _formatters()
    queue: Queue[Future[pa.Buffer] | None] = Queue(maxsize=(os.cpu_count() or 1) + 1)
    errors: list[BaseException] = []

    def write() -> None:
        while (future := queue.get()) is not None:
            try:
                text = future.result()
                if not errors:
                    stream.write(text)
                    digest.update(text)
            except BaseException as exc:  # kept for the making thread, which raises it
                errors.append(exc)

    writer = threading.Thread(target=write, name="cmclaims-csv-writer", daemon=True)
    writer.start()
    try:
        for job in jobs:
            if errors:
                break
            queue.put(pool.submit(job))
    finally:
        queue.put(None)
        writer.join()
    if errors:
        raise errors[0]


def write_json(document: dict, path: Path) -> None:
    """Write a JSON document (the summary), indented for people."""
    path.write_text(json.dumps(document, indent=2, sort_keys=False, allow_nan=False) + "\n", encoding="utf-8")


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file, read in 16 MiB pieces (hashlib works on them without the GIL)."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while piece := stream.read(1 << 24):
            digest.update(piece)
    return digest.hexdigest()


class StagedOutputs:
    """Outputs written to temporary files first and renamed into place together at the end.

    Nothing appears under the output names until every file is complete, so a
    run that fails half way leaves the previous night's outputs untouched.
    Files are renamed in the order they were staged (summary.json last), and a
    file staged in the background keeps its place in that order.
    """

    def __init__(self, folder: Path, leftovers: tuple[str, ...] = ()) -> None:
        ensure_folder(folder)
        self.folder = folder
        self.removed = remove_leftovers(folder, leftovers) if leftovers else []
        self._staged: list[Future[tuple[Path, Path]]] = []
        self._pool: ThreadPoolExecutor | None = None
        self._digests: dict[str, str] = {}

    def _write(self, name: str, write: Callable[[Path], str | None]) -> tuple[Path, Path]:
        """Write `name` to a temporary file; `write` returns the file's SHA-256 when it hashed what it wrote."""
        target = self.folder / name
        try:
            with temporary_beside(target) as temporary:
                digest = write(temporary)
            self._digests[name] = digest if digest is not None else file_sha256(temporary)
        except OSError as exc:
            raise CannotWrite(f"{target}: cannot be written ({exc.strerror or exc})") from exc
        return temporary, target

    def sha256(self, name: str) -> str:
        """The SHA-256 of staged file `name` (waiting for it to be complete)."""
        self.wait()
        return self._digests[name]

    def stage(self, name: str, write: Callable[[Path], str | None]) -> Path:
        """Write `name` to a temporary file now; it is renamed into place by commit()."""
        done: Future[tuple[Path, Path]] = Future()
        done.set_result(self._write(name, write))
        self._staged.append(done)
        return self.folder / name

    def stage_in_background(self, name: str, write: Callable[[Path], str | None]) -> Path:
        """Like stage(), on a worker thread: Arrow writes without the GIL while Python works on."""
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cmclaims-writer")
        self._staged.append(self._pool.submit(self._write, name, write))
        return self.folder / name

    def wait(self) -> None:
        """Return when every staged file is complete on disk (raising a background write's error)."""
        for future in self._staged:
            future.result()

    def commit(self, between: Callable[[], None] | None = None) -> list[Path]:
        """Wait for every staged file, then rename each into place in the order staged."""
        files = [future.result() for future in self._staged]
        done = []
        # While the renames are under way a note beside them says which files belong to this run,
        # so that a reader of a folder left half renamed by a kill can say "mixed", not "tampered".
        pending = self.folder / PENDING
        note = {"pid": os.getpid(), "files": {target.name: self._digests.get(target.name) for _, target in files}}
        with temporary_beside(pending) as temporary:
            write_json(note, temporary)
        commit(temporary, pending)
        for position, (temporary, target) in enumerate(files):
            commit(temporary, target)
            done.append(target)
            self._staged[position] = _nothing()
            if between is not None and position < len(files) - 1:
                between()
        pending.unlink(missing_ok=True)
        self._close()
        return done

    def discard(self) -> None:
        """Remove every temporary file not yet committed (waiting for background writes first)."""
        for future in self._staged:
            try:
                staged = future.result()
            except BaseException:
                continue
            if staged:
                staged[0].unlink(missing_ok=True)
        self._staged.clear()
        self._close()

    def _close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None


def _nothing() -> Future:
    """A finished placeholder for a file already committed (discard() then skips it)."""
    done: Future = Future()
    done.set_result(())
    return done
