"""The server's own state: login sessions, failed logins (for throttling), its keys, jobs.

Kept in the database rather than the server process so that sessions survive a
restart and several server processes on one PostgreSQL share them (#11). A
session is found by the SHA-256 of its id; the id itself lives only in the
browser's cookie.

Revision ID: 0007
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

TS = sa.DateTime(timezone=False)  # UTC, see amnesty.store.tables.UTCDateTime

revision = "0007"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "server_sessions",
        sa.Column("session_hash", sa.Text, primary_key=True),
        sa.Column("user_name", sa.Text, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("last_seen_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("ended_at", TS),
    )
    op.create_index("server_sessions_by_user", "server_sessions", ["user_name"])
    op.create_table(
        "server_login_failures",
        sa.Column("user_name", sa.Text, nullable=False),
        sa.Column("client", sa.Text),
        sa.Column("failed_at", TS, nullable=False),
    )
    op.create_index("server_login_failures_by_user", "server_login_failures", ["user_name"])
    op.create_table(
        "server_keys",
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("secret", sa.Text, nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_table(
        "server_jobs",
        sa.Column("job_id", sa.Text, primary_key=True),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("stage", sa.Text, nullable=False),
        sa.Column("progress", sa.Float, nullable=False),
        sa.Column("started_by", sa.Text, nullable=False),
        sa.Column("params", sa.Text, nullable=False),
        sa.Column("run_id", sa.Text),
        sa.Column("error", sa.Text),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.CheckConstraint(
            "state IN ('queued', 'running', 'done', 'failed')", name="server_jobs_state"
        ),
    )


def downgrade() -> None:
    op.drop_table("server_jobs")
    op.drop_table("server_keys")
    op.drop_index("server_login_failures_by_user", table_name="server_login_failures")
    op.drop_table("server_login_failures")
    op.drop_index("server_sessions_by_user", table_name="server_sessions")
    op.drop_table("server_sessions")
