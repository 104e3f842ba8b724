"""A PostgreSQL database as deployed: owned by a role of its own, not a superuser.

A module of its own (not the conftest) so that tests import ``OwnedDatabase`` by a
name no other test folder uses; the ``owned_database`` fixture (tests/conftest.py)
makes one on the suite's server.
"""

from __future__ import annotations

import uuid
from typing import Any


class OwnedDatabase:
    """A database as deployed (docs/security.md): owned by a role of its own that is no
    superuser, with the logins ``amnesty db roles`` makes for it dropped afterwards."""

    def __init__(self, server: Any) -> None:  # conftest's PgServer
        self.tag = uuid.uuid4().hex[:8]
        self.owner = f"own_{self.tag}"
        self.dbname = f"amnesty_owned_{self.tag}"
        self.server = server
        self.logins: list[str] = []
        server._admin(f"CREATE ROLE {self.owner} LOGIN CREATEROLE")
        server._admin(
            f"CREATE DATABASE {self.dbname} OWNER {self.owner} TEMPLATE template0 ENCODING 'UTF8'"
        )
        self.owner_url = self._url(self.owner)

    def _url(self, login: str) -> str:
        scheme, rest = self.server.admin_url(self.dbname).split("://", 1)
        return f"{scheme}://{login}@{rest.split('@', 1)[1]}"

    def login(self, role: str) -> tuple[str, str]:
        """A fresh login name for ``role`` (for ``db roles --login``) and its URL."""
        name = f"{role[:4]}_{self.tag}"
        self.logins.append(name)
        return name, self._url(name)

    def drop(self) -> None:
        from amnesty.store.database import Database
        from amnesty.store.db import resolve_db
        from amnesty.store.engine import dispose_engine
        from amnesty.store.migrate import forget_migrated

        for name in (*self.logins, self.owner):
            url = self._url(name)
            dispose_engine(url)
            forget_migrated(url)
            Database(resolve_db(url)).close()
        self.server._admin(f'DROP DATABASE IF EXISTS "{self.dbname}" WITH (FORCE)')
        for name in (*self.logins, self.owner):
            self.server._admin(f"DROP ROLE IF EXISTS {name}")
