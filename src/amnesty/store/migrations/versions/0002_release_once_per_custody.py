"""At most one release per person per custody episode, enforced by the database.

``releases_once_per_run`` stops a retry of the same run; it does not stop two
runs (two decrees, or a re-run of one) from both releasing a person who never
came back. A custody episode is named by the event that began it: the person's
latest ``admission`` or ``return`` event at the release (``initial`` when the
registry records none). A revocation writes a ``return`` event, so a person
brought back may be released again; without one, a second release of the same
episode collides on ``releases_once_per_custody``.

Releases made before this revision are each given an episode of their own
(``before-0002:<release_id>``): the revision cannot tell their episodes apart
after the fact, and must not make the upgrade fail.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("releases", sa.Column("custody_episode", sa.Text))
    op.execute(
        "UPDATE releases SET custody_episode = 'before-0002:' || CAST(release_id AS VARCHAR)"
    )
    op.create_index(
        "releases_once_per_custody", "releases", ["person_id", "custody_episode"], unique=True
    )


def downgrade() -> None:
    op.drop_index("releases_once_per_custody", table_name="releases")
    op.drop_column("releases", "custody_episode")
