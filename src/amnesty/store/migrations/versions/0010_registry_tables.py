"""The registry's tables and ``registry_snapshots``, under Alembic like every other table.

Before this revision the importer wrote their DDL itself: it dropped and created
each registry table on every import and created ``registry_snapshots`` or added
the columns an older one lacked, in the import's transaction and, through
``record_derived``, in a release's. This revision creates the core registry tables
(every column common to all profiles) and the snapshots table with every column;
a database whose tables the old importer made keeps them and their rows, and gets
the columns it lacks. A profile's attribute columns are not a revision's business:
the import adds or drops them in its own write transaction (``docs/registry.md``).

Written out here rather than read from ``amnesty.registry.schema``, as revisions
are, so that a later change of the declarations needs a revision of its own;
``tests/registry/test_registry_tables.py`` holds the two equal.

Revision ID: 0010
Revises: 0007
Create Date: 2026-12-02
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0010"
down_revision = "0007"
branch_labels = None
depends_on = None

TEXT, INT, BOOL, DATE = sa.Text, sa.Integer, sa.Boolean, sa.Date
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

# table: (key, ((column, type, nullable), ...)), in dependency order.
REGISTRY = {
    "divisions": (
        "division_id",
        (
            ("division_id", TEXT, False),
            ("parent_id", TEXT, True),
            ("level", TEXT, False),
            ("name", TEXT, False),
            ("name_romanised", TEXT, False),
            ("name_is_real", BOOL, False),
        ),
    ),
    "facilities": (
        "facility_id",
        (
            ("facility_id", TEXT, False),
            ("name", TEXT, False),
            ("name_romanised", TEXT, False),
            ("facility_type", TEXT, False),
            ("authority", TEXT, False),
            ("division_id", TEXT, False),
        ),
    ),
    "offences": (
        "offence_code",
        (
            ("offence_code", TEXT, False),
            ("title", TEXT, False),
            ("title_romanised", TEXT, False),
            ("category", TEXT, False),
            ("gravity", TEXT, True),
            ("intent", TEXT, True),
            ("valid_from", DATE, False),
            ("valid_to", DATE, True),
        ),
    ),
    "persons": (
        "person_id",
        (
            ("person_id", TEXT, False),
            ("name", TEXT, False),
            ("name_romanised", TEXT, False),
            ("sex", TEXT, True),
            ("birth_date", DATE, True),
            ("birth_precision", TEXT, True),
            ("citizenship", TEXT, True),
            ("facility_id", TEXT, True),
            ("custody_authority", TEXT, True),
        ),
    ),
    "convictions": (
        "conviction_id",
        (
            ("conviction_id", TEXT, False),
            ("person_id", TEXT, False),
            ("offence_code", TEXT, False),
            ("offence_date", DATE, True),
            ("sentence_kind", TEXT, False),
            ("term_months", INT, True),
            ("start_date", DATE, False),
            ("aggregate_id", TEXT, True),
        ),
    ),
    "health_assessments": (
        "assessment_id",
        (
            ("assessment_id", TEXT, False),
            ("person_id", TEXT, False),
            ("assessed_on", DATE, False),
            ("severity", TEXT, True),
            ("able_to_work", BOOL, True),
        ),
    ),
    "events": (
        "event_id",
        (
            ("event_id", TEXT, False),
            ("person_id", TEXT, False),
            ("event_type", TEXT, False),
            ("event_date", DATE, False),
            ("facility_id", TEXT, True),
            ("country", TEXT, True),
            ("decree_id", TEXT, True),
            ("run_id", TEXT, True),
            ("new_sentence_kind", TEXT, True),
            ("new_end_date", DATE, True),
            ("note", TEXT, True),
        ),
    ),
}

SNAPSHOTS = "registry_snapshots"


def _snapshot_columns() -> list[sa.Column[Any]]:
    return [
        sa.Column("snapshot_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("content_hash", sa.Text, nullable=False),
        sa.Column("profile", sa.Text, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("row_counts", JSON, nullable=False),
        sa.Column("is_current", sa.Boolean, nullable=False),
        sa.Column("parent_id", sa.Integer),
        sa.Column("kind", sa.Text, server_default="import"),
        sa.Column("added_table", sa.Text),
        sa.Column("added_rows", JSON),
        sa.Column("hash_version", sa.Text),
        sa.Column("profile_hash", sa.Text),
        sa.Column("profile_document", sa.Text),
    ]


NEW_SNAPSHOT_COLUMNS = ("profile_hash", "profile_document")


def _columns(table: str) -> set[str]:
    """The columns ``table`` has now (empty if it does not exist)."""
    found = op.get_bind().execute(
        sa.text(
            "SELECT column_name FROM information_schema.columns WHERE table_name = :t "
            "AND table_schema = current_schema() AND table_catalog = current_database()"
        ),
        {"t": table},
    )
    return {str(r[0]) for r in found}


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for table, (key, columns) in REGISTRY.items():
        present = _columns(table)
        if not present:
            constraints = [sa.PrimaryKeyConstraint(key, name=f"{table}_pkey")] if postgres else []
            op.create_table(
                table,
                *(sa.Column(n, t, nullable=nullable) for n, t, nullable in columns),
                *constraints,
            )
            continue
        # Made by the old importer: its rows stay; a column it lacked comes in nullable.
        for name, kind, _nullable in columns:
            if name not in present:
                op.add_column(table, sa.Column(name, kind))
    present = _columns(SNAPSHOTS)
    if not present:
        op.create_table(SNAPSHOTS, *_snapshot_columns())
        return
    for column in _snapshot_columns():
        if column.name not in present:
            op.add_column(SNAPSHOTS, column)


def downgrade() -> None:
    # The registry's rows are not the schema's to drop: the importer of revision 0007
    # creates and replaces these tables itself, so they stay, without the new columns.
    for name in NEW_SNAPSHOT_COLUMNS:
        op.drop_column(SNAPSHOTS, name)
