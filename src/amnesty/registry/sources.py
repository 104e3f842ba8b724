"""Find a registry's source files and load them, as text, into a staging DuckDB.

Every column is loaded as VARCHAR whatever the file format, so that typing is one
set-based step (``validate``) that turns a value that does not cast into a
rejection instead of a crash, and so that CSV, JSONL and Parquet of the same data
go through exactly the same rules. The one exception is a Parquet column whose
stored type already is the schema's type (an INTEGER column stored as int32, a DATE
as date32...): it is loaded typed, since no value of it can fail the cast, and
``validate`` uses it as it is; every other rule applies to it unchanged.

Each loaded table ``raw_<table>`` carries ``__row``: the 1-based data row in the
source file. Parquet gives it through ``file_row_number``. CSV and JSONL readers
have no such column, so we number rows with ``row_number() OVER ()`` directly over
the single-table scan: DuckDB documents that a scan of one table and a window
with an empty ``OVER ()`` keep the file's order while ``preserve_insertion_order``
is on, which :func:`load_sources` sets explicitly (tests check it on files large
enough to be read by several threads).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from amnesty.errors import ConfigError, Rejection
from amnesty.registry.schema import Table

EXTENSIONS = (".parquet", ".csv", ".jsonl")
ROW = "__row"
IGNORED_FILES = ("manifest.json", "dirty_manifest.json")


@dataclass(frozen=True)
class SourceFile:
    table: str
    path: Path

    @property
    def format(self) -> str:
        return self.path.suffix.lstrip(".")


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def quote_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def find_sources(
    directory: Path, tables: Sequence[Table]
) -> tuple[dict[str, SourceFile], list[Rejection]]:
    """Map each table to its one file; a missing, doubled or unknown table is rejected."""
    if not directory.is_dir():
        raise ConfigError(
            f"{directory}: not a directory; expected a folder of <table>.parquet, "
            "<table>.csv or <table>.jsonl files"
        )
    known = {t.name for t in tables}
    found: dict[str, list[Path]] = {}
    rejections: list[Rejection] = []
    for path in sorted(directory.iterdir()):
        if path.suffix not in EXTENSIONS or not path.is_file():
            continue
        if path.stem not in known:
            rejections.append(
                Rejection(
                    path.stem,
                    None,
                    None,
                    path.name,
                    f"unknown_table: {path.name} names no table of this profile; "
                    f"expected one of {', '.join(sorted(known))}",
                )
            )
            continue
        found.setdefault(path.stem, []).append(path)
    sources: dict[str, SourceFile] = {}
    for t in tables:
        paths = found.get(t.name, [])
        if not paths:
            rejections.append(
                Rejection(
                    t.name,
                    None,
                    None,
                    None,
                    f"missing_table: no {t.name}.parquet, {t.name}.csv or {t.name}.jsonl "
                    f"in {directory}",
                )
            )
        elif len(paths) > 1:
            names = ", ".join(p.name for p in paths)
            rejections.append(
                Rejection(
                    t.name, None, None, names, f"ambiguous_table: several files ({names}); keep one"
                )
            )
        else:
            sources[t.name] = SourceFile(t.name, paths[0])
    return sources, rejections


def _scan_sql(conn: Any, source: SourceFile, table: Table | None = None) -> str:
    """A SELECT of every column as VARCHAR plus ``__row``, in file order.

    A Parquet column already stored with ``table``'s type for it stays typed.
    """
    path = quote_literal(str(source.path))
    if source.format == "parquet":
        scan = f"read_parquet({path}, file_row_number = true)"
        described = [
            (r[0], r[1])
            for r in conn.execute(f"DESCRIBE SELECT * FROM {scan}").fetchall()
            if r[0] != "file_row_number"
        ]
        expected = {c.name: c.type for c in table.columns} if table is not None else {}
        cols = ", ".join(
            quote_ident(n)
            if expected.get(n) == kind
            else f"CAST({quote_ident(n)} AS VARCHAR) AS {quote_ident(n)}"
            for n, kind in described
        )
        return f"SELECT {cols}, file_row_number + 1 AS {ROW} FROM {scan}"
    if source.format == "csv":
        # An unquoted empty field is null, a quoted "" is the empty string: the two differ.
        scan = (
            f"read_csv({path}, header = true, all_varchar = true, delim = ',', quote = '\"', "
            "escape = '\"', allow_quoted_nulls = false, strict_mode = true, auto_detect = false)"
        )
        # auto_detect = false needs the columns: take them from the header line alone.
        header = conn.execute(
            f"SELECT * FROM read_csv({path}, header = true, all_varchar = true, "
            "delim = ',', quote = '\"', escape = '\"') LIMIT 0"
        ).description
        names = [d[0] for d in header]
        columns = "{" + ", ".join(f"{quote_literal(n)}: 'VARCHAR'" for n in names) + "}"
        scan = scan[:-1] + f", columns = {columns})"
        return f"SELECT *, row_number() OVER () AS {ROW} FROM {scan}"
    # JSONL: collect every key that occurs anywhere, then read them all as text.
    keys = [
        r[0]
        for r in conn.execute(
            "SELECT DISTINCT unnest(json_keys(json)) FROM "
            f"read_json_objects({path}, format = 'newline_delimited') ORDER BY 1"
        ).fetchall()
    ]
    columns = "{" + ", ".join(f"{quote_literal(k)}: 'VARCHAR'" for k in keys) + "}"
    scan = f"read_json({path}, format = 'newline_delimited', columns = {columns})"
    return f"SELECT *, row_number() OVER () AS {ROW} FROM {scan}"


def load_source(conn: Any, source: SourceFile, table: Table | None = None) -> Rejection | None:
    """Create ``raw_<table>``; a file that cannot be read at all is a table-level rejection.

    With ``table``, Parquet columns already of their schema type are loaded typed.
    """
    import duckdb

    conn.execute("SET preserve_insertion_order = true")
    try:
        sql = _scan_sql(conn, source, table)
        conn.execute(f"CREATE OR REPLACE TABLE raw_{source.table} AS {sql}")
    except duckdb.Error as exc:
        detail = str(exc).splitlines()[0]
        return Rejection(
            source.table,
            None,
            None,
            source.path.name,
            f"unreadable_file: {source.path.name} is not valid {source.format.upper()}: {detail}",
        )
    return None


def column_rejections(conn: Any, table: Table, source: SourceFile) -> list[Rejection]:
    """Every schema column must be present and no other: checked on the header alone.

    An optional column the file lacks is added to ``raw_<table>`` as all null."""
    present = [r[0] for r in conn.execute(f"DESCRIBE raw_{table.name}").fetchall() if r[0] != ROW]
    out: list[Rejection] = []
    for column in table.columns:
        name = column.name
        if name not in present and column.optional:
            conn.execute(f"ALTER TABLE raw_{table.name} ADD COLUMN {quote_ident(name)} VARCHAR")
        elif name not in present:
            out.append(
                Rejection(
                    table.name,
                    None,
                    name,
                    None,
                    f"missing_column: {source.path.name} has no column {name}",
                )
            )
    for name in present:
        if name not in table.column_names:
            out.append(
                Rejection(
                    table.name,
                    None,
                    name,
                    None,
                    f"unknown_column: {source.path.name} has column {name}, which this "
                    f"profile does not define; expected {', '.join(table.column_names)}",
                )
            )
    return out
