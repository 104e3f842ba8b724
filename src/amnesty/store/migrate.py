"""Bring an operational database to the newest schema (Alembic ``head``).

Commands that need the operational tables call :func:`migrate` first; it is
cheap: a database already at head is recognised by one query on
``alembic_version`` (against :data:`HEAD`), without importing Alembic. The Alembic scripts ship in
the package (``amnesty/store/migrations``), so a wheel can migrate without a
source checkout.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa

from amnesty.errors import ConfigError
from amnesty.store.db import DatabaseURL
from amnesty.store.engine import as_url, get_engine

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy.engine import Connection

    from amnesty.store.database import DatabaseLike


MIGRATIONS = Path(__file__).with_name("migrations")
# The newest revision, written out so that a database already at head is recognised
# by one query, without reading the scripts (tests/store/test_migrations.py holds it
# to the scripts' head).
HEAD = "0014"
# Any fixed 64-bit number: the advisory lock that keeps two processes from migrating at once.
_PG_MIGRATE_LOCK = 0x616D6E6D6967  # "amnmig"

_at_head: set[str] = set()
_lock = threading.Lock()


def alembic_config() -> Config:
    from alembic.config import Config

    import amnesty.store.alembic_duckdb  # noqa: F401  (registers DuckDB's DDL for Alembic)

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(connection: Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    import amnesty.store.alembic_duckdb  # noqa: F401  (registers DuckDB's DDL for Alembic)

    return MigrationContext.configure(connection).get_current_revision()


def migrate(url: DatabaseLike) -> DatabaseURL:
    """Upgrade the database at ``url`` to head and return its parsed URL.

    A server that cannot be reached and a schema this amnesty does not know (written
    by a newer one) are a :class:`ConfigError` of one line, never a traceback.
    """
    db = as_url(url)
    with _lock:
        if db.target in _at_head:
            return db
        engine = get_engine(db)
        try:
            stored = _stored_revision(engine)
        except sa.exc.OperationalError as exc:
            from amnesty.store.reader import unreachable

            raise ConfigError(unreachable(db, getattr(exc, "orig", None) or exc)) from exc
        if stored == HEAD:
            _at_head.add(db.target)
            return db
        if stored is not None and stored not in _known_revisions():
            from amnesty.store.engine import dispose_engine
            from amnesty.store.reader import wrong_schema

            dispose_engine(db)  # refused: hold no connection to it (DuckDB's file lock)
            raise ConfigError(wrong_schema(db, stored))
        with engine.begin() as connection:
            if not db.is_duckdb:
                _refuse_unless_owner(db, connection, stored)
                connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_MIGRATE_LOCK})")
            if current_revision(connection) != head_revision():
                from alembic import command

                config = alembic_config()
                config.attributes["connection"] = connection
                command.upgrade(config, "head")
        _at_head.add(db.target)
    return db


def _refuse_unless_owner(db: DatabaseURL, connection: Connection, stored: str | None) -> None:
    """Only the tables' owner migrates (docs/security.md, "Database roles"): a login of
    ``amnesty_app`` or a per-role group on a database behind head is told whom to ask,
    instead of failing halfway through a DDL statement."""
    owns = connection.exec_driver_sql(
        "SELECT CASE WHEN to_regclass('alembic_version') IS NULL "
        "THEN has_schema_privilege(current_schema(), 'CREATE') "
        "ELSE pg_has_role(current_user, (SELECT relowner FROM pg_class "
        "WHERE oid = to_regclass('alembic_version')), 'MEMBER') END"
    ).scalar()
    if not owns:
        at = f"at revision {stored}" if stored else "empty"
        raise ConfigError(
            f"{db}: the database is {at} and needs revision {HEAD}, but this login does not "
            "own its tables; upgrade it as the owner (amnesty db migrate --db OWNER-URL)"
        )


def _known_revisions() -> set[str]:
    from alembic.script import ScriptDirectory

    return {s.revision for s in ScriptDirectory.from_config(alembic_config()).walk_revisions()}


def _stored_revision(engine: sa.Engine) -> str | None:
    """The revision in ``alembic_version``, None when the table is not there yet."""
    with engine.connect() as connection:
        try:
            found = connection.execute(sa.text("SELECT version_num FROM alembic_version")).first()
        except sa.exc.DBAPIError:
            return None
    return None if found is None else str(found[0])


def forget_migrated(url: DatabaseLike) -> None:
    """Make the next :func:`migrate` look at the database again (tests drop databases)."""
    with _lock:
        _at_head.discard(as_url(url).target)
