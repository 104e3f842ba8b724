"""On PostgreSQL, the registry tables that hold a person's rows are indexed by person.

An explanation or a person page reads one person's convictions, events and health
assessments; without an index each read scans the whole table (at 100k persons about
330 ms a query, 10 ms with it, measured for #11). The import truncates and refills
these tables, so an index made once stays. DuckDB's plans for the engine's set-based
joins do not use such an index and building it would slow the import, so DuckDB has
none (``docs/registry.md``).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02
"""

from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

# Registry tables whose key is not person_id but which carry it.
BY_PERSON = ("convictions", "health_assessments", "events")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in BY_PERSON:
        op.execute(f"CREATE INDEX IF NOT EXISTS {table}_by_person ON {table} (person_id)")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in BY_PERSON:
        op.execute(f"DROP INDEX IF EXISTS {table}_by_person")
