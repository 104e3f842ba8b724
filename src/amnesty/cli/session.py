"""What every command resolves first: the database handle and the acting user."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from amnesty.store.database import Database


def open_store(db: str | None, *, create: bool = True) -> Database:
    """``--db`` / ``$AMNESTY_DB`` / ``./amnesty.duckdb``, opened once for the command.

    ``create=False`` for commands that only read: a missing DuckDB file is an error.
    """
    from amnesty.store.database import Database

    return Database.open(db, create=create)


def acting_user(as_user: str | None) -> str | None:
    """``--as`` wins, then ``$AMNESTY_USER``; None when neither is given."""
    return as_user or os.environ.get("AMNESTY_USER") or None
