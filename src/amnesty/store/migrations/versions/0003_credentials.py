"""Credentials: a user's password hash and personal API token hashes.

A name alone no longer identifies the acting user (#9): a command acts as the
holder of a token or a password. Secrets are never stored in clear; a revoked
credential keeps its row (with who revoked it and when) so the history stays.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

TS = sa.DateTime(timezone=False)  # UTC, see amnesty.store.tables.UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "credentials",
        sa.Column("credential_id", sa.Text, primary_key=True),
        sa.Column("user_name", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("secret_hash", sa.Text, nullable=False),
        sa.Column("label", sa.Text),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("revoked_at", TS),
        sa.Column("revoked_by", sa.Text),
        sa.CheckConstraint("kind IN ('password', 'token')", name="credentials_kind"),
    )
    op.create_index("credentials_by_user", "credentials", ["user_name"])


def downgrade() -> None:
    op.drop_index("credentials_by_user", table_name="credentials")
    op.drop_table("credentials")
