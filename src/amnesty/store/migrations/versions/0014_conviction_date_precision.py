"""A conviction's offence date and start may be partial: a year, or a year and a month.

Registries record some offence dates and sentence starts only to the month or the
year, as they do birth dates. Each date gets a precision column (``day``, ``month``,
``year``), read as birth dates are: the date column holds the first possible day, and a
fact that depends on the unknown day is unknown (``docs/semantics.md``). A null
precision means the day is known, so rows written before this revision keep their
meaning and no row changes.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

COLUMNS = ("offence_date_precision", "start_precision")


def upgrade() -> None:
    # A registry whose tables a tool wrote from the current declarations (snapshot's
    # table_ddl) before the store was migrated already has them.
    found = op.get_bind().execute(
        sa.text(
            "SELECT column_name FROM information_schema.columns WHERE table_name = "
            "'convictions' AND table_schema = current_schema() "
            "AND table_catalog = current_database()"
        )
    )
    present = {str(r[0]) for r in found}
    for name in COLUMNS:
        if name not in present:
            op.add_column("convictions", sa.Column(name, sa.Text))


def downgrade() -> None:
    for name in COLUMNS:
        op.drop_column("convictions", name)
