"""``amnesty user ...``, ``login``, ``logout``: accounts, roles and credentials."""

from __future__ import annotations

import getpass
import os
import sys
from typing import Annotated

import typer

from amnesty.cli.app import AsOption, DbOption, FormatOption, app, group
from amnesty.cli.output import Format, console, emit_rows, inert, markup_inert
from amnesty.cli.session import acting_user, open_store
from amnesty.errors import ConfigError, PermissionDenied
from amnesty.store.database import Database
from amnesty.workflow.credentials import (
    DEFAULT_TOKEN_DAYS,
    MAX_TOKEN_DAYS,
    authenticate_password,
    issue_token,
    list_tokens,
    revoke_token,
    set_password,
)
from amnesty.workflow.users import Role, add_user, confirm_user, list_users

user_app = group("user", "Accounts, roles, facility scope and credentials.")

ROLE_HELP = "Role to grant (repeatable): " + ", ".join(r.value for r in Role) + "."
DaysOption = Annotated[
    int,
    typer.Option(
        "--days",
        help=f"How long the token works, 1 to {MAX_TOKEN_DAYS} days.",
        show_default=True,
    ),
]
PasswordStdinOption = Annotated[
    bool,
    typer.Option("--password-stdin", help="Read the password from standard input (scripts)."),
]


def _new_password(from_stdin: bool, name: str) -> str | None:
    """The password to set: stdin's first line, typed twice at a prompt, or None."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():
        return None
    first = getpass.getpass(f"new password for {name}: ")
    if getpass.getpass("again: ") != first:
        raise ConfigError("the two passwords differ; nothing was changed")
    return first


def _authenticated(as_user: str | None, store: Database, what: str) -> str:
    actor = acting_user(as_user, store)
    if actor is None:
        raise PermissionDenied(f"{what} needs an authenticated user: amnesty login --as USER")
    return actor


def _show_token_once(secret: str, holder: str) -> None:
    print(secret)
    console(stderr=True).print(
        f"token for {markup_inert(holder)} printed above; it is shown only this once. "
        "Use it as AMNESTY_TOKEN, or run amnesty login."
    )


@user_app.command("add")
def user_add(
    name: Annotated[str, typer.Argument(help="The new user's name.")],
    role: Annotated[list[str], typer.Option("--role", help=ROLE_HELP)],
    facility: Annotated[
        list[str] | None,
        typer.Option("--facility", help="Facility id the user acts for (repeatable)."),
    ] = None,
    password_stdin: PasswordStdinOption = False,
    db: DbOption = None,
    as_user: AsOption = None,
) -> None:
    """Add a user. The first user (an admin: the bootstrap) needs no login; later ones
    need an admin's. The new user gets the password given (--password-stdin or typed);
    without one, a first token is printed once."""
    url = open_store(db, create=True)
    actor = acting_user(as_user, url) if list_users(url) else None  # add_user refuses None
    password = _new_password(password_stdin, name)
    user = add_user(url, name, role, facility or [], actor=actor, password=password)
    scope = ", ".join(user.facilities) or "all facilities"
    console(stderr=True).print(
        f"added user {inert(user.name)}: {', '.join(r.value for r in user.roles)} ({inert(scope)})",
        markup=False,  # a name is shown as typed, never read as Rich markup
    )
    if not user.active:
        console(stderr=True).print(
            f"{markup_inert(user.name)} waits for a second admin: "
            f"amnesty user confirm {markup_inert(user.name)}"
        )
    if password is None:  # the bootstrap admin issues their own first token
        issued = issue_token(url, user.name, actor=actor or user.name, label="first")
        _show_token_once(issued.secret, name)


@user_app.command("confirm")
def user_confirm(
    name: Annotated[str, typer.Argument(help="The admin or approver waiting for you.")],
    db: DbOption = None,
    as_user: AsOption = None,
) -> None:
    """Confirm, as a second admin, the grant of admin or approver another admin made."""
    url = open_store(db)
    user = confirm_user(url, name, actor=_authenticated(as_user, url, "user confirm"))
    roles = ", ".join(r.value for r in user.roles)
    console(stderr=True).print(f"{markup_inert(user.name)} is active: {roles}")


@user_app.command("list")
def user_list(db: DbOption = None, fmt: FormatOption = Format.table) -> None:
    """List users with their roles and facility scope."""
    url = open_store(db)
    rows = [u.as_dict() for u in list_users(url)]
    emit_rows(
        rows, fmt, columns=["name", "roles", "facilities", "active", "created_at", "created_by"]
    )


@user_app.command("passwd")
def user_passwd(
    name: Annotated[str, typer.Argument(help="Whose password (yours, or any as an admin).")],
    password_stdin: PasswordStdinOption = False,
    db: DbOption = None,
    as_user: AsOption = None,
) -> None:
    """Set a user's password; the previous one stops working."""
    url = open_store(db)
    actor = _authenticated(as_user, url, "user passwd")
    password = _new_password(password_stdin, name)
    if password is None:
        raise ConfigError("no password given: type it at a prompt or pass --password-stdin")
    set_password(url, name, password, actor=actor)
    console(stderr=True).print(f"password of {markup_inert(name)} changed")


@user_app.command("token")
def user_token(
    name: Annotated[str, typer.Argument(help="Whose token (yours, or any as an admin).")],
    label: Annotated[str, typer.Option("--label", help="What the token is for.")] = "",
    days: DaysOption = DEFAULT_TOKEN_DAYS,
    db: DbOption = None,
    as_user: AsOption = None,
) -> None:
    """Issue a personal API token for scripts (AMNESTY_TOKEN); it is shown once."""
    url = open_store(db)
    actor = _authenticated(as_user, url, "user token")
    issued = issue_token(url, name, actor=actor, label=label, days=days)
    _show_token_once(issued.secret, name)
    console(stderr=True).print(
        f"token id {issued.credential_id} (to revoke it), expires {issued.expires_at:%Y-%m-%d}"
    )


@user_app.command("tokens")
def user_tokens(
    name: Annotated[str, typer.Argument(help="Whose tokens to list.")],
    db: DbOption = None,
    fmt: FormatOption = Format.table,
) -> None:
    """A user's tokens: id, label, when issued, when they expire, revoked (never the secret)."""
    rows = list_tokens(open_store(db), name)
    emit_rows(rows, fmt, columns=["credential_id", "label", "created_at", "created_by",
                                  "expires_at", "revoked_at"])  # fmt: skip


@user_app.command("revoke-token")
def user_revoke_token(
    token_id: Annotated[str, typer.Argument(help="The token's id (amnesty user tokens).")],
    db: DbOption = None,
    as_user: AsOption = None,
) -> None:
    """Revoke a token at once (a lost or stolen one): it no longer authenticates."""
    url = open_store(db)
    revoke_token(url, token_id, actor=_authenticated(as_user, url, "user revoke-token"))
    console(stderr=True).print(f"token {markup_inert(token_id)} revoked")


@app.command("login")
def login(
    as_user: Annotated[str, typer.Option("--as", help="Who you are.")],
    password_stdin: PasswordStdinOption = False,
    days: DaysOption = DEFAULT_TOKEN_DAYS,
    db: DbOption = None,
) -> None:
    """Prove who you are with your password; a token is issued and kept (0600) in your
    config ($AMNESTY_CONFIG, else ~/.config/amnesty/tokens.json) for this database."""
    from amnesty.cli.login_store import save_token

    url = open_store(db)
    if password_stdin:
        password: str | None = sys.stdin.readline().rstrip("\r\n")
    elif sys.stdin.isatty():
        password = getpass.getpass(f"password for {as_user}: ")
    else:
        password = os.environ.get("AMNESTY_PASSWORD")
    if password is None:
        raise ConfigError("no password given: type it at a prompt or pass --password-stdin")
    name = authenticate_password(url, as_user, password)
    issued = issue_token(url, name, actor=name, label="login", days=days)
    path = save_token(url, issued.secret)
    console(stderr=True).print(
        f"logged in to {markup_inert(url)} as {markup_inert(name)} until "
        f"{issued.expires_at:%Y-%m-%d}; token kept in {markup_inert(path)}"
    )


@app.command("logout")
def logout(db: DbOption = None) -> None:
    """Revoke the token amnesty login kept for this database and forget it."""
    from amnesty.cli.login_store import forget_token
    from amnesty.workflow.credentials import authenticate_token, token_id

    url = open_store(db)
    secret = forget_token(url)
    if secret is None:
        console(stderr=True).print(f"not logged in to {markup_inert(url)}")
        return
    holder = authenticate_token(url, secret)
    revoke_token(url, token_id(url, secret), actor=holder)
    console(stderr=True).print(f"logged out of {markup_inert(url)}")
