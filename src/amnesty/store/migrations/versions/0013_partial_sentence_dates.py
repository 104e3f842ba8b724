"""A conviction's ``start_date`` may be missing: the registry did not record it.

Real registries hold sentences whose first day was never entered; refusing them at
import hid those persons from every decree. The engine already treats a missing start
as an unknown fact (``docs/semantics.md``), so such a person goes to review with the
fact named instead of being decided on an invented day. Only the column's NOT NULL
goes; no row changes.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04
"""

from __future__ import annotations

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE convictions ALTER COLUMN start_date DROP NOT NULL")


def downgrade() -> None:
    # Fails, and changes nothing, while a row has no start: those rows are the data's.
    op.execute("ALTER TABLE convictions ALTER COLUMN start_date SET NOT NULL")
