"""Registry tables in the target database, and the snapshot that names their content.

The snapshot hash is over normalised content, never file bytes, so the same
registry from Parquet, CSV or JSONL hashes alike (docs/registry.md states it):

* each row is rendered as a JSON array of its values in schema column order, each
  value as text: dates ``YYYY-MM-DD``, booleans ``true``/``false``, integers without
  decimals, doubles in DuckDB's shortest round-trip form, null as JSON ``null`` (so
  null and the empty string differ);
* a table's digest is the sha256 of the rows' sha256 hex digests, sorted by the
  table key and joined by newlines (an ordered ``string_agg``: deterministic and
  sensitive to every row, unlike an order-independent sum of row hashes, which a
  swap of two values between rows could cancel out);
* the snapshot hash is the sha256 of ``amnesty-registry-v1``, the profile name and
  one ``table:rows:digest`` line per table in schema order.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from amnesty.registry.schema import BOOLEAN, DATE, DOUBLE, INTEGER, VARCHAR, Table
from amnesty.registry.sources import quote_ident

HASH_VERSION = "amnesty-registry-v1"
SNAPSHOTS = "registry_snapshots"

_DUCKDB_TYPES = {
    VARCHAR: "VARCHAR",
    INTEGER: "INTEGER",
    BOOLEAN: "BOOLEAN",
    DATE: "DATE",
    DOUBLE: "DOUBLE",
}
_POSTGRES_TYPES = {
    VARCHAR: "TEXT",
    INTEGER: "INTEGER",
    BOOLEAN: "BOOLEAN",
    DATE: "DATE",
    DOUBLE: "DOUBLE PRECISION",
}


def table_ddl(table: Table, dialect: str = "duckdb", qualifier: str = "") -> str:
    """CREATE TABLE for a registry table: key and NOT NULL from the schema.

    Foreign keys are not declared: the importer checks them before writing, and
    declaring them would force a load order and slow a bulk replace.
    """
    types = _POSTGRES_TYPES if dialect == "postgres" else _DUCKDB_TYPES
    cols = [
        f"{quote_ident(c.name)} {types[c.type]}{'' if c.nullable else ' NOT NULL'}"
        for c in table.columns
    ]
    cols.append(f"PRIMARY KEY ({quote_ident(table.key)})")
    return f"CREATE TABLE {qualifier}{table.name} ({', '.join(cols)})"


def snapshots_ddl(dialect: str = "duckdb", qualifier: str = "") -> str:
    json_type = "JSONB" if dialect == "postgres" else "JSON"
    stamp = "TIMESTAMPTZ" if dialect == "postgres" else "TIMESTAMP WITH TIME ZONE"
    return (
        f"CREATE TABLE IF NOT EXISTS {qualifier}{SNAPSHOTS} ("
        "snapshot_id INTEGER PRIMARY KEY, content_hash VARCHAR NOT NULL, "
        "profile VARCHAR NOT NULL, source VARCHAR NOT NULL, "
        f"imported_at {stamp} NOT NULL, row_counts {json_type} NOT NULL, "
        "is_current BOOLEAN NOT NULL)"
    )


def _canonical(table: Table, prefix: str = "") -> str:
    """SQL rendering one row as a JSON array of canonical texts."""
    parts = []
    for c in table.columns:
        q = prefix + quote_ident(c.name)
        if c.type == DATE:
            parts.append(f"strftime({q}, '%Y-%m-%d')")
        elif c.type == BOOLEAN:
            parts.append(f"CASE WHEN {q} THEN 'true' WHEN NOT {q} THEN 'false' END")
        else:
            parts.append(f"CAST({q} AS VARCHAR)")
    return f"to_json([{', '.join(parts)}]::VARCHAR[])"


def table_digest(conn: Any, table: Table, relation: str) -> tuple[int, str]:
    """Row count and content digest of one table, computed inside DuckDB."""
    rows = conn.execute(
        f"SELECT count(*), sha256(coalesce(string_agg(sha256({_canonical(table)}), chr(10) "
        f"ORDER BY {quote_ident(table.key)}), '')) FROM {relation}"
    ).fetchall()
    row = rows[0] if rows else None
    assert row is not None
    return int(row[0]), str(row[1])


@dataclass(frozen=True)
class ContentHash:
    digest: str
    row_counts: dict[str, int]


def content_hash(conn: Any, tables: Sequence[Table], profile: str, prefix: str) -> ContentHash:
    """The snapshot hash of ``<prefix><table>`` for every table."""
    lines = [HASH_VERSION, profile]
    counts: dict[str, int] = {}
    for t in tables:
        n, digest = table_digest(conn, t, f"{prefix}{t.name}")
        counts[t.name] = n
        lines.append(f"{t.name}:{n}:{digest}")
    return ContentHash(hashlib.sha256("\n".join(lines).encode()).hexdigest(), counts)


@dataclass(frozen=True)
class Snapshot:
    snapshot_id: int
    content_hash: str
    profile: str
    source: str
    imported_at: Any
    row_counts: dict[str, int]


def current_snapshot(conn: Any, qualifier: str = "") -> Snapshot | None:
    """The current registry snapshot, or None before the first import.

    ``conn`` is a DuckDB or psycopg connection (both have ``execute``).
    """
    import json

    try:
        row = conn.execute(
            "SELECT snapshot_id, content_hash, profile, source, imported_at, "
            f"CAST(row_counts AS VARCHAR) FROM {qualifier}{SNAPSHOTS} WHERE is_current"
        ).fetchone()
    except Exception as exc:  # no snapshots table yet: nothing imported
        if _is_missing_table(exc):
            _rollback_if_postgres(conn)
            return None
        raise
    if row is None:
        return None
    return Snapshot(int(row[0]), row[1], row[2], row[3], row[4], json.loads(row[5]))


def _is_missing_table(exc: Exception) -> bool:
    text = str(exc).lower()
    return "does not exist" in text or "not found" in text or "no such table" in text


def _rollback_if_postgres(conn: Any) -> None:
    if hasattr(conn, "rollback") and type(conn).__module__.startswith("psycopg"):
        conn.rollback()


def record_snapshot(
    conn: Any,
    qualifier: str,
    digest: ContentHash,
    profile: str,
    source: str,
    stamp: dt.datetime,
    placeholder: str = "?",
    dialect: str = "duckdb",
) -> int:
    """Mark earlier snapshots not current and add this one; returns its id."""
    conn.execute(snapshots_ddl(dialect, qualifier))
    row = conn.execute(
        f"SELECT coalesce(max(snapshot_id), 0) + 1 FROM {qualifier}{SNAPSHOTS}"
    ).fetchone()
    snapshot_id = int(row[0])
    conn.execute(f"UPDATE {qualifier}{SNAPSHOTS} SET is_current = false WHERE is_current")
    p = placeholder
    conn.execute(
        f"INSERT INTO {qualifier}{SNAPSHOTS} VALUES ({p}, {p}, {p}, {p}, {p}, {p}, true)",
        (snapshot_id, digest.digest, profile, source, stamp, json.dumps(digest.row_counts)),
    )
    return snapshot_id
