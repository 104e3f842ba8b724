"""Operational tables: users, decrees, runs, determinations, case work, audit chain.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

SEQUENCES = (
    "users_id_seq",
    "review_decisions_id_seq",
    "rosters_id_seq",
    "undertaking_records_id_seq",
    "releases_id_seq",
    "audit_checkpoints_id_seq",
)

TS = sa.DateTime(timezone=False)  # UTC, see amnesty.store.tables.UTCDateTime


def upgrade() -> None:
    for name in SEQUENCES:
        op.execute(sa.schema.CreateSequence(sa.Sequence(name)))
    op.create_table(
        "users",
        sa.Column("user_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("name", sa.Text, nullable=False, unique=True),
        sa.Column("roles", sa.Text, nullable=False),
        sa.Column("facilities", sa.Text, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("created_by", sa.Text),
    )
    op.create_table(
        "decrees",
        sa.Column("decree_id", sa.Text, primary_key=True),
        sa.Column("content_hash", sa.Text, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("signed_by", sa.Text),
        sa.Column("signed_at", TS),
        sa.Column("source_text", sa.Text, nullable=False),
        sa.Column("registered_by", sa.Text, nullable=False),
        sa.Column("registered_at", TS, nullable=False),
        sa.CheckConstraint("status IN ('draft', 'signed')", name="decrees_status"),
    )
    op.create_table(
        "runs",
        sa.Column("run_id", sa.Text, primary_key=True),
        sa.Column("decree_id", sa.Text, sa.ForeignKey("decrees.decree_id"), nullable=False),
        sa.Column("decree_hash", sa.Text, nullable=False),
        sa.Column("snapshot_hash", sa.Text, nullable=False),
        sa.Column("engine", sa.Text, nullable=False),
        sa.Column("engine_version", sa.Text, nullable=False),
        sa.Column("as_of", sa.Date, nullable=False),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("finished_at", TS, nullable=False),
        sa.Column("counts", sa.Text, nullable=False),
        sa.Column("row_count", sa.BigInteger, nullable=False),
        sa.Column("determinations_digest", sa.Text, nullable=False),
        sa.Column("reproduces_run_id", sa.Text),
        sa.Column("recorded_by", sa.Text, nullable=False),
        sa.Column("recorded_at", TS, nullable=False),
    )
    op.create_table(
        "determinations",
        sa.Column("run_id", sa.Text, primary_key=True),
        sa.Column("person_id", sa.Text, primary_key=True),
        sa.Column("facility_id", sa.Text),
        sa.Column("outcome", sa.Text, nullable=False),
        sa.Column("relief", sa.Text),
        sa.Column("grounds", sa.Text, nullable=False),
        sa.Column("blocking", sa.Text, nullable=False),
        sa.Column("referred", sa.Text, nullable=False),
        sa.Column("unknown", sa.Text, nullable=False),
        sa.Column("undertakings", sa.Text, nullable=False),
        sa.Column("row_hash", sa.Text, nullable=False),
    )
    op.create_table(
        "review_decisions",
        sa.Column("decision_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("run_id", sa.Text, sa.ForeignKey("runs.run_id"), nullable=False),
        sa.Column("person_id", sa.Text, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("outcome", sa.Text),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("decided_by", sa.Text, nullable=False),
        sa.Column("decided_at", TS, nullable=False),
        sa.UniqueConstraint(
            "run_id", "person_id", "version", name="review_decisions_one_per_version"
        ),
    )
    op.create_table(
        "rosters",
        sa.Column("roster_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("run_id", sa.Text, sa.ForeignKey("runs.run_id"), nullable=False),
        sa.Column("facility_id", sa.Text, nullable=False),
        sa.Column("generation", sa.Integer, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("prepared_by", sa.Text, nullable=False),
        sa.Column("prepared_at", TS, nullable=False),
        sa.Column("approved_by", sa.Text),
        sa.Column("approved_at", TS),
        sa.Column("withdrawn_by", sa.Text),
        sa.Column("withdrawn_at", TS),
        sa.Column("withdraw_reason", sa.Text),
        sa.UniqueConstraint(
            "run_id", "facility_id", "generation", name="rosters_one_per_generation"
        ),
        sa.CheckConstraint(
            "approved_by IS NULL OR approved_by <> prepared_by", name="rosters_four_eyes"
        ),
    )
    op.create_table(
        "roster_entries",
        sa.Column("roster_id", sa.BigInteger, sa.ForeignKey("rosters.roster_id"), primary_key=True),
        sa.Column("person_id", sa.Text, primary_key=True),
        sa.Column("relief", sa.Text, nullable=False),
    )
    op.create_table(
        "undertaking_records",
        sa.Column("record_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("run_id", sa.Text, sa.ForeignKey("runs.run_id"), nullable=False),
        sa.Column("person_id", sa.Text, nullable=False),
        sa.Column("undertaking_id", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("signed_on", sa.Date),
        sa.Column("witness", sa.Text),
        sa.Column("recorded_by", sa.Text, nullable=False),
        sa.Column("recorded_at", TS, nullable=False),
    )
    op.create_table(
        "releases",
        sa.Column("release_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("run_id", sa.Text, sa.ForeignKey("runs.run_id"), nullable=False),
        sa.Column("person_id", sa.Text, nullable=False),
        sa.Column("roster_id", sa.BigInteger, sa.ForeignKey("rosters.roster_id"), nullable=False),
        sa.Column("facility_id", sa.Text, nullable=False),
        sa.Column("relief", sa.Text, nullable=False),
        sa.Column("release_date", sa.Date, nullable=False),
        sa.Column("return_date", sa.Date),
        sa.Column("override_reason", sa.Text),
        sa.Column("certificate_no", sa.Text, unique=True),
        sa.Column("executed_by", sa.Text, nullable=False),
        sa.Column("executed_at", TS, nullable=False),
        sa.UniqueConstraint("run_id", "person_id", name="releases_once_per_run"),
    )
    op.create_table(
        "release_revocations",
        sa.Column(
            "release_id", sa.BigInteger, sa.ForeignKey("releases.release_id"), primary_key=True
        ),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("revoked_by", sa.Text, nullable=False),
        sa.Column("revoked_at", TS, nullable=False),
    )
    op.create_table(
        "certificates",
        sa.Column("certificate_no", sa.Text, primary_key=True),
        sa.Column("release_id", sa.BigInteger, sa.ForeignKey("releases.release_id"), unique=True),
        sa.Column("issued_by", sa.Text, nullable=False),
        sa.Column("issued_at", TS, nullable=False),
        sa.Column("path", sa.Text),
        sa.Column("sha256", sa.Text),
    )
    op.create_table(
        "audit_events",
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("occurred_at", TS, nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("entity_kind", sa.Text, nullable=False),
        sa.Column("entity_id", sa.Text, nullable=False),
        sa.Column("before", sa.Text),
        sa.Column("after", sa.Text),
        sa.Column("outcome", sa.Text, nullable=False),
        sa.Column("reason", sa.Text),
        sa.Column("prev_hash", sa.Text, nullable=False),
        sa.Column("hash", sa.Text, nullable=False, unique=True),
    )
    op.create_table(
        "audit_checkpoints",
        sa.Column("checkpoint_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("hash", sa.Text, nullable=False),
        sa.Column("signed_at", TS, nullable=False),
        sa.Column("signed_by", sa.Text, nullable=False),
        sa.Column("public_key", sa.Text, nullable=False),
        sa.Column("signature", sa.Text, nullable=False),
    )


def downgrade() -> None:
    for table in (
        "audit_checkpoints",
        "audit_events",
        "certificates",
        "release_revocations",
        "releases",
        "undertaking_records",
        "roster_entries",
        "rosters",
        "review_decisions",
        "determinations",
        "runs",
        "decrees",
        "users",
    ):
        op.drop_table(table)
    for name in SEQUENCES:
        op.execute(sa.schema.DropSequence(sa.Sequence(name)))
