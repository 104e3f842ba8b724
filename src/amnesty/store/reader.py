"""The light read path: the driver alone, no SQLAlchemy, no Alembic, no migration.

A command that only reads (``amnesty run list``) starts in a fraction of a second
when it does not import SQLAlchemy and duckdb-engine (about a second between them
on a cold start). It opens the database read-only with the driver (duckdb, or
psycopg for PostgreSQL), checks that the schema is the one this amnesty writes
(``alembic_version`` against :data:`amnesty.store.migrate.HEAD`; a read never
migrates), and runs plain SELECTs. Writes and anything transactional go through
:class:`amnesty.store.database.Database`.

Every failure is a :class:`ConfigError` of one line saying what to do next: no
such file, server unreachable, a schema older or newer than this amnesty.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from amnesty.errors import ConfigError
from amnesty.store.db import DatabaseURL, connect_duckdb, resolve_db

# Kept equal to amnesty.store.migrate.HEAD by tests/store/test_reader.py; migrate
# imports SQLAlchemy, which this path exists to avoid.
HEAD = "0014"


class Reader:
    """One read-only driver connection; rows come back as dicts."""

    def __init__(self, url: DatabaseURL, conn: Any) -> None:
        self.url, self.conn = url, conn
        self.postgres = not url.is_duckdb

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """``?`` placeholders; naive timestamps are UTC (as the store writes them)."""
        if self.postgres:
            cursor = self.conn.execute(sql.replace("?", "%s"), tuple(params) or None)
        else:
            cursor = self.conn.execute(sql, list(params))
        names = [d[0] for d in cursor.description]
        return [
            {n: _aware(v) for n, v in zip(names, row, strict=True)} for row in cursor.fetchall()
        ]

    def has_table(self, name: str) -> bool:
        where = "table_schema = current_schema()" if self.postgres else "table_schema = 'main'"
        found = self.rows(
            f"SELECT 1 AS present FROM information_schema.tables WHERE table_name = ? AND {where}",
            (name,),
        )
        return bool(found)

    def revision(self) -> str | None:
        """The schema revision stored in the database; None before any migration."""
        if not self.has_table("alembic_version"):
            return None
        found = self.rows("SELECT version_num FROM alembic_version")
        return str(found[0]["version_num"]) if found else None

    def require_schema(self) -> bool:
        """True when the operational tables are at this amnesty's schema, False when the
        database has none yet (nothing recorded: a read finds nothing); refused when
        they are of another revision."""
        revision = self.revision()
        if revision is None:
            return False
        if revision != HEAD:
            raise ConfigError(wrong_schema(self.url, revision))
        return True


def wrong_schema(url: DatabaseURL | str, revision: str) -> str:
    newer = revision.isdigit() and HEAD.isdigit() and int(revision) > int(HEAD)
    advice = (
        "it was written by a newer amnesty: upgrade amnesty to read it"
        if newer
        else "an older schema: any other amnesty command on it (for example amnesty decree "
        "list --db ...) migrates it to this revision"
    )
    return f"{url}: schema revision {revision}, but this amnesty reads revision {HEAD}; {advice}"


@contextmanager
def read_only(db: str | DatabaseURL | None) -> Iterator[Reader]:
    """A :class:`Reader` on ``--db`` / ``$AMNESTY_DB`` / ``./amnesty.duckdb``; never creates
    a database."""
    url = db if isinstance(db, DatabaseURL) else resolve_db(db)
    conn = _connect_duckdb(url) if url.is_duckdb else connect_postgres(url)
    try:
        yield Reader(url, conn)
    finally:
        conn.close()


def _connect_duckdb(url: DatabaseURL) -> Any:
    """Read-only, unless this process already has the file open for writing (a server,
    a test): DuckDB then refuses a second configuration, and a plain connection
    shares the open instance."""
    import duckdb

    if url.target == ":memory:":
        return connect_duckdb(url)
    try:
        return connect_duckdb(url, read_only=True)
    except duckdb.ConnectionException as exc:
        if "different configuration" not in str(exc):
            raise ConfigError(f"cannot open {url.target}: {exc}") from exc
        return connect_duckdb(url)


def connect_postgres(url: DatabaseURL) -> Any:
    """A psycopg connection (autocommit: reads need no transaction), or one line why not."""
    import psycopg

    target = url.target.replace("postgresql+psycopg://", "postgresql://", 1)
    try:
        return psycopg.connect(target, autocommit=True, connect_timeout=10)
    except psycopg.Error as exc:
        raise ConfigError(unreachable(url, exc)) from exc


def unreachable(url: DatabaseURL, exc: BaseException) -> str:
    """One line for a database server that refused the connection, with what to check."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    detail = lines[0] if lines else type(exc).__name__
    return (
        f"cannot connect to {url}: {detail}; check that the server is running and the URL "
        "(host, port, user, database) is right"
    )


def _aware(value: Any) -> Any:
    if isinstance(value, dt.datetime) and value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value
