"""A whole roster at once: how ready it is (``roster check``), then its release in batches.

:func:`check_roster` reads only: who on the roster is released already, who is
ready, and what blocks the rest, counted by reason, so an officer sees before
any release that 3,900 pledges are still unsigned.

:func:`execute_roster` releases the ready persons ``batch_size`` at a time,
each batch one transaction (:func:`amnesty.workflow.execution.release_many`:
every release still with its own registry event, certificate number and audit
event). A kill between batches loses nothing and a kill inside one loses that
batch whole; the next call skips whoever is released and goes on. Two
processes on the same roster serialise on the release lock and the second
skips what the first released. When the roster has pending persons but none
is ready, it refuses up front (audited) and changes nothing.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from amnesty.errors import IllegalTransition
from amnesty.store.database import Database
from amnesty.store.tables import determinations, releases, roster_entries
from amnesty.workflow import recheck
from amnesty.workflow.casefiles import decree_for_run, determination_of, run_info
from amnesty.workflow.execution import (
    Candidate,
    release_entity,
    release_many,
    undertaking_stops,
    undertakings_of,
)
from amnesty.workflow.faults import fault_point
from amnesty.workflow.releases import check_window
from amnesty.workflow.review import latest_records
from amnesty.workflow.rosters import Roster, entries_of, find_roster
from amnesty.workflow.users import Role, require

# Releases per transaction: large enough that the engine's one re-evaluation per batch
# is cheap per person, small enough that a kill costs little to redo.
BATCH_SIZE = 1000

# (persons done so far, persons to do) after each committed batch
Progress = Callable[[int, int], None]


@dataclass
class Readiness:
    """Where a roster stands before a release (``amnesty roster check``)."""

    roster: Roster
    release_date: dt.date
    already: list[str] = field(default_factory=list)
    ready: list[str] = field(default_factory=list)
    blocked: dict[str, list[recheck.Stop]] = field(default_factory=dict)

    @property
    def by_reason(self) -> list[tuple[str, int]]:
        """(reason, persons) for the blocked persons, most frequent first."""
        counts = Counter(stop.kind for stops in self.blocked.values() for stop in stops)
        return sorted(counts.items(), key=lambda item: (-item[1], item[0]))

    def as_dict(self) -> dict[str, Any]:
        return {
            "roster_id": self.roster.roster_id,
            "status": self.roster.status,
            "release_date": self.release_date,
            "persons": len(self.already) + len(self.ready) + len(self.blocked),
            "already_released": len(self.already),
            "ready": len(self.ready),
            "blocked": len(self.blocked),
            "by_reason": [{"reason": r, "persons": n} for r, n in self.by_reason],
        }


@dataclass
class BatchReport:
    roster_id: int
    released: list[str] = field(default_factory=list)
    already: list[str] = field(default_factory=list)
    # persons the re-check inside a batch stopped: (person, reason); audited as refusals
    stopped: list[tuple[str, str]] = field(default_factory=list)
    # persons not attempted, because something they need is missing (roster check says what)
    waiting: dict[str, str] = field(default_factory=dict)


def check_roster(db: Database, roster_id: int, release_date: dt.date) -> Readiness:
    """Who on the roster is released, ready, or blocked (and why), on ``release_date``.

    Ready means: the run's determination allows it, every undertaking is signed by
    the date, the decision of the body that applies the person's ground is recorded
    (``applied_by``), and the registry still holds the person where the roster says.
    The engine re-evaluation happens at the release itself, inside its transaction.
    """
    with db.snapshot() as conn:
        return _readiness(conn, find_roster(conn, roster_id), release_date)


def execute_roster(
    url: Database,
    actor: str,
    roster_id: int,
    *,
    release_date: dt.date,
    override_reason: str | None = None,
    evaluator: recheck.Evaluator | None = recheck.engine_evaluator,
    progress: Progress | None = None,
    limit: int | None = None,
    batch_size: int = BATCH_SIZE,
) -> BatchReport:
    """Release everyone ready on an approved roster; resumes where an earlier call stopped.

    ``limit`` executes at most that many ready persons (a day's work). A refusal
    that concerns the whole roster (not approved, outside the window, no
    permission, nobody ready) stops it before any release.
    """
    db = Database.of(url)
    entity = ("roster", str(roster_id))
    action = "release.batch"
    with db.connect() as conn:
        roster = find_roster(conn, roster_id)
        run = run_info(conn, roster.run_id)
        decree = decree_for_run(conn, run)
    require(
        db, actor, Role.facility_officer, facility=roster.facility_id, action=action, entity=entity
    )
    if roster.status != "approved":
        _refuse(
            db,
            actor,
            action,
            entity,
            f"roster {roster_id} is {roster.status}; only an approved roster is executed",
        )
    try:
        check_window(decree, release_date, override_reason)
    except IllegalTransition as outside:
        _refuse(db, actor, action, entity, str(outside))
    # One snapshot: a release another process commits between the reads would
    # otherwise be "released by another run" to the registry re-check, though it
    # is this roster's own and counted as done.
    with db.snapshot() as conn:
        readiness = _readiness(conn, roster, release_date)
        reliefs = {e.person_id: e.relief for e in entries_of(conn, roster_id)}
    report = BatchReport(roster_id, already=list(readiness.already))
    report.waiting = {p: stops[0].text for p, stops in readiness.blocked.items()}
    if readiness.blocked and not readiness.ready:
        reasons = "; ".join(f"{n:,} {r}" for r, n in readiness.by_reason)
        _refuse(
            db,
            actor,
            action,
            entity,
            f"nobody on roster {roster_id} is ready to release on {release_date}: {reasons} "
            f"(amnesty roster check {roster_id} --date {release_date})",
        )
    ready = readiness.ready[:limit] if limit is not None else readiness.ready
    done = 0
    for start in range(0, len(ready), batch_size):
        chunk = [
            Candidate(p, roster_id, reliefs[p], roster.facility_id)
            for p in ready[start : start + batch_size]
        ]
        with db.transaction(actor, action="release.execute", entity=entity) as tx:
            outcome = release_many(
                tx,
                db,
                run,
                decree,
                chunk,
                release_date=release_date,
                override_reason=override_reason,
                evaluator=evaluator,
            )
            tx.audit_many(
                [
                    {
                        "entity": ("release", release_entity(run.run_id, pid)),
                        "outcome": "refused",
                        "reason": stop.text,
                    }
                    for pid, stop in outcome.stopped
                ]
            )
        fault_point("after_commit")
        report.released.extend(r.person_id for r in outcome.released)
        report.already.extend(r.person_id for r in outcome.already)
        report.stopped.extend((pid, stop.text) for pid, stop in outcome.stopped)
        done += len(chunk)
        if progress is not None:
            progress(done, len(ready))
    return report


def _readiness(conn: Connection, roster: Roster, day: dt.date) -> Readiness:
    run_id = roster.run_id
    people = [e.person_id for e in entries_of(conn, roster.roster_id)]
    readiness = Readiness(roster, day)
    released = set(
        conn.execute(sa.select(releases.c.person_id).where(releases.c.run_id == run_id)).scalars()
    )
    readiness.already = [p for p in people if p in released]
    pending = [p for p in people if p not in released]
    # The roster's persons only: a run holds the whole registry's determinations.
    on_roster = sa.and_(
        roster_entries.c.roster_id == roster.roster_id,
        roster_entries.c.person_id == determinations.c.person_id,
    )
    stored = {
        row["person_id"]: determination_of(row)
        for row in conn.execute(
            sa.select(determinations)
            .join(roster_entries, on_roster)
            .where(determinations.c.run_id == run_id)
        ).mappings()
    }
    decided = latest_records(conn, run_id)
    signed = undertakings_of(conn, run_id, pending) if pending else {}
    run = run_info(conn, run_id)
    decree = decree_for_run(conn, run)
    registry = recheck.registry_reasons_many(
        conn, run, dict.fromkeys(pending, roster.facility_id), day
    )
    for pid in pending:
        found = stored.get(pid)
        required = found.undertakings if found is not None else ()
        stops = undertaking_stops(pid, required, signed.get(pid, {}), day)
        record = decided.get(pid)
        if record is not None and record.kind == "reopen":
            stops.append(recheck.Stop("review reopened", f"the review of {pid} was reopened"))
        body = recheck.stored_body(decree, found) if found is not None else None
        for text in recheck.body_reasons({"applied_by": body}, record, pid):
            stops.append(recheck.Stop("body decision not recorded", text))
        stops.extend(registry[pid])
        if stops:
            readiness.blocked[pid] = stops
        else:
            readiness.ready.append(pid)
    return readiness


def _refuse(db: Database, actor: str, action: str, entity: tuple[str, str], why: str) -> None:
    db.audit_refusal(actor, action, entity, why)
    refused = IllegalTransition(why)
    refused.audited = True  # type: ignore[attr-defined]
    raise refused


def roster_people(db: Database, roster_id: int) -> list[dict[str, Any]]:
    """The roster's persons with their names, relief, undertakings and release state."""
    with db.connect() as conn:
        roster = find_roster(conn, roster_id)
        entries = entries_of(conn, roster_id)
        people = [e.person_id for e in entries]
        names = {
            r[0]: (r[1], r[2])
            for r in conn.execute(
                sa.text("SELECT person_id, name, name_romanised FROM persons")
            ).all()
        }
        required = dict(
            conn.execute(
                sa.select(determinations.c.person_id, determinations.c.undertakings).where(
                    determinations.c.run_id == roster.run_id
                )
            ).all()
        )
        signed = undertakings_of(conn, roster.run_id, people) if people else {}
        released = dict(
            conn.execute(
                sa.select(releases.c.person_id, releases.c.certificate_no).where(
                    releases.c.run_id == roster.run_id
                )
            ).all()
        )
    rows = []
    for e in entries:
        name, romanised = names.get(e.person_id, (None, None))
        state = signed.get(e.person_id, {})
        wanted = json.loads(required.get(e.person_id) or "[]")
        undertakings = ", ".join(
            f"{u} {state[u]['status'] if u in state else 'not recorded'}" for u in wanted
        )
        rows.append(
            {
                "person_id": e.person_id,
                "name": name,
                "name_romanised": romanised,
                "relief": e.relief,
                "undertakings": undertakings or "none required",
                "certificate_no": released.get(e.person_id),
            }
        )
    return rows
