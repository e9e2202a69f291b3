"""Running totals: each member's units per code and calendar year, kept up to date (table `total_blocks`).

An annual cap (Idaho: 240 units a client a calendar year) counts every unit
the member billed in the year, in every month. Summing a year of lines each
night costs more the longer the ledger runs; the ledger keeps the sums
instead, per profile, member, code, calendar year and authorization (units
billed beyond a cap against an authorization: `authorization_id` is '' for
the others), and the limit pass reads the totals of the night's years.

Like the lines, the totals are kept as one block per profile and year
(member_id, hcpcs, authorization_id, units, auth_units), with its units and
SHA-256 beside it: a night rewrites a few blobs instead of updating hundreds
of thousands of rows, and reading a year's totals is one blob.

The totals hold exactly the units of the ledger's *active* lines: lines of
committed runs that no void or replacement took out (the same lines
`ledger check` and the model count). They change only in the transaction that
changes the lines, by a delta computed from what that change touches: the
run's earlier lines (a re-run replaces them), its new lines, and the
originals its voids and replacements retire, or retired in the execution
being replaced or rolled back. Nothing else changes whether a line is active.

Totals are kept only for the profiles whose code tables cap a year (table
`kept_totals`): a payer without an annual cap reads none, and a night of 1M
lines spent 0.35 s of CPU keeping them (summing the night's lines, merging the
year's block). A profile's totals start from its lines the first time a run of
it has an annual cap (`start_keeping`), and are dropped when its runs no longer
have one (`stop_keeping`). A run's delta changes only the totals of kept
profiles: a void may take out an original of another profile. Until its
totals are kept, a profile's totals are computed from its lines when asked
(`computed`).

Each retirement also keeps the units of the original it took out
(`retired.units`), so that the check before every commit can compare, per
profile and year, the totals' units with the line blocks' units less the
retired units (cheap SQL, no line block read); `ledger check` recomputes every
total from the lines.
"""

from __future__ import annotations

import hashlib
import sqlite3

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from cmclaims.ledger.blocks import LINE_SCHEMA, decode_block, encode_block
from cmclaims.normalize.text_keys import all_distinct
from cmclaims.normalize.values import year_of

TOTAL_BLOCKS = """CREATE TABLE total_blocks (
    profile TEXT NOT NULL,
    year INTEGER NOT NULL,             -- calendar year of the service dates
    rows INTEGER NOT NULL,
    units INTEGER NOT NULL,            -- the block's units, summed (checked before every commit)
    sha256 TEXT NOT NULL,
    data BLOB NOT NULL,                -- Parquet: member_id, hcpcs, authorization_id, units, auth_units
    PRIMARY KEY (profile, year)
)"""

KEPT_TOTALS = """CREATE TABLE kept_totals (
    profile TEXT PRIMARY KEY           -- a profile whose running totals the ledger keeps (its code tables cap a year)
)"""

# A total: profile, year, member, code, and the authorization its units were billed against beyond a cap ('').
KEY = ["profile", "year", "member_id", "hcpcs", "authorization_id"]
SCHEMA = pa.schema([("profile", pa.string()), ("year", pa.int64()), ("member_id", pa.string()),
                    ("hcpcs", pa.string()), ("authorization_id", pa.string()), ("units", pa.int64()),
                    ("auth_units", pa.int64())])
_IN_BLOCK = ["member_id", "hcpcs", "authorization_id", "units", "auth_units"]
BLOCK_SCHEMA = pa.schema([SCHEMA.field(name) for name in _IN_BLOCK])
# ... as a block keeps it: the texts dictionary-encoded (older blocks hold them plain; both read the same).
ENCODED_BLOCK_SCHEMA = pa.schema([pa.field(f.name, pa.dictionary(pa.int32(), f.type)) if f.type == pa.string()
                                  else f for f in BLOCK_SCHEMA])
# ... and totals read so (`read(dictionary=True)`): the annual caps look each distinct member up once.
ENCODED_SCHEMA = pa.schema([ENCODED_BLOCK_SCHEMA.field(f.name) if f.name in _IN_BLOCK else f for f in SCHEMA])
# What the totals need of a recorded line.
LINE_COLUMNS = ["claim_id", "member_id", "hcpcs", "service_day", "units", "authorization_id", "auth_units"]


def empty() -> pa.Table:
    """No totals."""
    return SCHEMA.empty_table()


def _column(value: object, rows: int, kind: pa.DataType) -> pa.Array:
    """`value` repeated `rows` times."""
    return pa.repeat(pa.scalar(value, kind), rows)


def summed(lines: pa.Table, profile: str | None = None) -> pa.Table:
    """The lines' units per total; `profile` when `lines` has no profile column."""
    if lines.num_rows == 0:
        return empty()
    if profile is not None and all(pa.types.is_dictionary(lines.column(c).type) for c in _CODED):
        presummed = _presummed(lines, profile)
        if presummed is not None:
            table, one_code_per_text = presummed
            return _nonzero(table.cast(SCHEMA)) if one_code_per_text else _grouped(table)
    auth_units = pc.fill_null(lines.column("auth_units").cast(pa.int64()), 0)
    authorization = pc.if_else(pc.greater(auth_units, 0),
                               pc.fill_null(lines.column("authorization_id").cast(pa.string()), ""), "")
    table = pa.table({
        "profile": lines.column("profile").cast(pa.string()) if profile is None else
        _column(profile, lines.num_rows, pa.string()),
        "year": pa.array(year_of(lines.column("service_day").to_numpy(zero_copy_only=False)), pa.int64()),
        "member_id": pc.fill_null(lines.column("member_id").cast(pa.string()), ""),
        "hcpcs": pc.fill_null(lines.column("hcpcs").cast(pa.string()), ""),
        "authorization_id": authorization,
        "units": pc.fill_null(lines.column("units").cast(pa.int64()), 0),
        "auth_units": auth_units,
    })
    return _grouped(table)


_CODED = ("member_id", "hcpcs", "authorization_id")  # the texts of a total's key


def _presummed(lines: pa.Table, profile: str) -> tuple[pa.Table, bool] | None:
    """Dictionary-encoded lines (a validate run's, cmclaims/pipeline/ledger_entries.py) summed per year and
    per dictionary code of member, code and authorization, in numpy: a few rows per member, not one per line.

    Only codes are compared here, never texts. Where two codes could make one text (a dictionary with a
    value twice, or an empty text beside lines without one), the second item is False and `summed` groups the rows
    left by their texts; a night's dictionaries hold each text once, and their rows are the totals. None
    when the codes are too many to make one 63-bit integer of (never for a night's batch).
    """
    one_code_per_text = True

    def codes(name: str) -> tuple[np.ndarray, pa.Array]:
        nonlocal one_code_per_text
        column = lines.column(name)
        column = column.unify_dictionaries().combine_chunks() if isinstance(column, pa.ChunkedArray) else column
        values = column.dictionary
        # A line without a value (code -1) is summed under the empty text: a dictionary's "" would be a second code.
        distinct = values.null_count == 0 and all_distinct(values)
        one_code_per_text &= distinct and not pc.any(pc.equal(values, "")).as_py()
        return column.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64), values

    auth_units = pc.fill_null(lines.column("auth_units").cast(pa.int64()), 0).to_numpy(zero_copy_only=False)
    member, members = codes("member_id")
    hcpcs, code_values = codes("hcpcs")
    authorization, authorizations = codes("authorization_id")
    authorization = np.where(auth_units > 0, authorization, -1)  # kept beyond a cap only, as below
    year = year_of(lines.column("service_day").to_numpy(zero_copy_only=False))
    units = pc.fill_null(lines.column("units").cast(pa.int64()), 0).to_numpy(zero_copy_only=False)
    # One integer per line for its (year, member, code, authorization): codes from -1 up, mixed radix.
    first_year = int(year.min())
    if (int(year.max()) - first_year + 1) * (len(members) + 1) * (len(code_values) + 1) * \
            (len(authorizations) + 1) >= 1 << 62:
        return None
    key = year - first_year
    for part, values in ((member, members), (hcpcs, code_values), (authorization, authorizations)):
        key = key * (len(values) + 1) + (part + 1)
    group, keys = pd.factorize(key)
    found = {"year": np.empty(len(keys), np.int64)}
    rest = keys.astype(np.int64)
    for name, values in (("authorization", authorizations), ("hcpcs", code_values), ("member", members)):
        found[name] = rest % (len(values) + 1) - 1
        rest = rest // (len(values) + 1)
    found["year"] = rest + first_year
    sums = {"units": np.bincount(group, weights=units, minlength=len(keys)).astype(np.int64),
            "auth_units": np.bincount(group, weights=auth_units, minlength=len(keys)).astype(np.int64)}

    def text(column: str, values: pa.Array) -> pa.Array:
        picked = found[column]
        return pc.fill_null(values.take(pa.array(picked, mask=picked < 0)).cast(pa.string()), "")

    table = pa.table({
        "profile": _column(profile, len(keys), pa.string()),
        "year": pa.array(found["year"]),
        "member_id": text("member", members),
        "hcpcs": text("hcpcs", code_values),
        "authorization_id": text("authorization", authorizations),
        "units": pa.array(sums["units"]),
        "auth_units": pa.array(sums["auth_units"]),
    })
    return table, one_code_per_text


def _grouped(table: pa.Table, key: list[str] = KEY) -> pa.Table:
    """Rows with the same key summed; rows that come to nothing dropped.

    Each key column is dictionary-encoded once and the codes packed into one
    integer per row, grouped in numpy: a night's totals merged into a year's
    block (hundreds of thousands of rows) in two thirds of the time Arrow's
    group_by takes over three texts. Arrow groups when the codes do not fit
    one 63-bit integer.
    """
    encoded = {name: _text_codes(table.column(name)) for name in key}
    group = _group_of([encoded[name] for name in key])
    if group is None:
        grouped = table.group_by(key, use_threads=False).aggregate([("units", "sum"), ("auth_units", "sum")])
        grouped = grouped.rename_columns([*key, "units", "auth_units"])
    else:
        number, groups = group
        first = np.empty(groups, dtype=np.int64)
        first[number[::-1]] = np.arange(table.num_rows - 1, -1, -1)  # assigned last to first: the first row stays
        sums = {name: np.bincount(number, weights=pc.fill_null(table.column(name), 0).to_numpy(zero_copy_only=False),
                                  minlength=groups).astype(np.int64) for name in ("units", "auth_units")}
        kept = pa.array(first)
        grouped = pa.table({**{name: encoded[name].take(kept) for name in key},
                            **{name: pa.array(values) for name, values in sums.items()}})
    grouped = _nonzero(grouped)
    return grouped.select(SCHEMA.names).cast(SCHEMA) if key == KEY else grouped


def _group_of(key: list[pa.DictionaryArray]) -> tuple[np.ndarray, int] | None:
    """Each row's group (numbered by first appearance) and the number of groups; None when the key's codes
    are too many to pack into one integer. A null key value is a group of its own, as in Arrow's group_by."""
    packed = np.zeros(len(key[0]) if key else 0, dtype=np.int64)
    room = 1
    for column in key:
        count = len(column.dictionary)
        room *= count + 1
        if room >= 1 << 62:
            return None
        packed = packed * (count + 1) + (column.indices.fill_null(-1).to_numpy(zero_copy_only=False) + 1)
    number, distinct = pd.factorize(packed)
    return number.astype(np.int64), len(distinct)


def _text_codes(column: pa.ChunkedArray) -> pa.DictionaryArray:
    """A column as one dictionary array, one code per text.

    Dictionary-encoded chunks (a totals block, a night's delta) have only their
    dictionaries unified: each distinct text is hashed once, not each row (a
    year's block holds twice as many rows as members). Unifying also folds a
    text a dictionary holds twice into one code. A dictionary holding a null,
    which cmclaims never writes, is decoded and encoded again.
    """
    if pa.types.is_dictionary(column.type):
        if not any(chunk.dictionary.null_count for chunk in column.chunks):
            return column.unify_dictionaries().combine_chunks()
        column = column.cast(column.type.value_type)
    return column.combine_chunks().dictionary_encode()


def _nonzero(table: pa.Table) -> pa.Table:
    """The totals that count something: a total summed to nothing is not kept."""
    return table.filter(pc.or_(pc.not_equal(table.column("units"), 0), pc.not_equal(table.column("auth_units"), 0)))


def combined(parts: list[tuple[pa.Table, int]]) -> pa.Table:
    """Signed sum of several totals (+1 added, -1 taken out)."""
    tables = []
    for table, sign in parts:
        if table.num_rows:
            if sign != 1:
                table = table.set_column(table.schema.get_field_index("units"), "units",
                                         pc.multiply(table.column("units"), sign))
                table = table.set_column(table.schema.get_field_index("auth_units"), "auth_units",
                                         pc.multiply(table.column("auth_units"), sign))
            tables.append(table.select(SCHEMA.names).cast(SCHEMA))
    if not tables:
        return empty()
    return _grouped(pa.concat_tables(tables)) if len(tables) > 1 else tables[0]


def _with_key(table: pa.Table, profile: str, year: int, dictionary: bool = False) -> pa.Table:
    rows = table.num_rows
    schema = ENCODED_SCHEMA if dictionary else SCHEMA
    return table.append_column("profile", _column(profile, rows, pa.string())) \
        .append_column("year", pa.array(np.full(rows, year, np.int64))).select(schema.names).cast(schema)


def read(db: sqlite3.Connection, profile: str | None = None, years: list[int] | None = None, *,
         dictionary: bool = False) -> pa.Table:
    """The totals of `profile` (every profile by default) in `years` (every year by default); `dictionary`
    keeps their texts dictionary-encoded, as a block holds them (ENCODED_SCHEMA)."""
    query = "SELECT profile, year, CAST(data AS BLOB) FROM total_blocks WHERE 1"
    params: list[object] = []
    if profile is not None:
        query += " AND profile = ?"
        params.append(profile)
    if years is not None:
        query += f" AND year IN ({', '.join('?' * len(years))})"
        params.extend(years)
    encoded = _IN_BLOCK[:3] if dictionary else None
    tables = [_with_key(decode_block(data, _IN_BLOCK, dictionary=encoded), block_profile, year, dictionary)
              for block_profile, year, data in db.execute(query, params)]
    if not tables:
        return ENCODED_SCHEMA.empty_table() if dictionary else empty()
    return pa.concat_tables(tables)  # each block's chunk keeps its own dictionary


# A totals block as `add` writes it: profile, year, the SHA-256 of the block it replaces (None when there
# was none), then rows, units, SHA-256 and Parquet of the new block (data None: the block is removed).
BlockWrite = tuple[str, int, str | None, int, int, str, bytes | None]


def block_writes(db: sqlite3.Connection, delta: pa.Table) -> list[BlockWrite]:
    """What adding `delta` writes: each (profile, year) block it touches, read, summed with it and encoded
    whole (or removed when nothing is left). Reads only: it may run off the transaction, on a connection
    of its own (cmclaims/ledger/store.py `prepare_run`), and be written later by `write_blocks`."""
    if not delta.num_rows:
        return []
    writes: list[BlockWrite] = []
    pairs = delta.group_by(["profile", "year"], use_threads=False).aggregate([]).to_pylist()
    for pair in pairs:
        profile, year = pair["profile"], int(pair["year"])
        mine = delta.filter(pc.and_(pc.equal(delta.column("profile"), profile), pc.equal(delta.column("year"), year)))
        row = db.execute("SELECT sha256, CAST(data AS BLOB) FROM total_blocks WHERE profile = ? AND year = ?",
                         (profile, year)).fetchone()
        # Both sides with their texts as codes (a block is written so): the sums group codes, not texts.
        parts = [_encoded(mine.select(_IN_BLOCK))]
        if row:
            parts.append(decode_block(row[1], _IN_BLOCK, dictionary=_IN_BLOCK[:3]))
        # Within one block only member, code and authorization tell totals apart.
        total = _grouped(pa.concat_tables(parts), _IN_BLOCK[:3]) if len(parts) > 1 else parts[0]
        before = row[0] if row else None
        if not total.num_rows:
            writes.append((profile, year, before, 0, 0, "", None))
            continue
        data = encode_block(total.select(_IN_BLOCK).cast(ENCODED_BLOCK_SCHEMA), dictionary=True)
        writes.append((profile, year, before, total.num_rows, int(pc.sum(total.column("units")).as_py() or 0),
                       hashlib.sha256(data).hexdigest(), data))
    return writes


def _encoded(table: pa.Table) -> pa.Table:
    """A totals table with its texts dictionary-encoded, as a block holds them."""
    return table.cast(pa.schema([pa.field(f.name, ENCODED_BLOCK_SCHEMA.field(f.name).type) for f in table.schema]))


def write_blocks(db: sqlite3.Connection, writes: list[BlockWrite]) -> bool:
    """Write blocks `block_writes` made, inside the caller's transaction, if each block they replace is still
    the one they were summed with (its SHA-256); False, writing nothing, when any is not."""
    for profile, year, before, *_ in writes:
        row = db.execute("SELECT sha256 FROM total_blocks WHERE profile = ? AND year = ?", (profile, year)).fetchone()
        if (row[0] if row else None) != before:
            return False
    for profile, year, _, rows, units, sha, data in writes:
        if data is None:
            db.execute("DELETE FROM total_blocks WHERE profile = ? AND year = ?", (profile, year))
        else:
            db.execute("INSERT OR REPLACE INTO total_blocks (profile, year, rows, units, sha256, data) "
                       "VALUES (?, ?, ?, ?, ?, ?)", (profile, year, rows, units, sha, data))
    return True


def add(db: sqlite3.Connection, delta: pa.Table) -> None:
    """Add a delta to the totals (inside the caller's transaction): each (profile, year) block it touches is read,
    summed with it and written back whole (or removed when nothing is left)."""
    written = write_blocks(db, block_writes(db, delta))
    assert written  # read and written in one transaction: nothing can have changed in between


def committed_lines(db: sqlite3.Connection, where: str, params: list[object],
                    columns: list[str] = LINE_COLUMNS) -> pa.Table:
    """Lines of committed runs' blocks matching `where` (on line_blocks b), with run_id and profile."""
    tables = []
    query = "SELECT b.run_id, b.profile, CAST(b.data AS BLOB) FROM line_blocks b JOIN runs r USING (run_id) " \
            f"WHERE r.status = 'committed' AND {where}"
    for run_id, profile, data in db.execute(query, params):
        table = decode_block(data, columns)
        tables.append(table.append_column("run_id", _column(run_id, table.num_rows, pa.string()))
                      .append_column("profile", _column(profile, table.num_rows, pa.string())))
    if not tables:
        schema = pa.schema([*(LINE_SCHEMA.field(c) for c in columns), ("run_id", pa.string()),
                            ("profile", pa.string())])
        return schema.empty_table()
    return pa.concat_tables(tables, promote_options="permissive")


def _keyed(lines: pa.Table) -> pd.Index:
    """Each line's identity as retirements name it: (claim_id, run_id)."""
    return pd.MultiIndex.from_arrays([lines.column("claim_id").to_numpy(zero_copy_only=False),
                                      lines.column("run_id").to_numpy(zero_copy_only=False)])


def _originals(db: sqlite3.Connection, wanted: pd.DataFrame) -> pa.Table:
    """The recorded lines of committed runs named by (claim_id, original_run, month)."""
    found = []
    for (run_id, month), group in wanted.groupby(["original_run", "month"]):
        block = committed_lines(db, "b.run_id = ? AND b.month = ?", [str(run_id), int(month)])
        hit = pc.is_in(block.column("claim_id"), value_set=pa.array(group["claim_id"].unique(), pa.string()))
        found.append(block.filter(hit))
    return pa.concat_tables(found) if found else committed_lines(db, "0", [])


def _taken_out(lines: pa.Table, claims: set[str]) -> pa.Array:
    """Per line of one run: whether a retirement of that run names its claim."""
    if not claims or not lines.num_rows:
        return pa.array(np.zeros(lines.num_rows, dtype=bool))
    return pc.fill_null(pc.is_in(lines.column("claim_id"), value_set=pa.array(sorted(claims), pa.string())), False)


def run_change(db: sqlite3.Connection, run_id: str, profile: str, new_lines: pa.Table | None,
               new_totals: pa.Table | None, new_retired: pd.DataFrame,
               counted: set[str]) -> tuple[pa.Table, list[int]]:
    """What recording (new lines and retirements) or rolling back (None, nothing) run `run_id` changes in the
    totals of the `counted` profiles, read before the run's old entries are replaced; and each new
    retirement's units.

    `new_retired`: claim_id, month, original_run (the run's voids' and replacements' originals);
    `new_totals`: `summed(new_lines)`, computed beforehand (off the transaction; empty when `profile` is not
    counted).
    """
    retired = pd.DataFrame(db.execute("SELECT claim_id, original_run, retired_by, month FROM retired").fetchall(),
                           columns=["claim_id", "original_run", "retired_by", "month"])
    kept = retired[retired["retired_by"] != run_id]
    before = pd.MultiIndex.from_frame(retired[["claim_id", "original_run"]])
    after = pd.MultiIndex.from_frame(pd.concat([kept[["claim_id", "original_run"]],
                                                new_retired[["claim_id", "original_run"]]]))
    # The run's own lines taken out before and after the change (by another run, or by its own voids).
    mine_before = set(retired.loc[retired["original_run"] == run_id, "claim_id"])
    mine_after = set(kept.loc[kept["original_run"] == run_id, "claim_id"]) | \
        set(new_retired.loc[new_retired["original_run"] == run_id, "claim_id"])
    parts: list[tuple[pa.Table, int]] = []

    old = committed_lines(db, "b.run_id = ?", [run_id]) if profile in counted else committed_lines(db, "0", [])
    if old.num_rows:  # the run's earlier execution, if any
        parts.append((summed(old.filter(pc.invert(_taken_out(old, mine_before)))), -1))
    if new_lines is not None and new_totals is not None and profile in counted:
        parts.append((new_totals, +1))
        out = _taken_out(new_lines, mine_after)
        if pc.any(out).as_py():
            parts.append((summed(new_lines.filter(out), profile), -1))

    # Originals of other runs whose state the change may flip: retired by the old execution, or now.
    touched = pd.concat([retired.loc[retired["retired_by"] == run_id, ["claim_id", "original_run", "month"]],
                         new_retired[["claim_id", "original_run", "month"]]])
    touched = touched[touched["original_run"] != run_id].drop_duplicates()
    originals = _originals(db, touched) if len(touched) else committed_lines(db, "0", [])
    if originals.num_rows:
        keys = _keyed(originals)
        parts.append((summed(originals.filter(pa.array(~keys.isin(before)))), -1))
        parts.append((summed(originals.filter(pa.array(~keys.isin(after)))), +1))

    # Each new retirement's units: what its original (another run's line, or one of this run's) bills.
    units: dict[tuple[str, str], int] = {}
    sources = [originals]
    if new_lines is not None and len(new_retired):
        named = _taken_out(new_lines, set(new_retired["claim_id"]))
        sources.append(new_lines.filter(named).select(["claim_id", "units"]).append_column(
            "run_id", _column(run_id, int(pc.sum(named).as_py() or 0), pa.string())))
    for source in sources:
        if source.num_rows:
            frame = pd.DataFrame({"claim_id": source.column("claim_id").to_numpy(zero_copy_only=False),
                                  "run_id": source.column("run_id").to_numpy(zero_copy_only=False),
                                  "units": source.column("units").to_numpy(zero_copy_only=False)})
            for (claim, run), value in frame.groupby(["claim_id", "run_id"])["units"].sum().items():
                units[(claim, run)] = units.get((claim, run), 0) + int(value)
    retired_units = [units.get((c, r), 0) for c, r in zip(new_retired["claim_id"], new_retired["original_run"],
                                                          strict=True)]
    delta = combined(parts)
    return delta.filter(pc.is_in(delta.column("profile"), value_set=pa.array(sorted(counted), pa.string()))), \
        retired_units


def kept(db: sqlite3.Connection) -> set[str]:
    """The profiles whose running totals the ledger keeps."""
    return {row[0] for row in db.execute("SELECT profile FROM kept_totals")}


def start_keeping(db: sqlite3.Connection, profile: str) -> None:
    """Keep `profile`'s totals from now on, starting from its lines as they stand (in the caller's transaction)."""
    db.execute("DELETE FROM total_blocks WHERE profile = ?", (profile,))
    add(db, from_lines(db, profile)[0])
    db.execute("INSERT OR IGNORE INTO kept_totals (profile) VALUES (?)", (profile,))


def stop_keeping(db: sqlite3.Connection, profile: str) -> None:
    """Keep no totals of `profile` any more (in the caller's transaction)."""
    db.execute("DELETE FROM total_blocks WHERE profile = ?", (profile,))
    db.execute("DELETE FROM kept_totals WHERE profile = ?", (profile,))


def computed(db: sqlite3.Connection, profile: str, years: list[int], *, dictionary: bool = False) -> pa.Table:
    """`read`'s answer for a profile whose totals are not kept: summed from its lines of `years`."""
    months = [(year - 1970) * 12 + m for year in years for m in range(12)]
    found = from_lines(db, profile, months)[0] if months else empty()
    return found.select(ENCODED_SCHEMA.names).cast(ENCODED_SCHEMA) if dictionary else found


def fill_kept(db: sqlite3.Connection) -> None:
    """A migration: every profile with lines or totals keeps its totals, as every profile did before."""
    db.execute("INSERT OR IGNORE INTO kept_totals (profile) SELECT profile FROM total_blocks UNION "
               "SELECT b.profile FROM line_blocks b JOIN runs r USING (run_id) WHERE r.status = 'committed'")


def from_lines(db: sqlite3.Connection, profile: str | None = None,
               months: list[int] | None = None) -> tuple[pa.Table, pd.DataFrame]:
    """The totals and the retired originals' units as the lines (of `profile`, in `months`) say they must be
    (migrations, `ledger check`, a profile whose totals start being kept)."""
    where = "1"
    params: list[object] = []
    if profile is not None:
        where, params = "b.profile = ?", [profile]
    if months is not None:
        where += f" AND b.month IN ({', '.join('?' * len(months))})"
        params += months
    lines = committed_lines(db, where, params)
    retired = pd.DataFrame(db.execute("SELECT claim_id, original_run FROM retired").fetchall(),
                           columns=["claim_id", "original_run"])
    keys = _keyed(lines)
    gone = np.asarray(keys.isin(pd.MultiIndex.from_frame(retired))) if len(retired) else \
        np.zeros(lines.num_rows, bool)
    totals = summed(lines.filter(pa.array(~gone)))
    if not len(retired):
        return totals, pd.DataFrame({"claim_id": [], "original_run": [], "units": np.empty(0, np.int64)})
    frame = pd.DataFrame({"claim_id": keys.get_level_values(0), "original_run": keys.get_level_values(1),
                          "units": lines.column("units").to_numpy(zero_copy_only=False)})[gone]
    units = retired.merge(frame.groupby(["claim_id", "original_run"], as_index=False)["units"].sum(),
                          how="left", on=["claim_id", "original_run"]).fillna({"units": 0})
    return totals, units.astype({"units": np.int64})


def fill_retired_units(db: sqlite3.Connection) -> None:
    """A migration: each retired original's units, from its lines."""
    _, units = from_lines(db)
    db.executemany("UPDATE retired SET units = ? WHERE claim_id = ? AND original_run = ?",
                   zip(units["units"].tolist(), units["claim_id"], units["original_run"], strict=True))


def fill_totals(db: sqlite3.Connection) -> None:
    """A migration: the running totals, from the lines."""
    totals, _ = from_lines(db)
    add(db, totals)


def sum_problems(db: sqlite3.Connection) -> list[str]:
    """The quick check: each block of totals whole (its SHA-256) and adding up to its recorded sum, and per
    profile and year that sum against the line blocks' units less the retired originals'."""
    problems = []
    rows = db.execute("SELECT profile, year, units, sha256, CAST(data AS BLOB) FROM total_blocks")
    for profile, year, units, sha, data in rows:
        if hashlib.sha256(data).hexdigest() != sha:
            problems.append(f"the running totals of {profile} for {year} were altered outside cmclaims")
        elif (pc.sum(decode_block(data, ["units"]).column("units")).as_py() or 0) != units:
            problems.append(f"the running totals of {profile} for {year} do not add up to their recorded sum")
    kept_only = "r.profile IN (SELECT profile FROM kept_totals)"  # a profile without a cap keeps no totals
    blocks = db.execute(
        "SELECT b.profile, b.month / 12 + 1970, SUM(b.units) FROM line_blocks b JOIN runs r USING (run_id) "
        f"WHERE r.status = 'committed' AND {kept_only} GROUP BY 1, 2").fetchall()
    retired = db.execute(
        "SELECT r.profile, t.month / 12 + 1970, SUM(t.units) FROM retired t JOIN runs r ON r.run_id = t.original_run "
        f"WHERE r.status = 'committed' AND {kept_only} GROUP BY 1, 2").fetchall()
    totals = db.execute("SELECT profile, year, units FROM total_blocks").fetchall()
    expected: dict[tuple[str, int], int] = {}
    for profile, year, units in blocks:
        expected[(profile, year)] = expected.get((profile, year), 0) + units
    for profile, year, units in retired:
        expected[(profile, year)] = expected.get((profile, year), 0) - units
    held = {(profile, year): units for profile, year, units in totals}
    for key in sorted(set(expected) | set(held)):
        if expected.get(key, 0) != held.get(key, 0):
            problems.append(f"the running totals of {key[0]} for {key[1]} hold {held.get(key, 0)} units, its lines "
                            f"{expected.get(key, 0)}")
    return problems


def total_problems(db: sqlite3.Connection) -> list[str]:
    """`ledger check`: every total and every retired original's units against the lines (no member named)."""
    totals, units = from_lines(db)
    totals = totals.filter(pc.is_in(totals.column("profile"), value_set=pa.array(sorted(kept(db)), pa.string())))
    held = read(db).rename_columns([*KEY, "units_held", "auth_units_held"])
    both = totals.join(held, keys=KEY, join_type="full outer", use_threads=False)
    differs = pc.or_(pc.not_equal(pc.fill_null(both.column("units"), 0), pc.fill_null(both.column("units_held"), 0)),
                     pc.not_equal(pc.fill_null(both.column("auth_units"), 0),
                                  pc.fill_null(both.column("auth_units_held"), 0)))
    wrong = both.filter(differs).select(["profile", "year"])
    counted = wrong.group_by(["profile", "year"], use_threads=False).aggregate([([], "count_all")]).to_pylist() \
        if wrong.num_rows else []
    problems = [f"{row['count_all']} running totals of {row['profile']} for {row['year']} differ from its lines"
                for row in sorted(counted, key=lambda r: (r["profile"], r["year"]))]
    stored = pd.DataFrame(db.execute("SELECT claim_id, original_run, units FROM retired").fetchall(),
                          columns=["claim_id", "original_run", "units_held"])
    if len(stored):
        off = int((stored.merge(units, on=["claim_id", "original_run"])
                   .pipe(lambda f: f["units"] != f["units_held"])).sum())
        if off:
            problems.append(f"{off} retired originals record other units than their lines")
    return problems
