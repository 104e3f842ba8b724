"""The HTML report opened in headless Chromium: it renders, its charts are there,
and opening it makes no request beyond the file itself."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from amnesty.analysis import render, run_report, transparency_report

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = pytest.mark.slow


def _need_chromium() -> None:
    if not CHROMIUM.exists():
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):  # as tests/conftest.py
            pytest.fail("CI=true but /usr/bin/chromium is missing: apt-get install -y chromium")
        pytest.skip("no /usr/bin/chromium (apt-get install -y chromium) to open the report in")


@pytest.mark.parametrize("edition", ["report", "transparency"])
def test_html_report_in_chromium(world, tmp_path: Path, edition: str) -> None:  # type: ignore[no-untyped-def]
    _need_chromium()
    from playwright.sync_api import sync_playwright

    doc = (
        run_report(world.db, world.runs[1])
        if edition == "report"
        else transparency_report(world.db, world.runs[1], threshold=3)
    )
    page_file = tmp_path / "report.html"
    page_file.write_bytes(render(doc, "html"))
    requests: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page()
            page.on("request", lambda r: requests.append(r.url))
            page.goto(page_file.as_uri())
            page.wait_for_load_state("load")
            charts = page.locator("figure.chart svg")
            assert charts.count() == 4
            # the charts drew bars, not empty frames
            assert page.locator("figure[data-chart=by_province] svg path").count() > 5
            assert page.locator("figure[data-chart=by_province] svg").bounding_box()["width"] > 200  # type: ignore[index]
            assert page.locator("table[data-table=by_province] tr").count() > 3
            assert "Outcome by province" in page.content()
        finally:
            browser.close()
    assert requests == [page_file.as_uri()]


def test_pdf_and_workbook(world, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from openpyxl import load_workbook
    from pypdf import PdfReader

    doc = run_report(world.db, world.runs[1])
    pdf = tmp_path / "r.pdf"
    pdf.write_bytes(render(doc, "pdf"))
    reader = PdfReader(str(pdf))
    assert len(reader.pages) >= 2
    assert "By province" in "".join(p.extract_text() for p in reader.pages)
    book = tmp_path / "r.xlsx"
    book.write_bytes(render(doc, "xlsx"))
    wb = load_workbook(book)
    assert set(wb.sheetnames) >= {t["name"][:31] for t in doc["tables"]}
    sheet = wb["by_province"]
    assert [c.value for c in sheet[1]] == doc["tables"][1]["columns"]
    assert sheet.max_row == len(doc["tables"][1]["rows"]) + 1
