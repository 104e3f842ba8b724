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

No per-person Python on these paths: an in-memory DuckDB over the Arrow
table writes the canonical text (``to_json``) and the row hashes (``sha256``),
and the digest hashes the lines' Arrow buffer; reading back, DuckDB's
``from_json`` turns the text into lists again. DuckDB writes a control
character's escape as ``\\u001F`` where Python writes ``\\u001f``: only rows whose
text holds one are encoded again in Python. The store gets the rows in bulk:
DuckDB reads the Arrow table in place; PostgreSQL gets a CSV stream through
COPY and gives one back (``COPY ... TO STDOUT``) that Arrow parses.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any, cast

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from sqlalchemy.engine import Connection

from amnesty.errors import EngineError
from amnesty.store.canonical import NEEDS_ESCAPE, json_string, record_json
from amnesty.store.engine import as_url

if TYPE_CHECKING:
    from amnesty.store.database import DatabaseLike

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

# record-json-v1 (amnesty.store.canonical): a str's JSON literal, the whole encoding, and
# what it must escape (text without these is its own JSON string body).
_string = json_string
_canonical = record_json
_NEEDS_ESCAPE = NEEDS_ESCAPE


def to_stored(table: pa.Table) -> pa.Table:
    """The stored text form, sorted by person_id; rejects what the table must not hold.

    Set-based: an in-memory DuckDB encodes the lists (``to_json``) and hashes the
    digest lines (``sha256``) over the Arrow table; see :func:`stored_and_digest`.
    """
    return stored_and_digest(table)[0]


def stored_and_digest(table: pa.Table) -> tuple[pa.Table, str]:
    """The stored rows (with ``row_hash``, in person_id order) and the run digest."""
    table = _checked(table)
    table = table.take(pc.sort_indices(table.column("person_id")))  # code point order
    person = table.column("person_id")
    if (
        table.num_rows > 1
        and pc.any(pc.equal(person.slice(0, table.num_rows - 1), person.slice(1))).as_py()
    ):
        raise EngineError("determinations: a person_id occurs twice; one row per person")
    con = duckdb.connect()
    try:
        con.execute("SET preserve_insertion_order = true")
        con.register("amnesty_in", table.append_column("amnesty_pos", _positions(table.num_rows)))
        encoded = _arrow(con.sql(_ENCODE_SQL))
    finally:
        con.close()
    pos = encoded.column("amnesty_pos")
    if not pc.all(pc.equal(pos, _positions(table.num_rows))).as_py():
        encoded = encoded.take(pc.sort_indices(pos))
    encoded = _patch_escapes(table, encoded)
    digest = hashlib.sha256()
    for lines in encoded.column("amnesty_line").chunks:
        _hash_lines(digest, lines)
    stored = pa.table(
        {
            **{c: table.column(c) for c in SCALAR_COLUMNS},
            **{c: encoded.column(c) for c in (*LIST_COLUMNS, "row_hash")},
        }
    )
    return stored, digest.hexdigest()


def _checked(table: pa.Table) -> pa.Table:
    missing = [c for c in STORED_COLUMNS if c not in table.column_names]
    if missing:
        raise EngineError(
            f"determinations lack column(s) {', '.join(missing)}; "
            f"expected {', '.join(STORED_COLUMNS)}"
        )
    table = table.select(list(STORED_COLUMNS))
    try:
        table = table.cast(DETERMINATION_SCHEMA)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as exc:
        raise EngineError(
            f"determinations do not have the engine's column types ({exc}); "
            "expected amnesty.store.determinations.DETERMINATION_SCHEMA"
        ) from exc
    if table.column("person_id").null_count:
        raise EngineError("determinations: person_id is null in some row")
    bad = pc.invert(pc.is_in(table.column("outcome"), pa.array(OUTCOMES)))
    if pc.any(bad).as_py():
        sample = pc.filter(table.column("outcome"), bad)[0].as_py()
        raise EngineError(f"determinations: outcome {sample!r}; expected one of {OUTCOMES}")
    return table


def _positions(n: int) -> pa.Array:
    return pa.array(np.arange(n, dtype=np.int64))


def _arrow(relation: Any) -> pa.Table:
    """A DuckDB relation as an Arrow table (2.x: ``to_arrow_table``; 1.x: ``arrow``)."""
    fetch = getattr(relation, "to_arrow_table", None) or relation.arrow
    result = fetch()
    if isinstance(result, pa.RecordBatchReader):
        result = result.read_all()
    return cast(pa.Table, result)


# The digest line of stored text columns, in SQL: the same bytes as digest_lines().
_LINE_SQL = (
    "'[' || "
    + " || ',' || ".join(
        f"coalesce(to_json({c})::VARCHAR, 'null')" if c in SCALAR_COLUMNS else c
        for c in STORED_COLUMNS
    )
    + " || ']' || chr(10)"
)
# DuckDB writes a control character's escape in upper case (\u001F), Python in lower
# case (\u001f): rows whose line has such an escape are redone in Python.
_UPPER_ESCAPE = r"\\u00[01][A-F]"
_ENCODE_SQL = f"""
WITH stored AS (
    SELECT amnesty_pos, {", ".join(SCALAR_COLUMNS)},
        {", ".join(f"coalesce(to_json({c})::VARCHAR, '[]') AS {c}" for c in LIST_COLUMNS)}
    FROM amnesty_in
), lined AS (
    SELECT *, {_LINE_SQL} AS amnesty_line FROM stored
)
SELECT amnesty_pos, {", ".join(LIST_COLUMNS)}, amnesty_line,
    substr(sha256(amnesty_line), 1, 16) AS row_hash,
    regexp_matches(amnesty_line, '{_UPPER_ESCAPE}') AS amnesty_redo
FROM lined
"""
_ENCODED = (*LIST_COLUMNS, "amnesty_line", "row_hash")


def _patch_escapes(table: pa.Table, encoded: pa.Table) -> pa.Table:
    """Re-encode in Python the (rare) rows whose text has control characters.

    ``table`` and ``encoded`` are row-aligned; returns ``_ENCODED`` as strings.
    """
    columns = {name: encoded.column(name).cast(pa.string()) for name in _ENCODED}
    redo = pc.fill_null(encoded.column("amnesty_redo"), False).combine_chunks()
    if not pc.any(redo).as_py():
        return pa.table(columns)
    fixed: dict[str, list[str]] = {name: [] for name in _ENCODED}
    for row in table.filter(redo).to_pylist():
        for name in LIST_COLUMNS:
            row[name] = row[name] or []
            fixed[name].append(_canonical(row[name]))
        line = _canonical([row[c] for c in STORED_COLUMNS]) + "\n"
        fixed["amnesty_line"].append(line)
        fixed["row_hash"].append(hashlib.sha256(line.encode("utf-8")).hexdigest()[:16])
    patched = {
        name: pc.replace_with_mask(
            columns[name].combine_chunks(), redo, pa.array(fixed[name], pa.string())
        )
        for name in _ENCODED
    }
    return pa.table(patched)


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


def _any_needs_escape(strings: pa.Array) -> bool:
    return bool(pc.any(pc.match_substring_regex(strings, _NEEDS_ESCAPE)).as_py())


def _json_scalars(values: pa.Array) -> pa.Array:
    """The JSON literal of each string; ``null`` for a null."""
    if _any_needs_escape(values):
        return pa.array(["null" if v is None else _string(v) for v in values.to_pylist()])
    quoted = pc.binary_join_element_wise('"', values, '"', "")
    return pc.fill_null(quoted, "null")


def row_hashes(lines: pa.Array) -> pa.Array:
    """First 16 hex digits of each line's sha256 (``row_hash``), computed in DuckDB."""
    con = duckdb.connect()
    try:
        con.register("amnesty_lines", pa.table({"line": lines}))
        hashed = _arrow(con.sql("SELECT substr(sha256(line), 1, 16) AS h FROM amnesty_lines"))
    finally:
        con.close()
    return hashed.column("h").combine_chunks().cast(pa.string())


def _hash_lines(digest: Any, lines: pa.Array) -> None:
    """Feed a string array's values, end to end, to ``digest`` (no per-row Python)."""
    if len(lines) == 0:
        return
    # A string array's value buffer holds its strings end to end: exactly the lines.
    offsets = pa.Array.from_buffers(
        pa.int32(), len(lines) + 1, [None, lines.buffers()[1]], offset=lines.offset
    )
    start, stop = offsets[0].as_py(), offsets[-1].as_py()
    digest.update(memoryview(lines.buffers()[2])[start:stop])


def digest_batches(batches: Iterable[pa.RecordBatch | pa.Table]) -> str:
    """The run digest over stored rows, given in person_id order."""
    digest = hashlib.sha256()
    for batch in batches:
        if batch.num_rows:
            _hash_lines(digest, digest_lines(batch))
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


def insert_stored(connection: Connection, db: DatabaseLike, run_id: str, stored: pa.Table) -> None:
    """Bulk-insert one run's stored rows inside ``connection``'s transaction."""
    with_run = stored.add_column(0, "run_id", pa.array([run_id] * stored.num_rows, pa.string()))
    columns = ", ".join(with_run.column_names)
    raw: Any = connection.connection.driver_connection
    if as_url(db).is_duckdb:
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
    db: DatabaseLike,
    run_id: str,
    batch_rows: int = 100_000,
    with_row_hash: bool = False,
) -> Iterator[pa.RecordBatch]:
    """A run's stored rows (``STORED_COLUMNS``) in digest order, streamed in batches."""
    names = [*STORED_COLUMNS, "row_hash"] if with_row_hash else list(STORED_COLUMNS)
    columns = ", ".join(names)
    raw: Any = connection.connection.driver_connection
    if as_url(db).is_duckdb:
        yield from raw.sql(
            f"SELECT {columns} FROM determinations WHERE run_id = $1 ORDER BY person_id",
            params=[run_id],
        ).to_arrow_reader(batch_rows)
        return
    # COPY streams CSV, parsed by Arrow: no Python object per row. COLLATE "C" sorts by
    # code point whatever the locale. In PostgreSQL's CSV a quoted "" is an empty string
    # and an unquoted empty field is NULL.
    from psycopg import sql as psql

    query = psql.SQL(
        "COPY (SELECT {columns} FROM determinations WHERE run_id = {run_id} "
        'ORDER BY person_id COLLATE "C") TO STDOUT (FORMAT csv)'
    ).format(columns=psql.SQL(columns), run_id=psql.Literal(run_id))
    with raw.cursor() as cursor, cursor.copy(query) as copy:
        reader = pacsv.open_csv(
            _CopyReader(copy),
            read_options=pacsv.ReadOptions(
                column_names=names, use_threads=False, block_size=8 << 20
            ),
            parse_options=pacsv.ParseOptions(newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(
                column_types={c: pa.string() for c in names},
                strings_can_be_null=True,
                quoted_strings_can_be_null=False,
                null_values=[""],
            ),
        )
        for batch in reader:
            for start in range(0, batch.num_rows, batch_rows):
                yield batch.slice(start, batch_rows)


class _CopyReader:
    """A psycopg COPY TO STDOUT as a file Arrow reads: whole blocks, not one row per read."""

    def __init__(self, copy: Any) -> None:
        self._chunks = iter(copy)
        self._pending = b""
        self.closed = False

    def read(self, size: int = -1) -> bytes:
        parts = [self._pending]
        have = len(self._pending)
        while size < 0 or have < size:
            chunk = next(self._chunks, None)
            if chunk is None:
                break
            parts.append(bytes(chunk))
            have += len(chunk)
        data = b"".join(parts)
        if size < 0 or len(data) <= size:
            self._pending = b""
            return data
        self._pending = data[size:]
        return data[:size]

    def close(self) -> None:
        self.closed = True


# The JSON text of each list column back to its Arrow list type, in DuckDB.
_JSON_SHAPES = {
    "grounds": '["VARCHAR"]',
    "blocking": '["VARCHAR"]',
    "referred": '["VARCHAR"]',
    "unknown": '[{"clause":"VARCHAR","missing":["VARCHAR"]}]',
    "undertakings": '["VARCHAR"]',
}
_DECODE_SQL = (
    "SELECT "
    + ", ".join(
        f"from_json({c}, '{_JSON_SHAPES[c]}') AS {c}"
        if c in LIST_COLUMNS
        else f"{c}::VARCHAR AS {c}"
        for c in STORED_COLUMNS
    )
    + " FROM amnesty_stored ORDER BY amnesty_pos"
)


def from_stored_batches(batches: Iterable[pa.RecordBatch]) -> pa.Table:
    """Stored rows back to the engine's Arrow shape, in the order given (set-based)."""
    schema = pa.schema([(c, pa.string()) for c in STORED_COLUMNS])
    stored = pa.Table.from_batches(
        [b.select(list(STORED_COLUMNS)).cast(schema) for b in batches], schema=schema
    )
    con = duckdb.connect()
    try:
        con.register(
            "amnesty_stored", stored.append_column("amnesty_pos", _positions(stored.num_rows))
        )
        decoded = _arrow(con.sql(_DECODE_SQL))
    finally:
        con.close()
    return decoded.cast(DETERMINATION_SCHEMA)
