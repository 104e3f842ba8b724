"""``registry import`` as a workflow step: an admin's, audited (#9).

Replacing the registry changes who is in custody, so once a database has users
only an admin may do it, and every import (or refusal) is an audit event, written
in the import's own write transaction (the registry never changes without its
event). The event lists the rows amnesty had written that the import discarded,
so that ``audit verify`` expects them gone; the importer itself refuses to
discard the events of a release that still stands.

The first import into a database with no user yet (installation, the demo, the
README's tour) needs none: there is no one to authenticate yet. That bootstrap is
refused once the audit chain records that a user was ever added: users who
vanished from the table (deleted behind amnesty's back) do not bring it back.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa

from amnesty.errors import AmnestyError, PermissionDenied
from amnesty.registry.importer import ImportReport, import_registry
from amnesty.store.database import Database
from amnesty.store.tables import audit_events
from amnesty.store.transaction import Transaction, audit_refusal
from amnesty.workflow.users import ANONYMOUS_ACTOR, BOOTSTRAP_ACTOR, Role, list_users, require

ACTION = "registry.import"


def import_as(db: Database, actor: str | None, path: str | Path, **options: Any) -> ImportReport:
    """Import the extract at ``path`` (options as :func:`import_registry`'s) as ``actor``.

    ``db`` is the caller's handle: it is used, never closed (under the server other
    requests share its pooled connections).
    """
    entity = ("registry", str(Path(path)))
    needs_admin = bool(list_users(db))
    if needs_admin:
        require(db, actor, Role.admin, action=ACTION, entity=entity)
    elif _chain_has_named_a_user(db):
        reason = (
            "registry.import needs an admin: the audit chain records users, but none is "
            "left in the database (deleted outside amnesty?); the bootstrap import is only "
            "for a database that never had one. Restore the users table from a backup and "
            "run amnesty audit verify"
        )
        audit_refusal(db, ANONYMOUS_ACTOR, ACTION, entity, reason)
        raise PermissionDenied(reason)
    acting = actor or (ANONYMOUS_ACTOR if needs_admin else BOOTSTRAP_ACTOR)

    def audit(tx: Transaction, report: ImportReport) -> None:
        tx.audit(
            entity=("snapshot", str(report.snapshot_id)),
            after={
                "source": report.source,
                "content_hash": report.content_hash,
                "profile": report.profile,
                "status": report.status,
                "discarded": [list(d) for d in report.discarded],
                "kept": len(report.kept),
            },
        )

    try:
        return import_registry(db, path, actor=acting, audit=audit, **options)
    except AmnestyError as refused:
        audit_refusal(db, acting, ACTION, entity, str(refused).splitlines()[0])
        raise


def _chain_has_named_a_user(db: Database) -> bool:
    """Whether the audit chain records a user added (``user.add``, ok) at any time."""
    with db.connect() as connection:
        found = connection.execute(
            sa.select(audit_events.c.seq)
            .where(audit_events.c.action == "user.add", audit_events.c.outcome == "ok")
            .limit(1)
        ).first()
    return found is not None
