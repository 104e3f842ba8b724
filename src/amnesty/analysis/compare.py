"""Two runs side by side: every report table of each, joined on its first column.

For the two 2015 rounds, for instance: how many were decided, eligible and
released in August and in October, province by province. Persons are not
matched here (that is :func:`amnesty.analysis.diff.diff_runs`).
"""

from __future__ import annotations

from typing import Any

from amnesty.analysis.report import PERSONAL_TABLES, run_report
from amnesty.store.db import DatabaseURL


def side_by_side(a: dict[str, Any], b: dict[str, Any], labels: tuple[str, str]) -> dict[str, Any]:
    """One table of ``a`` and its namesake of ``b``: key, then each value column twice."""
    if a["name"] == "totals":  # one row, no key column
        a = {**a, "columns": ["", *a["columns"]], "rows": [["all", *r] for r in a["rows"]]}
        b = {**b, "columns": ["", *b["columns"]], "rows": [["all", *r] for r in b["rows"]]}
    key = a["columns"][0]
    values = a["columns"][1:]
    rows_a = {tuple([r[0]]): r[1:] for r in a["rows"]}
    rows_b = {tuple([r[0]]): r[1:] for r in b["rows"]}
    keys = list(dict.fromkeys([*rows_a, *rows_b]))
    columns = [key] + [f"{c} ({lab})" for c in values for lab in labels]
    rows = []
    for k in keys:
        ra = rows_a.get(k, [None] * len(values))
        rb = rows_b.get(k, [None] * len(values))
        row: list[Any] = [k[0]]
        for i in range(len(values)):
            row += [ra[i], rb[i]]
        rows.append(row)
    return {"name": a["name"], "title": a["title"], "columns": columns, "rows": rows}


def compare_runs(db: str | DatabaseURL | None, run_a: str, run_b: str) -> dict[str, Any]:
    ra, rb = run_report(db, run_a), run_report(db, run_b)
    labels = (run_a, run_b)
    by_name = {t["name"]: t for t in rb["tables"]}
    tables = [
        side_by_side(t, by_name[t["name"]], labels)
        for t in ra["tables"]
        if t["name"] in by_name and t["name"] not in PERSONAL_TABLES
    ]
    return {"kind": "compare", "runs": [ra["run"], rb["run"]], "tables": tables}
