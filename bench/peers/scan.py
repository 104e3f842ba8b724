"""The scan floor: every registry column the decree reads, read once, nothing decided.

The columns are not listed by hand: they are found in amnesty's own compiled query for
the decree (every column reference resolved to its base table with SQLGlot's scope
analysis), so the floor follows the decree. The ratio of an engine to this figure is
what deciding costs beyond reading.

Untimed: opening the database read-only, compiling the decree and finding its columns.
It has no ``outcomes``: it decides nobody, so there is nothing to check.

Timed: one ``SELECT count(*), bit_xor(hash(every column read))`` per table, so that
DuckDB must read and decode every value of those columns (a ``count(column)`` could
be answered from the validity masks alone).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import duckdb
from common import DECREE, Size


@dataclass
class State:
    conn: Any
    queries: list[str]


def columns_read(sql: str) -> dict[str, list[str]]:
    """Base table -> the columns of it that ``sql`` references anywhere."""
    import sqlglot
    from sqlglot import exp
    from sqlglot.optimizer.scope import traverse_scope

    found: dict[str, set[str]] = {}
    for scope in traverse_scope(sqlglot.parse_one(sql, read="duckdb")):
        selected = scope.selected_sources
        tables = {
            alias: source
            for alias, (_node, source) in selected.items()
            if isinstance(source, exp.Table)
        }
        for column in scope.columns:
            if column.table:
                source = tables.get(column.table)
            else:  # unqualified: only unambiguous when the scope reads one base table
                source = next(iter(tables.values())) if len(selected) == len(tables) == 1 else None
            if source is not None:
                found.setdefault(source.name, set()).add(column.name)
    return {table: sorted(cols) for table, cols in sorted(found.items())}


def prepare(size: Size, options: dict[str, str]) -> State:
    from amnesty.compile.sql import compile_decree
    from amnesty.decree import load

    read = columns_read(compile_decree(load(DECREE), "duckdb").sql)
    queries = [
        f"SELECT count(*), bit_xor(hash({', '.join(cols)})) FROM {table}"
        for table, cols in read.items()
    ]
    return State(duckdb.connect(str(size.duckdb), read_only=True), queries)


def run(state: State) -> list[tuple[Any, ...]]:
    return [state.conn.execute(q).fetchone() for q in state.queries]


def report(state: State) -> dict[str, float]:
    return {"tables": float(len(state.queries))}
