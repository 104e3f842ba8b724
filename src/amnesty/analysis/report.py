"""A run's report, and its transparency edition, as plain data.

    report = run_report(db, "R20151008-ab12cd")   # {"kind", "run", "tables", "clauses"}
    public = transparency_report(db, run_id)      # no personal data, small counts suppressed

Both are JSON-ready dicts in the shape the server will serve; :mod:`.render`
turns them into HTML, PDF, Markdown or an Excel workbook.
"""

from __future__ import annotations

from typing import Any

from amnesty.analysis import runs
from amnesty.analysis.clause_stats import clause_stats
from amnesty.analysis.figures import run_figures
from amnesty.analysis.registry_facts import categories, persons, places
from amnesty.analysis.suppression import DEFAULT_THRESHOLD, suppress_report
from amnesty.store.db import DatabaseURL

# tables that name persons: in the internal report only
PERSONAL_TABLES = ("stopped_persons",)


def run_report(db: str | DatabaseURL | None, run_id: str) -> dict[str, Any]:
    url = runs.database(db)
    record = runs.run(url, run_id)
    decree = runs.decree(url, record)
    determinations = runs.determinations(url, run_id)
    done = runs.execution(url, run_id)
    with runs.registry(url) as backend:
        from amnesty.engine import profile_of

        pl = places(backend, profile_of(decree))
        pe, cat = persons(backend), categories(backend)
    tables = run_figures(
        determinations,
        pl,
        pe,
        cat,
        decree=decree,
        as_of=record.as_of,
        left_out=dict(record.counts.get("left_out", {})),
        released=done.released,
        revoked=sorted(done.revoked),
        stopped=done.stopped,
    )
    tables.append(
        {
            "name": "stopped_persons",
            "title": "Persons stopped at execution, with the reason",
            "columns": ["person_id", "reason"],
            "rows": [[s["person_id"], s["reason"]] for s in done.stopped],
        }
    )
    return {
        "kind": "report",
        "run": {
            "run_id": record.run_id,
            "decree_id": record.decree_id,
            "decree_title": decree.title,
            "as_of": record.as_of.isoformat(),
            "decree_hash": record.decree_hash,
            "snapshot_hash": record.snapshot_hash,
            "engine": record.engine,
            "determinations_digest": record.determinations_digest,
        },
        "tables": tables,
        "clauses": clause_stats(determinations, decree),
    }


def transparency_report(
    db: str | DatabaseURL | None, run_id: str, threshold: int = DEFAULT_THRESHOLD
) -> dict[str, Any]:
    """The report for publication: aggregate figures only, small counts suppressed."""
    full = run_report(db, run_id)
    tables = [t for t in full["tables"] if t["name"] not in PERSONAL_TABLES]
    public_tables = suppress_report(tables, threshold)
    return {
        "kind": "transparency",
        "run": full["run"],
        "suppression": {
            "threshold": threshold,
            "rule": (
                f"a count from 1 to {threshold - 1} is suppressed; further cells are suppressed "
                "so that no suppressed cell can be recomputed from the published cells and totals"
            ),
        },
        "tables": public_tables,
        "reproduce": (
            "evaluate the decree with content hash decree_hash on the registry with snapshot "
            "hash snapshot_hash as of as_of; the determinations digest must match"
        ),
    }
