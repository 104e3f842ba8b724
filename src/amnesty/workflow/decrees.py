"""Decrees in the store: a draft may change, a signed decree is frozen by its hash.

The engine registers the decree it evaluates (:func:`ensure_decree`); signing
freezes its content hash, and any later step handed a file whose content no
longer hashes the same is refused (:func:`check_signed_content`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from amnesty.errors import ConfigError, IllegalTransition
from amnesty.store.database import Database, as_database
from amnesty.store.engine import get_engine
from amnesty.store.tables import decrees
from amnesty.store.transaction import transaction, utcnow
from amnesty.workflow.users import Role, require

UNNAMED_ACTOR = "(unnamed)"


@dataclass(frozen=True)
class DecreeRecord:
    decree_id: str
    content_hash: str
    title: str
    status: str  # draft | signed
    signed_by: str | None
    signed_at: dt.datetime | None
    source_text: str
    registered_by: str
    registered_at: dt.datetime

    def summary(self) -> dict[str, object]:
        """The record without its source text: what audit events carry."""
        return {
            "decree_id": self.decree_id,
            "content_hash": self.content_hash,
            "title": self.title,
            "status": self.status,
            "signed_by": self.signed_by,
            "signed_at": self.signed_at,
        }


def get_decree(url: Database, decree_id: str) -> DecreeRecord | None:
    db = as_database(url)
    with get_engine(db).connect() as connection:
        return _find(connection, decree_id)


def register_decree(
    url: Database,
    decree_id: str,
    content_hash: str,
    title: str,
    source_text: str,
    *,
    actor: str | None = None,
) -> DecreeRecord:
    """Record a new draft decree; an existing one must go through :func:`ensure_decree`."""
    entity = ("decree", decree_id)
    with transaction(url, actor or UNNAMED_ACTOR, action="decree.register", entity=entity) as tx:
        if _find(tx.connection, decree_id) is not None:
            raise ConfigError(f"decree {decree_id!r} is already registered")
        tx.connection.execute(
            decrees.insert().values(
                decree_id=decree_id,
                content_hash=content_hash,
                title=title,
                status="draft",
                source_text=source_text,
                registered_by=tx.actor,
                registered_at=utcnow(),
            )
        )
        record = _find(tx.connection, decree_id)
        assert record is not None
        tx.audit(after=record.summary())
    return record


def ensure_decree(
    url: Database,
    decree_id: str,
    content_hash: str,
    title: str,
    source_text: str,
    *,
    actor: str | None = None,
) -> DecreeRecord:
    """The stored decree for this content: registered if new, updated while a draft.

    A signed decree whose content changed is refused (audited): its text is law.
    """
    existing = get_decree(url, decree_id)
    if existing is None:
        return register_decree(url, decree_id, content_hash, title, source_text, actor=actor)
    if existing.content_hash == content_hash:
        return existing
    entity = ("decree", decree_id)
    with transaction(url, actor or UNNAMED_ACTOR, action="decree.update", entity=entity) as tx:
        current = _find(tx.connection, decree_id)
        assert current is not None
        refuse_if_changed(current, content_hash)
        tx.connection.execute(
            decrees.update()
            .where(decrees.c.decree_id == decree_id)
            .values(content_hash=content_hash, title=title, source_text=source_text)
        )
        record = _find(tx.connection, decree_id)
        assert record is not None
        tx.audit(before=current.summary(), after=record.summary())
    return record


def sign_decree(url: Database, decree_id: str, actor: str) -> DecreeRecord:
    """Freeze a draft decree at its current content hash (drafter or admin)."""
    entity = ("decree", decree_id)
    require(url, actor, (Role.drafter, Role.admin), action="decree.sign", entity=entity)
    with transaction(url, actor, action="decree.sign", entity=entity) as tx:
        current = _find(tx.connection, decree_id)
        if current is None:
            raise IllegalTransition(f"decree {decree_id!r} is not registered; evaluate it first")
        if current.status == "signed":
            return current  # idempotent: signing twice changes nothing
        tx.connection.execute(
            decrees.update()
            .where(decrees.c.decree_id == decree_id)
            .values(status="signed", signed_by=actor, signed_at=utcnow())
        )
        record = _find(tx.connection, decree_id)
        assert record is not None
        tx.audit(before=current.summary(), after=record.summary())
    return record


def check_signed_content(record: DecreeRecord, content_hash: str) -> None:
    """Raise unless ``record`` is signed and ``content_hash`` is what was signed."""
    if record.status != "signed":
        raise IllegalTransition(
            f"decree {record.decree_id!r} is a draft; only a signed decree leads to releases"
        )
    refuse_if_changed(record, content_hash)


def refuse_if_changed(record: DecreeRecord, content_hash: str) -> None:
    if record.status == "signed" and record.content_hash != content_hash:
        raise IllegalTransition(
            f"decree {record.decree_id!r} was signed with content {record.content_hash[:12]}… "
            f"but the file now hashes to {content_hash[:12]}…; a signed decree cannot change: "
            "restore the signed text or register the change under a new decree id"
        )


def _find(connection: Connection, decree_id: str) -> DecreeRecord | None:
    row = (
        connection.execute(sa.select(decrees).where(decrees.c.decree_id == decree_id))
        .mappings()
        .first()
    )
    return None if row is None else DecreeRecord(**dict(row))
