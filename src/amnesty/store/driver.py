"""One small face over a DuckDB, psycopg 3 or SQLAlchemy connection.

The registry's snapshot code is handed whichever of the three its caller holds (the
engine's raw connection, a workflow transaction's SQLAlchemy connection); this adapter
is where that difference lives, so that nothing outside ``store/`` asks which it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from amnesty.store.database import lock_key


class Sql:
    """Statements are written with ``?`` placeholders (and never contain a literal
    ``?`` or ``%``); each driver gets its own style. Nothing here commits: the
    caller's transaction holds every statement."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn
        module = type(conn).__module__
        if hasattr(conn, "exec_driver_sql"):  # a SQLAlchemy Connection
            self.kind = "sqlalchemy"
            self.postgres = conn.dialect.name == "postgresql"
        elif module.startswith("psycopg"):
            self.kind = "psycopg"
            self.postgres = True
        else:
            self.kind = "duckdb"
            self.postgres = False

    def run(self, sql: str, params: Sequence[Any] = ()) -> Any:
        if self.kind == "duckdb":
            return self.conn.execute(sql, list(params)) if params else self.conn.execute(sql)
        if self.kind == "psycopg":
            return self.conn.execute(sql.replace("?", "%s"), tuple(params) or None)
        import sqlalchemy as sa

        parts = sql.split("?")
        named = parts[0] + "".join(f":p{i}{rest}" for i, rest in enumerate(parts[1:]))
        return self.conn.execute(sa.text(named), {f"p{i}": v for i, v in enumerate(params)})

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return [tuple(r) for r in self.run(sql, params).fetchall()]

    def lock(self, name: str) -> None:
        """Hold the named lock until the transaction ends: PostgreSQL's advisory lock
        under the key :meth:`Database.lock <amnesty.store.database.Database.lock>` takes;
        on DuckDB the process's writer lock and DuckDB's file lock serialise writers."""
        if self.postgres:
            self.run(f"SELECT pg_advisory_xact_lock({lock_key(name)})")

    def after_error(self) -> None:
        """After a failed statement on a bare psycopg connection, end its aborted
        transaction so that the connection can be used again."""
        if self.kind == "psycopg":
            self.conn.rollback()
