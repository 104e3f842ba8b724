"""One SQLAlchemy engine per database, shared by the threads of a process.

DuckDB connections go through :func:`amnesty.store.db.connect_duckdb`, so a
second process that wants to write gets amnesty's "database busy" ConfigError
and every DuckDB connection in this process has the same configuration (DuckDB
refuses a second configuration for an open file). PostgreSQL goes through
psycopg 3.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from amnesty.store.db import DatabaseURL, connect_duckdb, resolve_db

if TYPE_CHECKING:
    from amnesty.store.database import DatabaseLike

_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()


def as_url(url: object) -> DatabaseURL:
    """Accept what callers hold: a :class:`~amnesty.store.database.Database`, a parsed
    URL or the text of ``--db``."""
    if isinstance(url, DatabaseURL):
        return url
    if isinstance(url, str):
        return resolve_db(url)
    found = getattr(url, "url", None)
    if isinstance(found, DatabaseURL):
        return found
    raise TypeError(f"expected a Database, a DatabaseURL or a URL text, not {url!r}")


def sqlalchemy_url(url: DatabaseURL) -> str:
    if url.is_duckdb:
        return f"duckdb:///{url.target}"
    _scheme, rest = url.target.split("://", 1)
    return f"postgresql+psycopg://{rest}"


def get_engine(url: DatabaseLike) -> Engine:
    """The process-wide engine for ``url`` (created on first use)."""
    db = as_url(url)
    key = db.target
    with _engines_lock:
        engine = _engines.get(key)
        if engine is None:
            engine = _create_engine(db)
            _engines[key] = engine
        return engine


def dispose_engine(url: DatabaseLike) -> None:
    """Close the pooled connections of ``url``; on DuckDB this releases the file lock."""
    db = as_url(url)
    with _engines_lock:
        engine = _engines.pop(db.target, None)
    if engine is not None:
        engine.dispose()


def _create_engine(db: DatabaseURL) -> Engine:
    if db.is_duckdb:
        from duckdb_engine import ConnectionWrapper

        def creator() -> ConnectionWrapper:
            return ConnectionWrapper(connect_duckdb(db))

        return sa.create_engine(sqlalchemy_url(db), creator=creator)
    return sa.create_engine(sqlalchemy_url(db), pool_pre_ping=True)
