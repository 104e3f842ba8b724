"""PostgreSQL roles: the database itself refuses what a connection may not do.

Three kinds of role (docs/security.md, "Database roles"):

- the **owner** (whoever runs ``amnesty db roles``): owns every table, runs the
  migrations and the registry import (which drops and recreates registry tables),
  and nothing else;
- ``amnesty_app``, a group with the DML every command needs and no more: the
  chain-bearing tables (audit events and checkpoints, runs, determinations, review
  decisions, roster entries, undertakings, releases, revocations, registry events
  and snapshots) are INSERT and SELECT only; the few columns a command changes
  (a roster's approval, a decree's signature, a credential's revocation, a
  certificate's file) are granted column by column; nothing is granted DELETE or
  TRUNCATE except the server's throttling table;
- per amnesty role groups (``amnesty_reviewer``, ``amnesty_approver``,
  ``amnesty_facility_officer``, ``amnesty_drafter``, ``amnesty_analyst``,
  ``amnesty_admin``, ``amnesty_auditor``): the writes of that role's steps only,
  for per-person logins, so that a stolen reviewer's connection string cannot
  insert a release.

Logins are members of a group (``--login NAME=GROUP[:USER]``); the groups are
NOLOGIN. A facility officer's login names the amnesty user it acts as, and row-level
security lets it write only that user's rows of that user's facilities (rosters,
roster entries, undertakings, releases, certificates, registry events): a stolen
officer's connection string releases nobody elsewhere. Reads stay unrestricted,
since the once-per-custody check must see every facility's releases.
Triggers keep the append-only tables append-only and the granted column changes
one-way (a signed decree stays signed, an approved roster is only ever withdrawn, a
revoked credential stays revoked) for every role but the tables' owner, so that a
careless ``GRANT ALL`` to the application does not undo them. They are installed
with the roles, not by a migration: without a non-owner role they guard nothing.

Everything here is idempotent: :func:`plan` returns the statements, and
:func:`apply` runs them in one transaction as the owner.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from amnesty.errors import ConfigError


def require_server(url: Any) -> None:
    """Database roles are PostgreSQL's; refuse an embedded DuckDB file (``url``: a
    :class:`~amnesty.store.db.DatabaseURL`)."""
    if url.is_duckdb:
        raise ConfigError(
            f"--db {url.target}: database roles are a PostgreSQL feature; an embedded "
            "DuckDB file is protected by its file permissions (docs/security.md)"
        )


APP = "amnesty_app"
PREFIX = "amnesty_"

# Tables every connection reads.
READ_ONLY = ("alembic_version", "database_logins")

# The tables whose rows are history: appended, never changed or removed by amnesty.
APPEND_ONLY = (
    "audit_events",
    "audit_checkpoints",
    "runs",
    "determinations",
    "review_decisions",
    "roster_entries",
    "undertaking_records",
    "releases",
    "release_revocations",
    "events",  # the registry events amnesty writes (release, return)
)

# Mutable tables: the columns amnesty changes after insert (all it ever updates).
COLUMN_UPDATES: dict[str, tuple[str, ...]] = {
    "users": ("active",),
    "credentials": ("revoked_at", "revoked_by"),
    "decrees": ("content_hash", "title", "source_text", "status", "signed_by", "signed_at"),
    "rosters": (
        "status",
        "approved_by",
        "approved_at",
        "withdrawn_by",
        "withdrawn_at",
        "withdraw_reason",
    ),
    "certificates": ("path", "sha256"),
    "registry_snapshots": ("is_current",),
    "server_sessions": ("last_seen_at", "ended_at"),
    "server_jobs": ("state", "stage", "progress", "run_id", "error", "updated_at"),
}
DELETES = ("server_login_failures",)
INSERTS_ONLY = ("server_keys", "server_login_failures")


@dataclass(frozen=True)
class Grant:
    """What one group may do to one table."""

    insert: bool = False
    update: tuple[str, ...] = ()
    delete: bool = False


# Writes every amnesty role's login needs: the audit chain (refusals are audited),
# its own credentials (login), the server's sessions, and evaluate (any user may
# record a run: a run releases nobody).
_COMMON: dict[str, Grant] = {
    "audit_events": Grant(insert=True),
    "credentials": Grant(insert=True, update=COLUMN_UPDATES["credentials"]),
    "decrees": Grant(insert=True),
    "runs": Grant(insert=True),
    "determinations": Grant(insert=True),
    "server_sessions": Grant(insert=True, update=COLUMN_UPDATES["server_sessions"]),
    "server_login_failures": Grant(insert=True, delete=True),
    "server_keys": Grant(insert=True),
    "server_jobs": Grant(insert=True, update=COLUMN_UPDATES["server_jobs"]),
}
_ROSTER_APPROVAL = ("status", "approved_by", "approved_at")
_ROSTER_WITHDRAWAL = ("status", "withdrawn_by", "withdrawn_at", "withdraw_reason")
_REGISTRY_WRITES: dict[str, Grant] = {
    "events": Grant(insert=True),
    "registry_snapshots": Grant(insert=True, update=COLUMN_UPDATES["registry_snapshots"]),
}

# amnesty role -> the extra writes of its steps (amnesty.workflow checks the role too).
ROLE_WRITES: dict[str, dict[str, Grant]] = {
    "reviewer": {"review_decisions": Grant(insert=True)},
    "approver": {
        "rosters": Grant(insert=True, update=_ROSTER_APPROVAL + _ROSTER_WITHDRAWAL[1:]),
        "roster_entries": Grant(insert=True),
        "release_revocations": Grant(insert=True),
        **_REGISTRY_WRITES,
    },
    "facility_officer": {
        "rosters": Grant(insert=True),
        "roster_entries": Grant(insert=True),
        "undertaking_records": Grant(insert=True),
        "releases": Grant(insert=True),
        "certificates": Grant(insert=True, update=COLUMN_UPDATES["certificates"]),
        **_REGISTRY_WRITES,
    },
    "drafter": {"decrees": Grant(insert=True, update=COLUMN_UPDATES["decrees"])},
    "analyst": {},
    "admin": {
        "users": Grant(insert=True, update=COLUMN_UPDATES["users"]),
        "decrees": Grant(insert=True, update=COLUMN_UPDATES["decrees"]),
        "rosters": Grant(update=_ROSTER_WITHDRAWAL),
        "release_revocations": Grant(insert=True),
        **_REGISTRY_WRITES,
    },
    "auditor": {"audit_checkpoints": Grant(insert=True)},
}


def app_grants() -> dict[str, Grant]:
    """``amnesty_app``: every write of every role (one login for the CLI or the server)."""
    grants: dict[str, Grant] = {}
    for table in APPEND_ONLY:
        grants[table] = Grant(insert=True)
    for table, columns in COLUMN_UPDATES.items():
        grants[table] = Grant(insert=True, update=columns, delete=table in DELETES)
    for table in INSERTS_ONLY:
        grants[table] = Grant(insert=True, delete=table in DELETES)
    return grants


def role_grants(role: str) -> dict[str, Grant]:
    merged: dict[str, Grant] = dict(_COMMON)
    for table, grant in ROLE_WRITES[role].items():
        old = merged.get(table, Grant())
        merged[table] = Grant(
            insert=old.insert or grant.insert,
            update=tuple(dict.fromkeys(old.update + grant.update)),
            delete=old.delete or grant.delete,
        )
    return merged


def groups() -> dict[str, dict[str, Grant]]:
    """Every group role and its writes (reads: SELECT on every table, for all)."""
    found = {APP: app_grants()}
    for role in ROLE_WRITES:
        found[PREFIX + role] = role_grants(role)
    return found


_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def check_name(name: str, what: str) -> str:
    if not _NAME.match(name):
        raise ConfigError(
            f"{what} {name!r}: expected a PostgreSQL role name of lower-case letters, "
            "digits and _ (at most 63), starting with a letter or _"
        )
    return name


@dataclass
class Login:
    name: str
    group: str
    password: str | None = None
    user: str | None = None  # the amnesty user this login acts as

    def described(self) -> str:
        return f"{self.name}={self.group}" + (f" as {self.user}" if self.user else "")


# Groups whose logins must name their amnesty user: their writes are scoped to it.
SCOPED_GROUPS = (PREFIX + "facility_officer",)


@dataclass
class Plan:
    """The statements ``amnesty db roles`` runs, in order, and what it found."""

    owner: str
    statements: list[str] = field(default_factory=list)
    unknown_tables: list[str] = field(default_factory=list)


def plan(connection: Any, logins: Sequence[Login] = (), *, schema: str = "public") -> Plan:
    """The idempotent statements that set up the groups, their grants and the logins.

    ``connection`` is a SQLAlchemy connection to the database, as its owner; the
    tables are read from the catalogue, so a table the map does not name (a registry
    table, one a later migration adds) is granted SELECT only and listed.
    """
    import sqlalchemy as sa

    owner = str(connection.execute(sa.text("SELECT current_user")).scalar())
    tables = sorted(
        str(r[0])
        for r in connection.execute(
            sa.text("SELECT tablename FROM pg_tables WHERE schemaname = :s"), {"s": schema}
        )
    )
    sequences = sorted(
        str(r[0])
        for r in connection.execute(
            sa.text("SELECT sequencename FROM pg_sequences WHERE schemaname = :s"), {"s": schema}
        )
    )
    out = Plan(owner=owner)
    known = set(APPEND_ONLY) | set(COLUMN_UPDATES) | set(INSERTS_ONLY) | set(READ_ONLY)
    out.unknown_tables = [t for t in tables if t not in known]
    q = _quote
    for group, grants in groups().items():
        out.statements.append(
            "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = "
            f"'{group}') THEN CREATE ROLE {q(group)} NOLOGIN; END IF; END $$"
        )
        out.statements.append(f"GRANT USAGE ON SCHEMA {q(schema)} TO {q(group)}")
        for table in tables:
            out.statements.append(f"REVOKE ALL ON {q(schema)}.{q(table)} FROM {q(group)}")
            out.statements.append(f"GRANT SELECT ON {q(schema)}.{q(table)} TO {q(group)}")
            grant = grants.get(table)
            if grant is None:
                continue
            if grant.insert:
                out.statements.append(f"GRANT INSERT ON {q(schema)}.{q(table)} TO {q(group)}")
            if grant.delete:
                out.statements.append(f"GRANT DELETE ON {q(schema)}.{q(table)} TO {q(group)}")
            columns = [c for c in grant.update if _has_column(connection, schema, table, c)]
            if columns:
                cols = ", ".join(q(c) for c in columns)
                out.statements.append(
                    f"GRANT UPDATE ({cols}) ON {q(schema)}.{q(table)} TO {q(group)}"
                )
        for sequence in sequences:
            out.statements.append(
                f"GRANT USAGE, SELECT ON SEQUENCE {q(schema)}.{q(sequence)} TO {q(group)}"
            )
        # Tables the owner creates later (a registry re-import recreates its tables):
        # readable and appendable (the registry events), never changed or removed.
        out.statements.append(
            f"ALTER DEFAULT PRIVILEGES FOR ROLE {q(owner)} IN SCHEMA {q(schema)} "
            f"GRANT SELECT, INSERT ON TABLES TO {q(group)}"
        )
        out.statements.append(
            f"ALTER DEFAULT PRIVILEGES FOR ROLE {q(owner)} IN SCHEMA {q(schema)} "
            f"GRANT USAGE, SELECT ON SEQUENCES TO {q(group)}"
        )
    out.statements.extend(_TRIGGER_FUNCTIONS)
    for table in tables:
        if table in APPEND_ONLY:
            out.statements.append(
                f"CREATE OR REPLACE TRIGGER amnesty_append_only BEFORE UPDATE OR DELETE ON "
                f"{q(schema)}.{q(table)} FOR EACH ROW EXECUTE FUNCTION amnesty_append_only()"
            )
            out.statements.append(
                f"CREATE OR REPLACE TRIGGER amnesty_no_truncate BEFORE TRUNCATE ON "
                f"{q(schema)}.{q(table)} FOR EACH STATEMENT EXECUTE FUNCTION "
                "amnesty_append_only()"
            )
        if table in _ONE_WAY:
            out.statements.append(
                f"CREATE OR REPLACE TRIGGER amnesty_one_way BEFORE UPDATE ON "
                f"{q(schema)}.{q(table)} FOR EACH ROW EXECUTE FUNCTION amnesty_{table}_one_way()"
            )
        if table in COLUMN_UPDATES:
            out.statements.append(
                f"CREATE OR REPLACE TRIGGER amnesty_no_truncate BEFORE TRUNCATE ON "
                f"{q(schema)}.{q(table)} FOR EACH STATEMENT EXECUTE FUNCTION "
                "amnesty_append_only()"
            )
    out.statements.extend(_row_security(schema, tables))
    for login in logins:
        check_name(login.name, "--login")
        if login.group not in groups():
            raise ConfigError(
                f"--login {login.name}={login.group}: unknown group; expected one of "
                + ", ".join(groups())
            )
        password = f" PASSWORD {_literal(login.password)}" if login.password is not None else ""
        out.statements.append(
            "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = "
            f"'{login.name}') THEN CREATE ROLE {q(login.name)} LOGIN; END IF; END $$"
        )
        out.statements.append(f"ALTER ROLE {q(login.name)} LOGIN{password}")
        powerful = connection.execute(
            sa.text(
                "SELECT rolsuper OR rolcreaterole OR rolbypassrls FROM pg_roles WHERE rolname = :n"
            ),
            {"n": login.name},
        ).scalar()
        if powerful:
            raise ConfigError(
                f"--login {login.name}: that role is a superuser, may create roles or bypasses "
                "row security; a login for amnesty must be none of these"
            )
        for group in groups():
            if group != login.group:
                out.statements.append(f"REVOKE {q(group)} FROM {q(login.name)}")
        out.statements.append(f"GRANT {q(login.group)} TO {q(login.name)}")
        if login.user is None:
            out.statements.append(
                f"DELETE FROM {q(schema)}.database_logins WHERE login = {_literal(login.name)}"
            )
        else:
            out.statements.append(
                f"INSERT INTO {q(schema)}.database_logins (login, user_name) VALUES "
                f"({_literal(login.name)}, {_literal(login.user)}) ON CONFLICT (login) "
                "DO UPDATE SET user_name = EXCLUDED.user_name"
            )
    return out


# Whether the acting role owns the table (the owner and superusers may do anything).
_OWNER = "pg_has_role(current_user, (SELECT relowner FROM pg_class WHERE oid = TG_RELID), 'MEMBER')"
_REFUSE = "RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege', MESSAGE = "
_TRIGGER_FUNCTIONS = [
    "CREATE OR REPLACE FUNCTION amnesty_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
    f"BEGIN IF {_OWNER} THEN IF TG_OP = 'DELETE' THEN RETURN OLD; END IF; RETURN NEW; END IF; "
    f"{_REFUSE} 'amnesty: ' || TG_OP || ' on ' || TG_TABLE_NAME || "
    "' refused: its rows are history (append-only)'; END $$",
    "CREATE OR REPLACE FUNCTION amnesty_decrees_one_way() RETURNS trigger LANGUAGE plpgsql "
    f"AS $$ BEGIN IF {_OWNER} OR OLD.status <> 'signed' THEN RETURN NEW; END IF; "
    f"{_REFUSE} 'amnesty: decree ' || OLD.decree_id || "
    "' is signed; a signed decree never changes'; END $$",
    "CREATE OR REPLACE FUNCTION amnesty_rosters_one_way() RETURNS trigger LANGUAGE plpgsql "
    f"AS $$ BEGIN IF {_OWNER} THEN RETURN NEW; END IF; "
    "IF OLD.status = 'prepared' AND NEW.status IN ('approved', 'withdrawn') "
    "AND NEW.prepared_by = OLD.prepared_by THEN RETURN NEW; END IF; "
    "IF OLD.status = 'approved' AND NEW.status = 'withdrawn' "
    "AND NEW.approved_by IS NOT DISTINCT FROM OLD.approved_by "
    "AND NEW.approved_at IS NOT DISTINCT FROM OLD.approved_at THEN RETURN NEW; END IF; "
    f"{_REFUSE} 'amnesty: roster ' || OLD.roster_id || ' may not go from ' || "
    "OLD.status || ' to ' || NEW.status; END $$",
    "CREATE OR REPLACE FUNCTION amnesty_credentials_one_way() RETURNS trigger "
    f"LANGUAGE plpgsql AS $$ BEGIN IF {_OWNER} OR OLD.revoked_at IS NULL THEN RETURN NEW; "
    f"END IF; {_REFUSE} 'amnesty: credential ' || OLD.credential_id || "
    "' is revoked; it stays revoked'; END $$",
]
_ONE_WAY = ("decrees", "rosters", "credentials")

# Row-level security for the scoped groups: each table's check on the rows a scoped
# login inserts (and, for certificates, updates). ``amnesty_acts_at(f)`` holds when the
# login's amnesty user is an active facility officer of f (or of every facility);
# ``amnesty_login_user()`` is that user, so the row must be written in its name.
_FACILITY_OF = {
    "roster_entries": "(SELECT r.facility_id FROM rosters r "
    "WHERE r.roster_id = roster_entries.roster_id)",
    "undertaking_records": "(SELECT d.facility_id FROM determinations d "
    "WHERE d.run_id = undertaking_records.run_id "
    "AND d.person_id = undertaking_records.person_id)",
    "certificates": "(SELECT r.facility_id FROM releases r "
    "WHERE r.release_id = certificates.release_id)",
}
SCOPED_WRITES: dict[str, tuple[str, str | None]] = {
    # table: (the facility the row is at, the column naming who wrote it)
    "rosters": ("facility_id", "prepared_by"),
    "roster_entries": (_FACILITY_OF["roster_entries"], None),
    "undertaking_records": (_FACILITY_OF["undertaking_records"], "recorded_by"),
    "releases": ("facility_id", "executed_by"),
    "certificates": (_FACILITY_OF["certificates"], None),
    "events": ("facility_id", None),
}


def _row_security_functions(schema: str) -> list[str]:
    # SECURITY DEFINER, so that a login needs no grant on the map; session_user is
    # the login that connected (current_user, inside, is the functions' owner).
    path = f"SET search_path = {_quote(schema)}, pg_temp"
    return [
        "CREATE OR REPLACE FUNCTION amnesty_login_user() RETURNS text LANGUAGE sql STABLE "
        f"SECURITY DEFINER {path} AS $$ SELECT user_name FROM database_logins "
        "WHERE login = session_user $$",
        "CREATE OR REPLACE FUNCTION amnesty_acts_at(facility text) RETURNS boolean "
        f"LANGUAGE sql STABLE SECURITY DEFINER {path} AS $$ SELECT EXISTS (SELECT 1 "
        "FROM database_logins l JOIN users u ON u.name = l.user_name "
        "WHERE l.login = session_user AND u.active "
        "AND u.roles::jsonb ? 'facility_officer' "
        "AND (u.facilities::jsonb = '[]'::jsonb OR u.facilities::jsonb ? facility)) $$",
        "REVOKE ALL ON FUNCTION amnesty_login_user() FROM PUBLIC",
        "REVOKE ALL ON FUNCTION amnesty_acts_at(text) FROM PUBLIC",
    ]


def _row_security(schema: str, tables: Sequence[str]) -> list[str]:
    """Enable row security on the scoped tables: every row readable by all, every
    write allowed to the unscoped groups, and the scoped groups' writes checked."""
    q = _quote
    unscoped = ", ".join(q(g) for g in groups() if g not in SCOPED_GROUPS)
    scoped = ", ".join(q(g) for g in SCOPED_GROUPS)
    out = _row_security_functions(schema)
    for group in SCOPED_GROUPS:
        for function in ("amnesty_login_user()", "amnesty_acts_at(text)"):
            out.append(f"GRANT EXECUTE ON FUNCTION {function} TO {q(group)}")
    for table, (facility, writer) in SCOPED_WRITES.items():
        if table not in tables:
            continue
        on = f"{q(schema)}.{q(table)}"
        check = f"amnesty_acts_at({facility})"
        if writer is not None:
            check += f" AND {writer} = amnesty_login_user()"
        policies = {
            "amnesty_read": "FOR SELECT USING (true)",
            "amnesty_unscoped": f"FOR ALL TO {unscoped} USING (true) WITH CHECK (true)",
            "amnesty_scoped_insert": f"FOR INSERT TO {scoped} WITH CHECK ({check})",
            "amnesty_scoped_update": f"FOR UPDATE TO {scoped} USING ({check}) WITH CHECK ({check})",
        }
        out.append(f"ALTER TABLE {on} ENABLE ROW LEVEL SECURITY")
        for name, body in policies.items():
            out.append(f"DROP POLICY IF EXISTS {name} ON {on}")
            out.append(f"CREATE POLICY {name} ON {on} {body}")
    return out


def apply(connection: Any, logins: Sequence[Login] = ()) -> Plan:
    """Run :func:`plan` in ``connection``'s transaction (the caller commits)."""
    import sqlalchemy as sa

    found = plan(connection, logins)
    for statement in found.statements:
        try:
            connection.exec_driver_sql(statement)
        except sa.exc.ProgrammingError as exc:
            reason = str(getattr(exc, "orig", exc)).splitlines()[0]
            raise ConfigError(
                f"db roles as {found.owner}: {reason}; run it as the tables' owner, a role "
                'with CREATEROLE (docs/security.md, "Database roles")'
            ) from exc
    return found


def redacted(statements: Iterable[str]) -> list[str]:
    """The statements with passwords hidden, for printing."""
    return [re.sub(r"PASSWORD '(?:[^']|'')*'", "PASSWORD '***'", s) for s in statements]


def parse_logins(values: Sequence[str], passwords: Mapping[str, str] | None = None) -> list[Login]:
    """``NAME=GROUP[:USER]`` (GROUP with or without the ``amnesty_`` prefix; USER the
    amnesty user the login acts as, required for a facility officer's login)."""
    found = []
    for value in values:
        name, sep, rest = value.partition("=")
        group, _, user = rest.partition(":")
        if not sep or not name or not group:
            raise ConfigError(f"--login {value!r}: expected NAME=GROUP, e.g. alice=reviewer")
        group = group if group.startswith(PREFIX) else PREFIX + group
        if group in SCOPED_GROUPS and not user:
            raise ConfigError(
                f"--login {value!r}: a facility officer's login names the amnesty user it "
                f"acts as, e.g. {name}={group.removeprefix(PREFIX)}:kim; the database lets it "
                "write only that user's rows of that user's facilities"
            )
        if user and (user != user.strip() or not user.isprintable()):
            raise ConfigError(f"--login {value!r}: the user name has spaces or control characters")
        found.append(
            Login(
                check_name(name, "--login"),
                group,
                (passwords or {}).get(name),
                user or None,
            )
        )
    return found


def _has_column(connection: Any, schema: str, table: str, column: str) -> bool:
    import sqlalchemy as sa

    return (
        connection.execute(
            sa.text(
                "SELECT 1 FROM information_schema.columns WHERE table_schema = :s "
                "AND table_name = :t AND column_name = :c"
            ),
            {"s": schema, "t": table, "c": column},
        ).first()
        is not None
    )


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
