"""On PostgreSQL, the map from a database login to the amnesty user it acts as.

A facility officer's login may write only its own user's rows of its user's
facilities (row-level security, installed by ``amnesty db roles``); the policies
read this map, which ``db roles --login NAME=facility_officer:USER`` keeps, and the
user's facilities from ``users``, so the database and amnesty never disagree on
who may act where. An embedded DuckDB file has no logins, hence no map.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.create_table(
        "database_logins",
        sa.Column("login", sa.Text, primary_key=True),
        sa.Column("user_name", sa.Text, nullable=False),
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.drop_table("database_logins")
