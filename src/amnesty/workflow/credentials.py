"""Proving who acts: passwords (argon2) and personal API tokens (stored hashed).

A user name alone is a claim, not an identity (#9). A command acts as a user
only once they have shown a secret of theirs: their password, or a token they
were issued. Tokens are random (256 bits), so a fast hash (SHA-256) is enough
to store them and lets a token be found by its hash; passwords are chosen by
people and are hashed with argon2. A secret is shown once, when issued, and
never stored or logged in clear.

Tokens expire (:data:`DEFAULT_TOKEN_DAYS` unless issued with another lifetime,
at most :data:`MAX_TOKEN_DAYS`): a token copied off a laptop or out of a
script's environment stops working on its own, not only when someone notices
and revokes it. An expired token is refused like a revoked one, with the date
it expired, and the refusal is audited.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from amnesty.errors import ConfigError, PermissionDenied
from amnesty.store.database import Database, as_database
from amnesty.store.engine import get_engine
from amnesty.store.tables import credentials
from amnesty.store.transaction import audit_refusal, transaction
from amnesty.workflow.users import ANONYMOUS_ACTOR, Role, User, get_user

TOKEN_PREFIX = "amn_"
MIN_PASSWORD_LENGTH = 12
DEFAULT_TOKEN_DAYS = 90
MAX_TOKEN_DAYS = 366
_HASHER = PasswordHasher()


@dataclass(frozen=True)
class IssuedToken:
    """A token as issued: ``secret`` is shown to its holder once and then lost."""

    credential_id: str
    user_name: str
    secret: str
    expires_at: dt.datetime | None = None


def _token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def secret_digest(secret_hash: str) -> str:
    """What the audit chain carries of a stored secret hash: its SHA-256, never the hash.

    A chain is exported to auditors, so it must not hold what would let anyone test a
    guess at a password (the argon2 string) or look a token up (its hash); a digest of
    that high-entropy string reveals neither, yet lets ``audit verify`` find a credential
    row inserted, or a hash swapped, behind amnesty's back.
    """
    return hashlib.sha256(secret_hash.encode("utf-8")).hexdigest()


def _may_manage(db: Database, actor: str, owner: str, action: str) -> None:
    """A user manages their own credentials; an admin manages anyone's."""
    if actor == owner:
        return
    acting = get_user(db, actor)
    if acting is None or not acting.active or not acting.has(Role.admin):
        reason = f"{action} for {owner!r} needs {owner!r} themself or an admin"
        audit_refusal(db, actor, action, ("user", owner), reason)
        denied = PermissionDenied(reason)
        denied.audited = True  # type: ignore[attr-defined]
        raise denied


def _owner(db: Database, name: str) -> User:
    user = get_user(db, name)
    if user is None:
        raise ConfigError(f"no user named {name!r}; an admin adds users with amnesty user add")
    return user


def set_password(url: Database, name: str, password: str, *, actor: str) -> None:
    """Give ``name`` a new password (the previous one stops working)."""
    db = as_database(url)
    _owner(db, name)
    _may_manage(db, actor, name, "user.passwd")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ConfigError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    now = dt.datetime.now(dt.UTC)
    credential_id = "pw-" + secrets.token_hex(6)
    secret_hash = _HASHER.hash(password)
    with transaction(db, actor, action="user.passwd", entity=("credential", credential_id)) as tx:
        tx.connection.execute(
            credentials.update()
            .where(credentials.c.user_name == name)
            .where(credentials.c.kind == "password")
            .where(credentials.c.revoked_at.is_(None))
            .values(revoked_at=now, revoked_by=actor)
        )
        tx.connection.execute(
            credentials.insert().values(
                credential_id=credential_id,
                user_name=name,
                kind="password",
                secret_hash=secret_hash,
                created_at=now,
                created_by=actor,
            )
        )
        tx.audit(
            after={
                "user": name,
                "kind": "password",
                "created_at": now,
                "secret_digest": secret_digest(secret_hash),
            }
        )


def issue_token(
    url: Database,
    name: str,
    *,
    actor: str,
    label: str = "",
    days: int = DEFAULT_TOKEN_DAYS,
    now: dt.datetime | None = None,
) -> IssuedToken:
    """A new personal API token for ``name``, valid for ``days``; its secret is returned once."""
    db = as_database(url)
    _owner(db, name)
    _may_manage(db, actor, name, "user.token")
    if not 1 <= days <= MAX_TOKEN_DAYS:
        raise ConfigError(f"a token lives from 1 to {MAX_TOKEN_DAYS} days (--days), not {days}")
    now = now or dt.datetime.now(dt.UTC)
    expires_at = now + dt.timedelta(days=days)
    credential_id = "tok-" + secrets.token_hex(6)
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction(db, actor, action="user.token", entity=("credential", credential_id)) as tx:
        tx.connection.execute(
            credentials.insert().values(
                credential_id=credential_id,
                user_name=name,
                kind="token",
                secret_hash=_token_hash(secret),
                label=label or None,
                created_at=now,
                created_by=actor,
                expires_at=expires_at,
            )
        )
        tx.audit(
            after={
                "user": name,
                "kind": "token",
                "label": label,
                "created_at": now,
                "expires_at": expires_at,
                "secret_digest": secret_digest(_token_hash(secret)),
            }
        )
    return IssuedToken(credential_id, name, secret, expires_at)


def revoke_token(url: Database, credential_id: str, *, actor: str) -> None:
    """Stop a token from working; its row stays, marked revoked."""
    db = as_database(url)
    with get_engine(db).connect() as connection:
        row = (
            connection.execute(
                sa.select(credentials).where(credentials.c.credential_id == credential_id)
            )
            .mappings()
            .first()
        )
    if row is None or row["kind"] != "token":
        raise ConfigError(f"no token {credential_id!r}; amnesty user tokens NAME lists them")
    _may_manage(db, actor, row["user_name"], "user.token.revoke")
    if row["revoked_at"] is not None:
        raise ConfigError(f"token {credential_id} was already revoked")
    entity = ("credential", credential_id)
    with transaction(db, actor, action="user.token.revoke", entity=entity) as tx:
        now = dt.datetime.now(dt.UTC)
        tx.connection.execute(
            credentials.update()
            .where(credentials.c.credential_id == credential_id)
            .values(revoked_at=now, revoked_by=actor)
        )
        tx.audit(after={"user": row["user_name"], "revoked_at": now})


def list_tokens(url: Database, name: str) -> list[dict[str, object]]:
    """A user's tokens, without their hashes."""
    db = as_database(url)
    with get_engine(db).connect() as connection:
        rows = connection.execute(
            sa.select(
                credentials.c.credential_id,
                credentials.c.label,
                credentials.c.created_at,
                credentials.c.created_by,
                credentials.c.revoked_at,
                credentials.c.expires_at,
            )
            .where(credentials.c.user_name == name)
            .where(credentials.c.kind == "token")
            .order_by(credentials.c.created_at)
        ).mappings()
        return [dict(r) for r in rows]


def token_id(url: Database, secret: str) -> str:
    """The id of the token whose secret this is (to revoke it)."""
    with get_engine(as_database(url)).connect() as connection:
        found = connection.execute(
            sa.select(credentials.c.credential_id).where(
                credentials.c.secret_hash == _token_hash(secret.strip())
            )
        ).scalar_one_or_none()
    if found is None:
        raise ConfigError("that token is not one of this database's")
    return str(found)


def _active_user(db: Database, name: str, how: str) -> str:
    user = get_user(db, name)
    if user is None or not user.active:
        _refuse(db, name, f"{how}: user {name!r} is unknown or deactivated")
    return name


def _refuse(db: Database, claimed: str, reason: str) -> None:
    audit_refusal(db, ANONYMOUS_ACTOR, "login", ("user", claimed), reason)
    denied = PermissionDenied(reason)
    denied.audited = True  # type: ignore[attr-defined]
    raise denied


def authenticate_token(url: Database, secret: str, *, now: dt.datetime | None = None) -> str:
    """The name of the user holding this standing, unexpired token, or a refusal (audited)."""
    db = as_database(url)
    digest = _token_hash(secret.strip())
    with get_engine(db).connect() as connection:
        row = (
            connection.execute(
                sa.select(
                    credentials.c.credential_id,
                    credentials.c.user_name,
                    credentials.c.secret_hash,
                    credentials.c.expires_at,
                )
                .where(credentials.c.kind == "token")
                .where(credentials.c.secret_hash == digest)
                .where(credentials.c.revoked_at.is_(None))
            )
            .mappings()
            .first()
        )
    if row is None or not hmac.compare_digest(row["secret_hash"], digest):
        _refuse(db, "", "the token is unknown or revoked; amnesty login issues a new one")
    assert row is not None
    expires_at = row["expires_at"]
    if expires_at is not None and expires_at <= (now or dt.datetime.now(dt.UTC)):
        _refuse(
            db,
            row["user_name"],
            f"token {row['credential_id']} of {row['user_name']!r} expired on "
            f"{expires_at:%Y-%m-%d %H:%M} UTC; amnesty login (or amnesty user token) issues "
            "a new one",
        )
    return _active_user(db, row["user_name"], "token")


def authenticate_password(url: Database, name: str, password: str) -> str:
    """``name`` if ``password`` is their standing password, else a refusal (audited)."""
    db = as_database(url)
    with get_engine(db).connect() as connection:
        stored = connection.execute(
            sa.select(credentials.c.secret_hash)
            .where(credentials.c.user_name == name)
            .where(credentials.c.kind == "password")
            .where(credentials.c.revoked_at.is_(None))
        ).scalar_one_or_none()
    try:
        if stored is None or not _HASHER.verify(stored, password):
            raise VerificationError
    except (VerificationError, InvalidHashError):
        _refuse(db, name, f"wrong password for {name!r} (or no password set)")
    return _active_user(db, name, "password")
