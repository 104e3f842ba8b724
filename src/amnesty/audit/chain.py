"""The audit chain's format: canonical JSON and how each event is hashed.

This module and :mod:`amnesty.store.canonical` (the JSON encoding, ``record-json-v1``)
are the whole specification an outside auditor needs (see docs/workflow.md); they
import nothing else of amnesty's, so anyone may use the two files.

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

from amnesty.store.canonical import format_timestamp, record_json

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

# The encoding itself is ``record-json-v1`` of amnesty.store.canonical, which owns every
# canonical text amnesty hashes and, like this module, imports nothing else of amnesty's.
canonical_json = record_json
"""JSON with sorted keys, no spaces and UTF-8 text left unescaped; dates and datetimes
as ISO text, so callers may pass rows as they come from the database."""


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
