"""``amnesty db migrate|roles``: the database's schema and its PostgreSQL roles."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from amnesty.cli.app import DbOption, group
from amnesty.cli.output import console, inert
from amnesty.errors import ConfigError

db_app = group("db", "The database: upgrade its schema; set up its PostgreSQL roles.")


@db_app.command("migrate")
def db_migrate(db: DbOption = None) -> None:
    """Upgrade the database to this amnesty's schema (as the tables' owner)."""
    from amnesty.store.database import Database
    from amnesty.store.migrate import HEAD

    store = Database.open(db)
    console(stderr=True).print(f"{inert(str(store))}: schema at revision {HEAD}")


@db_app.command("roles")
def db_roles(
    login: Annotated[
        list[str] | None,
        typer.Option(
            "--login",
            help="NAME=GROUP[:USER]: create or update login role NAME as a member of GROUP "
            "only (app, reviewer, approver, facility_officer, drafter, analyst, admin, "
            "auditor), acting as amnesty user USER (required for facility_officer).",
        ),
    ] = None,
    password_stdin: Annotated[
        bool,
        typer.Option(
            "--password-stdin", help="Read one password per --login, one a line, from stdin."
        ),
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the statements; change nothing.")
    ] = False,
    db: DbOption = None,
) -> None:
    """Create or update the PostgreSQL group roles, their grants and triggers, and logins (as the owner; idempotent)."""  # noqa: E501
    from amnesty.store import roles
    from amnesty.store.database import Database

    store = Database.open(db)
    roles.require_server(store.url)
    names = login or []
    passwords: dict[str, str] = {}
    logins = roles.parse_logins(names)
    if password_stdin:
        lines = sys.stdin.read().splitlines()
        if len(lines) < len(logins):
            raise ConfigError(
                f"--password-stdin: {len(logins)} --login given, {len(lines)} passwords read"
            )
        passwords = {item.name: lines[i] for i, item in enumerate(logins)}
        logins = roles.parse_logins(names, passwords)
    with store.engine.begin() as connection:
        found = roles.plan(connection, logins) if dry_run else roles.apply(connection, logins)
    out = console(stderr=True)
    if dry_run:
        for statement in roles.redacted(found.statements):
            print(statement + ";")
    else:
        out.print(
            f"{inert(str(store))}: {len(roles.groups())} group roles granted as owner "
            f"{inert(found.owner)}"
            + (f"; logins: {inert(', '.join(x.described() for x in logins))}" if logins else "")
        )
    if found.unknown_tables:
        out.print(
            "tables read-only for every group (not in amnesty.store.roles): "
            + inert(", ".join(found.unknown_tables))
        )
