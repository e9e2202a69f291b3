"""Where a report goes: which format, and writing its file atomically, readable by its owner only.

The format is --format, else what --out's name says (.xlsx, .html, .json,
a folder for CSV), else the terminal. Files are written beside their final
name and renamed into place (cmclaims.io.writer): a report that fails half
way never leaves half a file, and an earlier report stays until the new one
is complete. CSV is one file per table, so it goes to a folder.
"""

from __future__ import annotations

from pathlib import Path

from cmclaims.errors import CannotWrite, ConfigError
from cmclaims.io.writer import commit, ensure_folder, temporary_beside
from cmclaims.report.model import Report

FORMATS = ("terminal", "json", "csv", "xlsx", "html")
FILE_FORMATS = ("json", "csv", "xlsx", "html")
_BY_SUFFIX = {".xlsx": "xlsx", ".html": "html", ".htm": "html", ".json": "json"}


def choose_format(requested: str | None, out: Path | None, as_json: bool) -> str:
    """The format asked for, or the one --out's name implies; usage errors exit 2."""
    if as_json:
        if requested not in (None, "json"):
            raise ConfigError(f"--json and --format {requested} ask for two formats")
        requested = "json"
    if requested is None:
        if out is None:
            return "terminal"
        requested = _BY_SUFFIX.get(out.suffix.lower(), "csv" if out.suffix == "" else None)
        if requested is None:
            raise ConfigError(f"--out {out}: say which format with --format ({', '.join(FILE_FORMATS)})")
    if requested not in FORMATS:
        raise ConfigError(f"--format must be one of {', '.join(FORMATS)}, not '{requested}'")
    if requested in ("csv", "xlsx", "html") and out is None:
        raise ConfigError(f"--format {requested} writes a file: give --out "
                          + ("FOLDER (one CSV per table)" if requested == "csv" else f"FILE.{requested}"))
    if requested == "terminal" and out is not None:
        raise ConfigError("--out needs a file format: --format json, csv, xlsx or html")
    if requested == "csv" and out is not None and out.suffix.lower() == ".csv":
        raise ConfigError(f"--out {out}: CSV writes one file per table; give a folder name, "
                          f"e.g. {out.with_suffix('')}")
    return requested


def check_content(report: Report, fmt: str) -> None:
    """The HTML report is for passing around: it never carries the member-level detail."""
    if fmt == "html" and report.has_phi:
        raise ConfigError("--detail lists member ids and is not put in the HTML report, which is meant to be "
                          "passed around", hint="use --format xlsx or csv for the detail")


def write_report(report: Report, fmt: str, out: Path, top: int | None) -> list[Path]:
    """Write the report file(s) atomically with mode 0600; return what was written."""
    check_content(report, fmt)
    if fmt == "csv":
        from cmclaims.report.tables_csv import write_csv_folder

        return write_csv_folder(report, out)
    if out.is_dir():
        raise ConfigError(f"--out {out} is a folder; give a file name for --format {fmt}")
    ensure_folder(out.parent if str(out.parent) else Path("."))
    if fmt == "xlsx":
        from cmclaims.report.xlsx import write_xlsx

        writer = write_xlsx
    elif fmt == "html":
        from cmclaims.report.html import write_html

        def writer(report: Report, path: Path) -> None:
            write_html(report, path, top)
    else:
        from cmclaims.report.json_doc import report_json

        def writer(report: Report, path: Path) -> None:
            path.write_text(report_json(report), encoding="utf-8")
    try:
        with temporary_beside(out) as temporary:
            writer(report, temporary)
    except OSError as exc:
        raise CannotWrite(f"{out}: cannot be written ({exc.strerror or exc})") from exc
    commit(temporary, out)
    return [out]
