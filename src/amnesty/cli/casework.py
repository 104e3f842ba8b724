"""``amnesty review|roster|release|certificate``: case work from the command line.

Every state-changing command takes ``--as USER`` (else ``$AMNESTY_USER``) and
``--db``; the library does the checking and the auditing.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from amnesty.cli.app import AsOption, DbOption, ForceOption, FormatOption, group
from amnesty.cli.output import Format, emit_rows, inert
from amnesty.cli.session import acting_user, open_store
from amnesty.errors import ConfigError, PermissionDenied
from amnesty.workflow import batches
from amnesty.workflow import releases as rel
from amnesty.workflow import review as rev
from amnesty.workflow import rosters as ros
from amnesty.workflow.certificate_store import print_certificates

review_app = group("review", "The review queue: cases the engine referred to a person.")
roster_app = group("roster", "Facility rosters: prepare, check, approve (four eyes), withdraw.")
release_app = group("release", "Execution: undertakings, releases, revocations.")
certificate_app = group("certificate", "Release certificates as PDF.")

RunOption = Annotated[str, typer.Option("--run", help="Run id (amnesty run list).")]
ReasonOption = Annotated[str, typer.Option("--reason", help="Written reason (required).")]


def _user(as_user: str | None, db: str | None) -> str:
    name = acting_user(as_user, open_store(db))
    if not name:
        raise PermissionDenied(
            "this command changes state: run amnesty login --as USER first, or set AMNESTY_TOKEN"
        )
    return name


def _date(text: str | None, option: str) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"{option} {text!r}: expected a date YYYY-MM-DD") from None


def _required_date(text: str, option: str) -> dt.date:
    day = _date(text, option)
    assert day is not None
    return day


@review_app.command("list")
def review_list(
    run: RunOption,
    state: Annotated[str | None, typer.Option("--state", help="open or decided")] = None,
    db: DbOption = None,
    fmt: FormatOption = Format.table,
) -> None:
    """The run's review cases and where each stands."""
    cases = rev.review_queue(open_store(db), run, state)
    emit_rows([c.as_row() for c in cases], fmt, title=f"Review queue of {run}")


@review_app.command("decide")
def review_decide(
    run: RunOption,
    person: Annotated[str, typer.Argument(help="Person id.")],
    outcome: Annotated[str, typer.Argument(help="eligible or ineligible")],
    reason: ReasonOption,
    as_user: AsOption = None,
    db: DbOption = None,
) -> None:
    """Decide one case, with a written reason."""
    record = rev.decide(open_store(db), _user(as_user, db), run, person, outcome, reason)
    print(f"{inert(person)}: decided {inert(record.outcome)} (version {record.version})")


@review_app.command("reopen")
def review_reopen(
    run: RunOption,
    person: Annotated[str, typer.Argument(help="Person id.")],
    reason: ReasonOption,
    as_user: AsOption = None,
    db: DbOption = None,
) -> None:
    """Reopen a decided case (the decision stays in its history)."""
    record = rev.reopen(open_store(db), _user(as_user, db), run, person, reason)
    print(f"{inert(person)}: reopened (version {record.version})")


@roster_app.command("show")
def roster_show(
    roster: Annotated[int | None, typer.Argument(help="Roster id; omit to list.")] = None,
    run: Annotated[str | None, typer.Option("--run", help="Only this run's rosters.")] = None,
    facility: Annotated[
        str | None, typer.Option("--facility", help="Only this facility's rosters.")
    ] = None,
    db: DbOption = None,
    fmt: FormatOption = Format.table,
) -> None:
    """List rosters, or show one roster's entries."""
    url = open_store(db)
    if roster is None:
        rows = [r.as_dict() for r in ros.list_rosters(url, run, facility)]
        emit_rows(
            rows,
            fmt,
            columns=[
                "roster_id",
                "run_id",
                "facility_id",
                "generation",
                "status",
                "prepared_by",
                "approved_by",
            ],
        )
        return
    found, _entries = ros.get_roster(url, roster)
    emit_rows(
        batches.roster_people(url, roster),
        fmt,
        title=f"Roster {found.roster_id} ({found.status}) of {found.facility_id}, "
        f"run {found.run_id}",
    )


@roster_app.command("prepare")
def roster_prepare(
    run: RunOption,
    facility: Annotated[str, typer.Option("--facility", help="Facility id (registry).")],
    as_user: AsOption = None,
    db: DbOption = None,
) -> None:
    """Prepare the facility's roster from the run (eligible plus decided reviews)."""
    roster = ros.prepare_roster(open_store(db), _user(as_user, db), run, facility)
    generation = roster.generation
    print(f"roster {roster.roster_id} prepared for {inert(facility)} (generation {generation})")


@roster_app.command("approve")
def roster_approve(
    roster: Annotated[int, typer.Argument(help="Roster id.")],
    as_user: AsOption = None,
    db: DbOption = None,
) -> None:
    """Approve a roster someone else prepared."""
    done = ros.approve_roster(open_store(db), _user(as_user, db), roster)
    print(f"roster {done.roster_id} approved by {inert(done.approved_by)}")


@roster_app.command("withdraw")
def roster_withdraw(
    roster: Annotated[int, typer.Argument(help="Roster id.")],
    reason: ReasonOption,
    as_user: AsOption = None,
    db: DbOption = None,
) -> None:
    """Withdraw a roster before anyone on it is released."""
    done = ros.withdraw_roster(open_store(db), _user(as_user, db), roster, reason)
    print(f"roster {done.roster_id} withdrawn")


@release_app.command("undertake")
def release_undertake(
    run: RunOption,
    person: Annotated[str, typer.Argument(help="Person id.")],
    undertaking: Annotated[str, typer.Argument(help="Undertaking id from the decree.")],
    signed_on: Annotated[str | None, typer.Option("--signed-on", help="YYYY-MM-DD")] = None,
    witness: Annotated[
        str | None, typer.Option("--witness", help="Who witnessed the signature.")
    ] = None,
    refused: Annotated[bool, typer.Option("--refused", help="The person refused to sign.")] = False,
    as_user: AsOption = None,
    db: DbOption = None,
) -> None:
    """Record an undertaking as signed (date, witness) or refused."""
    row = rel.record_undertaking(
        open_store(db),
        _user(as_user, db),
        run,
        person,
        undertaking,
        signed_on=_date(signed_on, "--signed-on"),
        witness=witness,
        refused=refused,
    )
    print(f"{inert(person)}: undertaking {inert(undertaking)} {inert(row['status'])}")


@release_app.command("execute")
def release_execute(
    run: Annotated[
        str | None, typer.Option("--run", help="Run id, with --person (amnesty run list).")
    ] = None,
    person: Annotated[
        str | None, typer.Option("--person", help="Person id, with --run: release one person.")
    ] = None,
    roster: Annotated[int | None, typer.Option("--roster", help="Release a whole roster.")] = None,
    date: Annotated[str, typer.Option("--date", help="Release date YYYY-MM-DD.")] = "",
    override_reason: Annotated[
        str | None,
        typer.Option(
            "--override-reason", help="Why a release date outside the decree's window is right."
        ),
    ] = None,
    new_end_date: Annotated[
        str | None,
        typer.Option(
            "--new-end-date",
            help=(
                "YYYY-MM-DD, with --person: a temporary release's return; a commutation's new end, "
                "which must be the one the decree gives (needed only when the sentence end "
                "is unknown)."
            ),
        ),
    ] = None,
    batch_size: Annotated[
        int, typer.Option("--batch-size", help="Releases per transaction with --roster.", min=1)
    ] = 1000,
    as_user: AsOption = None,
    db: DbOption = None,
) -> None:
    """Release one person (--run, --person) or a whole approved roster (--roster)."""
    if not date:
        raise ConfigError("give the release date: --date YYYY-MM-DD")
    if roster is not None and new_end_date is not None:
        # one date for a whole roster would fit at most the persons it happens to equal
        raise ConfigError(
            "--new-end-date is for one person (--run, --person): a roster's commutations "
            "take the end dates the decree gives, and a temporary release its return"
        )
    actor, day = _user(as_user, db), _required_date(date, "--date")
    if roster is not None:
        from amnesty.cli.casework_bulk import execute_whole_roster

        execute_whole_roster(db, actor, roster, day, override_reason, batch_size)
        return
    url = open_store(db)
    if not (run and person):
        raise ConfigError("give --run RUN --person PERSON, or --roster ROSTER")
    result = rel.execute_release(
        url, actor, run, person, release_date=day, override_reason=override_reason,
        new_end_date=_date(new_end_date, "--new-end-date"),
    )  # fmt: skip
    state = "already released" if result.already else "released"
    print(f"{inert(person)}: {state}, certificate {inert(result.release.certificate_no)}")


@release_app.command("revoke")
def release_revoke(
    run: RunOption,
    person: Annotated[str, typer.Argument(help="Person id.")],
    reason: ReasonOption,
    return_date: Annotated[str, typer.Option("--return-date", help="YYYY-MM-DD")],
    as_user: AsOption = None,
    db: DbOption = None,
) -> None:
    """Revoke a release made in error: the person returns to custody."""
    rel.revoke_release(
        open_store(db), _user(as_user, db), run, person, reason=reason,
        return_date=_required_date(return_date, "--return-date"),
    )  # fmt: skip
    print(f"{inert(person)}: release revoked; return to custody recorded")


@certificate_app.callback(invoke_without_command=True)
def certificate(
    out: Annotated[Path, typer.Option("--out", help="Folder for the PDFs.")],
    person: Annotated[
        str | None, typer.Option("--person", help="One person's certificate (person id).")
    ] = None,
    facility: Annotated[
        str | None, typer.Option("--facility", help="One batch PDF per facility.")
    ] = None,
    run: Annotated[
        str | None, typer.Option("--run", help="Only releases of this run (amnesty run list).")
    ] = None,
    roster: Annotated[
        int | None, typer.Option("--roster", help="A whole roster's releases, in one batch PDF.")
    ] = None,
    force: ForceOption = False,
    as_user: AsOption = None,
    db: DbOption = None,
) -> None:
    """Print certificates: one per person, a batch per facility, or a roster's batch.

    A PDF of the same name already in the folder is refused (nothing rendered or
    recorded) unless --force, which replaces it and records the new file's sha256."""
    paths = print_certificates(
        open_store(db), _user(as_user, db), out, run_id=run, person_id=person, facility_id=facility,
        roster_id=roster, replace=force,
    )  # fmt: skip
    for path in paths:
        print(inert(path))
