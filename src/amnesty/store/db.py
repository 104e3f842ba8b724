"""Where the data lives: resolve ``--db`` / ``AMNESTY_DB`` and open a connection.

A URL is a DuckDB path (or ``duckdb:///path``) or ``postgresql://...``. DuckDB is
the embedded default, ``./amnesty.duckdb``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from amnesty.errors import ConfigError

DEFAULT_DB = "amnesty.duckdb"


@dataclass(frozen=True)
class DatabaseURL:
    kind: str  # "duckdb" or "postgresql"
    target: str  # a file path (":memory:" allowed) or the full postgresql URL

    @property
    def is_duckdb(self) -> bool:
        return self.kind == "duckdb"

    @property
    def dialect(self) -> str:
        """``duckdb`` or ``postgres``: the engine name runs record and ``--engine`` takes."""
        return "duckdb" if self.is_duckdb else "postgres"

    def __str__(self) -> str:
        return self.target if self.is_duckdb else _redact(self.target)


def resolve_db(db: str | None) -> DatabaseURL:
    """``--db`` wins, then ``AMNESTY_DB``, then ``./amnesty.duckdb``."""
    raw = db or os.environ.get("AMNESTY_DB") or DEFAULT_DB
    if raw.startswith(("postgresql://", "postgres://", "postgresql+psycopg://")):
        return DatabaseURL("postgresql", raw)
    if raw.startswith("duckdb://"):
        path = raw.removeprefix("duckdb://")
        path = path[1:] if path.startswith("/") and not path.startswith("//") else path
        if raw.startswith("duckdb:////"):
            path = "/" + raw.removeprefix("duckdb:////")
        return DatabaseURL("duckdb", path or ":memory:")
    if "://" in raw:
        scheme = raw.split("://", 1)[0]
        raise ConfigError(
            f"--db {raw!r}: unknown scheme {scheme!r}; expected a DuckDB path, "
            "duckdb:///path or postgresql://user@host/dbname"
        )
    return DatabaseURL("duckdb", raw)


def connect_duckdb(url: DatabaseURL, read_only: bool = False):  # type: ignore[no-untyped-def]
    """Open the DuckDB file, with a clear message when another process holds it."""
    import duckdb

    if url.target != ":memory:":
        parent = Path(url.target).parent
        if not parent.exists():
            raise ConfigError(f"--db {url.target}: folder {parent} does not exist")
        if read_only and not Path(url.target).exists():
            raise ConfigError(
                f"--db {url.target}: no such database; import a registry first "
                "(amnesty registry import DIR) or run amnesty demo"
            )
    try:
        return duckdb.connect(url.target, read_only=read_only)
    except duckdb.IOException as exc:
        if "lock" in str(exc).lower():
            raise ConfigError(
                f"database busy: {url.target} is open for writing in another process; "
                "wait for it to finish or use PostgreSQL for several users"
            ) from exc
        raise ConfigError(f"cannot open {url.target}: {exc}") from exc


def _redact(url: str) -> str:
    if "@" in url and ":" in url.split("@", 1)[0].split("//", 1)[-1]:
        head, tail = url.split("@", 1)
        scheme, cred = head.split("//", 1)
        return f"{scheme}//{cred.split(':', 1)[0]}:***@{tail}"
    return url
