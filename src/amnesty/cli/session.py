"""What every state-changing command resolves first: the database and the acting user."""

from __future__ import annotations

import os

from amnesty.store.db import DatabaseURL, resolve_db
from amnesty.store.migrate import migrate


def open_store(db: str | None) -> DatabaseURL:
    """``--db`` / ``$AMNESTY_DB`` / ``./amnesty.duckdb``, migrated to the newest schema."""
    return migrate(resolve_db(db))


def acting_user(as_user: str | None) -> str | None:
    """``--as`` wins, then ``$AMNESTY_USER``; None when neither is given."""
    return as_user or os.environ.get("AMNESTY_USER") or None
