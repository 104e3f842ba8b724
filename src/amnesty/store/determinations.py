"""Determinations in the store: Arrow in, canonical text at rest, a digest over them.

The engine hands over an Arrow table (:data:`DETERMINATION_SCHEMA`). At rest
every list column is canonical JSON text (``amnesty.audit.chain.canonical_json``),
so DuckDB and PostgreSQL hold the same bytes and the digest below can be
recomputed from either, or from an export, by anyone.

The digest of a run is the sha256 of its determinations, one line each, in
person_id order (Unicode code point order), each line the canonical JSON array
``[person_id, facility_id, outcome, relief, grounds, blocking, referred,
unknown, undertakings]`` followed by ``\\n``.

Each stored row also keeps ``row_hash``, the first 16 hex digits of the sha256
of its digest line (newline included): when a run's digest no longer matches,
``audit verify`` uses it to name the persons whose rows were edited.

Bulk paths: DuckDB reads the Arrow table in place; PostgreSQL gets a CSV
stream through COPY. Per-row INSERTs would take minutes for a national
registry.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Iterable, Iterator
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from sqlalchemy.engine import Connection

from amnesty.errors import EngineError
from amnesty.store.db import DatabaseURL

LIST_COLUMNS = ("grounds", "blocking", "referred", "unknown", "undertakings")
SCALAR_COLUMNS = ("person_id", "facility_id", "outcome", "relief")
STORED_COLUMNS = (*SCALAR_COLUMNS, *LIST_COLUMNS)  # also the digest's field order
OUTCOMES = ("eligible", "ineligible", "review")

_UNKNOWN_ITEM = pa.struct([("clause", pa.string()), ("missing", pa.list_(pa.string()))])
DETERMINATION_SCHEMA = pa.schema(
    [
        ("person_id", pa.string()),
        ("facility_id", pa.string()),
        ("outcome", pa.string()),
        ("relief", pa.string()),
        ("grounds", pa.list_(pa.string())),
        ("blocking", pa.list_(pa.string())),
        ("referred", pa.list_(pa.string())),
        ("unknown", pa.list_(_UNKNOWN_ITEM)),
        ("undertakings", pa.list_(pa.string())),
    ]
)

_string = json.JSONEncoder(ensure_ascii=False).encode  # a str's JSON literal, in C
_canonical = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode
# What JSON must escape; text without these is its own JSON string body.
_NEEDS_ESCAPE = r'["\\\x00-\x1f]'


def to_stored(table: pa.Table) -> pa.Table:
    """The stored text form, sorted by person_id; rejects what the table must not hold."""
    missing = [c for c in STORED_COLUMNS if c not in table.column_names]
    if missing:
        raise EngineError(
            f"determinations lack column(s) {', '.join(missing)}; "
            f"expected {', '.join(STORED_COLUMNS)}"
        )
    table = table.select(list(STORED_COLUMNS)).combine_chunks()
    person = table.column("person_id")
    if person.null_count:
        raise EngineError("determinations: person_id is null in some row")
    if pc.count_distinct(person).as_py() != table.num_rows:
        raise EngineError("determinations: a person_id occurs twice; one row per person")
    bad = pc.invert(pc.is_in(table.column("outcome"), pa.array(OUTCOMES)))
    if pc.any(bad).as_py():
        sample = pc.filter(table.column("outcome"), bad)[0].as_py()
        raise EngineError(f"determinations: outcome {sample!r}; expected one of {OUTCOMES}")
    table = table.take(pc.sort_indices(table, sort_keys=[("person_id", "ascending")]))
    columns: dict[str, Any] = {
        c: table.column(c).cast(pa.string()).combine_chunks() for c in SCALAR_COLUMNS
    }
    for name in LIST_COLUMNS:
        columns[name] = _json_lists(table.column(name).combine_chunks())
    stored = pa.table(columns)
    return stored.append_column("row_hash", row_hashes(digest_lines(stored)))


def _json_lists(values: pa.Array) -> pa.Array:
    """Canonical JSON text of each list (a null list is stored as ``[]``)."""
    empty = pc.fill_null(pc.equal(pc.list_value_length(values), 0), True)
    if pa.types.is_string(values.type.value_type) and not _any_needs_escape(
        pc.list_flatten(values)
    ):
        joined = pc.binary_join_element_wise('["', pc.binary_join(values, '","'), '"]', "")
        return pc.if_else(empty, "[]", joined)
    # Lists of structs (``unknown``) or text needing escapes: only the non-empty ones in Python.
    out = ["[]"] * len(values)
    positions = pc.indices_nonzero(pc.invert(empty))
    taken = values.take(positions).to_pylist()
    for pos, value in zip(positions.to_pylist(), taken, strict=True):
        out[pos] = _canonical(value)
    return pa.array(out, pa.string())


def _any_needs_escape(strings: pa.Array) -> bool:
    return bool(pc.any(pc.match_substring_regex(strings, _NEEDS_ESCAPE)).as_py())


def _json_scalars(values: pa.Array) -> pa.Array:
    """The JSON literal of each string; ``null`` for a null."""
    if _any_needs_escape(values):
        return pa.array(["null" if v is None else _string(v) for v in values.to_pylist()])
    quoted = pc.binary_join_element_wise('"', values, '"', "")
    return pc.fill_null(quoted, "null")


def digest_lines(rows: pa.Table | pa.RecordBatch) -> pa.Array:
    """Each stored row's digest line: its canonical JSON array and a newline."""
    parts: list[Any] = ["["]
    for i, name in enumerate(STORED_COLUMNS):
        column = rows.column(name)
        if isinstance(column, pa.ChunkedArray):
            column = column.combine_chunks()
        parts.append(_json_scalars(column) if name in SCALAR_COLUMNS else column)
        parts.append("," if i < len(STORED_COLUMNS) - 1 else "]\n")
    lines = pc.binary_join_element_wise(*parts, "").cast(pa.string())
    if lines.null_count:
        raise EngineError("determinations: a list column is null in the stored rows")
    return lines


def row_hashes(lines: pa.Array) -> pa.Array:
    """First 16 hex digits of each line's sha256 (``row_hash``)."""
    sha = hashlib.sha256
    return pa.array(
        [sha(line.encode("utf-8")).hexdigest()[:16] for line in lines.to_pylist()], pa.string()
    )


def digest_batches(batches: Iterable[pa.RecordBatch | pa.Table]) -> str:
    """The run digest over stored rows, given in person_id order."""
    digest = hashlib.sha256()
    for batch in batches:
        if batch.num_rows == 0:
            continue
        lines = digest_lines(batch)
        # A string array's value buffer holds its strings end to end: exactly the lines.
        offsets = pa.Array.from_buffers(
            pa.int32(), len(lines) + 1, [None, lines.buffers()[1]], offset=lines.offset
        )
        start, stop = offsets[0].as_py(), offsets[-1].as_py()
        digest.update(memoryview(lines.buffers()[2])[start:stop])
    return digest.hexdigest()


def digest_stored(stored: pa.Table) -> str:
    return digest_batches(stored.select(list(STORED_COLUMNS)).to_batches(200_000))


def changed_rows(batches: Iterable[pa.RecordBatch]) -> list[str]:
    """person_ids whose stored content no longer matches their ``row_hash``."""
    changed: list[str] = []
    for batch in batches:
        recomputed = row_hashes(digest_lines(batch))
        differs = pc.invert(pc.equal(recomputed, batch.column("row_hash")).fill_null(False))
        changed.extend(pc.filter(batch.column("person_id"), differs).to_pylist())
    return changed


def insert_stored(connection: Connection, db: DatabaseURL, run_id: str, stored: pa.Table) -> None:
    """Bulk-insert one run's stored rows inside ``connection``'s transaction."""
    with_run = stored.add_column(0, "run_id", pa.array([run_id] * stored.num_rows, pa.string()))
    columns = ", ".join(with_run.column_names)
    raw: Any = connection.connection.driver_connection
    if db.is_duckdb:
        view = "amnesty_determinations_in"
        raw.register(view, with_run)
        try:
            raw.execute(f"INSERT INTO determinations ({columns}) SELECT {columns} FROM {view}")
        finally:
            raw.unregister(view)
        return
    buffer = io.BytesIO()
    # Quoted "" is an empty string and an unquoted empty field is NULL in PostgreSQL's CSV.
    pacsv.write_csv(with_run, buffer, write_options=pacsv.WriteOptions(include_header=False))
    with (
        raw.cursor() as cursor,
        cursor.copy(f"COPY determinations ({columns}) FROM STDIN (FORMAT csv)") as copy,
    ):
        view_bytes = buffer.getbuffer()
        for start in range(0, len(view_bytes), 1 << 20):
            copy.write(view_bytes[start : start + (1 << 20)])


def stored_batches(
    connection: Connection,
    db: DatabaseURL,
    run_id: str,
    batch_rows: int = 100_000,
    with_row_hash: bool = False,
) -> Iterator[pa.RecordBatch]:
    """A run's stored rows (``STORED_COLUMNS``) in digest order, streamed in batches."""
    names = [*STORED_COLUMNS, "row_hash"] if with_row_hash else list(STORED_COLUMNS)
    columns = ", ".join(names)
    raw: Any = connection.connection.driver_connection
    if db.is_duckdb:
        yield from raw.sql(
            f"SELECT {columns} FROM determinations WHERE run_id = $1 ORDER BY person_id",
            params=[run_id],
        ).to_arrow_reader(batch_rows)
        return
    schema = pa.schema([(c, pa.string()) for c in names])
    # A named (server-side) cursor streams; COLLATE "C" sorts by code point whatever the locale.
    with raw.cursor(name="amnesty_determinations_out") as cursor:
        cursor.execute(
            f"SELECT {columns} FROM determinations WHERE run_id = %s "
            'ORDER BY person_id COLLATE "C"',
            [run_id],
        )
        while rows := cursor.fetchmany(batch_rows):
            yield pa.RecordBatch.from_arrays(
                [pa.array(list(col), pa.string()) for col in zip(*rows, strict=True)],
                schema=schema,
            )


def from_stored_batches(batches: Iterable[pa.RecordBatch]) -> pa.Table:
    """Stored rows back to the engine's Arrow shape."""
    loads = json.loads
    out: list[pa.RecordBatch] = []
    for batch in batches:
        arrays: list[pa.Array] = []
        for name in STORED_COLUMNS:
            column = batch.column(name)
            if name in SCALAR_COLUMNS:
                arrays.append(column.cast(pa.string()))
                continue
            values = [[] if v == "[]" else loads(v) for v in column.to_pylist()]
            arrays.append(pa.array(values, DETERMINATION_SCHEMA.field(name).type))
        out.append(pa.RecordBatch.from_arrays(arrays, schema=DETERMINATION_SCHEMA))
    return pa.Table.from_batches(out, schema=DETERMINATION_SCHEMA)
