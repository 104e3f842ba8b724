"""Alembic's DDL implementation for duckdb-engine, registered by importing this module."""

from __future__ import annotations

from alembic.ddl.postgresql import PostgresqlImpl


class DuckDBImpl(PostgresqlImpl):
    """Alembic's DDL implementation for duckdb-engine.

    Alembic picks an implementation by dialect name and knows none called
    ``duckdb``. duckdb-engine derives its dialect from PostgreSQL's, and DuckDB
    speaks PostgreSQL's DDL for everything our revisions do, so PostgreSQL's
    implementation fits. Defining the subclass registers it.
    """

    __dialect__ = "duckdb"
