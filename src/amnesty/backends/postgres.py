"""PostgreSQL (psycopg 3): the same compiled decree in the ``postgres`` dialect,
on registry tables in PostgreSQL. List columns come back as arrays and the
``unknown`` column as JSONB (PostgreSQL has no anonymous structs); the engine
normalises both to the Arrow schema."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pyarrow as pa

from amnesty.errors import ConfigError, EngineError


class PostgresBackend:
    name = "postgres"
    dialect = "postgres"
    UNSUPPORTED: frozenset[str] = frozenset({"anonymous_structs"})

    def __init__(self, conn: Any) -> None:
        self.conn = conn

    @classmethod
    def connect(cls, url: str) -> PostgresBackend:
        import psycopg

        try:
            return cls(
                psycopg.connect(
                    url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True
                )
            )
        except psycopg.Error as exc:
            raise ConfigError(f"cannot connect to PostgreSQL: {exc}") from exc

    def execute(self, sql: str) -> None:
        try:
            with self.conn.cursor() as cur:
                cur.execute(sql)
        except Exception as exc:
            raise EngineError(f"PostgreSQL failed to run the compiled query: {exc}") from exc

    def fetch_arrow(self, sql: str, params: Sequence[Any] | None = None) -> pa.Table:
        import psycopg

        try:
            # A raw cursor takes PostgreSQL's own $1 placeholders, as DuckDB does, and
            # leaves a % in the query alone (the ordinary cursor would read it as one).
            cursor = self.conn.cursor() if params is None else psycopg.RawCursor(self.conn)
            with cursor as cur:
                cur.execute(sql, params)
                names = [d.name for d in cur.description or []]
                rows = cur.fetchall()
        except Exception as exc:
            raise EngineError(f"PostgreSQL failed to run the compiled query: {exc}") from exc
        # Column by column, so that a query returning no rows still has its columns.
        return pa.Table.from_pydict({n: [r[i] for r in rows] for i, n in enumerate(names)})
