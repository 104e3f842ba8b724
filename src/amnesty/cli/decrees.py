"""``amnesty decree sign|list``: signing freezes a decree's text by its content hash.

``sign`` registers the file's content when the store has not seen it (the same
step ``evaluate`` takes), then signs it. Who may sign is checked before
anything is written, so a refused signature leaves no draft behind; the
refusal is audited. The library does the work
(:mod:`amnesty.workflow.decrees`); this module only resolves the inputs and
prints.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import sqlalchemy as sa
import typer

from amnesty.cli.app import AsOption, DbOption, FormatOption, group
from amnesty.cli.output import Format, console, emit_rows
from amnesty.cli.session import acting_user, open_store
from amnesty.errors import ConfigError
from amnesty.store.engine import get_engine
from amnesty.store.tables import decrees as decrees_table
from amnesty.workflow.decrees import ensure_decree, get_decree, sign_decree
from amnesty.workflow.users import Role, require

decree_app = group("decree", "Decrees in the store: sign (freeze by content hash) and list.")

HASH_SHOWN = 12


@decree_app.command("sign")
def decree_sign(
    decree_file: Annotated[Path, typer.Argument(help="The decree file (.toml) to sign.")],
    as_user: AsOption = None,
    db: DbOption = None,
) -> None:
    """Sign a decree (drafter or admin): its content hash is frozen, and any later step
    handed a changed file is refused. Signing the same content again changes nothing."""
    from amnesty.decree import load
    from amnesty.workflow.evaluate import decree_source

    if not decree_file.is_file():
        raise ConfigError(f"{decree_file}: no such decree file")
    decree = load(decree_file)  # a decree with errors is never signed
    text, content_hash = decree_source(decree_file)
    url = open_store(db, create=True)
    actor = acting_user(as_user, url)
    entity = ("decree", decree.id)
    require(url, actor, (Role.drafter, Role.admin), action="decree.sign", entity=entity)
    assert actor is not None  # require() refuses an unnamed user
    before = get_decree(url, decree.id)
    # Refuses (and audits) a signed decree whose file no longer hashes the same.
    ensure_decree(url, decree.id, content_hash, decree.title, text, actor=actor)
    err = console(stderr=True)
    short = content_hash[:HASH_SHOWN]
    if before is not None and before.status == "signed":
        err.print(
            f"decree {decree.id} is already signed with this content ({short}) "
            f"by {before.signed_by} at {_when(before.signed_at)}; nothing changed",
            markup=False,
        )
        return
    sign_decree(url, decree.id, actor)
    err.print(
        f"signed decree {decree.id} ({decree.title}) with content {short} as {actor}",
        markup=False,
    )


@decree_app.command("list")
def decree_list(db: DbOption = None, fmt: FormatOption = Format.table) -> None:
    """List the decrees in the store: id, title, status, content hash, who signed and when."""
    url = open_store(db)
    with get_engine(url).connect() as connection:
        rows = (
            connection.execute(sa.select(decrees_table).order_by(decrees_table.c.decree_id))
            .mappings()
            .all()
        )
    if not rows and fmt is Format.table:
        console(stderr=True).print(
            "no decrees yet: amnesty decree sign DECREE_FILE or amnesty evaluate DECREE "
            "registers one"
        )
        return
    emit_rows([_row(r, full_hash=fmt is not Format.table) for r in rows], fmt, title="Decrees")


def _row(row: sa.RowMapping, *, full_hash: bool) -> dict[str, Any]:
    content_hash = str(row["content_hash"])
    return {
        "decree_id": row["decree_id"],
        "title": row["title"],
        "status": row["status"],
        "content_hash": content_hash if full_hash else content_hash[:HASH_SHOWN],
        "signed_by": row["signed_by"],
        "signed_at": _when(row["signed_at"]),
    }


def _when(value: Any) -> str | None:
    return None if value is None else value.isoformat(timespec="seconds")
