"""The server's tables (migration 0007): sessions, failed logins, keys, background jobs.

Declared once, by migration 0007 (``declare``), and read from it here; not in
:mod:`amnesty.store.tables`, because only the server reads them. They are not part
of the audited case-work state (a login, its failure and its end are audited
through the chain by the credentials module and :mod:`amnesty.server.auth`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib
import secrets

import sqlalchemy as sa

from amnesty.store.database import Database

metadata = sa.MetaData()

# Declared once, by the migration that creates them (its module name starts with a
# digit, so it is imported by name).
server_sessions, server_login_failures, server_keys, server_jobs = importlib.import_module(
    "amnesty.store.migrations.versions.0007_server_sessions"
).declare(metadata)


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


# --- sessions ---


def start_session(db: Database, user_name: str, lifetime: dt.timedelta) -> str:
    """A new session for ``user_name``; returns its id (only its hash is stored)."""
    session_id = secrets.token_urlsafe(32)
    at = now()
    with db.engine.begin() as conn:
        conn.execute(
            server_sessions.insert().values(
                session_hash=digest(session_id),
                user_name=user_name,
                created_at=at,
                last_seen_at=at,
                expires_at=at + lifetime,
            )
        )
    return session_id


def session_user(db: Database, session_id: str, idle: dt.timedelta) -> str | None:
    """The user of a standing session (and mark it seen), or None if unknown or over."""
    at = now()
    key = digest(session_id)
    with db.engine.begin() as conn:
        row = (
            conn.execute(sa.select(server_sessions).where(server_sessions.c.session_hash == key))
            .mappings()
            .first()
        )
        if row is None or row["ended_at"] is not None:
            return None
        if row["expires_at"] <= at or row["last_seen_at"] + idle <= at:
            conn.execute(
                server_sessions.update()
                .where(server_sessions.c.session_hash == key)
                .values(ended_at=at)
            )
            return None
        # Touch at most once a minute: a page of many requests writes once.
        if at - row["last_seen_at"] > dt.timedelta(minutes=1):
            conn.execute(
                server_sessions.update()
                .where(server_sessions.c.session_hash == key)
                .values(last_seen_at=at)
            )
        return str(row["user_name"])


def end_session(db: Database, session_id: str) -> None:
    with db.engine.begin() as conn:
        conn.execute(
            server_sessions.update()
            .where(server_sessions.c.session_hash == digest(session_id))
            .where(server_sessions.c.ended_at.is_(None))
            .values(ended_at=now())
        )


def end_sessions_of(db: Database, user_name: str) -> None:
    with db.engine.begin() as conn:
        conn.execute(
            server_sessions.update()
            .where(server_sessions.c.user_name == user_name)
            .where(server_sessions.c.ended_at.is_(None))
            .values(ended_at=now())
        )


# --- failed logins ---


def recent_failures(db: Database, user_name: str, window: dt.timedelta) -> list[dt.datetime]:
    since = now() - window
    with db.engine.connect() as conn:
        rows = conn.execute(
            sa.select(server_login_failures.c.failed_at)
            .where(server_login_failures.c.user_name == user_name)
            .where(server_login_failures.c.failed_at > since)
            .order_by(server_login_failures.c.failed_at)
        ).scalars()
        return list(rows)


def record_failure(db: Database, user_name: str, client: str | None) -> None:
    with db.engine.begin() as conn:
        conn.execute(
            server_login_failures.insert().values(user_name=user_name, client=client,
                                                  failed_at=now())
        )  # fmt: skip


def clear_failures(db: Database, user_name: str) -> None:
    with db.engine.begin() as conn:
        conn.execute(
            server_login_failures.delete().where(server_login_failures.c.user_name == user_name)
        )


# --- keys ---


def server_key(db: Database, name: str) -> bytes:
    """A random secret shared by every server process on this database (made once)."""
    query = sa.select(server_keys.c.secret).where(server_keys.c.name == name)
    with db.engine.connect() as conn:
        found = conn.execute(query).scalar_one_or_none()
    if found is None:
        made = secrets.token_hex(32)
        try:
            with db.engine.begin() as conn:
                conn.execute(server_keys.insert().values(name=name, secret=made, created_at=now()))
        except sa.exc.IntegrityError:
            pass  # another process made it first; theirs is the one
        with db.engine.connect() as conn:
            found = conn.execute(query).scalar_one()
    return bytes.fromhex(str(found))
