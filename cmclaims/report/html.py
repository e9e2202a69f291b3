"""A report as one self-contained HTML page to hand to a manager.

Everything is inside the file: the styles in a <style> element, the charts as
inline SVG. There is no script and no reference to anything outside the file
(no font, image, stylesheet or link), so it opens the same offline, in a mail
attachment or on a locked-down laptop, and prints well: black text, tables
with rules, a chart or table never split across pages when it fits on one.
It carries counts and dollars only: the detail with member ids is never put
in a page meant to be passed around.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from cmclaims import __version__
from cmclaims.report.charts import chart_svg
from cmclaims.report.display import formatted, heading, is_numeric_column, shown_rows
from cmclaims.report.model import Report, ReportTable

STYLE = """
body { font-family: Helvetica, Arial, sans-serif; color: #1a1a1a; background: #ffffff; margin: 24px;
       max-width: 1100px; font-size: 14px; }
h1 { font-size: 22px; margin: 0 0 8px 0; }
h2 { font-size: 17px; margin: 28px 0 8px 0; border-bottom: 2px solid #1f3b63; padding-bottom: 3px; }
dl.facts { display: grid; grid-template-columns: max-content auto; gap: 2px 16px; margin: 8px 0 16px 0; }
dl.facts dt { font-weight: bold; }
dl.facts dd { margin: 0; }
.verdict { font-size: 16px; font-weight: bold; padding: 10px 12px; border: 2px solid; margin: 12px 0; }
.verdict.ok { color: #14532d; border-color: #14532d; background: #eef7ee; }
.verdict.fail { color: #991b1b; border-color: #991b1b; background: #fdecec; }
table { border-collapse: collapse; margin: 6px 0; font-size: 13px; }
th, td { border: 1px solid #999999; padding: 3px 7px; vertical-align: top; }
th { background: #e6e6e6; text-align: left; }
td.n { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
tr.fails td { color: #991b1b; font-weight: bold; }
p.note { color: #444444; font-size: 12px; margin: 2px 0 8px 0; }
figure { margin: 10px 0 18px 0; }
figcaption { font-weight: bold; margin-bottom: 4px; }
footer { margin-top: 32px; color: #555555; font-size: 12px; border-top: 1px solid #999999; padding-top: 6px; }
@media print {
  body { margin: 0; max-width: none; font-size: 11px; }
  section, figure, table { break-inside: avoid; page-break-inside: avoid; }
  h2 { break-after: avoid; page-break-after: avoid; }
  .verdict, th, svg { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
"""


def _table_html(table: ReportTable, top: int | None) -> str:
    frame, left_out = shown_rows(table, top)
    text = formatted(table, frame)
    numeric = [is_numeric_column(table, str(c)) for c in frame.columns]
    head = "".join(f"<th>{escape(heading(c))}</th>" for c in frame.columns)
    rows = []
    fails = text["result"].eq("FAILS").tolist() if "result" in text.columns else [False] * len(text)
    for values, failing in zip(text.itertuples(index=False), fails, strict=True):
        cells = "".join(f'<td class="n">{escape(str(v))}</td>' if right else f"<td>{escape(str(v))}</td>"
                        for v, right in zip(values, numeric, strict=True))
        rows.append(f'<tr class="fails">{cells}</tr>' if failing else f"<tr>{cells}</tr>")
    body = f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    if frame.empty:
        body = "<p>none</p>"
    notes = f'<p class="note">{escape(table.note)}</p>' if table.note else ""
    if left_out:
        notes += (f'<p class="note">The first {len(frame):,} rows are shown; {left_out:,} more '
                  "are in the XLSX and CSV reports.</p>")
    return f"<section><h2>{escape(table.title)}</h2>{body}{notes}</section>"


def render_html(report: Report, top: int | None = 25) -> str:
    """The whole page as text."""
    facts = "".join(f"<dt>{escape(name)}</dt><dd>{escape(value)}</dd>" for name, value in report.facts)
    verdict = ""
    if report.verdict is not None:
        css = "ok" if report.verdict.ok else "fail"
        verdict = f'<p class="verdict {css}">{escape(report.verdict.line)}</p>'
    charts = "".join(
        f"<figure><figcaption>{escape(chart.title)}</figcaption>{chart_svg(chart)}</figure>" for chart in report.charts
    )
    shown = [_table_html(table, top) for table in report.tables if not table.phi]
    lead, rest = "".join(shown[: report.charts_after]), "".join(shown[report.charts_after :])
    notes = "".join(f'<p class="note">{escape(note)}</p>' for note in report.notes)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(report.title)}</title><style>{STYLE}</style></head><body>"
        f"<header><h1>{escape(report.title)}</h1><dl class=\"facts\">{facts}</dl>{verdict}{notes}</header>"
        f"{lead}{'<section><h2>Charts</h2>' + charts + '</section>' if charts else ''}{rest}"
        f"<footer>cmclaims {escape(__version__)} report, generated {escape(report.generated_at)}. Counts and "
        "dollars only: no member ids. Ages are days from the date of service.</footer>"
        "</body></html>\n"
    )


def write_html(report: Report, path: Path, top: int | None = 25) -> None:
    """Write the page to `path` (a temporary file the caller renames into place)."""
    path.write_text(render_html(report, top), encoding="utf-8")
