"""The audit chain's format: canonical JSON and how each event is hashed.

This module is the whole specification an outside auditor needs (see
docs/workflow.md); it imports nothing of amnesty's, so anyone may use it.

An event's hash is ``sha256(canonical_json(body))`` in lowercase hex, where
``body`` holds the fields in :data:`HASHED_FIELDS` with ``before`` and
``after`` as the JSON *values* they encode (not their text), ``occurred_at``
as ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` and ``prev_hash`` the previous event's hash
(64 zeros for the first event). Because ``prev_hash`` is inside the hashed
body, changing, removing, inserting or reordering any event breaks the link
to every later one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

GENESIS_HASH = "0" * 64

HASHED_FIELDS = (
    "seq",
    "occurred_at",
    "actor",
    "action",
    "entity_kind",
    "entity_id",
    "before",
    "after",
    "outcome",
    "reason",
    "prev_hash",
)

_encoder = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def canonical_json(value: Any) -> str:
    """JSON with sorted keys, no spaces and UTF-8 text left unescaped.

    Dates and datetimes become ISO text, so callers may pass rows as they come
    from the database.
    """
    return _encoder.encode(_plain(value))


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return format_timestamp(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def format_timestamp(at: dt.datetime) -> str:
    """UTC, microseconds, ``Z``: the one spelling of a time inside the chain."""
    if at.tzinfo is None:
        raise ValueError(f"naive datetime {at!r} in the audit chain; use UTC")
    return at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def event_body(event: dict[str, Any]) -> dict[str, Any]:
    """The hashed fields of an event whose ``before``/``after`` are JSON text or None."""
    body = {name: event[name] for name in HASHED_FIELDS}
    for side in ("before", "after"):
        text = body[side]
        body[side] = None if text is None else json.loads(text)
    if isinstance(body["occurred_at"], dt.datetime):
        body["occurred_at"] = format_timestamp(body["occurred_at"])
    return body


def event_hash(event: dict[str, Any]) -> str:
    """The hash of one event (a row of ``audit_events`` or a line of an export)."""
    return hashlib.sha256(canonical_json(event_body(event)).encode("utf-8")).hexdigest()
