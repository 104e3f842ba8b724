"""Bring an operational database to the newest schema (Alembic ``head``).

Commands that need the operational tables call :func:`migrate` first; it is
cheap once a database is at head in this process. The Alembic scripts ship in
the package (``amnesty/store/migrations``), so a wheel can migrate without a
source checkout.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

from alembic import command
from alembic.config import Config
from alembic.ddl.postgresql import PostgresqlImpl
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from amnesty.store.db import DatabaseURL
from amnesty.store.engine import as_url, get_engine

if TYPE_CHECKING:
    from amnesty.store.database import DatabaseLike


class DuckDBImpl(PostgresqlImpl):
    """Alembic's DDL implementation for duckdb-engine.

    Alembic picks an implementation by dialect name and knows none called
    ``duckdb``. duckdb-engine derives its dialect from PostgreSQL's, and DuckDB
    speaks PostgreSQL's DDL for everything our revisions do, so PostgreSQL's
    implementation fits. Defining the subclass registers it.
    """

    __dialect__ = "duckdb"


MIGRATIONS = Path(__file__).with_name("migrations")
# Any fixed 64-bit number: the advisory lock that keeps two processes from migrating at once.
_PG_MIGRATE_LOCK = 0x616D6E6D6967  # "amnmig"

_at_head: set[str] = set()
_lock = threading.Lock()


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def migrate(url: DatabaseLike) -> DatabaseURL:
    """Upgrade the database at ``url`` to head and return its parsed URL."""
    db = as_url(url)
    with _lock:
        if db.target in _at_head:
            return db
        engine = get_engine(db)
        with engine.begin() as connection:
            if not db.is_duckdb:
                connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_MIGRATE_LOCK})")
            if current_revision(connection) != head_revision():
                config = alembic_config()
                config.attributes["connection"] = connection
                command.upgrade(config, "head")
        _at_head.add(db.target)
    return db


def forget_migrated(url: DatabaseLike) -> None:
    """Make the next :func:`migrate` look at the database again (tests drop databases)."""
    with _lock:
        _at_head.discard(as_url(url).target)
