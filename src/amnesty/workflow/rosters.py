"""Facility rosters: who a run frees in one facility, prepared by one user and
approved by another (four eyes).

A roster lists the run's eligible persons of the facility plus the review
cases decided eligible, at the moment it is prepared. It is ``prepared``, then
``approved``; it can be ``withdrawn`` (with a reason) until someone on it is
released. A withdrawn roster stays in the store; preparing again makes a new
generation. Only runs of a signed decree lead to rosters.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import asdict, dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from amnesty.errors import ConfigError, IllegalTransition
from amnesty.store.database import Database, as_database
from amnesty.store.engine import get_engine
from amnesty.store.tables import (
    audit_events,
    determinations,
    release_revocations,
    releases,
    roster_entries,
    rosters,
)
from amnesty.store.transaction import audit_refusal, transaction, utcnow
from amnesty.workflow.casefiles import require_signed, run_info
from amnesty.workflow.duties import check_may_approve
from amnesty.workflow.review import latest_records
from amnesty.workflow.users import Role, require

PREPARERS = (Role.facility_officer, Role.approver)
ACTIVE = ("prepared", "approved")


@dataclass(frozen=True)
class Roster:
    roster_id: int
    run_id: str
    facility_id: str
    generation: int
    status: str  # prepared | approved | withdrawn
    prepared_by: str
    prepared_at: dt.datetime
    approved_by: str | None
    approved_at: dt.datetime | None
    withdrawn_by: str | None
    withdrawn_at: dt.datetime | None
    withdraw_reason: str | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class RosterEntry:
    person_id: str
    relief: str


def entries_digest(entries: list[RosterEntry]) -> str:
    """A digest of the entries, carried by the roster's audit event."""
    text = "".join(
        f"{e.person_id}\t{e.relief}\n" for e in sorted(entries, key=lambda e: e.person_id)
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def prepare_roster(url: Database, actor: str, run_id: str, facility_id: str) -> Roster:
    """Collect the facility's eligible persons of the run into a new prepared roster."""
    entity = ("roster", f"{run_id}/{facility_id}")
    action = "roster.prepare"
    require(url, actor, PREPARERS, facility=facility_id, action=action, entity=entity)
    with transaction(url, actor, action=action, entity=entity) as tx:
        conn = tx.connection
        run = run_info(conn, run_id)
        require_signed(run, "prepare roster")
        known = conn.execute(
            sa.text("SELECT 1 FROM facilities WHERE facility_id = :f"), {"f": facility_id}
        ).first()
        if known is None:
            raise IllegalTransition(
                f"unknown facility {facility_id!r}: the registry has no such facility "
                "(amnesty registry show lists them by type; facility ids are in facilities)"
            )
        active = conn.execute(
            sa.select(rosters.c.roster_id, rosters.c.status).where(
                rosters.c.run_id == run_id,
                rosters.c.facility_id == facility_id,
                rosters.c.status.in_(ACTIVE),
            )
        ).first()
        if active is not None:
            raise IllegalTransition(
                f"facility {facility_id} already has roster {active[0]} ({active[1]}) for run "
                f"{run_id}; withdraw it first (amnesty roster withdraw {active[0]})"
            )
        entries = _eligible_entries(conn, run_id, facility_id)
        if not entries:
            raise IllegalTransition(
                f"run {run_id} frees no one (yet) at facility {facility_id}: no eligible person "
                "and no review case decided eligible who is not already released"
            )
        generation = 1 + (
            conn.execute(
                sa.select(sa.func.max(rosters.c.generation)).where(
                    rosters.c.run_id == run_id, rosters.c.facility_id == facility_id
                )
            ).scalar()
            or 0
        )
        roster_id = conn.execute(sa.select(sa.Sequence("rosters_id_seq").next_value())).scalar_one()
        conn.execute(
            rosters.insert().values(
                roster_id=roster_id,
                run_id=run_id,
                facility_id=facility_id,
                generation=generation,
                status="prepared",
                prepared_by=actor,
                prepared_at=utcnow(),
            )
        )
        conn.execute(
            roster_entries.insert(),
            [
                {"roster_id": roster_id, "person_id": e.person_id, "relief": e.relief}
                for e in entries
            ],
        )
        roster = _find(conn, roster_id)
        tx.audit(
            entity=("roster", str(roster_id)),
            after={**roster.as_dict(), "entries": len(entries), "digest": entries_digest(entries)},
        )
        return roster


def approve_roster(url: Database, actor: str, roster_id: int) -> Roster:
    """An approver with no hand in the roster approves it (:mod:`.duties`)."""
    entity = ("roster", str(roster_id))
    action = "roster.approve"
    require(url, actor, Role.approver, action=action, entity=entity)
    with transaction(url, actor, action=action, entity=entity) as tx:
        conn = tx.connection
        before = _find(conn, roster_id)
        require_signed(run_info(conn, before.run_id), "approve roster")
        if before.status != "prepared":
            raise IllegalTransition(
                f"roster {roster_id} is {before.status}; only a prepared roster is approved"
            )
        check_may_approve(conn, actor, roster_id, before.run_id, before.prepared_by)
        changed = conn.execute(
            rosters.update()
            .where(rosters.c.roster_id == roster_id, rosters.c.status == "prepared")
            .values(status="approved", approved_by=actor, approved_at=utcnow())
        ).rowcount
        if changed != 1:
            raise IllegalTransition(f"roster {roster_id} changed while approving; look again")
        after = _find(conn, roster_id)
        entries = entries_of(conn, roster_id)  # what the approver approved, pinned in the chain
        digest = {"entries": len(entries), "digest": entries_digest(entries)}
        tx.audit(before=before.as_dict(), after={**after.as_dict(), **digest})
        return after


def approved_digest(conn: Connection, roster_id: int) -> str | None:
    """The entries' digest the roster's approval event recorded (None: not approved)."""
    found = conn.execute(
        sa.select(audit_events.c.after)
        .where(
            audit_events.c.entity_kind == "roster",
            audit_events.c.entity_id == str(roster_id),
            audit_events.c.action == "roster.approve",
            audit_events.c.outcome == "ok",
        )
        .order_by(audit_events.c.seq.desc())
        .limit(1)
    ).scalar_one_or_none()
    digest = json.loads(found).get("digest") if found else None
    return str(digest) if digest is not None else None


def withdraw_roster(url: Database, actor: str, roster_id: int, reason: str) -> Roster:
    """Withdraw a prepared or approved roster from which no one has been released."""
    entity = ("roster", str(roster_id))
    action = "roster.withdraw"
    require(url, actor, (Role.approver, Role.admin), action=action, entity=entity)
    if not reason.strip():
        why = "withdrawing a roster needs a written reason (--reason)"
        audit_refusal(url, actor, action, entity, why)
        raise IllegalTransition(why)
    with transaction(url, actor, action=action, entity=entity) as tx:
        conn = tx.connection
        before = _find(conn, roster_id)
        if before.status not in ACTIVE:
            raise IllegalTransition(f"roster {roster_id} is already {before.status}")
        released = conn.execute(
            sa.select(sa.func.count())
            .select_from(releases)
            .outerjoin(
                release_revocations, release_revocations.c.release_id == releases.c.release_id
            )
            .where(releases.c.roster_id == roster_id, release_revocations.c.release_id.is_(None))
        ).scalar_one()
        if released:
            raise IllegalTransition(
                f"roster {roster_id} has been executed for {released} person(s); revoke those "
                "releases (amnesty release revoke) before withdrawing it"
            )
        conn.execute(
            rosters.update()
            .where(rosters.c.roster_id == roster_id)
            .values(
                status="withdrawn",
                withdrawn_by=actor,
                withdrawn_at=utcnow(),
                withdraw_reason=reason.strip(),
            )
        )
        after = _find(conn, roster_id)
        tx.audit(before=before.as_dict(), after=after.as_dict())
        return after


def get_roster(url: Database, roster_id: int) -> tuple[Roster, list[RosterEntry]]:
    db = as_database(url)
    with get_engine(db).connect() as conn:
        return _find(conn, roster_id), entries_of(conn, roster_id)


def list_rosters(
    url: Database, run_id: str | None = None, facility_id: str | None = None
) -> list[Roster]:
    db = as_database(url)
    query = sa.select(rosters).order_by(
        rosters.c.run_id, rosters.c.facility_id, rosters.c.generation
    )
    if run_id:
        query = query.where(rosters.c.run_id == run_id)
    if facility_id:
        query = query.where(rosters.c.facility_id == facility_id)
    with get_engine(db).connect() as conn:
        return [_roster(r) for r in conn.execute(query).mappings().all()]


def entries_of(conn: Connection, roster_id: int) -> list[RosterEntry]:
    rows = conn.execute(
        sa.select(roster_entries.c.person_id, roster_entries.c.relief)
        .where(roster_entries.c.roster_id == roster_id)
        .order_by(roster_entries.c.person_id)
    ).all()
    return [RosterEntry(r[0], r[1]) for r in rows]


def find_roster(conn: Connection, roster_id: int) -> Roster:
    return _find(conn, roster_id)


def _eligible_entries(conn: Connection, run_id: str, facility_id: str) -> list[RosterEntry]:
    rows = conn.execute(
        sa.select(
            determinations.c.person_id, determinations.c.outcome, determinations.c.relief
        ).where(
            determinations.c.run_id == run_id,
            determinations.c.facility_id == facility_id,
            determinations.c.outcome.in_(("eligible", "review")),
        )
    ).all()
    decided = latest_records(conn, run_id)
    already = set(
        conn.execute(sa.select(releases.c.person_id).where(releases.c.run_id == run_id)).scalars()
    )
    entries = []
    for person_id, outcome, relief in rows:
        if person_id in already:
            continue
        if outcome == "review":
            record = decided.get(person_id)
            if record is None or record.kind != "decide" or record.outcome != "eligible":
                continue
        entries.append(RosterEntry(person_id, relief or "release"))
    return sorted(entries, key=lambda e: e.person_id)


def _find(conn: Connection, roster_id: int) -> Roster:
    row = (
        conn.execute(sa.select(rosters).where(rosters.c.roster_id == roster_id)).mappings().first()
    )
    if row is None:
        raise ConfigError(f"no roster {roster_id}; amnesty roster show --run RUN lists them")
    return _roster(row)


def _roster(row: sa.RowMapping) -> Roster:
    return Roster(**{k: row[k] for k in Roster.__dataclass_fields__})


def summary(roster: Roster, entries: list[RosterEntry]) -> dict[str, Any]:
    return {**roster.as_dict(), "entries": [e.person_id for e in entries]}
