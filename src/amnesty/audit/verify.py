"""``audit verify``: recompute the chain and hold the stored records to it.

Four kinds of check, each naming what it found (``docs/audit.md`` states the
rules so that an outside auditor can reimplement them):

1. **The chain.** Every event must hash to its stored hash and link to the one
   before it (``prev_hash``), with sequence numbers 1, 2, 3, ... A changed
   event fails its hash; a deleted one leaves a gap; an inserted or reordered
   one hashes as written at another position or links to the wrong event.
2. **Runs.** Each run's determinations must hash to the digest carried by the
   run's audit event (``run.record``); when they do not, the rows whose
   ``row_hash`` no longer matches their content are named.
3. **State.** Replaying the chain gives the rows every covered table must hold
   (users, decrees, runs, reviews, rosters and their entries' digests,
   undertakings, releases, revocations, certificates, the registry events
   amnesty wrote, checkpoints); stored rows are compared with it, and every
   standing release must follow from its run and roster
   (:mod:`amnesty.audit.state`).
4. **Checkpoints** (signed chain heads, :mod:`amnesty.audit.checkpoint`): the
   event at a checkpoint's position must still have the signed hash. With a
   trusted public key, at least one checkpoint signed by it must hold: the
   chain's head is only anchored against truncation up to the latest one.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from amnesty.audit.chain import GENESIS_HASH, event_hash
from amnesty.audit.checkpoint import Checkpoint, verify_signature
from amnesty.audit.expected import replay
from amnesty.audit.state import check_state
from amnesty.errors import ConfigError
from amnesty.store.db import DatabaseURL
from amnesty.store.determinations import changed_rows, digest_batches, stored_batches
from amnesty.store.engine import get_engine
from amnesty.store.migrate import migrate
from amnesty.store.tables import audit_checkpoints, audit_events, releases, runs

# How far an event may have moved and still be recognised as moved rather than changed.
_MOVE_SEARCH = 8


@dataclass(frozen=True)
class Problem:
    where: str  # "event 17", "run R20151008-ab12cd person P0000042", "checkpoint 3"
    what: str

    def __str__(self) -> str:
        return f"{self.where}: {self.what}"


@dataclass
class VerifyReport:
    events: int = 0
    head_seq: int = 0
    head_hash: str = GENESIS_HASH
    runs: int = 0
    releases: int = 0
    checkpoints: int = 0
    anchored_seq: int = 0  # the latest event a checkpoint that holds vouches for
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "events": self.events,
            "head_seq": self.head_seq,
            "head_hash": self.head_hash,
            "runs": self.runs,
            "releases": self.releases,
            "checkpoints": self.checkpoints,
            "anchored_seq": self.anchored_seq,
            "problems": [{"where": p.where, "what": p.what} for p in self.problems],
        }


def release_entity_id(run_id: str, person_id: str) -> str:
    """The audit entity id of a release: ``RUN_ID:PERSON_ID`` (entity kind ``release``)."""
    return f"{run_id}:{person_id}"


def verify(
    url: str | DatabaseURL,
    *,
    checkpoints: Sequence[Checkpoint] = (),
    trusted_key: bytes | None = None,
) -> VerifyReport:
    """Check the chain, runs, the covered tables and checkpoints; never raises on what it finds.

    ``checkpoints`` are held by the auditor (files); stored checkpoints are
    checked as well, against ``trusted_key`` (raw Ed25519 public key) when given.
    With ``trusted_key``, at least one checkpoint must be signed by it and hold.
    """
    db = migrate(url)
    report = VerifyReport()
    with get_engine(db).connect() as connection:
        events = [
            dict(row)
            for row in connection.execute(sa.select(audit_events).order_by(audit_events.c.seq))
            .mappings()
            .all()
        ]
        report.problems += check_chain(events)
        report.events = len(events)
        if events:
            report.head_seq, report.head_hash = events[-1]["seq"], events[-1]["hash"]
        latest = _latest_after(events)
        report.runs, run_problems = _check_runs(connection, db, latest)
        report.problems += run_problems
        report.problems += [Problem(w, what) for w, what in check_state(connection, replay(events))]
        report.releases = connection.execute(
            sa.select(sa.func.count()).select_from(releases)
        ).scalar_one()
        stored, unreadable = _stored_checkpoints(connection)
        report.problems += unreadable
    by_seq = {e["seq"]: e["hash"] for e in events}
    anchors: list[int] = []
    for cp in [*checkpoints, *stored]:
        report.checkpoints += 1
        found = _check_checkpoint(cp, by_seq, trusted_key)
        report.problems += found
        if not found:
            anchors.append(cp.seq)
    report.anchored_seq = max(anchors, default=0)
    if trusted_key is not None and not anchors:
        report.problems.append(
            Problem(
                "checkpoints",
                "none signed by the trusted public key holds: nothing anchors the chain's "
                "head, so a truncated or rebuilt chain cannot be ruled out; give the "
                "checkpoint files you hold (--checkpoint)",
            )
        )
    return report


def _stored_checkpoints(connection: Connection) -> tuple[list[Checkpoint], list[Problem]]:
    stored: list[Checkpoint] = []
    problems: list[Problem] = []
    for row in connection.execute(sa.select(audit_checkpoints)).mappings().all():
        try:
            stored.append(Checkpoint.from_row(dict(row)))
        except ConfigError as exc:
            problems.append(Problem(f"stored checkpoint {row['checkpoint_id']}", str(exc)))
    return stored, problems


def check_chain(events: Sequence[dict[str, Any]]) -> list[Problem]:
    """Problems of a chain given as event dicts in stored order (by seq)."""
    problems: list[Problem] = []
    seq_of_hash = {e["hash"]: e["seq"] for e in events}
    expected_seq, expected_prev = 1, GENESIS_HASH
    for event in events:
        seq = event["seq"]
        where = f"event {seq}"
        if seq > expected_seq:
            gap = str(expected_seq) if seq == expected_seq + 1 else f"{expected_seq}-{seq - 1}"
            problems.append(Problem(f"event {gap}", "missing: deleted from the chain"))
        elif seq < expected_seq:
            problems.append(Problem(where, "sequence number out of order"))
        if event_hash(event) != event["hash"]:
            moved_from = _written_at(event)
            if moved_from is None:
                problems.append(
                    Problem(where, "changed after it was written: its hash does not match")
                )
            else:
                linked = seq_of_hash.get(event["prev_hash"])
                detail = f"written as event {moved_from} but stored as event {seq}"
                if linked is not None and linked > seq:
                    detail += f"; it follows event {linked}: events reordered"
                elif linked is not None and linked < seq - 1:
                    inserted = ", ".join(str(s) for s in range(linked + 1, seq))
                    detail += f"; event(s) {inserted} inserted before it"
                problems.append(Problem(where, detail))
        elif event["prev_hash"] != expected_prev and seq == expected_seq:
            linked = seq_of_hash.get(event["prev_hash"])
            if linked is None:
                problems.append(
                    Problem(
                        where,
                        f"does not follow event {seq - 1}: event {seq - 1} was changed "
                        "and re-hashed, or this event was inserted",
                    )
                )
            elif linked < seq - 1:
                inserted = ", ".join(str(s) for s in range(linked + 1, seq))
                problems.append(
                    Problem(where, f"follows event {linked}: event(s) {inserted} inserted")
                )
            else:
                problems.append(Problem(where, f"follows event {linked}: events reordered"))
        expected_seq, expected_prev = seq + 1, event["hash"]
    return problems


def _written_at(event: dict[str, Any]) -> int | None:
    """The position an event was hashed at, if it was moved rather than changed."""
    for delta in range(1, _MOVE_SEARCH + 1):
        for seq in (event["seq"] - delta, event["seq"] + delta):
            if seq >= 1 and event_hash({**event, "seq": seq}) == event["hash"]:
                return seq
    return None


def _latest_after(events: Iterable[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    """The latest successful event per entity, with its ``after`` parsed."""
    latest: dict[tuple[str, str], dict[str, Any]] = {}
    for event in events:
        if event["outcome"] == "ok" and event["after"] is not None:
            try:
                after = json.loads(event["after"])
            except ValueError:
                continue  # the chain check already reports the damaged event
            latest[(event["entity_kind"], event["entity_id"])] = {**event, "after": after}
    return latest


def _check_runs(
    connection: Connection, db: DatabaseURL, latest: dict[tuple[str, str], dict[str, Any]]
) -> tuple[int, list[Problem]]:
    problems: list[Problem] = []
    rows = connection.execute(sa.select(runs).order_by(runs.c.run_id)).mappings().all()
    for run in rows:
        where = f"run {run['run_id']}"
        event = latest.get(("run", run["run_id"]))
        if event is None:
            problems.append(Problem(where, "has no run.record audit event"))
            continue
        signed = event["after"].get("determinations_digest")
        if run["determinations_digest"] != signed:
            problems.append(
                Problem(where, f"digest in the runs table differs from audit event {event['seq']}")
            )
        recomputed = digest_batches(stored_batches(connection, db, run["run_id"]))
        if recomputed == signed:
            continue
        persons = changed_rows(stored_batches(connection, db, run["run_id"], with_row_hash=True))
        count = connection.execute(
            sa.text("SELECT count(*) FROM determinations WHERE run_id = :r"), {"r": run["run_id"]}
        ).scalar_one()
        for person in persons[:20]:
            problems.append(
                Problem(f"{where} person {person}", "determination changed after the run")
            )
        if len(persons) > 20:
            problems.append(Problem(where, f"and {len(persons) - 20} more changed determinations"))
        if count != event["after"].get("row_count"):
            problems.append(
                Problem(
                    where,
                    f"holds {count} determinations, its audit event says "
                    f"{event['after'].get('row_count')}: rows added or deleted",
                )
            )
        elif not persons:
            problems.append(
                Problem(where, "determinations do not match the digest in its audit event")
            )
    return len(rows), problems


def _check_checkpoint(
    cp: Checkpoint, hash_at: dict[int, str], trusted_key: bytes | None
) -> list[Problem]:
    where = f"checkpoint at event {cp.seq}"
    if trusted_key is not None and cp.public_key != trusted_key:
        return [Problem(where, "signed with a key other than the trusted public key")]
    if not verify_signature(cp):
        return [Problem(where, "signature does not verify: the checkpoint was altered")]
    if cp.seq not in hash_at:
        return [Problem(where, "the chain has no such event: it was truncated or rewritten")]
    if hash_at[cp.seq] != cp.hash:
        return [
            Problem(
                where,
                f"the chain's event {cp.seq} hashes to {hash_at[cp.seq][:16]}…, the signed "
                f"checkpoint says {cp.hash[:16]}…: the chain was rewritten",
            )
        ]
    return []
