"""``amnesty user add|list``: accounts, roles and facility scope."""

from __future__ import annotations

from typing import Annotated

import typer

from amnesty.cli.app import AsOption, DbOption, FormatOption, group
from amnesty.cli.output import Format, console, emit_rows
from amnesty.cli.session import acting_user, open_store
from amnesty.workflow.users import Role, add_user, list_users

user_app = group("user", "Accounts, roles and facility scope.")

ROLE_HELP = "Role to grant (repeatable): " + ", ".join(r.value for r in Role) + "."


@user_app.command("add")
def user_add(
    name: Annotated[str, typer.Argument(help="The new user's name.")],
    role: Annotated[list[str], typer.Option("--role", help=ROLE_HELP)],
    facility: Annotated[
        list[str] | None,
        typer.Option("--facility", help="Facility id the user acts for (repeatable)."),
    ] = None,
    db: DbOption = None,
    as_user: AsOption = None,
) -> None:
    """Add a user. The first user (an admin) needs no --as; later ones need an admin."""
    url = open_store(db, create=True)
    user = add_user(url, name, role, facility or [], actor=acting_user(as_user))
    scope = ", ".join(user.facilities) or "all facilities"
    console(stderr=True).print(
        f"added user {user.name}: {', '.join(r.value for r in user.roles)} ({scope})"
    )


@user_app.command("list")
def user_list(db: DbOption = None, fmt: FormatOption = Format.table) -> None:
    """List users with their roles and facility scope."""
    url = open_store(db)
    rows = [u.as_dict() for u in list_users(url)]
    emit_rows(
        rows, fmt, columns=["name", "roles", "facilities", "active", "created_at", "created_by"]
    )
