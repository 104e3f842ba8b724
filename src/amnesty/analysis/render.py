"""A report (or transparency report) dict to a file: HTML, PDF, Markdown or Excel.

* HTML: one self-contained file; the charts are inline SVG and the style is
  inline, so opening it makes no request at all;
* PDF: one file, typeset with Typst (wheel-installed, fonts from the wheel);
* Markdown: the tables, for a pull request or a wiki;
* xlsx: one sheet per table (openpyxl).
"""

from __future__ import annotations

import html
import io
import json
import tempfile
from importlib import resources
from pathlib import Path
from typing import Any

from amnesty.analysis.charts import charts, png, svg
from amnesty.errors import ConfigError

FORMATS = ("html", "pdf", "md", "xlsx")
STYLE = """
body { font-family: sans-serif; margin: 2em; color: #222; max-width: 70em; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 0.9em; }
th, td { border: 1px solid #bbb; padding: 0.2em 0.6em; text-align: right; }
th { background: #eee; } td:first-child, th:first-child { text-align: left; }
.meta td { text-align: left; } figure { margin: 1em 0; }
"""


def title(report: dict[str, Any]) -> str:
    run = report["run"]
    what = "Transparency report" if report["kind"] == "transparency" else "Report"
    return f"{what}: {run['decree_title']} (run {run['run_id']}, as of {run['as_of']})"


def _lines(report: dict[str, Any]) -> list[str]:
    run = report["run"]
    lines = [
        f"Decree {run['decree_id']}, content hash {run['decree_hash']}",
        f"Registry snapshot hash {run['snapshot_hash']}",
        f"Determinations digest {run['determinations_digest']}",
    ]
    if report["kind"] == "transparency":
        lines.append(f"Suppression: {report['suppression']['rule']}.")
        lines.append(f"To reproduce: {report['reproduce']}.")
    return lines


def _none_text(report: dict[str, Any]) -> str:
    return "suppressed" if report["kind"] == "transparency" else "—"


def _cell(value: Any, none: str) -> str:
    return none if value is None else str(value)


def to_markdown(report: dict[str, Any]) -> str:
    none = _none_text(report)
    out = [f"# {title(report)}", "", *(f"- {line}" for line in _lines(report)), ""]
    for t in report["tables"]:
        out += [f"## {t['title']}", "", "| " + " | ".join(t["columns"]) + " |"]
        out.append("|" + " --- |" * len(t["columns"]))
        for row in t["rows"]:
            out.append("| " + " | ".join(_cell(v, none) for v in row) + " |")
        out.append("")
    return "\n".join(out)


def to_html(report: dict[str, Any]) -> str:
    none = _none_text(report)
    e = html.escape
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{e(title(report))}</title><style>{STYLE}</style></head><body>",
        f"<h1>{e(title(report))}</h1>",
        "<table class='meta'>" + "".join(f"<tr><td>{e(x)}</td></tr>" for x in _lines(report)),
        "</table>",
    ]
    for name, chart in charts(report).items():
        parts.append(f'<figure class="chart" data-chart="{e(name)}">{svg(chart)}</figure>')
    for t in report["tables"]:
        parts.append(f'<h2>{e(t["title"])}</h2><table data-table="{e(t["name"])}"><tr>')
        parts += [f"<th>{e(c)}</th>" for c in t["columns"]]
        parts.append("</tr>")
        for row in t["rows"]:
            parts.append("<tr>" + "".join(f"<td>{e(_cell(v, none))}</td>" for v in row) + "</tr>")
        parts.append("</table>")
    parts.append("</body></html>")
    return "\n".join(parts)


def to_xlsx(report: dict[str, Any]) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    about = book.active
    assert about is not None
    about.title = "about"
    about.append([title(report)])
    for line in _lines(report):
        about.append([line])
    for t in report["tables"]:
        sheet = book.create_sheet(t["name"][:31])
        sheet.append(list(t["columns"]))
        for row in t["rows"]:
            sheet.append(list(row))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def to_pdf(report: dict[str, Any]) -> bytes:
    import typst

    from amnesty.workflow.certificates import font_dir

    template = Path(str(resources.files("amnesty.analysis") / "templates" / "report.typ"))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "report.typ").write_text(template.read_text("utf-8"), "utf-8")
        names = []
        for i, chart in enumerate(charts(report).values()):
            (folder / f"chart{i}.png").write_bytes(png(chart))
            names.append(f"chart{i}.png")
        document = {
            "title": title(report),
            "lines": _lines(report),
            "charts": names,
            "tables": report["tables"],
            "none_text": _none_text(report),
        }
        try:
            pdf = typst.compile(
                str(folder / "report.typ"),
                root=str(folder),
                font_paths=[str(font_dir())],
                ignore_system_fonts=True,
                sys_inputs={"data": json.dumps(document, ensure_ascii=False, default=str)},
            )
        except typst.TypstError as exc:  # a template bug, not bad data
            raise ConfigError(f"PDF rendering failed: {exc}") from exc
    assert isinstance(pdf, bytes)
    return pdf


def render(report: dict[str, Any], fmt: str) -> bytes:
    if fmt == "html":
        return to_html(report).encode("utf-8")
    if fmt == "md":
        return to_markdown(report).encode("utf-8")
    if fmt == "xlsx":
        return to_xlsx(report)
    if fmt == "pdf":
        return to_pdf(report)
    raise ConfigError(f"--format {fmt!r}: expected one of {', '.join(FORMATS)}")
