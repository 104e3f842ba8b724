"""What every command resolves first: the database handle and the acting user."""

from __future__ import annotations

import getpass
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from amnesty.errors import ConfigError, PermissionDenied

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


def acting_user(as_user: str | None, store: Database) -> str | None:
    """The authenticated acting user, or None when no credential is given at all.

    A name (``--as`` / ``$AMNESTY_USER``) is only a claim; what proves it, first
    found wins: ``$AMNESTY_TOKEN``; the password in ``$AMNESTY_PASSWORD`` or typed
    at a prompt; the token ``amnesty login`` saved for this database. A token
    held by someone else than the name given is refused.
    """
    from amnesty.cli.login_store import saved_token
    from amnesty.workflow.credentials import authenticate_password, authenticate_token

    claimed = as_user or os.environ.get("AMNESTY_USER") or None
    token = os.environ.get("AMNESTY_TOKEN") or None
    if token is None and claimed is not None:
        password = os.environ.get("AMNESTY_PASSWORD")
        if password is None and sys.stdin.isatty():
            password = getpass.getpass(f"password for {claimed}: ")
        if password is not None:
            return authenticate_password(store, claimed, password)
    token = token or saved_token(store)
    if token is None:
        if claimed is not None:
            raise PermissionDenied(
                f"acting as {claimed!r} needs a credential: run amnesty login --as "
                f"{claimed}, set AMNESTY_TOKEN, or give the password (AMNESTY_PASSWORD)"
            )
        return None
    holder = authenticate_token(store, token)
    if claimed is not None and claimed != holder:
        raise PermissionDenied(f"the token given belongs to {holder!r}, not to {claimed!r}")
    return holder
