"""Execution: undertakings, one person's release, revocations, and reading releases back.

The release itself (checks and writes) is :mod:`amnesty.workflow.execution`,
shared with whole-roster batches (:mod:`amnesty.workflow.batches`). A retry
finds the ``releases`` row and does nothing, so a crash and a restart never
release anyone twice.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from amnesty.decree.model import Decree
from amnesty.errors import ConfigError, IllegalTransition
from amnesty.store.database import Database, as_database
from amnesty.store.engine import get_engine
from amnesty.store.tables import (
    release_revocations,
    releases,
    roster_entries,
    rosters,
    undertaking_records,
)
from amnesty.store.transaction import audit_refusal, transaction, utcnow
from amnesty.workflow import recheck
from amnesty.workflow.casefiles import (
    decree_for_run,
    determination,
    require_signed,
    run_info,
)
from amnesty.workflow.execution import (
    Candidate,
    Release,
    existing_releases,
    insert_events,
    release_entity,
    release_many,
    release_of,
)
from amnesty.workflow.faults import fault_point
from amnesty.workflow.users import Role, require


@dataclass(frozen=True)
class ReleaseResult:
    release: Release
    already: bool  # true when this call found the release done and changed nothing


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
    with db.transaction(actor, action=action, entity=entity) as tx:
        conn = tx.connection
        done = existing_releases(conn, run_id, [person_id])
        if person_id in done:
            return ReleaseResult(done[person_id], already=True)
        run = run_info(conn, run_id)
        require_signed(run, "release")
        roster_id, relief = _approved_entry(conn, run_id, person_id)
        decree = decree_for_run(conn, run)
        check_window(decree, release_date, override_reason)
        outcome = release_many(
            tx,
            db,
            run,
            decree,
            [Candidate(person_id, roster_id, relief, facility)],
            release_date=release_date,
            override_reason=override_reason,
            new_end_date=new_end_date,
            evaluator=evaluator,
        )
        if outcome.stopped:
            _pid, stop = outcome.stopped[0]
            text = stop.text
            if not text.startswith("release of"):
                text = f"release of {person_id} stopped: {text}"
            raise IllegalTransition(text)
        if outcome.already:
            return ReleaseResult(outcome.already[0], already=True)
        release = outcome.released[0]
    fault_point("after_commit")
    return ReleaseResult(release, already=False)


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
        event = {
            "event_id": f"{run_id}:{person_id}:return",
            "person_id": person_id,
            "event_type": "return",
            "event_date": return_date,
            "facility_id": release.facility_id,
            "decree_id": run.decree_id,
            "run_id": run_id,
            "note": f"release revoked: {reason.strip()}",
        }
        insert_events(as_database(url), conn, [event], f"return run {run_id} person {person_id}")
        # returned_on: the return event's date, so that audit verify replays it
        tx.audit(
            before=release.as_dict(),
            after={**release.as_dict(), "revocation": row, "returned_on": return_date},
        )
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
        return [release_of(r) for r in conn.execute(query).mappings().all()]


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


def check_window(decree: Decree, day: dt.date, override_reason: str | None) -> None:
    window = decree.execution_window
    if window is None or window[0] <= day <= window[1]:
        return
    if override_reason and override_reason.strip():
        return
    of = (
        f"decree {decree.id}'s"
        if decree.part_id is None
        else (f"part {decree.part_id} of decree {decree.id}:")
    )
    raise IllegalTransition(
        f"release date {day} is outside {of} execution window "
        f"{window[0]} to {window[1]}; give --override-reason to release outside it"
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
    return None if row is None else release_of(row)


def _refuse(url: Database, actor: str, action: str, entity: tuple[str, str], why: str) -> None:
    audit_refusal(url, actor, action, entity, why)
    raise IllegalTransition(why)
