"""``registry import`` as a workflow step: an admin's, audited (#9).

Replacing the registry changes who is in custody, so once a database has users
only an admin may do it, and every import (or refusal) is an audit event. The
event lists the rows amnesty had written that the import discarded, so that
``audit verify`` expects them gone; the importer itself refuses to discard the
events of a release that still stands.

The first import into a database with no user yet (installation, the demo, the
README's tour) needs none: there is no one to authenticate yet.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from amnesty.errors import AmnestyError
from amnesty.registry.importer import ImportReport, import_registry
from amnesty.store.database import Database
from amnesty.store.transaction import audit_refusal, transaction
from amnesty.workflow.users import ANONYMOUS_ACTOR, BOOTSTRAP_ACTOR, Role, list_users, require

ACTION = "registry.import"


def import_as(db: Database, actor: str | None, path: str | Path, **options: Any) -> ImportReport:
    """Import the extract at ``path`` (options as :func:`import_registry`'s) as ``actor``."""
    entity = ("registry", str(Path(path)))
    needs_admin = bool(list_users(db))
    if needs_admin:
        require(db, actor, Role.admin, action=ACTION, entity=entity)
    acting = actor or (ANONYMOUS_ACTOR if needs_admin else BOOTSTRAP_ACTOR)
    db.close()  # the importer opens the file itself (on DuckDB, one writer at a time)
    try:
        return _import_and_audit(db, acting, entity, path, options)
    finally:
        # Leave no pooled connection behind: on DuckDB a connection held open in this
        # process keeps any other configuration (a read-only reader) off the file.
        db.close()


def _import_and_audit(
    db: Database, acting: str, entity: tuple[str, str], path: str | Path, options: Any
) -> ImportReport:
    try:
        report = import_registry(db.url, path, **options)
    except AmnestyError as refused:
        audit_refusal(db, acting, ACTION, entity, str(refused).splitlines()[0])
        raise
    if report.status == "unchanged" and not report.discarded:
        return report
    with transaction(db, acting, action=ACTION, entity=("snapshot", str(report.snapshot_id))) as tx:
        tx.audit(
            after={
                "source": report.source,
                "content_hash": report.content_hash,
                "profile": report.profile,
                "status": report.status,
                "discarded": [list(d) for d in report.discarded],
                "kept": len(report.kept),
            }
        )
    return report
