"""Hostile exports, generated: every family the issue names, csv-spectrum's cases, naughty strings.

Each entry is (family, name, file bytes). `python -m tests.io.hostile_corpus`
runs every entry through `cmclaims validate` in-process and prints, per
family, how many were tried and how many held (an exit code from SPEC, never
70, no traceback, and for 0/1 every line accounted for).

csv-spectrum (https://github.com/max-mapper/csv-spectrum, MIT): its cases
(comma in quotes, escaped quotes, JSON in a value, newlines and CRLF inside
quotes, empty fields, UTF-8) are rebuilt here as values of an encounter
export. The naughty strings are a selection written for this test in the
spirit of the Big List of Naughty Strings (https://github.com/minimaxir/
big-list-of-naughty-strings, MIT) and the OWASP CSV-injection payloads: no
file of theirs is copied.
"""

from __future__ import annotations

import codecs
import csv
import io

HEADER = ["claim_id", "member_id", "member_dob", "service_date", "start_time", "end_time", "hcpcs", "modifier1",
          "modifier2", "staff_id", "program", "activity", "note"]
GOOD = ["A{n}", "M{n}", "1980-05-01", "2026-03-04", "09:00", "09:30", "T1017", "HE", "TF", "S1", "111",
        "monitoring", "note {n}"]
TEXT_COLUMNS = ["claim_id", "member_id", "member_dob", "service_date", "start_time", "end_time", "hcpcs",
                "modifier1", "staff_id", "program", "activity", "note"]

NAUGHTY = [
    "", " ", "\t", "null", "NULL", "None", "undefined", "NaN", "-0", "0x0", "1E+02", "99999999999999999999",
    "=1+1", "+1+1", "-1+1", "@SUM(A1)", "=cmd|' /C calc'!A0", "\t=1", "\r=1", '=HYPERLINK("http://x","y")',
    "'; DROP TABLE runs; --", "<script>alert(1)</script>", "${jndi:ldap://x}", "{{7*7}}", "%s%n%x",
    "\x1b[2J\x1b[H", "\x1b]0;title\x07", "\x07", "\x08back", "\x7f", "\x85", "\x9b31m", "a\u202eb", "\u200b",
    "\ufeffbom", "\u2028line", "Ṱ̺̺̕o͞ ̷i̲̬͇̪͙n̝̗͕v̟̜̘̦͟o̶̙̰̠kè", "𝕿𝖍𝖊", "日本語", "١٢٣", "👍🏽", "naïve café",
    '"', '""', '"quoted"', "a,b", "a;b", "a|b", "line\nbreak", "crlf\r\nbreak", "x" * 5000,
]

SPECTRUM = {
    "comma_in_quotes": '"Boston, MA"',
    "escaped_quotes": '"ha ""ha"" ha"',
    "json": '"{""a"": ""b"", ""c"": [1, 2]}"',
    "newlines": '"line one\nline two"',
    "newlines_crlf": '"line one\r\nline two"',
    "quotes_and_newlines": '"ha\n""ha""\nha"',
    "empty": "",
    "utf8": "ñandú",
}


def _row(n: int, **values: str) -> list[str]:
    return [values.get(column, template.format(n=n)) for column, template in zip(HEADER, GOOD, strict=True)]


def _csv(rows: list[list[str]], header: list[str] = HEADER, ending: str = "\n") -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=ending)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def _raw(lines: list[str], ending: str = "\n") -> str:
    return ending.join([",".join(HEADER), *lines]) + ending


def _good(n: int) -> str:
    return ",".join(_row(n))


def corpus() -> list[tuple[str, str, bytes]]:
    """Every hostile file: (family, name, bytes)."""
    entries: list[tuple[str, str, bytes]] = []

    def add(family: str, name: str, data: bytes | str) -> None:
        entries.append((family, name, data.encode("utf-8") if isinstance(data, str) else data))

    many = [_good(n) for n in range(1, 601)]
    # Encodings: one stray byte must not turn the file into Windows-1252, nor a night into exit 65.
    text = _raw([_good(1).replace("note 1", "naïve 日本")] * 1 + many[1:])
    add("encoding", "utf8-with-one-latin1-byte", text.encode().replace(b"note 300", b"note \xe9 300"))
    add("encoding", "cp1252", _raw([_good(1).replace("note 1", "café – résumé"), _good(2)]).encode("cp1252"))
    add("encoding", "cp1252-undefined-byte", _raw([_good(1), _good(2)]).encode().replace(b"note 2", b"note \x81"))
    add("encoding", "utf8-bom", codecs.BOM_UTF8 + _raw([_good(1)]).encode())
    add("encoding", "utf16-le-bom", _raw([_good(1), _good(2).replace("note 2", "日本")]).encode("utf-16"))
    add("encoding", "utf16-be-bom", codecs.BOM_UTF16_BE + _raw([_good(1)]).encode("utf-16-be"))
    add("encoding", "utf16-no-bom", _raw([_good(1)]).encode("utf-16-le"))
    add("encoding", "invalid-utf8-everywhere", _raw([_good(1)]).encode() + b"\xff\xfe\xfd,\xc3\n" * 5)
    # NUL and binary.
    add("nul", "nul-in-second-line", _raw([_good(1), _good(2).replace("note", "no\x00te"), _good(3)]))
    add("nul", "nul-after-64kib", _raw([*many[:1000], _good(2000).replace("note", "\x00")]))
    add("nul", "nul-in-header", "claim_id,\x00member_id\n" + _good(1) + "\n")
    add("nul", "zip-named-csv", b"PK\x03\x04" + b"\x00" * 100)
    add("nul", "empty", b"")
    add("nul", "header-only", ",".join(HEADER) + "\n")
    # Sizes.
    add("size", "field-2mib", _raw([_good(1), _good(2).replace("note 2", "x" * (2 << 20)), _good(3)]))
    add("size", "quoted-6mib-with-newlines", _raw([_good(1), _good(2).replace("note 2", '"' + "y\n" * (3 << 20)
                                                                             + '"'), _good(3)]))
    wide = HEADER + [f"extra_{i}" for i in range(10_000)]
    add("size", "10000-columns", _csv([_row(n) + ["v"] * 10_000 for n in (1, 2)], header=wide))
    add("size", "header-over-1mib", ",".join(HEADER + ["h" * 1000] * 1100) + "\n" + _good(1) + "\n")
    # Quotes.
    add("quotes", "multi-line-note", _raw([_good(1), _good(2).replace("note 2", '"first\nsecond"'), _good(3)]))
    add("quotes", "unclosed-in-the-middle", _raw([_good(1), _good(2).replace("note 2", '"open'), *many[2:50]]))
    add("quotes", "unclosed-on-the-last-line", _raw([*many[:10], _good(11).replace("note 11", '"open')]))
    add("quotes", "stray-quote-in-value", _raw([_good(1).replace("note 1", '5" tall'), _good(2)]))
    add("quotes", "two-stray-quotes", _raw([_good(1).replace("note 1", '5" tall'), _good(2),
                                             _good(3).replace("note 3", '6" wide')]))
    add("quotes", "quote-after-closing", _raw([_good(1).replace("note 1", '"abc"def'), _good(2)]))
    add("quotes", "carriage-return-inside", _raw([_good(1).replace("note 1", "a\rb"), _good(2)]))
    add("quotes", "old-mac-line-ends", _raw([_good(1), _good(2)], ending="\r"))
    add("quotes", "ragged-and-blank", _raw([_good(1) + ",x", "", _good(3), ",,,", _good(5)[:-5]]))
    # csv-spectrum's cases, in the note column and as the staff id, with LF and CRLF line ends.
    for name, value in SPECTRUM.items():
        for ending in ("\n", "\r\n"):
            lines = [_good(1), ",".join([*_row(2)[:-1], value]), ",".join([*_row(3)[:9], value, *_row(3)[10:]])]
            add("csv-spectrum", f"{name}{'-crlf' if ending == chr(13) + chr(10) else ''}", _raw(lines, ending))
    # Every naughty string in every text column: one file per column, one row per string.
    for column in TEXT_COLUMNS:
        rows = [_row(n, **{column: value}) for n, value in enumerate(NAUGHTY, start=1)]
        add("naughty-strings", f"in-{column}", _csv(rows))
    return entries


def run(entries: list[tuple[str, str, bytes]], folder) -> dict[str, tuple[int, int, list[str]]]:
    """Validate every entry; per family (tried, held, names that did not hold)."""
    import contextlib

    from cmclaims.cli import main

    results: dict[str, tuple[int, int, list[str]]] = {}
    for family, name, data in entries:
        export = folder / f"{family}-{name}.csv"
        export.write_bytes(data)
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(["validate", str(export), "--profile", "ok-soonercare", "--out", str(folder / "out" / name),
                         "--no-ledger", "--json", "--max-input-errors", "1"])
        held = held_up(code, out.getvalue(), err.getvalue(), folder / "out" / name)
        tried, count, failed = results.get(family, (0, 0, []))
        results[family] = (tried + 1, count + held, failed + ([] if held else [f"{name} (exit {code})"]))
    return results


def held_up(code: int, stdout: str, stderr: str, out) -> bool:
    """An exit code from SPEC, never 70, no traceback; for 0/1 every line accounted for in the outputs."""
    import json

    if code not in (0, 1, 2, 65, 66, 73) or "Traceback" in stderr:
        return False
    if code not in (0, 1):
        return True
    summary = json.loads(stdout)
    counts = summary["counts"]
    if counts["lines_in"] != counts["lines_clean"] + counts["lines_rejected"]:
        return False
    with (out / "clean.csv").open(newline="", encoding="utf-8") as handle:
        clean_rows = sum(1 for _ in csv.reader(handle)) - 1
    with (out / "exceptions.csv").open(newline="", encoding="utf-8") as handle:
        rejected = {(r["source_file"], r["source_row"]) for r in csv.DictReader(handle)
                    if r["disposition"] == "rejected"}
    return clean_rows == counts["lines_clean"] and len(rejected) == counts["lines_rejected"]


if __name__ == "__main__":
    import sys
    import tempfile
    from pathlib import Path

    entries = corpus()
    with tempfile.TemporaryDirectory() as folder:
        results = run(entries, Path(folder))
    print(f"{len(entries)} files, {sum(len(d) for _, _, d in entries):,} bytes")
    print(f"{'family':<18}{'tried':>7}{'held':>7}")
    for family, (tried, held, failed) in results.items():
        print(f"{family:<18}{tried:>7}{held:>7}  {' '.join(failed)}")
    sys.exit(0 if all(t == h for t, h, _ in results.values()) else 1)
