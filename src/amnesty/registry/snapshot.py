"""Registry tables in the target database, and the snapshot that names their content.

The snapshot hash is over normalised content, never file bytes, so the same
registry from Parquet, CSV or JSONL hashes alike (docs/registry.md states it):

* each row is rendered as a JSON array of its values in schema column order, each
  value as text: dates ``YYYY-MM-DD``, booleans ``true``/``false``, integers without
  decimals, doubles in DuckDB's shortest round-trip form, null as JSON ``null`` (so
  null and the empty string differ);
* a table's digest is over those encodings in key order (UTF-8 byte order of the
  table key), each followed by a newline, cut into blocks of ``BLOCK_ROWS`` rows:
  the sha256 of each block's text, then the sha256 of the blocks' hex digests,
  each followed by a newline (an empty table: the sha256 of nothing). The key
  order makes the digest independent of the order rows arrive in; the blocks keep
  every string an auditor's SQL builds bounded (:func:`table_digest_sql` is the
  recipe, in DuckDB SQL). An order-independent sum or XOR of row hashes was
  measured and not taken: it costs one sha256 per row (more than the key sort
  here) and is forgeable (a chosen subset of candidate rows can be found that
  sums or XORs to a target, by Wagner's generalised birthday attack or by linear
  algebra);
* the snapshot hash is the sha256 of ``amnesty-registry-v2``, the profile name and
  one ``table:rows:digest`` line per table in schema order. Snapshots recorded
  before v2 (``hash_version`` null) were hashed by v1: the rows' sha256 hex digests
  sorted by key, joined by newlines, one sha256 per table; they stay as recorded.

Rows amnesty itself appends (release events) are recorded by
:func:`advance_snapshot` as a *derived* snapshot in the writer's transaction: its
hash is :func:`derived_hash` over the parent snapshot's hash, the table name and
the added rows' :func:`canonical_row` encodings in order, which are kept in the
snapshot row (``added_rows``). So a derived hash is reproducible by an auditor from
the imported snapshot plus the ordered added rows. docs/registry.md has the whole
contract.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from amnesty.errors import ConfigError, RegistryError
from amnesty.registry.schema import BOOLEAN, DATE, DOUBLE, INTEGER, Column, Table
from amnesty.registry.sources import quote_ident
from amnesty.store.canonical import registry_row_json, registry_row_sql
from amnesty.store.driver import Sql

if TYPE_CHECKING:
    import pyarrow as pa

    from amnesty.registry.profiles import Profile

HASH_VERSION = "amnesty-registry-v2"
BLOCK_ROWS = 65536
SNAPSHOTS = "registry_snapshots"  # created by the store's revision 0010


def table_ddl(table: Table, dialect: str = "duckdb", qualifier: str = "") -> str:
    """CREATE TABLE for a registry table, compiled from its SQLAlchemy declaration
    (:func:`amnesty.registry.schema.sqlalchemy_table`) for ``dialect`` (``duckdb`` or
    ``postgres``): for tests and tools that build a registry by hand. amnesty's own
    databases get their registry tables from the store's migrations and the import."""
    import sqlalchemy as sa

    from amnesty.registry.schema import sqlalchemy_table

    compiled = sa.schema.CreateTable(sqlalchemy_table(table, sa.MetaData())).compile(
        dialect=_DIALECTS[dialect]()
    )
    head = f"CREATE TABLE {table.name} "
    return str(compiled).strip().replace(head, f"CREATE TABLE {qualifier}{table.name} ", 1)


def _postgres_dialect() -> Any:
    from sqlalchemy.dialects import postgresql

    return postgresql.dialect()


def _duckdb_dialect() -> Any:
    from duckdb_engine import Dialect

    return Dialect()


_DIALECTS = {"duckdb": _duckdb_dialect, "postgres": _postgres_dialect}

SNAPSHOT_KINDS = ("import", "derived")


def canonical_sql(table: Table, prefix: str = "") -> str:
    """DuckDB SQL rendering one row as its canonical encoding (:func:`canonical_row`)."""
    parts = []
    for c in table.columns:
        q = prefix + quote_ident(c.name)
        if c.type == DATE:
            parts.append(f"strftime({q}, '%Y-%m-%d')")
        elif c.type == BOOLEAN:
            parts.append(f"CASE WHEN {q} THEN 'true' WHEN NOT {q} THEN 'false' END")
        else:
            parts.append(f"CAST({q} AS VARCHAR)")
    return registry_row_sql(parts)


def table_digest_sql(table: Table, relation: str) -> str:
    """The table digest as one DuckDB query (row count, digest): the auditor's recipe.

    :func:`table_digest` computes the same two values faster; tests hold them equal.
    """
    key = quote_ident(table.key)
    return (
        f"WITH r AS (SELECT {key} AS k, {canonical_sql(table)} || chr(10) AS line, "
        f"(row_number() OVER (ORDER BY {key}) - 1) // {BLOCK_ROWS} AS block FROM {relation}), "
        "b AS (SELECT block, count(*) AS n, sha256(string_agg(line, '' ORDER BY k)) AS d "
        "FROM r GROUP BY block) "
        "SELECT coalesce(sum(n), 0), sha256(coalesce(string_agg(d || chr(10), '' "
        "ORDER BY block), '')) FROM b"
    )


def digest_lines(lines: Iterable[str]) -> tuple[int, str]:
    """Row count and table digest of canonical encodings already in key order.

    The plain-Python statement of the recipe (module docstring): what an auditor
    writes without a database; :func:`table_digest` and :func:`table_digest_sql`
    must agree with it.
    """
    blocks = hashlib.sha256()
    block = hashlib.sha256()
    n = 0
    for line in lines:
        block.update(line.encode("utf-8") + b"\n")
        n += 1
        if n % BLOCK_ROWS == 0:
            blocks.update(block.hexdigest().encode() + b"\n")
            block = hashlib.sha256()
    if n % BLOCK_ROWS:
        blocks.update(block.hexdigest().encode() + b"\n")
    return n, blocks.hexdigest()


class _BlockHasher:
    """The recipe fed with Arrow arrays of lines (each ending in a newline): the
    bytes are hashed straight from the array's data buffer, block by block."""

    def __init__(self) -> None:
        self.blocks = hashlib.sha256()
        self.block = hashlib.sha256()
        self.rows = 0

    def add(self, lines: pa.Array) -> None:
        import numpy as np
        import pyarrow as pa

        if not (pa.types.is_string(lines.type) or pa.types.is_large_string(lines.type)):
            lines = lines.cast(pa.large_string())
        offsets_type = np.int64 if pa.types.is_large_string(lines.type) else np.int32
        buffers = lines.buffers()
        offsets = np.frombuffer(buffers[1], offsets_type)
        data = memoryview(buffers[2]) if buffers[2] is not None else memoryview(b"")
        start, end = lines.offset, lines.offset + len(lines)
        while start < end:
            room = BLOCK_ROWS - self.rows % BLOCK_ROWS
            stop = min(end, start + room)
            self.block.update(data[int(offsets[start]) : int(offsets[stop])])
            self.rows += stop - start
            start = stop
            if self.rows % BLOCK_ROWS == 0:
                self.blocks.update(self.block.hexdigest().encode() + b"\n")
                self.block = hashlib.sha256()

    def digest(self) -> str:
        """The table digest; call once, after the last ``add``."""
        if self.rows % BLOCK_ROWS:
            self.blocks.update(self.block.hexdigest().encode() + b"\n")
        return self.blocks.hexdigest()


def table_digest(conn: Any, table: Table, relation: str) -> tuple[int, str]:
    """Row count and content digest of one table of a DuckDB connection.

    When the table already holds its rows strictly increasing by key (an extract is
    often written so), that is the key order and the rows are streamed as they are;
    otherwise sorted by key. Only the key column is read to tell, which costs far
    less than the sort it saves. Requires unique keys (the importer checked them).
    """
    key = quote_ident(table.key)
    select = f"SELECT {canonical_sql(table)} || chr(10) AS line FROM {relation}"
    if not _in_key_order(conn, f"SELECT {key} FROM {relation}"):
        select += f" ORDER BY {key}"
    hasher = _BlockHasher()
    # One worker thread hashes a batch while DuckDB renders the next: both release the
    # GIL (hashlib on large buffers, DuckDB while it executes), so the two overlap on
    # two cores. One worker and batches handed over in order keep the digest the
    # recipe's; at most two batches wait, so memory stays bounded.
    with ThreadPoolExecutor(max_workers=1) as worker:
        waiting: deque[Future[None]] = deque()
        for batch in _batches(conn, select):
            waiting.append(worker.submit(hasher.add, batch.column(0)))
            if len(waiting) > 2:
                waiting.popleft().result()
        for done in waiting:
            done.result()
    return hasher.rows, hasher.digest()


def _batches(conn: Any, select: str) -> Iterator[pa.RecordBatch]:
    """Arrow batches of a query on a cursor of its own, closed at the end."""
    cursor = conn.cursor()
    reader = cursor.sql(select).to_arrow_reader(1 << 17)
    try:
        yield from reader
    finally:
        reader.close()
        cursor.close()


def _in_key_order(conn: Any, select: str) -> bool:
    """Whether the keys come strictly increasing (so unique, and no null)."""
    import pyarrow.compute as pc

    last: Any = None  # the previous batch's last key
    for batch in _batches(conn, select):
        keys = batch.column(0)
        if len(keys) == 0:
            continue
        if keys.null_count or (last is not None and not last < keys[0].as_py()):
            return False
        if len(keys) > 1 and not pc.all(pc.less(keys[:-1], keys[1:])).as_py():
            return False
        last = keys[-1].as_py()
    return True


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
    kind: str = "import"  # "import" (a full extract) or "derived" (rows amnesty added)
    parent_id: int | None = None
    hash_version: str | None = None  # None: recorded before v2 (an import hashed by v1)
    # The profile's content hash and normalised document (TOML); None on snapshots
    # recorded before revision 0010.
    profile_hash: str | None = None
    profile_document: str | None = None

    def profile_object(self) -> Profile:
        """The profile this registry was imported under: rebuilt from the document kept
        in the snapshot (so found again when its file moved), else looked up by name."""
        from amnesty.registry.profiles import get_profile, profile_from_stored

        if self.profile_document is not None:
            return profile_from_stored(self.profile, self.profile_document, self.profile_hash)
        return get_profile(self.profile)


def current_snapshot(conn: Any, qualifier: str = "") -> Snapshot | None:
    """The current registry snapshot, or None before the first import.

    ``conn`` is a DuckDB, psycopg or SQLAlchemy connection.
    """
    sql = Sql(conn)
    try:
        result = sql.run(f"SELECT * FROM {qualifier}{SNAPSHOTS} WHERE is_current")
        names = _column_names(result)
        found = result.fetchall()  # fetch to the end: DuckDB keeps a half-read result open
    except Exception as exc:  # no snapshots table yet: nothing imported
        if _is_missing_table(exc):
            sql.after_error()
            return None
        raise
    if not found:
        return None
    return _snapshot(dict(zip(names, found[0], strict=True)))


def _column_names(result: Any) -> list[str]:
    if hasattr(result, "keys"):  # SQLAlchemy
        return list(result.keys())
    return [d[0] for d in result.description]


def _snapshot(r: dict[str, Any]) -> Snapshot:
    counts = r["row_counts"]
    parent = r.get("parent_id")
    return Snapshot(
        int(r["snapshot_id"]),
        r["content_hash"],
        r["profile"],
        r["source"],
        r["imported_at"],
        json.loads(counts) if isinstance(counts, str) else dict(counts),
        r.get("kind") or "import",
        None if parent is None else int(parent),
        r.get("hash_version"),
        r.get("profile_hash"),
        r.get("profile_document"),
    )


def _is_missing_table(exc: Exception) -> bool:
    text = str(exc).lower()
    return "does not exist" in text or "not found" in text or "no such table" in text


def record_snapshot(
    conn: Any,
    qualifier: str,
    digest: ContentHash,
    profile: str,
    source: str,
    stamp: dt.datetime,
    profile_hash: str | None = None,
    profile_document: str | None = None,
) -> int:
    """Record an import: mark earlier snapshots not current and add this one; its id.

    Runs inside the import's write transaction, after the tables are replaced.
    """
    sql = Sql(conn)
    sql.lock(SNAPSHOTS)
    current = current_snapshot(conn, qualifier)
    return _insert_snapshot(
        sql,
        qualifier,
        digest.digest,
        profile,
        source,
        stamp,
        digest.row_counts,
        kind="import",
        parent_id=None if current is None else current.snapshot_id,
        profile_hash=profile_hash,
        profile_document=profile_document,
    )


def _insert_snapshot(
    sql: Sql,
    qualifier: str,
    content_hash: str,
    profile: str,
    source: str,
    stamp: dt.datetime,
    row_counts: dict[str, int],
    *,
    kind: str,
    parent_id: int | None,
    added_table: str | None = None,
    added_rows: list[str] | None = None,
    profile_hash: str | None = None,
    profile_document: str | None = None,
) -> int:
    table = f"{qualifier}{SNAPSHOTS}"
    snapshot_id = int(sql.rows(f"SELECT coalesce(max(snapshot_id), 0) + 1 FROM {table}")[0][0])
    sql.run(f"UPDATE {table} SET is_current = false WHERE is_current")
    rows_json = None if added_rows is None else "[" + ",".join(added_rows) + "]"
    sql.run(
        f"INSERT INTO {table} (snapshot_id, content_hash, profile, source, imported_at, "
        "row_counts, is_current, parent_id, kind, added_table, added_rows, hash_version, "
        "profile_hash, profile_document) VALUES (?, ?, ?, ?, ?, ?, true, ?, ?, ?, ?, ?, ?, ?)",
        (
            snapshot_id,
            content_hash,
            profile,
            source,
            stamp,
            json.dumps(row_counts),
            parent_id,
            kind,
            added_table,
            rows_json,
            HASH_VERSION if kind == "import" else DERIVED_VERSION,
            profile_hash,
            profile_document,
        ),
    )
    return snapshot_id


# --- derived snapshots: rows amnesty itself adds to the registry -------------------

DERIVED_VERSION = "amnesty-registry-derived-v1"


def _value_text(column: Column, value: Any) -> str | None:
    """One value as canonical text (see the module docstring); None for null."""
    if value is None:
        return None
    if column.type == DATE:
        if isinstance(value, dt.datetime):
            value = value.date()
        if isinstance(value, str):
            value = dt.date.fromisoformat(value)
        if not isinstance(value, dt.date):
            raise RegistryError(f"{column.name}: expected a date, got {value!r}")
        return value.isoformat()
    if column.type == BOOLEAN:
        if not isinstance(value, bool):
            raise RegistryError(f"{column.name}: expected true or false, got {value!r}")
        return "true" if value else "false"
    if column.type == INTEGER:
        if isinstance(value, bool) or not isinstance(value, int):
            raise RegistryError(f"{column.name}: expected a whole number, got {value!r}")
        return str(value)
    if column.type == DOUBLE:
        number = float(value)
        if number == 0:
            return "0.0"  # DuckDB prints -0.0 as 0.0
        if math.isnan(number):
            return "nan"
        return repr(number)
    return str(value)


def canonical_row(table: Table, row: Mapping[str, Any]) -> str:
    """One row in the canonical encoding the importer hashes: a JSON array of the
    values as text, in schema column order, without spaces.

    A column missing from ``row`` is null; a key that is not a column is an error.
    Equal, character for character, to what the importer computes inside DuckDB.
    """
    unknown = set(row) - set(table.column_names)
    if unknown:
        raise RegistryError(
            f"{table.name} has no column {', '.join(sorted(unknown))}; "
            f"expected {', '.join(table.column_names)}"
        )
    return registry_row_json([_value_text(c, row.get(c.name)) for c in table.columns])


def derived_hash(parent_hash: str, table: str, canonical_rows: Sequence[str]) -> str:
    """The content hash of a derived snapshot: sha256 over the lines
    ``amnesty-registry-derived-v1``, the parent's hash, the table name, the number
    of added rows, then each added row's canonical encoding, in the order added."""
    lines = [DERIVED_VERSION, parent_hash, table, str(len(canonical_rows)), *canonical_rows]
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def _as_dicts(rows: Any) -> list[Mapping[str, Any]]:
    if hasattr(rows, "to_pylist"):  # a pyarrow Table or RecordBatch
        return list(rows.to_pylist())
    return list(rows)


def advance_snapshot(
    conn: Any,
    *,
    table: str,
    rows: pa.Table | Sequence[Mapping[str, Any]],
    source: str,
    stamp: dt.datetime | None = None,
) -> str:
    """Record that amnesty added ``rows`` to registry table ``table``; the new hash.

    Call it in the same transaction as the INSERT of those rows, on the same
    connection (DuckDB, psycopg 3, or a SQLAlchemy ``Connection``), so that the
    rows and the snapshot that names them commit or roll back together. It adds a
    ``registry_snapshots`` row of kind ``derived`` whose parent is the current
    snapshot and makes it current. ``source`` says who added the rows (``"release
    run R person P"``); ``stamp`` defaults to now (a record time, not a legal date).

    The new hash is :func:`derived_hash` of the current hash, the table name and the
    rows' :func:`canonical_row` encodings in the given order; the encodings are kept
    in the snapshot's ``added_rows`` so that an auditor can recompute the chain from
    the imported snapshot. An empty ``rows`` records nothing and returns the current
    hash. Raises :class:`RegistryError` before any registry was imported, for a table
    the profile lacks, or for a value of the wrong type.
    """
    return record_derived(
        Sql(conn),
        "",
        table=table,
        rows=_as_dicts(rows),
        source=source,
        stamp=stamp or dt.datetime.now(dt.UTC),
    )


def record_derived(
    sql: Sql,
    qualifier: str,
    *,
    table: str,
    rows: list[Mapping[str, Any]] | None = None,
    encoded: list[str] | None = None,
    source: str,
    stamp: dt.datetime,
) -> str:
    sql.lock(SNAPSHOTS)
    current = current_snapshot(sql.conn, qualifier)
    if current is None:
        raise RegistryError(
            f"cannot record rows added to {table}: no registry has been imported into this "
            "database; run amnesty registry import first"
        )
    try:
        schema = current.profile_object().table(table)
    except (KeyError, ConfigError) as exc:
        raise RegistryError(
            f"cannot record rows added to {table}: profile {current.profile} has no such table"
        ) from exc
    if encoded is None:
        encoded = [canonical_row(schema, r) for r in rows or []]
    if not encoded:
        return current.content_hash
    # No DDL here: this runs inside a release's transaction, and revision 0010 made
    # the snapshots table with every column it writes.
    new_hash = derived_hash(current.content_hash, table, encoded)
    counts = dict(current.row_counts)
    counts[table] = counts.get(table, 0) + len(encoded)
    _insert_snapshot(
        sql,
        qualifier,
        new_hash,
        current.profile,
        source,
        stamp,
        counts,
        kind="derived",
        parent_id=current.snapshot_id,
        added_table=table,
        added_rows=encoded,
        profile_hash=current.profile_hash,
        profile_document=current.profile_document,
    )
    return new_hash


@dataclass(frozen=True)
class Derived:
    """A derived snapshot: rows amnesty added since the last import."""

    snapshot_id: int
    source: str
    table: str
    rows: list[str]  # canonical encodings, in the order added


def derived_since_import(conn: Any, qualifier: str = "") -> list[Derived]:
    """Derived snapshots recorded after the most recent import, oldest first."""
    sql = Sql(conn)
    table = f"{qualifier}{SNAPSHOTS}"
    found = sql.rows(
        f"SELECT snapshot_id, source, added_table, CAST(added_rows AS VARCHAR) FROM {table} "
        "WHERE kind = 'derived' AND snapshot_id > "
        f"(SELECT coalesce(max(snapshot_id), 0) FROM {table} WHERE kind = 'import') "
        "ORDER BY snapshot_id"
    )
    return [
        Derived(int(i), src, tbl, [canonical_json(r) for r in json.loads(rows or "[]")])
        for i, src, tbl, rows in found
    ]


def canonical_json(values: Sequence[str | None]) -> str:
    """A decoded canonical row (a list of texts and nulls) encoded again."""
    return registry_row_json(values)


def last_import(conn: Any, qualifier: str = "") -> Snapshot | None:
    """The most recent snapshot of kind ``import``."""
    sql = Sql(conn)
    result = sql.run(
        f"SELECT * FROM {qualifier}{SNAPSHOTS} WHERE coalesce(kind, 'import') = 'import' "
        "ORDER BY snapshot_id DESC LIMIT 1"
    )
    names = _column_names(result)
    found = result.fetchall()
    return _snapshot(dict(zip(names, found[0], strict=True))) if found else None
