"""One SQLAlchemy engine per database, shared by the threads of a process.

DuckDB connections go through :func:`amnesty.store.db.connect_duckdb`, so a
second process that wants to write gets amnesty's "database busy" ConfigError
and every DuckDB connection in this process has the same configuration (DuckDB
refuses a second configuration for an open file). PostgreSQL goes through
psycopg 3.
"""

from __future__ import annotations

import threading

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from amnesty.store.db import DatabaseURL, connect_duckdb, resolve_db

_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()


def as_url(url: str | DatabaseURL) -> DatabaseURL:
    """Accept what callers hold: a parsed URL or the text of ``--db``."""
    return url if isinstance(url, DatabaseURL) else resolve_db(url)


def sqlalchemy_url(url: DatabaseURL) -> str:
    if url.is_duckdb:
        return f"duckdb:///{url.target}"
    _scheme, rest = url.target.split("://", 1)
    return f"postgresql+psycopg://{rest}"


def get_engine(url: str | DatabaseURL) -> Engine:
    """The process-wide engine for ``url`` (created on first use)."""
    db = as_url(url)
    key = db.target
    with _engines_lock:
        engine = _engines.get(key)
        if engine is None:
            engine = _create_engine(db)
            _engines[key] = engine
        return engine


def dispose_engine(url: str | DatabaseURL) -> None:
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
