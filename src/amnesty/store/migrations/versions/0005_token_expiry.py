"""Personal API tokens expire: ``credentials.expires_at``.

A stolen token used to act as its user until someone revoked it (#9). A token
now carries the moment it stops working; passwords keep ``expires_at`` null.
Tokens issued before this revision are given the default lifetime counted from
now (the revision cannot know what their holders meant, and must not lock
scripts out at upgrade).

Revision ID: 0005
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import op

TS = sa.DateTime(timezone=False)  # UTC, see amnesty.store.tables.UTCDateTime
DEFAULT_DAYS = 90  # amnesty.workflow.credentials.DEFAULT_TOKEN_DAYS at the time of writing

revision = "0005"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("credentials", sa.Column("expires_at", TS))
    until = (dt.datetime.now(dt.UTC) + dt.timedelta(days=DEFAULT_DAYS)).replace(tzinfo=None)
    op.execute(
        sa.text("UPDATE credentials SET expires_at = :until WHERE kind = 'token'").bindparams(
            until=until
        )
    )


def downgrade() -> None:
    op.drop_column("credentials", "expires_at")
