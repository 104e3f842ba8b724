"""The review queue: every ``review`` determination of a run, decided by a person.

A case's history is a sequence of records numbered 1, 2, 3... per (run, person):
a decision (eligible or ineligible, with a written reason) or a reopening.
Records are only ever added, never changed; the latest one is the case's state.

Two reviewers deciding the same case at once both read "open at version n" and
both try to write version n+1; the unique key (run, person, version) lets
exactly one in, and the other gets :class:`~amnesty.errors.Conflict` naming the
winner. Nothing half-written: the record and its audit event share one
transaction.

A decree that leaves its application to a body (``applied_by``) needs that body's
decision before an eligible person is released; the reviewer records it here as a
decision on the eligible person, which is accepted only when the body is re-derived from
the run's decree (docs/decrees.md, "Applied by a body").
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from amnesty.errors import Conflict, IllegalTransition
from amnesty.store.database import Database, as_database
from amnesty.store.engine import get_engine
from amnesty.store.tables import determinations, review_decisions, roster_entries, rosters
from amnesty.store.transaction import audit_refusal, transaction, utcnow
from amnesty.workflow.casefiles import (
    Determination,
    RunInfo,
    decree_for_run,
    determination,
    determinations_where,
    run_info,
)
from amnesty.workflow.recheck import engine_evaluator
from amnesty.workflow.users import Role, require

DECISIONS = ("eligible", "ineligible")


@dataclass(frozen=True)
class ReviewRecord:
    run_id: str
    person_id: str
    version: int
    kind: str  # decide | reopen
    outcome: str | None
    reason: str
    decided_by: str
    decided_at: dt.datetime

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ReviewCase:
    """One queued case and where it stands."""

    run_id: str
    person_id: str
    facility_id: str | None
    relief: str | None  # the best possible relief if decided eligible
    referred: tuple[str, ...]
    unknown: tuple[str, ...]  # clause ids
    state: str  # open | decided
    decision: ReviewRecord | None  # the latest record

    def as_row(self) -> dict[str, Any]:
        d = self.decision
        return {
            "person_id": self.person_id,
            "facility_id": self.facility_id,
            "relief": self.relief,
            "referred": list(self.referred),
            "unknown": list(self.unknown),
            "state": self.state,
            "decision": d.outcome if d and d.kind == "decide" else None,
            "by": d.decided_by if d else None,
            "at": d.decided_at.isoformat(timespec="seconds") if d else None,
            "reason": d.reason if d else None,
        }


def review_queue(url: Database, run_id: str, state: str | None = None) -> list[ReviewCase]:
    """The run's review cases with their latest record; ``state`` filters open/decided."""
    db = as_database(url)
    with get_engine(db).connect() as connection:
        run_info(connection, run_id)
        rows = (
            connection.execute(
                sa.select(determinations)
                .where(determinations.c.run_id == run_id, determinations.c.outcome == "review")
                .order_by(determinations.c.person_id)
            )
            .mappings()
            .all()
        )
        latest = latest_records(connection, run_id)
    cases = []
    for row in rows:
        record = latest.get(row["person_id"])
        case_state = "decided" if record and record.kind == "decide" else "open"
        unknown = tuple(
            u["clause"] if isinstance(u, dict) else str(u) for u in json.loads(row["unknown"])
        )
        case = ReviewCase(
            run_id=run_id,
            person_id=row["person_id"],
            facility_id=row["facility_id"],
            relief=row["relief"],
            referred=tuple(json.loads(row["referred"])),
            unknown=unknown,
            state=case_state,
            decision=record,
        )
        if state is None or state == case_state:
            cases.append(case)
    return cases


def latest_records(connection: Connection, run_id: str) -> dict[str, ReviewRecord]:
    """person_id -> the latest review record of each case of the run."""
    rows = (
        connection.execute(
            sa.select(review_decisions)
            .where(review_decisions.c.run_id == run_id)
            .order_by(review_decisions.c.person_id, review_decisions.c.version)
        )
        .mappings()
        .all()
    )
    return {row["person_id"]: _record(row) for row in rows}


def case_history(url: Database, run_id: str, person_id: str) -> list[ReviewRecord]:
    db = as_database(url)
    with get_engine(db).connect() as connection:
        return _history(connection, run_id, person_id)


def decide(
    url: Database,
    actor: str,
    run_id: str,
    person_id: str,
    outcome: str,
    reason: str,
) -> ReviewRecord:
    """A reviewer decides an open case eligible or ineligible, with a written reason: a
    review case, or an eligible person whose ground a body applies (its decision)."""
    entity = ("review", f"{run_id}/{person_id}")
    action = "review.decide"
    require(url, actor, Role.reviewer, action=action, entity=entity)
    if outcome not in DECISIONS:
        _refuse(
            url, actor, action, entity, f"decision {outcome!r}: expected eligible or ineligible"
        )
    if not reason.strip():
        _refuse(url, actor, action, entity, "a review decision needs a written reason (--reason)")
    return _append(url, actor, action, entity, run_id, person_id, "decide", outcome, reason)


def reopen(url: Database, actor: str, run_id: str, person_id: str, reason: str) -> ReviewRecord:
    """Reopen a decided case (a new record; the decision stays in the history)."""
    entity = ("review", f"{run_id}/{person_id}")
    action = "review.reopen"
    require(url, actor, Role.reviewer, action=action, entity=entity)
    if not reason.strip():
        _refuse(url, actor, action, entity, "reopening a review needs a written reason (--reason)")
    return _append(url, actor, action, entity, run_id, person_id, "reopen", None, reason)


def _append(
    url: Database,
    actor: str,
    action: str,
    entity: tuple[str, str],
    run_id: str,
    person_id: str,
    kind: str,
    outcome: str | None,
    reason: str,
) -> ReviewRecord:
    db = as_database(url)
    try:
        with transaction(db, actor, action=action, entity=entity) as tx:
            conn = tx.connection
            run = run_info(conn, run_id)
            # fetched whole (not .first()): on DuckDB a half-read result would keep the
            # engine's re-derivation below off this connection
            found = determinations_where(conn, run_id, determinations.c.person_id == person_id)
            case = found[0] if found else determination(conn, run_id, person_id)
            if case.outcome != "review" and _applying_body(conn, run, case) is None:
                raise IllegalTransition(
                    f"person {person_id} was decided {case.outcome} by run {run_id}; "
                    "only review cases, and eligible persons whose decree leaves the "
                    "application to a body (applied_by), are decided by a reviewer"
                )
            history = _history(conn, run_id, person_id)
            latest = history[-1] if history else None
            _check_transition(kind, latest, conn, run_id, person_id)
            record = ReviewRecord(
                run_id=run_id,
                person_id=person_id,
                version=(latest.version + 1) if latest else 1,
                kind=kind,
                outcome=outcome,
                reason=reason.strip(),
                decided_by=actor,
                decided_at=utcnow(),
            )
            conn.execute(review_decisions.insert().values(**record.as_dict()))
            tx.audit(before=latest.as_dict() if latest else None, after=record.as_dict())
            return record
    except sa.exc.IntegrityError as lost:
        # Another reviewer wrote the same version between our read and our insert.
        winner = case_history(db, run_id, person_id)[-1]
        message = _decided_by(winner)
        audit_refusal(db, actor, action, entity, message)
        raise Conflict(message) from lost


def _applying_body(conn: Connection, run: RunInfo, case: Determination) -> str | None:
    """The body that applies an eligible person's ground (``applied_by``, docs/decrees.md),
    re-derived from the run's stored decree on the registry as it is now; ``None`` when
    the person is not eligible or no body applies their ground. A reviewer records that
    body's decision, which the release re-check then requires (recheck.body_reasons)."""
    if case.outcome != "eligible":
        return None
    decree = decree_for_run(conn, run)
    if not decree.names_bodies:
        return None
    today = engine_evaluator(decree, run, [case.person_id], conn).get(case.person_id)
    return (today or {}).get("applied_by") or None


def _check_transition(
    kind: str, latest: ReviewRecord | None, conn: Connection, run_id: str, person_id: str
) -> None:
    if kind == "decide":
        if latest is not None and latest.kind == "decide":
            raise Conflict(_decided_by(latest))
        return
    if latest is None or latest.kind != "decide":
        raise IllegalTransition(f"review of {person_id} in run {run_id} is open; nothing to reopen")
    on_roster = conn.execute(
        sa.select(rosters.c.roster_id)
        .join(roster_entries, roster_entries.c.roster_id == rosters.c.roster_id)
        .where(
            rosters.c.run_id == run_id,
            rosters.c.status != "withdrawn",
            roster_entries.c.person_id == person_id,
        )
    ).first()
    if on_roster is not None:
        raise IllegalTransition(
            f"person {person_id} is on roster {on_roster[0]}; withdraw the roster "
            "(amnesty roster withdraw) before reopening the review"
        )


def _decided_by(record: ReviewRecord) -> str:
    at = record.decided_at.isoformat(timespec="seconds")
    return (
        f"review of {record.person_id} in run {record.run_id} already decided "
        f"{record.outcome} by {record.decided_by} at {at}; reopen it to decide again"
    )


def _refuse(url: Database, actor: str, action: str, entity: tuple[str, str], why: str) -> None:
    audit_refusal(url, actor, action, entity, why)
    raise IllegalTransition(why)


def _history(connection: Connection, run_id: str, person_id: str) -> list[ReviewRecord]:
    rows = (
        connection.execute(
            sa.select(review_decisions)
            .where(review_decisions.c.run_id == run_id, review_decisions.c.person_id == person_id)
            .order_by(review_decisions.c.version)
        )
        .mappings()
        .all()
    )
    return [_record(r) for r in rows]


def _record(row: sa.RowMapping) -> ReviewRecord:
    return ReviewRecord(
        run_id=row["run_id"],
        person_id=row["person_id"],
        version=row["version"],
        kind=row["kind"],
        outcome=row["outcome"],
        reason=row["reason"],
        decided_by=row["decided_by"],
        decided_at=row["decided_at"],
    )
