"""Users, their roles and facility scope, and the check every step makes.

A user holds one or more roles; a role grants nothing else implicitly (an
admin manages accounts but does not review or approve, so four-eyes rules stay
meaningful). A facility officer acts only for the facilities in their scope.
The first user of an empty database is created without ``--as`` (bootstrap)
and must be an admin; after that only an admin adds users. Who is acting is
proved by a credential (:mod:`amnesty.workflow.credentials`) before any of
these functions is called; they take the proved name.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from amnesty.errors import ConfigError, PermissionDenied
from amnesty.registry.identifiers import canonical_id, id_problem
from amnesty.store.database import Database, as_database
from amnesty.store.engine import get_engine
from amnesty.store.tables import users
from amnesty.store.transaction import audit_refusal, transaction
from amnesty.workflow.duties import SECONDED_ROLES, SeparationOfDuties, check_roles_allowed
from amnesty.workflow.roles import HEALTH_READERS, Role

if TYPE_CHECKING:
    from amnesty.decree import Decree

BOOTSTRAP_ACTOR = "(bootstrap)"
ANONYMOUS_ACTOR = "(anonymous)"


@dataclass(frozen=True)
class User:
    user_id: int
    name: str
    roles: tuple[Role, ...]
    facilities: tuple[str, ...]  # empty: every facility
    active: bool
    created_at: dt.datetime
    created_by: str | None

    def has(self, role: Role | str) -> bool:
        return Role(role) in self.roles

    def covers(self, facility: str) -> bool:
        return not self.facilities or facility in self.facilities

    def as_dict(self) -> dict[str, object]:
        return {
            "user_id": self.user_id,
            "name": self.name,
            "roles": [r.value for r in self.roles],
            "facilities": list(self.facilities),
            "active": self.active,
            "created_at": self.created_at,
            "created_by": self.created_by,
        }


def parse_roles(names: Iterable[str]) -> tuple[Role, ...]:
    roles: list[Role] = []
    for name in names:
        try:
            role = Role(name.strip().replace("-", "_"))
        except ValueError:
            known = ", ".join(r.value for r in Role)
            raise ConfigError(f"unknown role {name!r}; expected one of: {known}") from None
        if role not in roles:
            roles.append(role)
    return tuple(roles)


def add_user(
    url: Database,
    name: str,
    roles: Sequence[str | Role],
    facilities: Sequence[str] = (),
    *,
    actor: str | None = None,
    password: str | None = None,
) -> User:
    """Create a user; ``actor`` must be an admin unless the database has no user yet.

    With ``password`` the user can log in at once; without, they need one set
    (or a token issued) before they can act.
    """
    parsed = parse_roles(str(r) for r in roles)
    if not name.strip():
        raise ConfigError("a user needs a name")
    problem = id_problem(name)  # the registry's rules for ids: NFKC, nothing invisible
    if problem is not None:
        raise ConfigError(f"user name {name!r} {problem}")
    if not parsed:
        raise ConfigError(f"user {name!r}: give at least one --role")
    if Role.facility_officer in parsed and not facilities:
        raise ConfigError(
            f"user {name!r}: a facility_officer needs at least one --facility to act for"
        )
    db = as_database(url)
    with get_engine(db).connect() as connection:
        empty = connection.execute(sa.select(sa.func.count()).select_from(users)).scalar_one() == 0
    if empty:
        if Role.admin not in parsed:
            raise ConfigError(
                f"user {name!r}: the first user must be an admin (--role admin), "
                "who then adds everyone else"
            )
        acting = actor or BOOTSTRAP_ACTOR
    else:
        if actor is None:
            reason = (
                "adding a user needs an admin: amnesty login --as ADMIN first, or set AMNESTY_TOKEN"
            )
            audit_refusal(db, ANONYMOUS_ACTOR, "user.add", ("user", name), reason)
            raise PermissionDenied(reason)
        require(db, actor, Role.admin, action="user.add", entity=("user", name))
        acting = actor
    seconded = not empty and _needs_second_admin(db, parsed)
    entity = ("user", name)
    with transaction(db, acting, action="user.add", entity=entity) as tx:
        check_roles_allowed(name, parsed)  # refused inside, so that the refusal is audited
        if _find(tx.connection, name) is not None:
            raise ConfigError(f"user {name!r} already exists; pick another name")
        names = tx.connection.execute(sa.select(users.c.name)).scalars()
        alike = [n for n in names if canonical_id(n) == canonical_id(name)]
        if alike:
            raise ConfigError(
                f"user name {name!r} differs from the existing user {alike[0]!r} only by case "
                "or Unicode form; pick a name no one could mistake for it"
            )
        now = dt.datetime.now(dt.UTC)
        row = {
            "name": name,
            "roles": json.dumps([r.value for r in parsed]),
            "facilities": json.dumps(list(facilities)),
            "active": not seconded,
            "created_at": now,
            "created_by": None if empty and actor is None else acting,
        }
        tx.connection.execute(users.insert().values(**row))
        user = _find(tx.connection, name)
        assert user is not None
        tx.audit(after=user.as_dict())
    if password is not None:
        from amnesty.workflow.credentials import set_password  # it builds on this module

        # The bootstrap admin sets their own first password; later, the adding admin.
        set_password(db, name, password, actor=acting if acting != BOOTSTRAP_ACTOR else name)
    return user


def _needs_second_admin(db: Database, roles: Sequence[Role]) -> bool:
    """A grant of admin or approver waits for a second admin's confirmation.

    Except the second admin of a database that has only one: the installation
    sets up its first two admins together (docs/security.md, "Deploying").
    """
    if not SECONDED_ROLES & set(roles):
        return False
    admins = [u for u in list_users(db) if u.active and u.has(Role.admin)]
    return not (set(roles) == {Role.admin} and len(admins) == 1)


def confirm_user(url: Database, name: str, *, actor: str) -> User:
    """A second admin (not the one who added ``name``) confirms a pending admin or approver."""
    db = as_database(url)
    entity = ("user", name)
    require(db, actor, Role.admin, action="user.confirm", entity=entity)
    with transaction(db, actor, action="user.confirm", entity=entity) as tx:
        before = _find(tx.connection, name)
        if before is None:
            raise ConfigError(f"no user named {name!r}")
        if before.active or not SECONDED_ROLES & set(before.roles):
            raise ConfigError(f"user {name!r} is not waiting for a second admin")
        if before.created_by == actor:
            raise SeparationOfDuties(
                f"{actor} added {name!r}; granting admin or approver needs a second admin"
            )
        tx.connection.execute(users.update().where(users.c.name == name).values(active=True))
        after = _find(tx.connection, name)
        assert after is not None
        tx.audit(before=before.as_dict(), after=after.as_dict())
    return after


def list_users(url: Database) -> list[User]:
    db = as_database(url)
    with get_engine(db).connect() as connection:
        rows = connection.execute(sa.select(users).order_by(users.c.name)).mappings().all()
    return [_user(row) for row in rows]


def get_user(url: Database, name: str) -> User | None:
    db = as_database(url)
    with get_engine(db).connect() as connection:
        return _find(connection, name)


def require(
    url: Database,
    actor: str | User | None,
    role: Role | str | Sequence[Role | str],
    *,
    facility: str | None = None,
    action: str,
    entity: tuple[str, str] = ("", ""),
) -> User:
    """The acting user, if they hold ``role`` (any of several) and cover ``facility``.

    Otherwise the refusal is audited and :class:`PermissionDenied` raised. Call
    it before opening the step's transaction.
    """
    db = as_database(url)
    wanted = parse_roles([role] if isinstance(role, str) else [str(r) for r in role])
    name = actor.name if isinstance(actor, User) else actor
    if not name:
        reason = (
            f"{action} needs an authenticated user: amnesty login --as USER first, "
            "or set AMNESTY_TOKEN"
        )
        audit_refusal(db, ANONYMOUS_ACTOR, action, entity, reason)
        raise PermissionDenied(reason)
    user = get_user(db, name)
    problem = None
    if user is None:
        problem = f"no user named {name!r}; an admin adds users with amnesty user add"
    elif not user.active:
        problem = f"user {name!r} is not active (deactivated, or waiting for a second admin)"
    elif not any(user.has(r) for r in wanted):
        need = " or ".join(r.value for r in wanted)
        problem = f"user {name!r} lacks the role {need} needed for {action}"
    elif facility is not None and not user.covers(facility):
        scope = ", ".join(user.facilities)
        problem = f"user {name!r} acts for {scope}, not for facility {facility}"
    if problem is not None:
        audit_refusal(db, name, action, entity, problem)
        denied = PermissionDenied(problem)
        denied.audited = True  # type: ignore[attr-defined]  # a transaction must not log it again
        raise denied
    assert user is not None
    return user


def _find(connection: Connection, name: str) -> User | None:
    row = connection.execute(sa.select(users).where(users.c.name == name)).mappings().first()
    return None if row is None else _user(row)


def _user(row: sa.RowMapping) -> User:
    return User(
        user_id=row["user_id"],
        name=row["name"],
        roles=parse_roles(json.loads(row["roles"])),
        facilities=tuple(json.loads(row["facilities"])),
        active=bool(row["active"]),
        created_at=row["created_at"],
        created_by=row["created_by"],
    )


HEALTH_FACT_PREFIX = "health."


def health_facts(names: Iterable[str], decree: Decree | None = None) -> list[str]:
    """The health-like facts among fact names: the health assessment's
    (``health.severity``, ...) and, with ``decree``, the attributes its profile marks
    sensitive (``person.tuberculosis`` under ru-2015). Each is gated like health."""
    sensitive: frozenset[str] = frozenset()
    if decree is not None:
        from amnesty.compile.sql import profile_for
        from amnesty.decree.facts import sensitive_facts

        sensitive = sensitive_facts(profile_for(decree))
    return sorted({n for n in names if n.startswith(HEALTH_FACT_PREFIX) or n in sensitive})


def health_clauses_of(decree: Decree) -> list[str]:
    """The ids of ``decree``'s clauses whose predicate reads a health-like fact
    (:func:`health_facts`); the profile is resolved once, not per clause."""
    from amnesty.compile.sql.aggregates import facts_read

    reads = {c.id: facts_read(c.predicate) for c in decree.clauses}
    gated = set(health_facts({n for names in reads.values() for n in names}, decree))
    return [clause for clause, names in reads.items() if gated.intersection(names)]


def record_health_read(
    url: Database,
    actor: str | None,
    *,
    person_id: str,
    facility_id: str | None,
    facts: Sequence[str],
    source: str,
) -> str:
    """Allow and log one read of a person's health facts; the name it is logged under.

    The reader needs a role of :data:`~amnesty.workflow.roles.HEALTH_READERS` covering
    the person's facility; a refusal is audited and nothing may be shown. The read is an
    audit event (action ``health.read``, entity ``person``, the facts' names, never their
    values). A database with no user at all (a drafter's local sandbox, before the
    bootstrap admin exists) has nobody to authenticate: the read is allowed and logged
    as ``(anonymous)``, the same gap as the first import (docs/security.md).
    """
    db = as_database(url)
    action, entity = "health.read", ("person", person_id)
    if actor is None and not list_users(db):
        reader = ANONYMOUS_ACTOR
    else:
        reader = require(
            db, actor, HEALTH_READERS, facility=facility_id, action=action, entity=entity
        ).name
    with transaction(db, reader, action=action, entity=entity) as tx:
        tx.audit(after={"person_id": person_id, "facts": list(facts), "source": source})
    return reader
