"""Reading the chain out: export for an outside auditor, and signing its head.

An export is JSON Lines, one event per line in chain order, each with the
fields of :data:`amnesty.audit.chain.HASHED_FIELDS` plus ``hash``; ``before``
and ``after`` are JSON values. :func:`verify_export` (or the few lines in
docs/workflow.md) re-derives every hash and link from the file alone.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from amnesty.audit.chain import GENESIS_HASH, canonical_json, format_timestamp
from amnesty.audit.checkpoint import Checkpoint, load_or_create_key, sign
from amnesty.audit.verify import Problem, check_chain
from amnesty.errors import ConfigError
from amnesty.store.engine import get_engine
from amnesty.store.migrate import migrate
from amnesty.store.tables import audit_checkpoints, audit_events
from amnesty.store.transaction import transaction, utcnow
from amnesty.workflow.users import Role, require

if TYPE_CHECKING:
    from amnesty.store.database import DatabaseLike

from amnesty.store.database import as_database


def iter_events(url: DatabaseLike) -> Iterator[dict[str, Any]]:
    """Stored events in chain order, as export lines (before/after parsed)."""
    db = migrate(url)
    with get_engine(db).connect() as connection:
        result = connection.execute(sa.select(audit_events).order_by(audit_events.c.seq))
        for row in result.mappings():
            yield export_line(dict(row))


def export_line(event: dict[str, Any]) -> dict[str, Any]:
    line = dict(event)
    line["occurred_at"] = format_timestamp(event["occurred_at"])
    for side in ("before", "after"):
        line[side] = None if event[side] is None else json.loads(event[side])
    return line


def export_chain(url: DatabaseLike, out: str | Path) -> int:
    """Write the chain as JSON Lines to ``out``; returns the number of events."""
    count = 0
    with Path(out).open("w", encoding="utf-8") as handle:
        for line in iter_events(url):
            handle.write(canonical_json(line) + "\n")
            count += 1
    return count


def verify_export(path: str | Path) -> list[Problem]:
    """Problems of an exported chain, found from the file alone."""
    events: list[dict[str, Any]] = []
    with Path(path).open(encoding="utf-8") as handle:
        for number, text in enumerate(handle, start=1):
            if not text.strip():
                continue
            try:
                line = json.loads(text)
                event = {
                    **line,
                    "before": None if line["before"] is None else canonical_json(line["before"]),
                    "after": None if line["after"] is None else canonical_json(line["after"]),
                }
            except (ValueError, KeyError) as exc:
                raise ConfigError(f"{path}:{number}: not an audit export line ({exc})") from exc
            events.append(event)
    return check_chain(events)


def chain_head(url: DatabaseLike) -> tuple[int, str]:
    db = migrate(url)
    with get_engine(db).connect() as connection:
        row = connection.execute(
            sa.select(audit_events.c.seq, audit_events.c.hash)
            .order_by(audit_events.c.seq.desc())
            .limit(1)
        ).first()
    return (row.seq, row.hash) if row else (0, GENESIS_HASH)


def create_checkpoint(url: DatabaseLike, actor: str, key_path: str | Path) -> Checkpoint:
    """Sign the current head with the key at ``key_path`` (created if absent); store it."""
    db = as_database(url)
    require(db, actor, (Role.auditor, Role.admin), action="audit.checkpoint")
    key = load_or_create_key(key_path)
    seq, head_hash = chain_head(db)
    if seq == 0:
        raise ConfigError("the audit chain is empty: nothing to checkpoint yet")
    checkpoint = sign(key, seq, head_hash, utcnow(), actor)
    with transaction(db, actor, action="audit.checkpoint", entity=("checkpoint", str(seq))) as tx:
        tx.connection.execute(audit_checkpoints.insert().values(**checkpoint.as_row()))
        tx.audit(after=checkpoint.as_json())
    return checkpoint
