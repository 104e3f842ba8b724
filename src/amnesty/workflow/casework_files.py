"""Case work from a file: a facility's undertakings, or a run's review decisions, at once.

A CSV (UTF-8, header row) or an Excel workbook (``.xlsx``, ``.xls``, ``.ods``;
the first sheet, header row first), read with python-calamine. Every row is
validated before anything is written; one bad row refuses the whole file, with
every problem named by file, row (as a spreadsheet numbers it: the header is
row 1) and column. A good file is applied in one transaction, one audit event
per record, so it lands whole or not at all.

Undertakings (``amnesty release import-undertakings FILE --roster N``)::

    person_id,undertaking_id,status,signed_on,witness
    P01,pledge,signed,2015-10-08,Pak Chol
    P09,pledge,refused,,

A row is refused when the person is unknown to the run, not on the roster, the
undertaking is not one the run requires of them, the status is not signed or
refused, a signature lacks its date or witness, the date is outside the window
(from the run's as-of date to the end of the decree's execution window), or the
same person and undertaking appear twice in the file.

Review decisions (``amnesty review import FILE --run R``)::

    person_id,outcome,reason
    P03,eligible,illness confirmed by the facility doctor

A row is refused when the person is not a review case of the run, the case is
already decided (reopen it first), the outcome is not eligible or ineligible,
the reason is empty, or the person appears twice.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from amnesty.errors import ConfigError, ImportRejected, Rejection
from amnesty.store.database import Database
from amnesty.store.tables import determinations, review_decisions, undertaking_records
from amnesty.store.transaction import utcnow
from amnesty.workflow.casefiles import decree_for_run, require_signed, run_info
from amnesty.workflow.review import latest_records
from amnesty.workflow.rosters import entries_of, find_roster
from amnesty.workflow.users import Role, require

UNDERTAKING_COLUMNS = ("person_id", "undertaking_id", "status", "signed_on", "witness")
REVIEW_COLUMNS = ("person_id", "outcome", "reason")
SPREADSHEETS = (".xlsx", ".xlsm", ".xls", ".ods")


@dataclass(frozen=True)
class Applied:
    """What a good file changed."""

    path: Path
    records: int


def read_table(
    path: Path, columns: tuple[str, ...], required: tuple[str, ...]
) -> list[dict[str, str]]:
    """The file's data rows as text by column name, each with its spreadsheet row number
    under ``_row``; a header that lacks a required column or names an unknown one is refused."""
    if not path.exists():
        raise ConfigError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix in SPREADSHEETS:
        grid = _spreadsheet(path)
    elif suffix in (".csv", ".txt"):
        with path.open(encoding="utf-8-sig", newline="") as handle:
            grid = [row for row in csv.reader(handle)]
    else:
        raise ConfigError(f"{path}: expected a .csv or an Excel file ({', '.join(SPREADSHEETS)})")
    if not grid:
        raise ImportRejected([Rejection(path.name, None, None, None, "the file is empty")])
    header = [h.strip().lower() for h in grid[0]]
    problems = [
        Rejection(path.name, 1, name, None, f"unknown column; expected {', '.join(columns)}")
        for name in header
        if name and name not in columns
    ]
    problems += [
        Rejection(path.name, 1, name, None, "required column missing from the header")
        for name in required
        if name not in header
    ]
    if problems:
        raise ImportRejected(problems)
    rows = []
    for number, cells in enumerate(grid[1:], start=2):
        if not any(c.strip() for c in cells):
            continue  # a blank line between blocks of rows
        row = {name: (cells[i].strip() if i < len(cells) else "") for i, name in enumerate(header)}
        row["_row"] = str(number)
        rows.append(row)
    return rows


def _spreadsheet(path: Path) -> list[list[str]]:
    from python_calamine import CalamineWorkbook

    try:
        sheet = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0)
    except Exception as exc:  # calamine raises its own types for a damaged file
        raise ConfigError(f"{path}: cannot read the workbook ({exc})") from exc
    return [[_cell(v) for v in row] for row in sheet.to_python(skip_empty_area=False)]


def _cell(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value)


def import_undertakings(db: Database, actor: str, roster_id: int, path: Path) -> Applied:
    """Record the undertakings in ``path`` for persons on roster ``roster_id``."""
    with db.connect() as conn:
        roster = find_roster(conn, roster_id)
    action = "release.undertake"
    entity = ("roster", str(roster_id))
    require(
        db, actor, Role.facility_officer, facility=roster.facility_id, action=action, entity=entity
    )
    rows = read_table(path, UNDERTAKING_COLUMNS, ("person_id", "undertaking_id", "status"))
    with db.transaction(actor, action=action, entity=entity) as tx:
        conn = tx.connection
        run = run_info(conn, roster.run_id)
        require_signed(run, "record undertakings")
        decree = decree_for_run(conn, run)
        window = (run.as_of, decree.execution_window[1] if decree.execution_window else None)
        on_roster = {e.person_id for e in entries_of(conn, roster_id)}
        required = {
            pid: json.loads(text or "[]")
            for pid, text in conn.execute(
                sa.select(determinations.c.person_id, determinations.c.undertakings).where(
                    determinations.c.run_id == run.run_id
                )
            ).all()
        }
        problems: list[Rejection] = []
        records: list[dict[str, Any]] = []
        seen: dict[tuple[str, str], str] = {}
        now = utcnow()
        for row in rows:
            found = _undertaking_row(path.name, row, required, on_roster, window, seen)
            if isinstance(found, Rejection):
                problems.append(found)
                continue
            records.append(
                {**found, "run_id": run.run_id, "recorded_by": actor, "recorded_at": now}
            )
        if problems:
            raise ImportRejected(problems, _refusal(path, problems))
        if not records:
            raise ImportRejected([Rejection(path.name, None, None, None, "no data rows")])
        conn.execute(undertaking_records.insert(), records)
        tx.audit_many(
            [
                {
                    "entity": (
                        "undertaking",
                        f"{r['run_id']}/{r['person_id']}/{r['undertaking_id']}",
                    ),
                    "after": r,
                }
                for r in records
            ]
        )
    return Applied(path, len(records))


def _undertaking_row(
    table: str,
    row: dict[str, str],
    required: dict[str, list[str]],
    on_roster: set[str],
    window: tuple[dt.date, dt.date | None],
    seen: dict[tuple[str, str], str],
) -> dict[str, Any] | Rejection:
    number = int(row["_row"])

    def bad(column: str, rule: str) -> Rejection:
        return Rejection(table, number, column, row.get(column) or None, rule)

    pid, uid, status = row["person_id"], row["undertaking_id"], row["status"].lower()
    if pid not in required:
        return bad("person_id", "unknown person: the run has no determination for them")
    if pid not in on_roster:
        return bad("person_id", "person is not on this roster")
    if uid not in required[pid]:
        listed = ", ".join(required[pid]) or "none"
        return bad("undertaking_id", f"not required of this person (required: {listed})")
    earlier = seen.get((pid, uid))
    if earlier is not None:
        return bad("person_id", f"the same person and undertaking as row {earlier}")
    seen[(pid, uid)] = row["_row"]
    if status not in ("signed", "refused"):
        return bad("status", "expected signed or refused")
    if status == "refused":
        return {
            "person_id": pid,
            "undertaking_id": uid,
            "status": "refused",
            "signed_on": None,
            "witness": None,
        }
    try:
        signed_on = dt.date.fromisoformat(row.get("signed_on", ""))
    except ValueError:
        return bad("signed_on", "a signature needs its date as YYYY-MM-DD")
    first, last = window
    if signed_on < first or (last is not None and signed_on > last):
        until = f"to {last}" if last is not None else "onwards"
        return bad("signed_on", f"date outside the window: from {first} {until}")
    if not row.get("witness"):
        return bad("witness", "a signature needs its witness")
    return {
        "person_id": pid,
        "undertaking_id": uid,
        "status": "signed",
        "signed_on": signed_on,
        "witness": row["witness"],
    }


def import_review_decisions(db: Database, actor: str, run_id: str, path: Path) -> Applied:
    """Decide the review cases in ``path`` (each with its written reason)."""
    action = "review.decide"
    entity = ("run", run_id)
    require(db, actor, Role.reviewer, action=action, entity=entity)
    rows = read_table(path, REVIEW_COLUMNS, REVIEW_COLUMNS)
    with db.transaction(actor, action=action, entity=entity) as tx:
        conn = tx.connection
        run_info(conn, run_id)
        cases = set(
            conn.execute(
                sa.select(determinations.c.person_id).where(
                    determinations.c.run_id == run_id, determinations.c.outcome == "review"
                )
            ).scalars()
        )
        latest = latest_records(conn, run_id)
        problems: list[Rejection] = []
        records: list[dict[str, Any]] = []
        seen: dict[str, str] = {}
        now = utcnow()
        for row in rows:
            number = int(row["_row"])
            pid, outcome, reason = row["person_id"], row["outcome"].lower(), row["reason"]

            def bad(column: str, rule: str, row: dict[str, str] = row, n: int = number) -> None:
                problems.append(Rejection(path.name, n, column, row.get(column) or None, rule))

            record = latest.get(pid)
            if pid not in cases:
                bad("person_id", "not a review case of this run")
            elif pid in seen:
                bad("person_id", f"the same person as row {seen[pid]}")
            elif record is not None and record.kind == "decide":
                bad("person_id", f"already decided {record.outcome}; reopen the case first")
            elif outcome not in ("eligible", "ineligible"):
                bad("outcome", "expected eligible or ineligible")
            elif not reason:
                bad("reason", "a decision needs its written reason")
            else:
                seen[pid] = row["_row"]
                records.append(
                    {
                        "run_id": run_id,
                        "person_id": pid,
                        "version": 1 if record is None else record.version + 1,
                        "kind": "decide",
                        "outcome": outcome,
                        "reason": reason,
                        "decided_by": actor,
                        "decided_at": now,
                    }
                )
        if problems:
            raise ImportRejected(problems, _refusal(path, problems))
        if not records:
            raise ImportRejected([Rejection(path.name, None, None, None, "no data rows")])
        conn.execute(review_decisions.insert(), records)
        tx.audit_many(
            [{"entity": ("review", f"{run_id}/{r['person_id']}"), "after": r} for r in records]
        )
    return Applied(path, len(records))


def _refusal(path: Path, problems: list[Rejection]) -> str:
    shown = "\n  ".join(str(p) for p in problems[:20])
    more = f"\n  (and {len(problems) - 20} more)" if len(problems) > 20 else ""
    return f"{path}: {len(problems)} row(s) refused, nothing recorded:\n  {shown}{more}"
