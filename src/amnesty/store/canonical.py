"""Every canonical text amnesty hashes, in one place: two JSON encodings, each with a
Python form and (where it is computed in a database) a SQL form, tested against each
other in tests/store/test_canonical.py.

Stored hashes depend on these bytes, so neither encoding may change silently: a
change is a new version, and rows hashed by the old one keep their recorded version
(as ``registry_snapshots.hash_version`` does for the registry content hash).
Like :mod:`amnesty.audit.chain`, this module imports nothing of amnesty's, so an
auditor may take the two files alone.

``record-json-v1`` (:func:`record_json`): audit events (:mod:`amnesty.audit.chain`:
the event body and its ``before``/``after``) and stored determinations
(:mod:`amnesty.store.determinations`: list columns and the row line). Python's
``json`` with sorted keys, no spaces, UTF-8 text as it is; a string escapes ``"``,
``\\``, ``\\b \\f \\n \\r \\t`` and other control characters as ``\\u001f``
(lower-case hex). Dates and datetimes are ISO text (a datetime as
``YYYY-MM-DDTHH:MM:SS.ffffffZ`` in UTC, never naive).

``registry-row-v1`` (:func:`registry_row_json`, SQL :func:`registry_row_sql`): a
registry row as its values' canonical texts (registry/snapshot.py says how each type
is written), a JSON array of strings and nulls, no spaces, exactly as DuckDB's
``to_json`` writes a ``VARCHAR[]``: UTF-8 as it is, ``"`` ``\\`` and
``\\b \\f \\n \\r \\t`` escaped short, other control characters as ``\\u001F``
(upper-case hex). The registry content hash and derived snapshots hash these.

The two differ only in the case of the hex digits of escaped control characters,
which registry ids and audit texts seldom hold; they are kept apart rather than
made one because each is already hashed into stored databases.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

RECORD_JSON = "record-json-v1"
REGISTRY_ROW = "registry-row-v1"

# --- record-json-v1 ------------------------------------------------------------------

_record = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode
json_string = json.JSONEncoder(ensure_ascii=False).encode
"""A str's ``record-json-v1`` literal (quotes included), in C."""
NEEDS_ESCAPE = r'["\\\x00-\x1f]'
"""A regular expression: text without a match is its own JSON string body."""


def format_timestamp(at: dt.datetime) -> str:
    """UTC, microseconds, ``Z``: the one spelling of a time in a record; a naive
    datetime is refused (which zone it meant is not known)."""
    if at.tzinfo is None:
        raise ValueError(f"naive datetime {at!r} in a canonical record; use UTC")
    return at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def record_json(value: Any) -> str:
    """``record-json-v1`` of ``value`` (dicts, lists, str, numbers, bools, None, dates)."""
    return _record(_plain(value))


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


# --- registry-row-v1 -----------------------------------------------------------------

_SHORT_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\b": "\\b",
    "\t": "\\t",
    "\n": "\\n",
    "\f": "\\f",
    "\r": "\\r",
}


def registry_text(text: str) -> str:
    """One text as a ``registry-row-v1`` JSON string (DuckDB's ``to_json`` escapes)."""
    out = ['"']
    for ch in text:
        if ch in _SHORT_ESCAPES:
            out.append(_SHORT_ESCAPES[ch])
        elif ch < " ":
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def registry_row_json(texts: Sequence[str | None]) -> str:
    """A row's canonical texts (None for null) as ``registry-row-v1``."""
    return "[" + ",".join("null" if t is None else registry_text(t) for t in texts) + "]"


def registry_row_sql(text_expressions: Sequence[str]) -> str:
    """DuckDB SQL of ``registry-row-v1`` over SQL expressions that give each value's
    canonical text (VARCHAR or NULL)."""
    return f"to_json([{', '.join(text_expressions)}]::VARCHAR[])"
