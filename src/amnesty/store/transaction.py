"""State changes and their audit events, committed together or not at all.

Every change to the operational tables goes through :func:`transaction`::

    with transaction(url, actor, action="roster.approve", entity=("roster", "17")) as tx:
        before = ...read...
        tx.connection.execute(...)
        tx.audit(before=before, after=after)

The event is appended to the hash chain inside the same database transaction,
so a change never lands without its event, nor an event without its change.
If a :class:`~amnesty.errors.WorkflowError` (permission denied, illegal
transition, conflict) escapes the block, the change is rolled back and the
refusal is written as an event of its own, then the error propagates.

Appending is serialised so that two writers never fork the chain: on
PostgreSQL by a transaction-scoped advisory lock taken just before the chain
head is read (so it is held only from the audit call to the commit); on DuckDB,
where one process is the only writer, by a lock per database file held for the
whole transaction (DuckDB's optimistic concurrency would otherwise abort one
of two concurrent appends at commit).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from amnesty.audit.chain import GENESIS_HASH, canonical_json, event_hash
from amnesty.errors import WorkflowError
from amnesty.store.db import DatabaseURL
from amnesty.store.engine import as_url, get_engine
from amnesty.store.migrate import migrate
from amnesty.store.tables import audit_events

if TYPE_CHECKING:
    from amnesty.store.database import DatabaseLike

# Any fixed 64-bit number, distinct from the migration lock.
_PG_CHAIN_LOCK = 0x616D6E636861696E  # "amnchain"

_duckdb_locks: dict[str, threading.RLock] = {}
_duckdb_locks_guard = threading.Lock()


@dataclass(frozen=True)
class AuditEvent:
    """One link of the chain, as stored."""

    seq: int
    occurred_at: dt.datetime
    actor: str
    action: str
    entity_kind: str
    entity_id: str
    before: str | None  # canonical JSON text
    after: str | None
    outcome: str  # ok | refused
    reason: str | None
    prev_hash: str
    hash: str

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


def utcnow() -> dt.datetime:
    """Now, in UTC, at the microsecond both databases keep."""
    return dt.datetime.now(dt.UTC)


class Transaction:
    """An open database transaction acting for ``actor``; see the module docstring."""

    def __init__(
        self,
        db: DatabaseURL,
        connection: Connection,
        actor: str,
        action: str,
        entity: tuple[str, str],
    ) -> None:
        self.db = db
        self.connection = connection
        self.actor = actor
        self.action = action
        self.entity = entity
        self.events: list[AuditEvent] = []

    def audit(
        self,
        action: str | None = None,
        entity: tuple[str, str] | None = None,
        before: Any = None,
        after: Any = None,
        *,
        outcome: str = "ok",
        reason: str | None = None,
    ) -> AuditEvent:
        """Append an event for a change made in this transaction.

        ``before`` and ``after`` are JSON-able values (dicts of a row's columns,
        typically); None means "did not exist" / "no longer exists".
        """
        kind, entity_id = entity or self.entity
        return append_event(
            self.connection,
            self.db,
            actor=self.actor,
            action=action or self.action,
            entity_kind=kind,
            entity_id=entity_id,
            before=before,
            after=after,
            outcome=outcome,
            reason=reason,
            events=self.events,
        )

    def audit_many(self, entries: list[dict[str, Any]]) -> list[AuditEvent]:
        """Append several events at once (dicts of the :meth:`audit` arguments plus
        ``entity``); the same chain as one :meth:`audit` call each, in one INSERT."""
        rows = []
        for entry in entries:
            kind, entity_id = entry.get("entity") or self.entity
            rows.append(
                {
                    "actor": self.actor,
                    "action": entry.get("action") or self.action,
                    "entity_kind": kind,
                    "entity_id": entity_id,
                    "before": entry.get("before"),
                    "after": entry.get("after"),
                    "outcome": entry.get("outcome", "ok"),
                    "reason": entry.get("reason"),
                }
            )
        return append_events(self.connection, self.db, rows, self.events)


@contextmanager
def transaction(
    url: DatabaseLike,
    actor: str,
    *,
    action: str = "",
    entity: tuple[str, str] = ("", ""),
) -> Iterator[Transaction]:
    """Open a transaction on a migrated database; commit on success, audit refusals."""
    db = migrate(url)
    try:
        with _writer_lock(db), get_engine(db).begin() as connection:
            yield Transaction(db, connection, actor, action, entity)
    except WorkflowError as refused:
        if not getattr(refused, "audited", False):  # require() audits its own refusals
            audit_refusal(db, actor, action or "unknown", entity, str(refused))
            refused.audited = True  # type: ignore[attr-defined]
        raise


def audit_refusal(
    url: DatabaseLike,
    actor: str,
    action: str,
    entity: tuple[str, str],
    reason: str,
    before: Any = None,
) -> AuditEvent:
    """Record, in its own committed transaction, a step that was refused.

    Call it after the refused step's transaction has ended (``transaction``
    does so itself for WorkflowErrors): an event appended from inside another
    open transaction on the same database would wait for it or fork from it.
    """
    db = migrate(url)
    with _writer_lock(db), get_engine(db).begin() as connection:
        return append_event(
            connection,
            db,
            actor=actor,
            action=action,
            entity_kind=entity[0],
            entity_id=entity[1],
            before=before,
            after=None,
            outcome="refused",
            reason=reason,
            events=[],
        )


def append_event(
    connection: Connection,
    db: DatabaseLike,
    *,
    actor: str,
    action: str,
    entity_kind: str,
    entity_id: str,
    before: Any,
    after: Any,
    outcome: str,
    reason: str | None,
    events: list[AuditEvent],
) -> AuditEvent:
    """Link one event to the chain head within ``connection``'s transaction."""
    entry = {
        "actor": actor,
        "action": action,
        "entity_kind": entity_kind,
        "entity_id": entity_id,
        "before": before,
        "after": after,
        "outcome": outcome,
        "reason": reason,
    }
    return append_events(connection, db, [entry], events)[0]


def append_events(
    connection: Connection,
    db: DatabaseLike,
    entries: list[dict[str, Any]],
    events: list[AuditEvent],
) -> list[AuditEvent]:
    """Link events (dicts of actor, action, entity_kind, entity_id, before, after,
    outcome, reason) to the chain head in order, with one INSERT for all of them.

    ``events`` are those this transaction appended already: the chain lock is held
    since the first, so the last of them is the head and need not be read again.
    """
    if not entries:
        return []
    for entry in entries:
        if entry["outcome"] not in ("ok", "refused"):
            raise ValueError(f"audit outcome {entry['outcome']!r}: expected ok or refused")
    if events:
        seq, prev_hash = events[-1].seq + 1, events[-1].hash
    else:
        if not as_url(db).is_duckdb:
            # Held until commit: the next appender reads the head only after this commits.
            connection.execute(sa.select(sa.func.pg_advisory_xact_lock(_PG_CHAIN_LOCK)))
        head = connection.execute(
            sa.select(audit_events.c.seq, audit_events.c.hash)
            .order_by(audit_events.c.seq.desc())
            .limit(1)
        ).first()
        seq, prev_hash = (head.seq + 1, head.hash) if head else (1, GENESIS_HASH)
    rows: list[dict[str, Any]] = []
    appended: list[AuditEvent] = []
    for entry in entries:
        fields: dict[str, Any] = {
            "seq": seq,
            "occurred_at": utcnow(),
            "actor": entry["actor"],
            "action": entry["action"],
            "entity_kind": entry["entity_kind"],
            "entity_id": str(entry["entity_id"]),
            "before": None if entry["before"] is None else canonical_json(entry["before"]),
            "after": None if entry["after"] is None else canonical_json(entry["after"]),
            "outcome": entry["outcome"],
            "reason": entry["reason"],
            "prev_hash": prev_hash,
        }
        fields["hash"] = event_hash(fields)
        rows.append(fields)
        appended.append(AuditEvent(**fields))
        seq, prev_hash = seq + 1, fields["hash"]
    from amnesty.store.database import Database

    Database.of(db).insert_rows(connection, "audit_events", rows)
    events.extend(appended)
    return appended


@contextmanager
def _writer_lock(db: DatabaseURL) -> Iterator[None]:
    if not db.is_duckdb:
        yield
        return
    with _duckdb_locks_guard:
        lock = _duckdb_locks.setdefault(db.target, threading.RLock())
    with lock:
        yield
