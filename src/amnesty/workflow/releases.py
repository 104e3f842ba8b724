"""Execution: undertakings, then the release, each with its audit event.

A release is one transaction holding four writes and nothing else: the
registry event (release, temporary_release or commutation; the next decree
sees it), the ``releases`` row, the certificate number, and the audit event.
It either lands whole or not at all, and a retry finds the ``releases`` row
and does nothing (the unique key (run, person) and a deterministic event id
back this up), so a crash and a restart never release anyone twice.

Certificate numbers are ``DECREE/000001``, gap-free per decree: the number is
the count of the decree's releases plus one, taken under a per-decree lock
(PostgreSQL advisory lock; DuckDB has a single writer) and backed by a unique
key. Releases are never deleted (a revocation is a record of its own), so the
count only grows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from amnesty.decree.model import Decree
from amnesty.errors import ConfigError, IllegalTransition
from amnesty.registry.snapshot import advance_snapshot
from amnesty.store.database import Database, as_database
from amnesty.store.engine import get_engine
from amnesty.store.tables import (
    certificates,
    release_revocations,
    releases,
    roster_entries,
    rosters,
    runs,
    undertaking_records,
)
from amnesty.store.transaction import audit_refusal, transaction, utcnow
from amnesty.workflow import recheck
from amnesty.workflow.casefiles import (
    RunInfo,
    decree_for_run,
    determination,
    require_signed,
    run_info,
)
from amnesty.workflow.certificates import certificate_number
from amnesty.workflow.faults import fault_point
from amnesty.workflow.rosters import entries_of, find_roster
from amnesty.workflow.users import Role, require

EVENT_TYPES = {
    "release": "release",
    "conditional_release": "release",
    "temporary_release": "temporary_release",
    "commutation": "commutation",
}


@dataclass(frozen=True)
class Release:
    release_id: int
    run_id: str
    person_id: str
    roster_id: int
    facility_id: str
    relief: str
    release_date: dt.date
    return_date: dt.date | None
    override_reason: str | None
    certificate_no: str | None
    executed_by: str
    executed_at: dt.datetime

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ReleaseResult:
    release: Release
    already: bool  # true when this call found the release done and changed nothing


@dataclass
class BatchReport:
    roster_id: int
    released: list[str] = field(default_factory=list)
    already: list[str] = field(default_factory=list)
    stopped: list[tuple[str, str]] = field(default_factory=list)  # (person, reason)


def release_entity(run_id: str, person_id: str) -> str:
    """The audit entity id of a release, ``RUN_ID:PERSON_ID``, as ``audit verify`` reads it."""
    return f"{run_id}:{person_id}"


# --- undertakings ---


def record_undertaking(
    url: Database,
    actor: str,
    run_id: str,
    person_id: str,
    undertaking_id: str,
    *,
    signed_on: dt.date | None = None,
    witness: str | None = None,
    refused: bool = False,
) -> dict[str, Any]:
    """Record one undertaking as signed (date and witness) or refused; never edited."""
    action = "release.undertake"
    entity = ("undertaking", f"{run_id}/{person_id}/{undertaking_id}")
    facility = _facility_for_scope(url, run_id, person_id)
    require(url, actor, Role.facility_officer, facility=facility, action=action, entity=entity)
    if not refused and (signed_on is None or not (witness or "").strip()):
        why = "a signed undertaking needs --signed-on DATE and --witness NAME (or --refused)"
        audit_refusal(url, actor, action, entity, why)
        raise IllegalTransition(why)
    with transaction(url, actor, action=action, entity=entity) as tx:
        conn = tx.connection
        require_signed(run_info(conn, run_id), "record undertaking")
        _approved_entry(conn, run_id, person_id)
        required = determination(conn, run_id, person_id).undertakings
        if undertaking_id not in required:
            listed = ", ".join(required) or "none"
            raise IllegalTransition(
                f"undertaking {undertaking_id!r} is not required of {person_id} "
                f"(required: {listed})"
            )
        row = {
            "run_id": run_id,
            "person_id": person_id,
            "undertaking_id": undertaking_id,
            "status": "refused" if refused else "signed",
            "signed_on": None if refused else signed_on,
            "witness": None if refused else (witness or "").strip(),
            "recorded_by": actor,
            "recorded_at": utcnow(),
        }
        conn.execute(undertaking_records.insert().values(**row))
        tx.audit(after=row)
        return row


def undertaking_state(conn: Connection, run_id: str, person_id: str) -> dict[str, dict[str, Any]]:
    """undertaking id -> its latest record (a later signature follows a refusal)."""
    rows = (
        conn.execute(
            sa.select(undertaking_records)
            .where(
                undertaking_records.c.run_id == run_id,
                undertaking_records.c.person_id == person_id,
            )
            .order_by(undertaking_records.c.record_id)
        )
        .mappings()
        .all()
    )
    return {r["undertaking_id"]: dict(r) for r in rows}


# --- releases ---


def execute_release(
    url: Database,
    actor: str,
    run_id: str,
    person_id: str,
    *,
    release_date: dt.date,
    override_reason: str | None = None,
    new_end_date: dt.date | None = None,
    evaluator: recheck.Evaluator | None = recheck.engine_evaluator,
) -> ReleaseResult:
    """Release one person of an approved roster, after re-checking them on today's registry.

    ``evaluator=None`` skips the engine re-evaluation (the registry checks still run).
    """
    action = "release.execute"
    entity = ("release", release_entity(run_id, person_id))
    db = as_database(url)
    facility = _facility_for_scope(db, run_id, person_id)
    require(db, actor, Role.facility_officer, facility=facility, action=action, entity=entity)
    with transaction(db, actor, action=action, entity=entity) as tx:
        conn = tx.connection
        done = _existing(conn, run_id, person_id)
        if done is not None:
            return ReleaseResult(done, already=True)
        run = run_info(conn, run_id)
        require_signed(run, "release")
        roster_id, relief = _approved_entry(conn, run_id, person_id)
        decree = decree_for_run(conn, run)
        _check_window(decree, release_date, override_reason)
        _check_undertakings(conn, run_id, person_id, release_date)
        stored = determination(conn, run_id, person_id)
        reasons = recheck.registry_reasons(conn, run, person_id, facility, release_date)
        if not reasons and evaluator is not None:
            today = evaluator(decree, run, person_id, conn)
            reasons = recheck.outcome_reasons(stored, today, person_id)
        if reasons:
            raise IllegalTransition(f"release of {person_id} stopped: " + "; ".join(reasons))
        return_date, new_end, new_kind = _sentence_change(
            decree, stored.grounds, relief, new_end_date
        )
        number = _next_certificate_number(conn, db, run)
        _insert_registry_event(
            conn, run, person_id, facility, relief, release_date, new_end, new_kind
        )
        fault_point("after_event_insert")
        release_id = conn.execute(
            sa.select(sa.Sequence("releases_id_seq").next_value())
        ).scalar_one()
        now = utcnow()
        row: dict[str, Any] = {
            "release_id": release_id,
            "run_id": run_id,
            "person_id": person_id,
            "roster_id": roster_id,
            "facility_id": facility,
            "relief": relief,
            "release_date": release_date,
            "return_date": return_date,
            "override_reason": (override_reason or "").strip() or None,
            "certificate_no": number,
            "executed_by": actor,
            "executed_at": now,
        }
        conn.execute(releases.insert().values(**row))
        fault_point("after_release_insert")
        conn.execute(
            certificates.insert().values(
                certificate_no=number, release_id=release_id, issued_by=actor, issued_at=now
            )
        )
        tx.audit(after={**row, "new_end_date": new_end})
        fault_point("before_commit")
    fault_point("after_commit")
    return ReleaseResult(Release(**row), already=False)


def execute_roster(
    url: Database,
    actor: str,
    roster_id: int,
    *,
    release_date: dt.date,
    override_reason: str | None = None,
    evaluator: recheck.Evaluator | None = recheck.engine_evaluator,
    progress: Callable[[str, str], None] | None = None,
    limit: int | None = None,
) -> BatchReport:
    """Release everyone on an approved roster; resumes where an earlier attempt stopped.

    ``limit`` executes at most that many pending persons (a day's work); the
    rest stay pending for the next call. A person whose release is stopped
    (re-check, missing undertaking) is reported and the batch goes on; a refusal
    that concerns the whole roster (not approved, outside the window, no
    permission) stops it at once.
    """
    db = as_database(url)
    with get_engine(db).connect() as conn:
        roster = find_roster(conn, roster_id)
        people = [e.person_id for e in entries_of(conn, roster_id)]
        done = set(
            conn.execute(
                sa.select(releases.c.person_id).where(releases.c.run_id == roster.run_id)
            ).scalars()
        )
        decree = decree_for_run(conn, run_info(conn, roster.run_id))
    entity = ("roster", str(roster_id))
    require(
        db,
        actor,
        Role.facility_officer,
        facility=roster.facility_id,
        action="release.batch",
        entity=entity,
    )
    if roster.status != "approved":
        _refuse(
            db,
            actor,
            "release.batch",
            entity,
            f"roster {roster_id} is {roster.status}; only an approved roster is executed",
        )
    try:
        _check_window(decree, release_date, override_reason)
    except IllegalTransition as outside:
        _refuse(db, actor, "release.batch", entity, str(outside))
    report = BatchReport(roster_id)
    pending = [p for p in people if p not in done]
    if limit is not None:
        # a day's share of a long roster: the next call resumes with the rest
        pending = pending[:limit]
        people = [p for p in people if p in done or p in set(pending)]
    if evaluator is recheck.engine_evaluator and pending:
        # one engine pass for the roster instead of one per person (see BatchEvaluator)
        with get_engine(db).connect() as conn:
            run = run_info(conn, roster.run_id)
        evaluator = recheck.BatchEvaluator.prepare(get_engine(db), decree, run, pending)
    for person_id in people:
        if person_id in done:
            report.already.append(person_id)
            continue
        try:
            result = execute_release(
                db,
                actor,
                roster.run_id,
                person_id,
                release_date=release_date,
                override_reason=override_reason,
                evaluator=evaluator,
            )
        except IllegalTransition as stopped:
            report.stopped.append((person_id, str(stopped)))
            if progress:
                progress(person_id, "stopped")
            continue
        (report.already if result.already else report.released).append(person_id)
        if progress:
            progress(person_id, "already" if result.already else "released")
    return report


def revoke_release(
    url: Database,
    actor: str,
    run_id: str,
    person_id: str,
    *,
    reason: str,
    return_date: dt.date,
) -> dict[str, Any]:
    """Undo a release made in error: a revocation record and a ``return`` event."""
    action = "release.revoke"
    entity = ("release", release_entity(run_id, person_id))
    require(url, actor, (Role.approver, Role.admin), action=action, entity=entity)
    if not reason.strip():
        _refuse(url, actor, action, entity, "revoking a release needs a written reason (--reason)")
    with transaction(url, actor, action=action, entity=entity) as tx:
        conn = tx.connection
        release = _existing(conn, run_id, person_id)
        if release is None:
            raise IllegalTransition(f"person {person_id} was not released by run {run_id}")
        revoked = conn.execute(
            sa.select(release_revocations).where(
                release_revocations.c.release_id == release.release_id
            )
        ).first()
        if revoked is not None:
            raise IllegalTransition(
                f"release {release.release_id} of {person_id} is already revoked"
            )
        run = run_info(conn, run_id)
        row = {
            "release_id": release.release_id,
            "reason": reason.strip(),
            "revoked_by": actor,
            "revoked_at": utcnow(),
        }
        conn.execute(release_revocations.insert().values(**row))
        _insert_event(
            conn,
            event_id=f"{run_id}:{person_id}:return",
            person_id=person_id,
            event_type="return",
            event_date=return_date,
            facility_id=release.facility_id,
            decree_id=run.decree_id,
            run_id=run_id,
            note=f"release revoked: {reason.strip()}",
        )
        tx.audit(before=release.as_dict(), after={**release.as_dict(), "revocation": row})
        return row


def get_release(url: Database, run_id: str, person_id: str) -> Release | None:
    db = as_database(url)
    with get_engine(db).connect() as conn:
        return _existing(conn, run_id, person_id)


def list_releases(
    url: Database, run_id: str | None = None, facility_id: str | None = None
) -> list[Release]:
    db = as_database(url)
    query = sa.select(releases).order_by(releases.c.release_id)
    if run_id:
        query = query.where(releases.c.run_id == run_id)
    if facility_id:
        query = query.where(releases.c.facility_id == facility_id)
    with get_engine(db).connect() as conn:
        return [_release(r) for r in conn.execute(query).mappings().all()]


# --- the parts ---


def _facility_for_scope(url: Database, run_id: str, person_id: str) -> str:
    """The facility whose officers act for this person in this run (their roster's)."""
    db = as_database(url)
    with get_engine(db).connect() as conn:
        row = conn.execute(
            sa.select(rosters.c.facility_id)
            .join(roster_entries, roster_entries.c.roster_id == rosters.c.roster_id)
            .where(rosters.c.run_id == run_id, roster_entries.c.person_id == person_id)
            .order_by(rosters.c.generation.desc())
        ).first()
        if row is not None:
            return str(row[0])
        facility = determination(conn, run_id, person_id).facility_id
    if facility is None:
        raise ConfigError(f"run {run_id}: person {person_id} has no facility")
    return facility


def _approved_entry(conn: Connection, run_id: str, person_id: str) -> tuple[int, str]:
    rows = conn.execute(
        sa.select(rosters.c.roster_id, rosters.c.status, roster_entries.c.relief)
        .join(roster_entries, roster_entries.c.roster_id == rosters.c.roster_id)
        .where(rosters.c.run_id == run_id, roster_entries.c.person_id == person_id)
        .order_by(rosters.c.generation.desc())
    ).all()
    for roster_id, status, relief in rows:
        if status == "approved":
            return int(roster_id), str(relief)
    if rows:
        roster_id, status, _ = rows[0]
        raise IllegalTransition(
            f"person {person_id} is on roster {roster_id}, which is {status}, not approved; "
            "an approver must approve it first"
        )
    raise IllegalTransition(f"person {person_id} is on no roster of run {run_id}")


def _check_window(decree: Decree, day: dt.date, override_reason: str | None) -> None:
    window = decree.execution_window
    if window is None or window[0] <= day <= window[1]:
        return
    if override_reason and override_reason.strip():
        return
    raise IllegalTransition(
        f"release date {day} is outside decree {decree.id}'s execution window "
        f"{window[0]} to {window[1]}; give --override-reason to release outside it"
    )


def _check_undertakings(conn: Connection, run_id: str, person_id: str, day: dt.date) -> None:
    required = determination(conn, run_id, person_id).undertakings
    state = undertaking_state(conn, run_id, person_id)
    for undertaking_id in required:
        record = state.get(undertaking_id)
        if record is None:
            raise IllegalTransition(
                f"release of {person_id} stopped: undertaking {undertaking_id} not yet recorded "
                "(amnesty release undertake)"
            )
        if record["status"] == "refused":
            raise IllegalTransition(
                f"release of {person_id} stopped: undertaking {undertaking_id} was refused; "
                "the person stays in custody unless they sign it later"
            )
        if record["signed_on"] is not None and record["signed_on"] > day:
            raise IllegalTransition(
                f"release of {person_id} stopped: undertaking {undertaking_id} is signed on "
                f"{record['signed_on']}, after the release date {day}"
            )


def _sentence_change(
    decree: Decree, grounds: tuple[str, ...], relief: str, new_end_date: dt.date | None
) -> tuple[dt.date | None, dt.date | None, str | None]:
    """(return date, new end date, new sentence kind) for temporary releases and commutations."""
    clauses = [c for c in decree.clauses if c.id in grounds and c.relief == relief]
    if relief == "temporary_release":
        until = new_end_date or next((c.until for c in clauses if c.until), None)
        if until is None:
            raise IllegalTransition("a temporary release needs a return date (--new-end-date)")
        return until, until, None
    if relief == "commutation":
        terms = next((c.commutation for c in clauses if c.commutation), None)
        kind = "life" if terms is not None and terms.death_to_life else None
        if new_end_date is None and kind is None:
            raise IllegalTransition(
                "a commutation needs the new sentence end (--new-end-date) unless the decree "
                "commutes death to life"
            )
        return None, new_end_date, kind
    return None, None, None


def _next_certificate_number(conn: Connection, db: Database, run: RunInfo) -> str:
    db.lock(conn, "certificates:" + run.decree_id)
    issued = conn.execute(
        sa.select(sa.func.count())
        .select_from(releases)
        .join(runs, runs.c.run_id == releases.c.run_id)
        .where(runs.c.decree_id == run.decree_id)
    ).scalar_one()
    return certificate_number(run.decree_id, int(issued) + 1)


def _insert_registry_event(
    conn: Connection,
    run: RunInfo,
    person_id: str,
    facility_id: str,
    relief: str,
    day: dt.date,
    new_end: dt.date | None,
    new_kind: str | None,
) -> None:
    event_type = EVENT_TYPES[relief]
    _insert_event(
        conn,
        event_id=f"{run.run_id}:{person_id}:{event_type}",
        person_id=person_id,
        event_type=event_type,
        event_date=day,
        facility_id=facility_id,
        decree_id=run.decree_id,
        run_id=run.run_id,
        new_sentence_kind=new_kind,
        new_end_date=new_end,
        note=None if relief != "conditional_release" else "conditional release",
    )


def _insert_event(conn: Connection, **values: Any) -> None:
    """Append one registry ``events`` row and advance the registry snapshot past it.

    Both happen on ``conn``, inside the caller's transaction: the row and the
    derived snapshot that names it commit or roll back together, so the next
    run records a snapshot hash that covers this event and a re-import of an
    older extract is refused instead of silently dropping it.
    """
    columns = (
        "event_id", "person_id", "event_type", "event_date", "facility_id", "country",
        "decree_id", "run_id", "new_sentence_kind", "new_end_date", "note",
    )  # fmt: skip
    params = {c: values.get(c) for c in columns}
    conn.execute(
        sa.text(
            f"INSERT INTO events ({', '.join(columns)}) "
            f"VALUES ({', '.join(':' + c for c in columns)})"
        ),
        params,
    )
    advance_snapshot(
        conn,
        table="events",
        rows=[params],
        source=f"{params['event_type']} run {params['run_id']} person {params['person_id']}",
    )


def _existing(conn: Connection, run_id: str, person_id: str) -> Release | None:
    row = (
        conn.execute(
            sa.select(releases).where(
                releases.c.run_id == run_id, releases.c.person_id == person_id
            )
        )
        .mappings()
        .first()
    )
    return None if row is None else _release(row)


def _release(row: sa.RowMapping) -> Release:
    return Release(**{k: row[k] for k in Release.__dataclass_fields__})


def _refuse(url: Database, actor: str, action: str, entity: tuple[str, str], why: str) -> None:
    audit_refusal(url, actor, action, entity, why)
    raise IllegalTransition(why)
