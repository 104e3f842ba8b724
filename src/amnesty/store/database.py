"""The one database handle: where the data lives, its connections, transactions and locks.

A process (a CLI command, a server worker) opens the handle once and passes it
to every workflow function::

    db = Database.open("postgresql://amnesty@db/amnesty")   # resolve, migrate once
    with db.transaction("off1", action="roster.approve", entity=("roster", "17")) as tx:
        tx.connection.execute(...)
        tx.audit(before=..., after=...)
    with db.raw() as conn:          # the driver's own connection, for the engine
        evaluate(decree, conn)

The handle is the only place that knows whether the database is DuckDB or
PostgreSQL: a named lock is a transaction-scoped advisory lock on PostgreSQL;
on DuckDB the process's writer lock and DuckDB's file lock already serialise
every writer. Nothing outside ``store/`` branches on the
kind; it asks the handle (``db.dialect`` is for messages and run records).

Handles are cached per database, so :meth:`Database.of` turns a URL held by
older callers into the same handle without migrating or connecting again.
"""

from __future__ import annotations

import datetime as dt
import threading
import zlib
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from amnesty.errors import ConfigError
from amnesty.store.db import DatabaseURL, connect_duckdb, resolve_db

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine

    from amnesty.store.transaction import AuditEvent

_handles: dict[str, Database] = {}
_handles_guard = threading.Lock()


class Database:
    """An open, migrated operational database; see the module docstring."""

    def __init__(self, url: DatabaseURL) -> None:
        self.url = url

    # --- opening ---

    @classmethod
    def open(
        cls, db: str | DatabaseURL | Database | None = None, *, create: bool = True
    ) -> Database:
        """Resolve ``--db`` / ``$AMNESTY_DB`` / ``./amnesty.duckdb`` and migrate it to head.

        ``create=False`` is for commands that only read: a DuckDB file that does not
        exist is an error instead of a new empty database.
        """
        if isinstance(db, Database):
            return db
        url = db if isinstance(db, DatabaseURL) else resolve_db(db)
        if not create:
            require_existing(url)
        with _handles_guard:
            handle = _handles.get(url.target)
            if handle is None:
                handle = cls(url)
                _handles[url.target] = handle
        handle.migrate()
        return handle

    of = open  # the adapter for callers that still hold a URL

    def migrate(self) -> None:
        from amnesty.store.migrate import migrate

        migrate(self.url)

    def close(self) -> None:
        """Close the pooled connections; on DuckDB this releases the file for other processes."""
        from amnesty.store.engine import dispose_engine
        from amnesty.store.migrate import forget_migrated

        dispose_engine(self.url)
        forget_migrated(self.url)
        with _handles_guard:
            _handles.pop(self.url.target, None)

    # --- what it is ---

    @property
    def dialect(self) -> str:
        """``duckdb`` or ``postgres``: the name runs record as their engine."""
        return self.url.dialect

    def __str__(self) -> str:
        return str(self.url)

    # --- connections ---

    @property
    def engine(self) -> Engine:
        from amnesty.store.engine import get_engine

        return get_engine(self.url)

    def connect(self) -> Any:
        """A SQLAlchemy connection from the pool, for reads (``with db.connect() as c``)."""
        return self.engine.connect()

    @contextmanager
    def snapshot(self) -> Iterator[Connection]:
        """A connection for reads that must agree with one another: every statement sees
        the database as the first one did (REPEATABLE READ on PostgreSQL, where each
        statement would otherwise see whatever others committed since; a DuckDB
        transaction is a snapshot already). Nothing is written through it."""
        with self.engine.connect() as connection:
            if not self.url.is_duckdb:
                connection = connection.execution_options(isolation_level="REPEATABLE READ")
            with connection.begin():
                yield connection

    @contextmanager
    def raw(self) -> Iterator[Any]:
        """The driver's connection (duckdb or psycopg), for the engine's queries.

        On DuckDB it is a cursor of the process's one instance (a fresh cursor never
        holds an unfinished result of someone else); on PostgreSQL a pooled connection.
        """
        if self.url.is_duckdb:
            duck = connect_duckdb(self.url)
            try:
                yield duck.cursor()
            finally:
                duck.close()
            return
        with self.engine.connect() as connection:
            yield connection.connection.driver_connection

    @staticmethod
    def driver(connection: Connection) -> Any:
        """The driver connection under an open SQLAlchemy connection (same transaction)."""
        return connection.connection.driver_connection

    # --- transactions and locks ---

    def transaction(
        self, actor: str, *, action: str = "", entity: tuple[str, str] = ("", "")
    ) -> Any:
        """A transaction with its audit event (:func:`amnesty.store.transaction.transaction`)."""
        from amnesty.store.transaction import transaction

        return transaction(self.url, actor, action=action, entity=entity)

    def audit_refusal(
        self, actor: str, action: str, entity: tuple[str, str], reason: str
    ) -> AuditEvent:
        from amnesty.store.transaction import audit_refusal

        return audit_refusal(self.url, actor, action, entity, reason)

    def insert_rows(
        self, connection: Connection, table: str, rows: Sequence[Mapping[str, Any]]
    ) -> None:
        """Insert many rows (dicts with the same keys) into ``table`` within ``connection``'s
        transaction, the fast way for the database: on DuckDB one ``INSERT ... SELECT``
        from an Arrow table (its ``executemany`` runs one statement per row), on
        PostgreSQL psycopg's pipelined ``executemany``. Aware datetimes are stored as
        naive UTC, as :class:`amnesty.store.tables.UTCDateTime` does.
        """
        if not rows:
            return
        names = list(rows[0])
        if not self.url.is_duckdb:
            import sqlalchemy as sa

            statement = sa.text(
                f"INSERT INTO {table} ({', '.join(names)}) "
                f"VALUES ({', '.join(':' + n for n in names)})"
            )
            connection.execute(statement, [{n: _naive_utc(r[n]) for n in names} for r in rows])
            return
        import pyarrow as pa

        arrow = pa.table({n: [_naive_utc(r[n]) for r in rows] for n in names})
        raw: Any = connection.connection.driver_connection
        # A SQLAlchemy result read with .first() leaves the rest of it pending on the one
        # DuckDB connection, which then refuses other work; that result is closed, so drain it.
        raw.fetchall()
        view = f"amnesty_insert_{table}"
        raw.register(view, arrow)
        try:
            raw.execute(f"INSERT INTO {table} ({', '.join(names)}) SELECT * FROM {view}")
        finally:
            raw.unregister(view)

    def lock(self, connection: Connection, name: str) -> None:
        """Hold the named lock until ``connection``'s transaction ends.

        PostgreSQL: ``pg_advisory_xact_lock``, released by the commit or rollback, so
        two processes (or two server workers) serialise on it. DuckDB: nothing more
        to take, since every write transaction of a process already holds the file's
        writer lock (:mod:`amnesty.store.transaction`) and DuckDB's own file lock
        keeps any other process from writing.
        """
        if not self.url.is_duckdb:
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({lock_key(name)})")


def _naive_utc(value: Any) -> Any:
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.astimezone(dt.UTC).replace(tzinfo=None)
    return value


def lock_key(name: str) -> int:
    """A stable 64-bit key for a lock name, the same in every process (not Python's hash)."""
    return (0x616D6E << 32) | zlib.crc32(("amnesty:" + name).encode("utf-8"))


def require_existing(url: DatabaseURL) -> None:
    """Refuse a DuckDB path with no file behind it (read commands never create one)."""
    if url.is_duckdb and url.target != ":memory:" and not Path(url.target).exists():
        raise ConfigError(
            f"--db {url.target}: no such database; import a registry first "
            "(amnesty registry import DIR) or run amnesty demo"
        )


def as_database(db: str | DatabaseURL | Database | None) -> Database:
    """What a workflow function holds: the handle (URLs are opened once and cached)."""
    return Database.open(db)


# What store functions accept: the handle, or a URL that older callers hold.
DatabaseLike = Database | DatabaseURL | str
