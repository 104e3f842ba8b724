"""``amnesty run list|show``: stored runs and what they decided."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from amnesty.cli.app import DbOption, FormatOption, group
from amnesty.cli.output import Format, console, emit_document, emit_rows
from amnesty.cli.session import open_store
from amnesty.workflow.runs import RunRecord, get_run, list_runs

run_app = group("run", "Stored runs: inputs, counts and reproducibility.")


def _summary(run: RunRecord) -> dict[str, Any]:
    return {
        "run_id": run.run_id,
        "decree_id": run.decree_id,
        "as_of": run.as_of,
        "engine": run.engine,
        "determinations": run.row_count,
        "recorded_at": run.recorded_at,
        "recorded_by": run.recorded_by,
        "reproduces": run.reproduces_run_id,
    }


@run_app.command("list")
def run_list(db: DbOption = None, fmt: FormatOption = Format.table) -> None:
    """List stored runs, oldest first."""
    url = open_store(db)
    rows = [_summary(r) for r in list_runs(url)]
    if not rows and fmt is Format.table:
        console(stderr=True).print("no runs yet: amnesty evaluate DECREE records one")
        return
    emit_rows(rows, fmt, title="Runs")


@run_app.command("show")
def run_show(
    run_id: Annotated[str, typer.Argument(help="A run id from amnesty run list.")],
    db: DbOption = None,
    fmt: FormatOption = Format.table,
) -> None:
    """One run: its inputs (decree and snapshot hashes), counts and digest."""
    run = get_run(open_store(db), run_id)
    doc = run.as_dict()
    if fmt in (Format.json, Format.jsonl):
        emit_document(doc, fmt)
        return
    fields = [{"field": k, "value": v} for k, v in doc.items() if k != "counts"]
    counts = [{"count": k, "value": v} for k, v in sorted(run.counts.items())]
    emit_rows(fields, fmt, title=f"Run {run.run_id}")
    if counts:
        emit_rows(counts, fmt, title="Counts")
