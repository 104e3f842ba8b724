"""What every command resolves first: the database handle and the acting user."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from amnesty.errors import ConfigError

if TYPE_CHECKING:
    from amnesty.store.database import Database


def open_store(db: str | None, *, create: bool = False) -> Database:
    """``--db`` / ``$AMNESTY_DB`` / ``./amnesty.duckdb``, opened once for the command.

    A DuckDB path with no file behind it is an error (every command works on a
    registry or a store that exists), unless ``create``: adding the first user and
    signing a decree may come before the registry's import.
    """
    from amnesty.store.database import Database

    return Database.open(db, create=create)


@contextmanager
def registry_connection(db: str | None) -> Iterator[Any]:
    """The driver connection to an imported registry, for the engine's reads.

    Refused with what to do next when the database does not exist or holds no
    registry yet (never creates one).
    """
    from amnesty.registry.snapshot import current_snapshot

    store = open_store(db, create=False)
    with store.raw() as conn:
        if current_snapshot(conn) is None:
            raise ConfigError(
                f"{store}: no registry imported yet; run amnesty registry import DIR "
                "(or amnesty demo) first"
            )
    with store.raw() as conn:
        yield conn


def acting_user(as_user: str | None) -> str | None:
    """``--as`` wins, then ``$AMNESTY_USER``; None when neither is given."""
    return as_user or os.environ.get("AMNESTY_USER") or None
