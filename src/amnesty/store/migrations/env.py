"""Alembic environment for amnesty's operational tables.

Run through :func:`amnesty.store.migrate.migrate`, which hands over an open
connection in ``config.attributes["connection"]``; there is no ``alembic.ini``
and no offline mode, since the same code path serves DuckDB and PostgreSQL.
"""

from __future__ import annotations

from alembic import context

from amnesty.store.tables import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata)
with context.begin_transaction():
    context.run_migrations()
