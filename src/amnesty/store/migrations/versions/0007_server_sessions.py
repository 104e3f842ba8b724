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

revision = "0007"
down_revision = "0005"
branch_labels = None
depends_on = None


def declare(metadata: sa.MetaData) -> tuple[sa.Table, ...]:
    """The server's tables, as this migration creates them. The one declaration:
    ``amnesty.server.state`` reads its tables from here (#11)."""
    from amnesty.store.tables import UTCDateTime

    ts = UTCDateTime  # a plain TIMESTAMP in the database, UTC in Python
    sessions = sa.Table(
        "server_sessions",
        metadata,
        sa.Column("session_hash", sa.Text, primary_key=True),
        sa.Column("user_name", sa.Text, nullable=False),
        sa.Column("created_at", ts, nullable=False),
        sa.Column("last_seen_at", ts, nullable=False),
        sa.Column("expires_at", ts, nullable=False),
        sa.Column("ended_at", ts),
        sa.Index("server_sessions_by_user", "user_name"),
    )
    failures = sa.Table(
        "server_login_failures",
        metadata,
        sa.Column("user_name", sa.Text, nullable=False),
        sa.Column("client", sa.Text),
        sa.Column("failed_at", ts, nullable=False),
        sa.Index("server_login_failures_by_user", "user_name"),
    )
    keys = sa.Table(
        "server_keys",
        metadata,
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("secret", sa.Text, nullable=False),
        sa.Column("created_at", ts, nullable=False),
    )
    jobs = sa.Table(
        "server_jobs",
        metadata,
        sa.Column("job_id", sa.Text, primary_key=True),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("stage", sa.Text, nullable=False),
        sa.Column("progress", sa.Float, nullable=False),
        sa.Column("started_by", sa.Text, nullable=False),
        sa.Column("params", sa.Text, nullable=False),
        sa.Column("run_id", sa.Text),
        sa.Column("error", sa.Text),
        sa.Column("created_at", ts, nullable=False),
        sa.Column("updated_at", ts, nullable=False),
        sa.CheckConstraint(
            "state IN ('queued', 'running', 'done', 'failed')", name="server_jobs_state"
        ),
    )
    return sessions, failures, keys, jobs


def upgrade() -> None:
    bind = op.get_bind()
    for table in declare(sa.MetaData()):
        table.create(bind)  # with its indexes and check constraint


def downgrade() -> None:
    op.drop_table("server_jobs")
    op.drop_table("server_keys")
    op.drop_index("server_login_failures_by_user", table_name="server_login_failures")
    op.drop_table("server_login_failures")
    op.drop_index("server_sessions_by_user", table_name="server_sessions")
    op.drop_table("server_sessions")
