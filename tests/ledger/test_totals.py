"""The running totals the annual caps read (cmclaims/ledger/totals.py): an older ledger gets them computed from its
lines, and `ledger check` compares every one with the lines, naming no member.

That they stay exact through nights, voids, replacements, re-runs and rollbacks is the model test's
(tests/ledger/test_model.py, the annual cap machine); a total edited by hand is in test_damage.py.
"""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.ipc as ipc
import pytest

from cmclaims.cli import main
from cmclaims.ledger import totals
from cmclaims.ledger.admin import check_ledger
from cmclaims.ledger.blocks import decode_block, encode_block
from cmclaims.ledger.schema import SCHEMA_VERSION
from cmclaims.ledger.store import SqliteLedger
from tests.helpers import new_ledger, run_lines
from tests.ledger.support import bill_two_nights, optum_line, sooner_line, validate_sooner

RETIRED = "SELECT claim_id, original_run, units FROM retired ORDER BY 1, 2"


def _nights(folder: Path) -> Path:
    """Three Idaho nights over two years: lines, a void and a replacement of earlier lines, a re-run."""
    ledger = new_ledger(folder / "ledger.sqlite3")
    first = [optum_line(f"A{i}", f"M{i % 3}", f"2025-12-{10 + i}", 20 + i) for i in range(9)]
    run_lines(folder / "n1", first, "id-optum", ledger=ledger)
    second = [optum_line(f"B{i}", f"M{i % 3}", f"2026-02-{10 + i}", 30) for i in range(6)] + [
        optum_line("V1", "M1", "2025-12-11", 21, start="14:00", claim_frequency="8", original_claim_id="A1"),
        optum_line("R2", "M2", "2025-12-12", 12, start="14:00", claim_frequency="7", original_claim_id="A2"),
    ]
    run_lines(folder / "n2", second, "id-optum", ledger=ledger)
    run_lines(folder / "n1-again", first, "id-optum", ledger=ledger)
    return ledger


def _read(ledger: Path, query: str) -> list[tuple]:
    db = sqlite3.connect(ledger)
    try:
        return db.execute(query).fetchall()
    finally:
        db.close()


def _totals(ledger: Path) -> list[dict]:
    db = sqlite3.connect(ledger)
    try:
        return sorted(totals.read(db).to_pylist(), key=lambda row: tuple(row.values()))
    finally:
        db.close()


def _assert_sound(ledger: Path) -> None:
    """`ledger check` finds nothing wrong, and every running total kept equals its lines."""
    store = SqliteLedger(ledger)
    try:
        assert check_ledger(store) == []
        assert store.total_problems() == []
    finally:
        store.close()


def _rewrite_totals(ledger: Path, edit: Callable[[pa.Table], pa.Table]) -> None:
    """Edit a block of running totals outside cmclaims, its SHA-256 made to match (only the figures are wrong)."""
    db = sqlite3.connect(ledger, isolation_level=None)
    for profile, year, data in db.execute("SELECT profile, year, data FROM total_blocks").fetchall():
        blob = encode_block(edit(decode_block(data)))
        db.execute("UPDATE total_blocks SET data = ?, sha256 = ? WHERE profile = ? AND year = ?",
                   (blob, hashlib.sha256(blob).hexdigest(), profile, year))
    db.close()


OLDER = {
    # schema 2: no running totals, no retired units
    2: ["DROP TABLE kept_totals", "DROP TABLE total_blocks", "ALTER TABLE retired DROP COLUMN units"],
    # schema 3 as this first step kept the totals: as rows (usage_totals)
    3: ["DROP TABLE kept_totals", "DROP TABLE total_blocks",
        "CREATE TABLE usage_totals (profile TEXT, member_id TEXT, hcpcs TEXT, year INTEGER, "
        "authorization_id TEXT, units INTEGER, auth_units INTEGER)"],
    # schemas 4 and 5 kept the totals of every profile, whether its code tables cap a year or not
    5: ["DROP TABLE kept_totals"],
}


@pytest.mark.parametrize("version", sorted(OLDER))
def test_an_older_ledger_gets_its_totals_from_its_lines(version: int, tmp_path: Path) -> None:
    ledger = _nights(tmp_path)
    held, retired = _totals(ledger), _read(ledger, RETIRED)
    assert held and any(units for *_, units in retired)  # the nights did record totals and a retired original
    db = sqlite3.connect(ledger, isolation_level=None)
    for statement in OLDER[version]:
        db.execute(statement)
    db.execute(f"UPDATE meta SET value = '{version}' WHERE key = 'schema_version'")
    db.execute(f"PRAGMA user_version = {version}")
    db.close()
    store = SqliteLedger(ledger)  # opened to write: upgraded in place
    try:
        assert check_ledger(store) == []
        assert store.identity()["schema_version"] == str(SCHEMA_VERSION)
    finally:
        store.close()
    assert _totals(ledger) == held
    assert _read(ledger, RETIRED) == retired
    assert not _read(ledger, "SELECT name FROM sqlite_master WHERE name = 'usage_totals'")


def test_ledger_check_finds_a_moved_total_and_names_no_member(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    ledger = _nights(tmp_path)
    assert main(["ledger", "check", "--ledger", str(ledger)]) == 0
    # Units moved from one member's total to another's: every sum and checksum still agrees, the totals do not.
    def moved(block: pa.Table) -> pa.Table:
        units = block.column("units").to_numpy().copy()
        units[0] -= 5
        units[1] += 5
        return block.set_column(block.schema.get_field_index("units"), "units", pa.array(units))

    _rewrite_totals(ledger, moved)
    capsys.readouterr()
    assert main(["ledger", "check", "--ledger", str(ledger)]) == 1
    captured = capsys.readouterr()
    shown = captured.out + captured.err
    assert "2 running totals of id-optum for 2025 differ from its lines" in shown
    assert "2 running totals of id-optum for 2026 differ from its lines" in shown
    assert "M0" not in shown and "M1" not in shown  # PHI stays in the files


@pytest.mark.parametrize("members, codes, authorizations", [
    ([f"M{i}" for i in range(40)] + ["M1"], ["T1017", "T1016", ""], ["A1", "A2", ""]),  # two codes of one text
    ([f"M{i}" for i in range(40)], ["T1017", "T1016"], ["A1", "A2"]),  # one code per text, as a night's are
])
def test_dictionary_encoded_lines_sum_to_the_same_totals_as_their_text(members: list[str], codes: list[str],
                                                                        authorizations: list[str]) -> None:
    """A validate run hands its lines dictionary-encoded (the batch's codes); the totals summed from the codes
    equal those summed from the texts, also where two codes share one text or a null meets an empty text."""
    rng = np.random.default_rng(8)
    rows = 5000

    def coded(values: list[str]) -> pa.Array:
        codes = rng.integers(-1, len(values), rows)
        return pa.DictionaryArray.from_arrays(pa.array(codes, pa.int32(), mask=codes < 0), pa.array(values))

    lines = pa.table({
        "claim_id": pa.array([f"C{i}" for i in range(rows)]),
        "member_id": coded(members),
        "hcpcs": coded(codes),
        "service_day": pa.array(rng.integers(20_000, 20_800, rows), pa.int32()),  # three calendar years
        "units": pa.array(rng.integers(0, 9, rows), pa.int32()),
        "authorization_id": coded(authorizations),
        "auth_units": pa.array(rng.integers(0, 3, rows), pa.int32()),
    })
    plain = lines.cast(pa.schema([f.with_type(pa.string()) if pa.types.is_dictionary(f.type) else f
                                  for f in lines.schema]))
    order = [(name, "ascending") for name in totals.KEY]
    summed = totals.summed(lines, "id-optum").sort_by(order)
    assert summed.num_rows > 40  # a total per member and code at least, in three years
    assert summed.equals(totals.summed(plain, "id-optum").sort_by(order))


def test_the_totals_blocks_prepared_off_the_transaction_are_the_ones_written(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A validate run sums and encodes its totals blocks before its transaction (store.prepare_run); the
    transaction writes them as they are: nights, a void, a replacement and a re-run never sum a block in it.
    Only the ledger's first Idaho night sums Idaho's totals in it, from the lines (`start_keeping`)."""
    started, adding, start_keeping = [], totals.add, totals.start_keeping

    def starting(db: sqlite3.Connection, profile: str) -> None:
        started.append(profile)
        monkeypatch.setattr(totals, "add", adding)
        try:
            start_keeping(db, profile)
        finally:
            monkeypatch.setattr(totals, "add", summed_in_the_transaction)

    def summed_in_the_transaction(db: sqlite3.Connection, delta: pa.Table) -> None:
        assert not delta.num_rows, "the totals were summed inside the transaction"  # `ledger init` adds nothing

    monkeypatch.setattr(totals, "add", summed_in_the_transaction)
    monkeypatch.setattr(totals, "start_keeping", starting)
    ledger = _nights(tmp_path)
    assert started == ["id-optum"]
    _assert_sound(ledger)


def test_totals_blocks_prepared_from_another_block_are_summed_again(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Blocks prepared from totals that are no longer the ledger's (another SHA-256 than the block they
    replace) are never written: the transaction sums the totals itself, and they stay exact."""
    prepare = SqliteLedger.prepare_run

    made_stale = []

    def stale(self: SqliteLedger, *args: object, **kwargs: object) -> object:
        prepared = prepare(self, *args, **kwargs)  # type: ignore[arg-type]
        if prepared.total_writes is not None:  # prepared off the transaction (all but the first Idaho night)
            prepared.total_writes = [(profile, year, "a block since replaced", *rest)
                                     for profile, year, _, *rest in prepared.total_writes]
            made_stale.append(prepared.run["run_id"])
        return prepared

    monkeypatch.setattr(SqliteLedger, "prepare_run", stale)
    ledger = _nights(tmp_path)
    assert len(made_stale) == 2
    _assert_sound(ledger)


def _block_table(rows: list[tuple[str, str, str, int, int]]) -> pa.Table:
    return pa.Table.from_pylist([dict(zip(["member_id", "hcpcs", "authorization_id", "units", "auth_units"], row,
                                          strict=True)) for row in rows], schema=totals.BLOCK_SCHEMA)


@pytest.mark.parametrize("stored_as", ["plain text (schema 5 and earlier)", "dictionary-encoded"])
def test_a_delta_merged_into_a_year_block_sums_per_text(stored_as: str) -> None:
    """A year's block holds its texts dictionary-encoded (older blocks: plain). A night's delta merged into
    either sums per member, code and authorization, a total that comes to nothing is dropped, and the block
    written holds the same totals whichever way the one before was kept."""
    before = _block_table([("M1", "T1017", "", 10, 0), ("M2", "T1017", "", 4, 0), ("M2", "T1016", "A1", 3, 3)])
    encoded = stored_as == "dictionary-encoded"
    data = encode_block(before.cast(totals.ENCODED_BLOCK_SCHEMA) if encoded else before, dictionary=encoded)
    db = sqlite3.connect(":memory:")
    db.execute(totals.TOTAL_BLOCKS)
    db.execute("INSERT INTO total_blocks VALUES ('id-optum', 2026, 3, 17, ?, ?)", (hashlib.sha256(data).hexdigest(),
                                                                                  data))
    delta = totals._with_key(_block_table([("M2", "T1017", "", -4, 0), ("M3", "T1017", "", 5, 0),
                                           ("M1", "T1017", "", 2, 0), ("M3", "T1017", "", 1, 0)]), "id-optum", 2026)
    [(profile, year, sha, rows, units, _, written)] = totals.block_writes(db, delta)
    assert (profile, year, sha, rows, units) == ("id-optum", 2026, hashlib.sha256(data).hexdigest(), 3, 21)
    assert written is not None
    after = decode_block(written, dictionary=["member_id", "hcpcs", "authorization_id"])
    assert pa.types.is_dictionary(after.schema.field("member_id").type)  # the block keeps its texts as codes
    assert sorted(decode_block(written).to_pylist(), key=lambda r: (r["member_id"], r["hcpcs"])) == [
        {"member_id": "M1", "hcpcs": "T1017", "authorization_id": "", "units": 12, "auth_units": 0},
        {"member_id": "M2", "hcpcs": "T1016", "authorization_id": "A1", "units": 3, "auth_units": 3},
        {"member_id": "M3", "hcpcs": "T1017", "authorization_id": "", "units": 6, "auth_units": 0},
    ]


def _with_odd_dictionaries(table: pa.Table) -> pa.Table:
    """member_id and hcpcs dictionary-encoded over dictionaries holding a text twice and a null (cmclaims writes
    neither); every row still reads its own text."""
    for name in ("member_id", "hcpcs"):
        texts = table.column(name).combine_chunks()
        values = pc.unique(texts)
        at = pc.index_in(texts, value_set=values).to_numpy(zero_copy_only=False).astype(np.int32)
        at[np.flatnonzero(at == 0)[::2]] = len(values)  # every other row of the first text reads its second copy
        dictionary = pa.concat_arrays([values, values.slice(0, 1), pa.array([None], pa.string())])
        table = table.set_column(table.schema.get_field_index(name), name,
                                 pa.DictionaryArray.from_arrays(pa.array(at), dictionary))
    return table


def test_totals_blocks_with_odd_dictionaries_count_as_their_texts(tmp_path: Path) -> None:
    """Year blocks whose dictionaries hold a text twice and a null, written outside cmclaims (raw Arrow IPC, its
    SHA-256 made to match): read as the annual caps read them (dictionary-encoded) or as text, the totals are
    those of the blocks cmclaims wrote, and a night against that ledger bills what it bills against the original."""
    ledger = _nights(tmp_path / "odd")
    original = tmp_path / "original.sqlite3"
    shutil.copy(ledger, original)
    db = sqlite3.connect(ledger, isolation_level=None)
    for profile, year, data in db.execute("SELECT profile, year, data FROM total_blocks").fetchall():
        table = _with_odd_dictionaries(decode_block(data))
        sink = pa.BufferOutputStream()
        with ipc.new_file(sink, table.schema) as writer:
            writer.write_table(table)
        blob = sink.getvalue().to_pybytes()
        db.execute("UPDATE total_blocks SET data = ?, sha256 = ? WHERE profile = ? AND year = ?",
                   (blob, hashlib.sha256(blob).hexdigest(), profile, year))
    db.close()

    def rows(table: pa.Table) -> list[dict]:
        return sorted(table.cast(totals.SCHEMA).to_pylist(), key=lambda row: tuple(row.values()))

    store = SqliteLedger(ledger, read_only=True)
    try:
        encoded = store.totals("id-optum", [2025, 2026], dictionary=True)
        as_text = store.totals("id-optum", [2025, 2026])
    finally:
        store.close()
    assert pa.types.is_dictionary(encoded.schema.field("member_id").type)
    assert rows(encoded) == rows(as_text) == _totals(original)

    # M1 and M2 near the cap in 2026, M0 over it in 2025: lines held back and cut back by what the totals say.
    night = [optum_line(f"N{i}", f"M{i % 3}", f"2026-03-{2 + i:02d}", 44) for i in range(15)] + \
        [optum_line("N99", "M0", "2025-12-30", 44, start="16:00")]
    odd = run_lines(tmp_path / "night-odd", night, "id-optum", ledger=ledger, over_limit="cutback")
    expected = run_lines(tmp_path / "night-original", night, "id-optum", ledger=original, over_limit="cutback")
    assert "rejected" in expected.dispositions().values() and "adjusted" in expected.dispositions().values()
    assert odd.dispositions() == expected.dispositions()
    assert [row["billable_units"] for row in odd.clean] == [row["billable_units"] for row in expected.clean]


def test_a_payer_without_an_annual_cap_keeps_no_totals(tmp_path: Path) -> None:
    """Oklahoma caps no year: its nights, a void among them, keep no running totals (nobody reads them), and
    `ledger check` finds the ledger sound."""
    ledger = new_ledger(tmp_path / "ledger.sqlite3")
    bill_two_nights(tmp_path, ledger, 5)
    assert _read(ledger, "SELECT COUNT(*) FROM total_blocks") == [(0,)]
    assert _read(ledger, "SELECT profile FROM kept_totals") == []
    assert _read(ledger, "SELECT COUNT(*) FROM retired") == [(1,)]
    _assert_sound(ledger)


def test_an_older_ledger_drops_the_totals_of_a_payer_without_a_cap(tmp_path: Path) -> None:
    """Schema 5 kept every profile's totals. Upgraded, the ledger keeps Oklahoma's as they are (they are exact)
    until an Oklahoma night drops them."""
    ledger = new_ledger(tmp_path / "ledger.sqlite3")
    bill_two_nights(tmp_path, ledger, 5)
    db = sqlite3.connect(ledger, isolation_level=None)
    db.execute("BEGIN")
    totals.add(db, totals.from_lines(db)[0])  # every profile's totals, as schema 5 kept them
    db.execute("DROP TABLE kept_totals")
    db.execute("UPDATE meta SET value = '5' WHERE key = 'schema_version'")
    db.execute("PRAGMA user_version = 5")
    db.execute("COMMIT")
    db.close()
    held = _totals(ledger)
    assert held
    store = SqliteLedger(ledger)  # upgraded in place
    try:
        assert check_ledger(store) == []
    finally:
        store.close()
    assert _read(ledger, "SELECT profile FROM kept_totals") == [("ok-soonercare",)]
    assert _totals(ledger) == held
    assert validate_sooner(tmp_path / "n3", ledger, [sooner_line("C1", "M1", "2026-03-06", 4)]) == 0
    assert _read(ledger, "SELECT COUNT(*) FROM total_blocks") == [(0,)]
    assert _read(ledger, "SELECT profile FROM kept_totals") == []
    _assert_sound(ledger)


def test_a_payer_given_an_annual_cap_counts_what_it_billed_before(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Code tables that give a payer an annual cap: its ledger kept no totals of the nights before, and the first
    night with the cap counts them all the same. Its dry run and its run hold back what a ledger that kept the
    totals all along holds back; the totals start from the lines and check sound."""
    nights = [[optum_line(f"A{i}", "M1", f"2026-01-{5 + i:02d}", 40) for i in range(5)],
              [optum_line("B1", "M1", "2026-02-02", 36), optum_line("B2", "M2", "2026-02-02", 12, staff_id="S2")]]
    tonight = [optum_line("C1", "M1", "2026-03-02", 8), optum_line("C2", "M2", "2026-03-02", 8, staff_id="S2")]
    kept_all_along = new_ledger(tmp_path / "kept.sqlite3")
    for number, lines in enumerate(nights):
        run_lines(tmp_path / f"kept-{number}", lines, "id-optum", ledger=kept_all_along)
    expected = run_lines(tmp_path / "kept-tonight", tonight, "id-optum", ledger=kept_all_along).summary

    prepare = SqliteLedger.prepare_run

    def without_a_cap(self: SqliteLedger, *args: object, **kwargs: object) -> object:
        return prepare(self, *args, **{**kwargs, "annual_caps": False})  # type: ignore[arg-type]

    ledger = new_ledger(tmp_path / "ledger.sqlite3")
    monkeypatch.setattr(SqliteLedger, "prepare_run", without_a_cap)
    for number, lines in enumerate(nights):
        run_lines(tmp_path / f"night-{number}", lines, "id-optum", ledger=ledger)
    monkeypatch.setattr(SqliteLedger, "prepare_run", prepare)
    assert _read(ledger, "SELECT COUNT(*) FROM total_blocks") == [(0,)]

    dry = run_lines(tmp_path / "dry", tonight, "id-optum", ledger=ledger, dry_run=True).summary
    real = run_lines(tmp_path / "tonight", tonight, "id-optum", ledger=ledger).summary
    for summary in (dry, real):
        assert summary["findings"] == expected["findings"]
        assert summary["units"] == expected["units"]
    assert [(f["rule"], f["lines_rejected"]) for f in expected["findings"]] == [("CM204", 1)]  # the cap held C1
    assert _read(ledger, "SELECT profile FROM kept_totals") == [("id-optum",)]
    assert _totals(ledger) == _totals(kept_all_along)
    _assert_sound(ledger)


def test_a_void_under_a_payer_without_a_cap_takes_units_out_of_a_capped_payers_totals(tmp_path: Path) -> None:
    """Claim ids are the ledger's, not a payer's: an Oklahoma void naming an Idaho line takes that line's units out
    of Idaho's running totals, though the ledger keeps none of Oklahoma's."""
    ledger = new_ledger(tmp_path / "ledger.sqlite3")
    run_lines(tmp_path / "idaho", [optum_line("X1", "M1", "2026-03-02", 12), optum_line("X2", "M1", "2026-03-03", 5)],
              "id-optum", ledger=ledger)
    before = {row["member_id"]: row["units"] for row in _totals(ledger)}
    assert validate_sooner(tmp_path / "sooner", ledger, [sooner_line("V1", "M1", "2026-03-02", 4, start="14:00",
                                                                     claim_frequency="8", original_claim_id="X1")]) == 0
    assert _read(ledger, "SELECT claim_id, how FROM retired") == [("X1", "void")]
    assert before == {"M1": 17}
    assert {row["member_id"]: row["units"] for row in _totals(ledger)} == {"M1": 5}
    _assert_sound(ledger)
