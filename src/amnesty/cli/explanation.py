"""``amnesty explain``: one person, clause by clause; with ``--run``, against a stored run.

Without ``--run`` the decree is applied to the registry in ``--db`` on the
decree's as-of date (or ``--as-of``). With ``--run RUN`` it is applied on the
run's as-of date, and the determination the run stored is shown beside today's,
with the fields that differ (:mod:`amnesty.workflow.run_explanation`).
"""

from __future__ import annotations

import dataclasses
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from amnesty.cli.app import AsOption, DbOption, app
from amnesty.cli.evaluate import PART_HELP, evaluation_date
from amnesty.cli.output import Format, console, emit_rows, inert, to_json
from amnesty.cli.session import registry_connection

PERSON_HELP = "The person's registry id (persons.person_id)."
AS_OF_HELP = "YYYY-MM-DD; default the decree's (with --run, the run's)."
RUN_HELP = (
    "A stored run id (amnesty run list): explain on its as-of date and compare "
    "with the determination it stored."
)
FORMAT_HELP = (
    "table (text is the same) on a terminal; json for scripts; csv: one row per clause, "
    "for a spreadsheet."
)


class ExplainFormat(StrEnum):
    table = "table"
    text = "text"  # the name this option had first; the same as table
    json = "json"
    csv = "csv"


# the columns of --format csv: one row per clause, the person's outcome repeated on each
CSV_COLUMNS = (
    "person_id", "decree_id", "as_of", "outcome", "relief", "clause", "kind", "value",
    "citation", "basis", "text", "facts", "missing", "why",
)  # fmt: skip
RUN_CSV_COLUMNS = ("run_id", "run_outcome", "agrees")


@app.command("explain")
def explain_command(
    decree_path: Annotated[Path, typer.Argument(metavar="DECREE", help="Decree file.")],
    person_id: Annotated[str, typer.Argument(metavar="PERSON_ID", help=PERSON_HELP)],
    as_of: Annotated[str | None, typer.Option("--as-of", help=AS_OF_HELP)] = None,
    run: Annotated[str | None, typer.Option("--run", help=RUN_HELP)] = None,
    db: DbOption = None,
    fmt: Annotated[ExplainFormat, typer.Option("--format", help=FORMAT_HELP)] = (
        ExplainFormat.table
    ),
    as_user: AsOption = None,
    part: Annotated[str | None, typer.Option("--part", help=PART_HELP)] = None,
) -> None:
    """One person, clause by clause, with legal text, value and the facts read; with
    --run, beside what that stored run decided and whether they agree.

    Health facts are shown only to a reviewer, approver, facility officer of the
    person's facility or auditor (--as, a token or a login), and each such read is an
    audit event; otherwise they are withheld."""
    if run is not None:
        if as_of is not None:
            raise typer.BadParameter(
                "--as-of and --run do not go together: a run fixes its as-of date",
                param_hint="--as-of",
            )
        _explain_run(decree_path, person_id, run, db, fmt, as_user)
        return
    from amnesty.decree import load
    from amnesty.explanation import explain

    decree, day = load(decree_path), evaluation_date(decree_path, part, as_of)
    with registry_connection(db) as conn:
        e = explain(decree, conn, person_id, as_of=day)
    e = allow_health_read(db, as_user, e, "explain " + decree.id, decree)
    if fmt is ExplainFormat.json:
        print(to_json(e.to_dict()))
        return
    if fmt is ExplainFormat.csv:
        emit_rows(clause_rows(e), Format.csv, CSV_COLUMNS)
        return
    print_explanation(e)


def clause_rows(e: Any, extra: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """One row per clause of an explanation (:data:`CSV_COLUMNS`), ``extra`` added to each."""
    person = {
        "person_id": e.person_id,
        "decree_id": e.decree_id,
        "as_of": e.as_of.isoformat(),
        "outcome": e.outcome or "not in the population",
        "relief": e.relief,
        "why": e.why,
    }
    return [
        {
            **person,
            "clause": cl.id,
            "kind": cl.kind,
            "value": cl.value,
            "citation": cl.citation,
            "basis": cl.basis,
            "text": " ".join(cl.text.split()),
            "facts": "; ".join(f"{k}: {_fact(v)}" for k, v in cl.facts.items()),
            "missing": ", ".join(cl.missing),
            **(extra or {}),
        }
        for cl in e.clauses
    ]


def _fact(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_fact(v) for v in value) + "]"
    return "" if value is None else str(value)


WITHHELD = "(withheld: health facts need a reviewer, approver, facility officer or auditor)"


def allow_health_read(db: str | None, as_user: str | None, e: Any, source: str, decree: Any) -> Any:
    """The explanation to show: as it is, if it shows no health facts or the reader may
    see them (the read is then an audit event); else with the health facts withheld.

    Without any credential nothing is read and nothing logged; an authenticated user
    without the role gets the withheld form and their refusal is audited
    (:func:`amnesty.workflow.users.record_health_read`).
    """
    import sqlalchemy as sa

    from amnesty.cli.session import acting_user, open_store
    from amnesty.errors import PermissionDenied
    from amnesty.workflow.users import health_facts, list_users, record_health_read

    facts = health_facts((name for clause in e.clauses for name in clause.facts), decree)
    if not facts:
        return e
    store = open_store(db)
    actor = acting_user(as_user, store)
    if actor is not None or not list_users(store):
        with store.connect() as conn:
            facility = conn.execute(
                sa.text("SELECT facility_id FROM persons WHERE person_id = :p"),
                {"p": e.person_id},
            ).scalar_one_or_none()
        try:
            record_health_read(
                store, actor, person_id=e.person_id, facility_id=facility, facts=facts,
                source=source,
            )  # fmt: skip
            return e
        except PermissionDenied as denied:
            console(stderr=True).print(f"{inert(denied)}: health facts withheld", markup=False)
    clauses = [
        dataclasses.replace(
            clause,
            facts={k: WITHHELD if k in facts else v for k, v in clause.facts.items()},
        )
        for clause in e.clauses
    ]
    return dataclasses.replace(e, clauses=clauses)


def _explain_run(
    decree_path: Path,
    person_id: str,
    run_id: str,
    db: str | None,
    fmt: ExplainFormat,
    as_user: str | None,
) -> None:
    from amnesty.cli.session import open_store
    from amnesty.workflow.run_explanation import explain_against_run

    compared = explain_against_run(open_store(db), decree_path, run_id, person_id)
    from amnesty.decree import load

    decree = load(decree_path)
    today = allow_health_read(db, as_user, compared.today, f"explain run {run_id}", decree)
    if today is not compared.today:
        compared = dataclasses.replace(compared, today=today)
    if fmt is ExplainFormat.json:
        print(to_json(compared.to_dict()))
        return
    if fmt is ExplainFormat.csv:
        extra = {
            "run_id": compared.run.run_id,
            "run_outcome": _shown(compared.stored, "outcome"),
            "agrees": "yes" if compared.agrees else "no: " + ", ".join(compared.differences),
        }
        emit_rows(clause_rows(compared.today, extra), Format.csv, CSV_COLUMNS + RUN_CSV_COLUMNS)
        return
    print_explanation(compared.today)
    print_comparison(compared)


def print_explanation(e: Any) -> None:
    """Each clause: kind, id, value and where it comes from; its text; the facts read."""
    c = console()
    # every value here comes from the registry or the decree: printed inert (cli/output.py)
    c.print(
        f"{inert(e.person_id)} under {inert(e.decree_id)} as of {e.as_of.isoformat()}",
        markup=False,
    )
    for cl in e.clauses:
        c.print(
            f"\n[{inert(cl.kind)}] {inert(cl.id)} = {inert(cl.value)}  ({inert(_origin(cl))})",
            markup=False,
        )
        c.print(f"  {inert(cl.text, lines=True)}", markup=False)
        for name, value in cl.facts.items():
            c.print(f"  {inert(name)}: {inert(value)}", markup=False)
        if cl.missing:
            c.print(f"  missing: {inert(', '.join(cl.missing))}", markup=False)
    c.print(f"\nOutcome: {inert(e.why)}", markup=False)


def _origin(clause: Any) -> str:
    from amnesty.explanation import SCOPE_BASIS

    if clause.basis == SCOPE_BASIS:
        axes = ", ".join(clause.facts) or "its scope predicate"
        return f"{clause.citation}: {axes}"
    return f"{clause.citation}, {clause.basis}" if clause.citation else clause.basis


def print_comparison(compared: Any) -> None:
    """The run's determination beside today's, then whether they agree and why not."""
    from amnesty.workflow.run_explanation import COMPARED

    run = compared.run
    stored, today = compared.stored, compared.today_row
    rows = [{"field": f, "run": _shown(stored, f), "today": _shown(today, f)} for f in COMPARED]
    c = console()
    c.print()
    emit_rows(
        rows,
        Format.table,
        title=f"Run {run.run_id} (as of {run.as_of.isoformat()}) beside today's evaluation",
    )
    if compared.agrees:
        c.print(f"Agrees with run {run.run_id}.", markup=False)
    else:
        fields = ", ".join(
            f"{f} (run: {_shown(stored, f)}; today: {_shown(today, f)})"
            for f in compared.differences
        )
        c.print(f"Differs from run {run.run_id} in {fields}.", markup=False)
    if compared.registry_changed:
        c.print(
            f"The registry changed since the run (snapshot {run.snapshot_hash[:12]} then, "
            f"{(compared.snapshot_hash or 'none')[:12]} now).",
            markup=False,
        )
    if compared.decree_changed:
        c.print(
            f"The decree file differs from the text the run evaluated (content "
            f"{run.decree_hash[:12]} then, {compared.decree_hash[:12]} now).",
            markup=False,
        )


def _shown(row: dict[str, Any] | None, name: str) -> str:
    if row is None:
        return "not decided" if name == "outcome" else ""
    value = row.get(name)
    if name == "unknown":
        return "; ".join(
            f"{u.get('clause')} ({', '.join(u.get('missing') or [])})"
            if isinstance(u, dict)
            else str(u)
            for u in value or []
        )
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return "" if value is None else str(value)
