"""Case work for a whole roster: ``roster check``, ``release import-undertakings``,
``review import`` and ``release execute --roster`` with a progress bar."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from amnesty.cli.app import AsOption, DbOption, FormatOption
from amnesty.cli.casework import _required_date, _user, release_app, review_app, roster_app
from amnesty.cli.output import Format, emit_document, emit_rows, progress_bar
from amnesty.cli.session import open_store
from amnesty.workflow import batches
from amnesty.workflow.casework_files import import_review_decisions, import_undertakings

DateOption = Annotated[str, typer.Option("--date", help="Release date YYYY-MM-DD.")]
# the stopped persons a terminal shows one by one; the rest are counted by reason
SHOWN_STOPS = 20


@roster_app.command("check")
def roster_check(
    roster: Annotated[int, typer.Argument(help="Roster id.")],
    date: DateOption,
    db: DbOption = None,
    fmt: FormatOption = Format.table,
) -> None:
    """How many on the roster are ready for release on --date, and what blocks the rest."""
    readiness = batches.check_roster(open_store(db), roster, _required_date(date, "--date"))
    doc = readiness.as_dict()
    if fmt is not Format.table:
        emit_document(doc, fmt)
        return
    print(
        f"roster {roster} ({doc['status']}), release date {date}: {doc['persons']:,} persons, "
        f"{doc['ready']:,} ready, {doc['already_released']:,} already released, "
        f"{doc['blocked']:,} blocked"
    )
    if doc["by_reason"]:
        emit_rows(doc["by_reason"], fmt, title="What blocks the rest")


@release_app.command("import-undertakings")
def release_import_undertakings(
    file: Annotated[
        Path,
        typer.Argument(help="CSV or Excel: person_id, undertaking_id, status, signed_on, witness."),
    ],
    roster: Annotated[int, typer.Option("--roster", help="The roster the persons are on.")],
    as_user: AsOption = None,
    db: DbOption = None,
) -> None:
    """Record a file of undertakings (signed or refused) at once; one bad row refuses all."""
    applied = import_undertakings(open_store(db), _user(as_user, db), roster, file)
    print(f"{file}: {applied.records:,} undertaking(s) recorded for roster {roster}")


@review_app.command("import")
def review_import(
    file: Annotated[Path, typer.Argument(help="CSV or Excel: person_id, outcome, reason.")],
    run: Annotated[str, typer.Option("--run", help="Run id (amnesty run list).")],
    as_user: AsOption = None,
    db: DbOption = None,
) -> None:
    """Decide a file of review cases at once; one bad row refuses all."""
    applied = import_review_decisions(open_store(db), _user(as_user, db), run, file)
    print(f"{file}: {applied.records:,} review decision(s) recorded for run {run}")


def execute_whole_roster(
    db: str | None,
    actor: str,
    roster: int,
    day: dt.date,
    override_reason: str | None,
    batch_size: int,
) -> None:
    """``release execute --roster``: the batches, a progress bar, a summary by reason."""
    store = open_store(db)
    with progress_bar(Format.table, "releasing") as update:

        def progress(done: int, total: int) -> None:
            if update is not None:
                update("releasing", done, total)

        report = batches.execute_roster(
            store, actor, roster, release_date=day, override_reason=override_reason,
            progress=progress, batch_size=batch_size,
        )  # fmt: skip
    print(
        f"roster {roster}: {len(report.released):,} released, {len(report.already):,} already, "
        f"{len(report.stopped):,} stopped by the re-check, {len(report.waiting):,} not ready"
    )
    for pid, why in report.stopped[:SHOWN_STOPS]:
        print(f"  stopped {pid}: {why}")
    if len(report.stopped) > SHOWN_STOPS:
        print(f"  (and {len(report.stopped) - SHOWN_STOPS:,} more stopped)")
    if report.waiting:
        print(f"  not ready: see amnesty roster check {roster} --date {day}")
