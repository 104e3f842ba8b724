"""DuckDB: the embedded default backend."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pyarrow as pa

from amnesty.errors import EngineError


class DuckDBBackend:
    name = "duckdb"
    dialect = "duckdb"
    UNSUPPORTED: frozenset[str] = frozenset()

    def __init__(self, conn: Any) -> None:
        self.conn = conn

    def execute(self, sql: str) -> None:
        try:
            self.conn.execute(sql)
        except Exception as exc:
            raise EngineError(f"DuckDB failed to run the compiled query: {exc}") from exc

    def fetch_arrow(self, sql: str, params: Sequence[Any] | None = None) -> pa.Table:
        try:
            relation = self.conn.sql(sql) if params is None else self.conn.sql(sql, params=params)
            # DuckDB 2.x names it to_arrow_table; 1.x returns a Table from arrow().
            fetch = getattr(relation, "to_arrow_table", None) or relation.arrow
            table = fetch()
        except Exception as exc:
            raise EngineError(f"DuckDB failed to run the compiled query: {exc}") from exc
        if isinstance(table, pa.RecordBatchReader):
            table = table.read_all()
        return table


def scratch() -> Any:
    """An in-memory DuckDB with no registry behind it, for set-based work over Arrow
    tables (report figures, clause statistics, replayed witnesses): SQL over data in
    hand, without a per-row Python loop and without touching a stored database."""
    import duckdb

    return duckdb.connect()
