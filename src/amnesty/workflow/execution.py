"""The release itself, for one person or a batch of them, inside one transaction.

:func:`release_many` is the only code that writes a release. Each release is
four writes and its audit event: the registry event (release,
temporary_release or commutation; the next decree sees it), the ``releases``
row, the certificate row with its number, and one audit event per person.
A batch of persons shares one transaction, so a crash leaves either the whole
batch or none of it, and a retry finds the ``releases`` rows and skips them.

Before writing, and inside the same transaction and lock, every person is
checked again from what the *run* stored (never from the roster row):

- the run's determination is eligible, or review and decided eligible;
- the decree is still signed, at the hash the run evaluated;
- the roster's entries are still those whose digest its approval recorded;
- the relief on the roster is the relief the run decided;
- every undertaking the run requires is signed, on or before the release date;
- the registry still holds them where the roster says (:mod:`.recheck`);
- re-evaluated with the decree on the registry as it is now, the same outcome,
  relief and grounds (``evaluator``).

- no release of the person stands in their current custody episode (the
  event that began the custody they are in now), from this run or any other.

Two keys back this up in the database itself: one release per (run, person),
and one per (person, custody episode) (revision 0002). The last check above
reads what that key guards, so a second release in one episode is a stop (an
audited refusal naming the earlier release), never a driver error half-way
through a transaction. For the check to see every other release, all releases
serialise on one named lock (``releases``), whatever their decree: two runs of
different decrees freeing the same person at the same instant would otherwise
both find no release and collide on the key. Certificate numbers are
``DECREE/000001``, gap-free per decree: the count of the decree's releases plus
one, taken under the same lock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from amnesty.compile.interpreter import shift_months
from amnesty.compile.relief_dates import commuted_end, sentence_end
from amnesty.decree.model import Decree
from amnesty.errors import IllegalTransition
from amnesty.registry.schema import CUSTODY_IN
from amnesty.registry.snapshot import advance_snapshot
from amnesty.store.database import Database
from amnesty.store.tables import (
    determinations,
    releases,
    rosters,
    runs,
    undertaking_records,
)
from amnesty.store.transaction import Transaction, utcnow
from amnesty.workflow import recheck
from amnesty.workflow.casefiles import (
    Determination,
    RunInfo,
    determination_of,
    require_signed,
    run_info,
)
from amnesty.workflow.certificates import certificate_number
from amnesty.workflow.faults import fault_point
from amnesty.workflow.review import latest_records
from amnesty.workflow.rosters import approved_digest, entries_digest, entries_of

# relief -> the registry event that carries it out
EVENT_TYPES = {
    "release": "release",
    "conditional_release": "release",
    "temporary_release": "temporary_release",
    "commutation": "commutation",
}
EVENT_COLUMNS = (
    "event_id", "person_id", "event_type", "event_date", "facility_id", "country",
    "decree_id", "run_id", "new_sentence_kind", "new_end_date", "note",
)  # fmt: skip
# the event that began each person's current custody (revision 0002's episode)
_EPISODES = recheck.latest_events(CUSTODY_IN, ("event_id",))
# every release, of any decree, holds it from its re-check to its commit (module docstring)
RELEASE_LOCK = "releases"
# a custody episode with no admission or return event recorded (revision 0002)
INITIAL_EPISODE = "initial"


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
class Candidate:
    """A person the caller asks to release: from which approved roster, with which relief."""

    person_id: str
    roster_id: int
    relief: str
    facility_id: str


@dataclass
class Outcome:
    released: list[Release]
    already: list[Release]
    stopped: list[tuple[str, recheck.Stop]]


def release_entity(run_id: str, person_id: str) -> str:
    """The audit entity id of a release, ``RUN_ID:PERSON_ID``, as ``audit verify`` reads it."""
    return f"{run_id}:{person_id}"


def release_many(
    tx: Transaction,
    db: Database,
    run: RunInfo,
    decree: Decree,
    candidates: Sequence[Candidate],
    *,
    release_date: dt.date,
    override_reason: str | None = None,
    new_end_date: dt.date | None = None,
    evaluator: recheck.Evaluator | None = recheck.engine_evaluator,
) -> Outcome:
    """Re-check and release ``candidates`` in ``tx``; see the module docstring.

    Stopped persons are returned, not raised: the caller decides whether a stop
    refuses the whole step (one person) or is reported while the batch goes on.
    """
    conn = tx.connection
    db.lock(conn, RELEASE_LOCK)
    require_signed(run_info(conn, run.run_id), "release")  # as it stands now, in the lock
    people = [c.person_id for c in candidates]
    done = existing_releases(conn, run.run_id, people)
    todo = [c for c in candidates if c.person_id not in done]
    outcome = Outcome([], [done[p] for p in people if p in done], [])
    if not todo:
        return outcome
    stops = _stops(conn, run, decree, todo, release_date, evaluator)
    changes: dict[str, tuple[dt.date | None, dt.date | None, str | None]] = {}
    stored = _determinations(conn, run.run_id, [c.person_id for c in todo])
    commuted = [c.person_id for c in todo if c.relief == "commutation" and not stops[c.person_id]]
    sentences = sentences_of(conn, commuted, run.as_of)
    for c in todo:
        if stops[c.person_id]:
            continue
        try:
            changes[c.person_id] = sentence_change(
                decree,
                stored[c.person_id].grounds,
                c.relief,
                new_end_date,
                release_date,
                sentence=sentences.get(c.person_id),
                as_of=run.as_of,
            )
        except IllegalTransition as why:
            stops[c.person_id].append(recheck.Stop("sentence change refused", str(why)))
    for c in todo:
        if stops[c.person_id]:
            outcome.stopped.append((c.person_id, stops[c.person_id][0]))
    go = [c for c in todo if not stops[c.person_id]]
    if go:
        outcome.released = _write(tx, db, run, go, changes, release_date, override_reason)
    return outcome


def existing_releases(conn: Connection, run_id: str, people: Sequence[str]) -> dict[str, Release]:
    """person id -> their release by ``run_id``, for those of ``people`` already released."""
    found: dict[str, Release] = {}
    for start in range(0, len(people), 5000):
        rows = (
            conn.execute(
                sa.select(releases).where(
                    releases.c.run_id == run_id,
                    releases.c.person_id.in_(people[start : start + 5000]),
                )
            )
            .mappings()
            .all()
        )
        found.update({r["person_id"]: release_of(r) for r in rows})
    return found


def release_of(row: sa.RowMapping) -> Release:
    return Release(**{k: row[k] for k in Release.__dataclass_fields__})


@dataclass(frozen=True)
class Sentence:
    """What a commutation is computed from: the person's sentence on the run's as-of date."""

    end: dt.date | None  # ``sentence.end``: None when unknown or there is none (life, death)
    death: bool  # a death sentence among the convictions
    # a commutation recorded after the as-of date ("EVENT_ID of DATE"): the end computed
    # from the as-of date would overwrite what it decided
    later: str | None = None


_CONVICTIONS = sa.text(
    "SELECT person_id, sentence_kind, term_months, start_date, aggregate_id FROM convictions "
    "WHERE person_id = ANY(CAST(:people AS VARCHAR[]))"
)
_COMMUTATIONS = sa.text(
    "SELECT person_id, event_id, event_date, new_end_date FROM events "
    "WHERE person_id = ANY(CAST(:people AS VARCHAR[])) AND event_type = 'commutation'"
)


def sentences_of(conn: Connection, people: Sequence[str], as_of: dt.date) -> dict[str, Sentence]:
    """person -> their sentence on ``as_of``, read on ``conn`` (the release's transaction)."""
    if not people:
        return {}
    convictions: dict[str, list[dict[str, Any]]] = {p: [] for p in people}
    events: dict[str, list[dict[str, Any]]] = {p: [] for p in people}
    for start in range(0, len(people), 5000):
        chunk = {"people": list(people[start : start + 5000])}
        for r in conn.execute(_CONVICTIONS, chunk).mappings():
            convictions[r["person_id"]].append(dict(r))
        for r in conn.execute(_COMMUTATIONS, chunk).mappings():
            events[r["person_id"]].append(dict(r))
    found = {}
    for p in people:
        after = sorted(
            (e["event_date"], e["event_id"]) for e in events[p] if e["event_date"] > as_of
        )
        found[p] = Sentence(
            sentence_end(convictions[p], events[p], as_of),
            any(c["sentence_kind"] == "death" for c in convictions[p]),
            f"{after[-1][1]} of {after[-1][0]}" if after else None,
        )
    return found


def sentence_change(
    decree: Decree,
    grounds: tuple[str, ...],
    relief: str,
    new_end_date: dt.date | None,
    release_date: dt.date | None = None,
    *,
    sentence: Sentence | None = None,
    as_of: dt.date | None = None,
) -> tuple[dt.date | None, dt.date | None, str | None]:
    """(return date, new end date, new sentence kind) for temporary releases and commutations.

    A temporary release given ``for_months`` returns that many calendar months after
    ``release_date`` (the month's last day when it is shorter, docs/semantics.md).

    A commutation takes the terms of the first grant among ``grounds`` that gives it (file
    order, as the engine chose the relief) and computes the new end from ``sentence`` on
    ``as_of`` (:mod:`amnesty.compile.relief_dates`). ``new_end_date`` must then be that date;
    it is the official's only where the end cannot be computed (an unknown sentence end).
    ``death_to_life`` makes a death sentence life, and nothing else.
    """
    clauses = [c for c in decree.clauses if c.id in grounds and c.relief == relief]
    if relief == "temporary_release":
        until = new_end_date or next((c.until for c in clauses if c.until), None)
        months = next((c.for_months for c in clauses if c.for_months), None)
        if until is None and months is not None and release_date is not None:
            until = shift_months(release_date, months)
        if until is None:
            raise IllegalTransition("a temporary release needs a return date (--new-end-date)")
        return until, until, None
    if relief == "commutation":
        terms = next((c.commutation for c in clauses if c.commutation), None)
        if terms is None or sentence is None or as_of is None:
            raise IllegalTransition(
                "a commutation needs its decree terms and the person's sentence"
            )
        if sentence.later is not None:
            raise IllegalTransition(
                f"the sentence was commuted after the run's as-of date {as_of} (event "
                f"{sentence.later}): a new end computed from {as_of} would undo it; run the "
                "decree again on the registry as it is"
            )
        if terms.death_to_life and sentence.death:
            return None, new_end_date, "life"
        cuts = (terms.fraction_of_remaining, terms.to_months, terms.reduce_by_months)
        if all(cut is None for cut in cuts):
            raise IllegalTransition(
                "the commutation changes nothing for this person: the decree commutes death "
                "to life and the person has no death sentence"
            )
        computed = commuted_end(sentence.end, as_of, terms)
        if computed is None:
            if new_end_date is None:
                raise IllegalTransition(
                    f"sentence end unknown on {as_of} (a life or death sentence, or a start or "
                    "term not recorded): the new end date cannot be computed and must be set "
                    "by the official from the court's record with --new-end-date"
                )
            return None, new_end_date, None
        if new_end_date is not None and new_end_date != computed:
            raise IllegalTransition(
                f"--new-end-date {new_end_date} differs from the new end date {computed} the "
                f"decree gives (sentence end {sentence.end}, remaining term counted from "
                f"{as_of}); leave the option out to use {computed}"
            )
        return None, computed, None
    return None, None, None


def insert_events(db: Database, conn: Connection, rows: list[dict[str, Any]], source: str) -> None:
    """Append registry ``events`` rows and advance the registry snapshot past them.

    Both happen on ``conn``, inside the caller's transaction: the rows and the
    derived snapshot that names them commit or roll back together, so the next
    run records a snapshot hash that covers these events and a re-import of an
    older extract is refused instead of silently dropping them.
    """
    params = [{c: row.get(c) for c in EVENT_COLUMNS} for row in rows]
    db.insert_rows(conn, "events", params)
    advance_snapshot(conn, table="events", rows=params, source=source)


# --- the checks ---


def _changed_since_approval(conn: Connection, roster_id: int) -> bool:
    """A row added to, removed from or edited in an approved roster behind amnesty."""
    return approved_digest(conn, roster_id) != entries_digest(entries_of(conn, roster_id))


def _determinations(conn: Connection, run_id: str, people: list[str]) -> dict[str, Determination]:
    rows = (
        conn.execute(
            sa.select(determinations).where(
                determinations.c.run_id == run_id, determinations.c.person_id.in_(people)
            )
        )
        .mappings()
        .all()
    )
    return {r["person_id"]: determination_of(r) for r in rows}


def _stops(
    conn: Connection,
    run: RunInfo,
    decree: Decree,
    todo: list[Candidate],
    day: dt.date,
    evaluator: recheck.Evaluator | None,
) -> dict[str, list[recheck.Stop]]:
    people = [c.person_id for c in todo]
    stops: dict[str, list[recheck.Stop]] = {p: [] for p in people}
    approved = set(
        conn.execute(
            sa.select(rosters.c.roster_id).where(
                rosters.c.roster_id.in_({c.roster_id for c in todo}),
                rosters.c.status == "approved",
            )
        ).scalars()
    )
    changed = {r for r in approved if _changed_since_approval(conn, r)}
    stored = _determinations(conn, run.run_id, people)
    decided = latest_records(conn, run.run_id)
    signed = undertakings_of(conn, run.run_id, people)
    for c in todo:
        pid = c.person_id
        if c.roster_id in changed:
            stops[pid].append(
                recheck.Stop(
                    "roster changed since approval",
                    f"the entries of roster {c.roster_id} no longer match the digest recorded "
                    "at its approval; nobody on it is released until it is looked into",
                )
            )
            continue
        if c.roster_id not in approved:
            stops[pid].append(
                recheck.Stop(
                    "roster not approved",
                    f"person {pid} is on roster {c.roster_id}, which is not approved; "
                    "an approver must approve it first",
                )
            )
            continue
        found = stored.get(pid)
        if found is None:
            stops[pid].append(
                recheck.Stop("no determination", f"run {run.run_id} has no determination of {pid}")
            )
            continue
        record = decided.get(pid)
        review_eligible = (
            record is not None and record.kind == "decide" and record.outcome == "eligible"
        )
        if not (found.outcome == "eligible" or (found.outcome == "review" and review_eligible)):
            why = "review case not decided eligible" if found.outcome == "review" else "ineligible"
            stops[pid].append(
                recheck.Stop(
                    why, f"run {run.run_id} decided {pid} {found.outcome}, not eligible ({why})"
                )
            )
            continue
        if (found.relief or "release") != c.relief:
            stops[pid].append(
                recheck.Stop(
                    "relief differs",
                    f"roster {c.roster_id} gives {pid} {c.relief}, but run {run.run_id} "
                    f"decided {found.relief or 'release'}",
                )
            )
            continue
        stops[pid].extend(undertaking_stops(pid, found.undertakings, signed.get(pid, {}), day))
    open_people = {c.person_id: c.facility_id for c in todo if not stops[c.person_id]}
    for pid, stop in released_this_episode(conn, list(open_people)).items():
        stops[pid].append(stop)
    for pid, found_stops in recheck.registry_reasons_many(conn, run, open_people, day).items():
        stops[pid].extend(found_stops)
    still = [p for p in open_people if not stops[p]]
    if still and evaluator is not None:
        today = evaluator(decree, run, still, conn)
        for pid in still:
            for text in recheck.outcome_reasons(stored[pid], today.get(pid), pid):
                stops[pid].append(recheck.Stop("outcome changed", text))
            for text in recheck.body_reasons(today.get(pid), decided.get(pid), pid):
                stops[pid].append(recheck.Stop("body decision not recorded", text))
    return stops


def custody_episodes(conn: Connection, people: Sequence[str]) -> dict[str, str]:
    """person id -> the event id that began their current custody (``initial`` if none)."""
    found: dict[str, str] = {}
    for start in range(0, len(people), 5000):
        chunk = list(people[start : start + 5000])
        found.update({p: e for p, e in conn.execute(_EPISODES, {"people": chunk}).all()})
    return {p: found.get(p, INITIAL_EPISODE) for p in people}


def released_this_episode(conn: Connection, people: Sequence[str]) -> dict[str, recheck.Stop]:
    """A stop for each of ``people`` already released (by any run) in their current custody.

    This is what ``releases_once_per_custody`` guards; read under :data:`RELEASE_LOCK`, it
    turns what would be a unique-key violation into a refusal that names the release.
    """
    if not people:
        return {}
    episodes = custody_episodes(conn, people)
    stops: dict[str, recheck.Stop] = {}
    for start in range(0, len(people), 5000):
        chunk = list(people[start : start + 5000])
        rows = conn.execute(sa.select(releases).where(releases.c.person_id.in_(chunk))).mappings()
        for r in rows:
            pid = r["person_id"]
            if r["custody_episode"] != episodes[pid] or pid in stops:
                continue
            stops[pid] = recheck.Stop(
                "already released in this custody episode",
                f"release of {pid} stopped: {pid} was already released in this custody "
                f"episode by release {r['release_id']} (run {r['run_id']}, certificate "
                f"{r['certificate_no']}, {r['release_date']}); a person is released at most "
                "once until they are back in custody (revoke that release first if it was "
                "made in error: amnesty release revoke)",
            )
    return stops


def undertakings_of(
    conn: Connection, run_id: str, people: list[str]
) -> dict[str, dict[str, dict[str, Any]]]:
    """person -> undertaking id -> its latest record (a later signature follows a refusal)."""
    rows = (
        conn.execute(
            sa.select(undertaking_records)
            .where(
                undertaking_records.c.run_id == run_id,
                undertaking_records.c.person_id.in_(people),
            )
            .order_by(undertaking_records.c.record_id)
        )
        .mappings()
        .all()
    )
    state: dict[str, dict[str, dict[str, Any]]] = {}
    for r in rows:
        state.setdefault(r["person_id"], {})[r["undertaking_id"]] = dict(r)
    return state


def undertaking_stops(
    person_id: str,
    required: Sequence[str],
    state: dict[str, dict[str, Any]],
    day: dt.date,
) -> list[recheck.Stop]:
    """What keeps a person's undertakings from allowing the release on ``day``."""
    stops = []
    for undertaking_id in required:
        record = state.get(undertaking_id)
        if record is None:
            stops.append(
                recheck.Stop(
                    f"undertaking {undertaking_id} not recorded",
                    f"release of {person_id} stopped: undertaking {undertaking_id} not yet "
                    "recorded (amnesty release undertake, or release import-undertakings)",
                )
            )
        elif record["status"] == "refused":
            stops.append(
                recheck.Stop(
                    f"undertaking {undertaking_id} refused",
                    f"release of {person_id} stopped: undertaking {undertaking_id} was refused; "
                    "the person stays in custody unless they sign it later",
                )
            )
        elif record["signed_on"] is not None and record["signed_on"] > day:
            stops.append(
                recheck.Stop(
                    f"undertaking {undertaking_id} signed after the release date",
                    f"release of {person_id} stopped: undertaking {undertaking_id} is signed "
                    f"on {record['signed_on']}, after the release date {day}",
                )
            )
    return stops


# --- the writes ---


def _write(
    tx: Transaction,
    db: Database,
    run: RunInfo,
    go: list[Candidate],
    changes: dict[str, tuple[dt.date | None, dt.date | None, str | None]],
    day: dt.date,
    override_reason: str | None,
) -> list[Release]:
    conn = tx.connection
    people = [c.person_id for c in go]
    episodes = custody_episodes(conn, people)
    issued = conn.execute(
        sa.select(sa.func.count())
        .select_from(releases)
        .join(runs, runs.c.run_id == releases.c.run_id)
        .where(runs.c.decree_id == run.decree_id)
    ).scalar_one()
    ids = sorted(
        conn.execute(
            sa.text("SELECT nextval('releases_id_seq') FROM generate_series(1, :n)"),
            {"n": len(go)},
        ).scalars()
    )
    now = utcnow()
    events, rows, certs, audits = [], [], [], []
    for index, c in enumerate(go):
        return_date, new_end, new_kind = changes[c.person_id]
        event_type = EVENT_TYPES[c.relief]
        number = certificate_number(run.decree_id, int(issued) + index + 1)
        events.append(
            {
                "event_id": f"{run.run_id}:{c.person_id}:{event_type}",
                "person_id": c.person_id,
                "event_type": event_type,
                "event_date": day,
                "facility_id": c.facility_id,
                "decree_id": run.decree_id,
                "run_id": run.run_id,
                "new_sentence_kind": new_kind,
                "new_end_date": new_end,
                "note": "conditional release" if c.relief == "conditional_release" else None,
            }
        )
        row: dict[str, Any] = {
            "release_id": int(ids[index]),
            "run_id": run.run_id,
            "person_id": c.person_id,
            "roster_id": c.roster_id,
            "facility_id": c.facility_id,
            "relief": c.relief,
            "release_date": day,
            "return_date": return_date,
            "override_reason": (override_reason or "").strip() or None,
            "certificate_no": number,
            "executed_by": tx.actor,
            "executed_at": now,
        }
        rows.append({**row, "custody_episode": episodes[c.person_id]})
        certs.append(
            {"certificate_no": number, "release_id": row["release_id"], "issued_by": tx.actor,
             "issued_at": now}
        )  # fmt: skip
        audits.append(
            {
                "action": "release.execute",
                "entity": ("release", release_entity(run.run_id, c.person_id)),
                # the registry event's sentence change, so that audit verify replays it
                "after": {**row, "new_end_date": new_end, "new_sentence_kind": new_kind},
            }
        )
    source = f"release run {run.run_id} person {go[0].person_id}"
    if len(go) > 1:
        source = f"release run {run.run_id}: {len(go)} persons, {people[0]} to {people[-1]}"
    insert_events(db, conn, events, source)
    fault_point("after_event_insert")
    db.insert_rows(conn, "releases", rows)
    fault_point("after_release_insert")
    db.insert_rows(conn, "certificates", certs)
    tx.audit_many(audits)
    fault_point("before_commit")
    return [Release(**{k: r[k] for k in Release.__dataclass_fields__}) for r in rows]
