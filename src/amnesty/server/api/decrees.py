"""Decrees: upload (register a draft), check, sign, list, read."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter
from pydantic import BaseModel, Field

from amnesty.server.api.common import Db, plain
from amnesty.server.auth import Principal
from amnesty.server.policy import allow
from amnesty.server.problems import NotFound
from amnesty.store.tables import decrees as decrees_table
from amnesty.workflow.roles import Role

router = APIRouter(prefix="/decrees", tags=["decrees"])

READERS = (Role.drafter, Role.analyst, Role.reviewer, Role.approver, Role.facility_officer,
           Role.auditor, Role.admin)  # fmt: skip
AUTHORS = (Role.drafter, Role.admin)
# The solver's built-in checks within a request: shorter than the CLI's default.
CHECK_TIME_LIMIT_S = 5.0


class DecreeText(BaseModel):
    text: str = Field(description="The decree file's content (TOML), as UTF-8 text.",
                      max_length=5_000_000)  # fmt: skip


class DecreeSummary(BaseModel):
    decree_id: str
    content_hash: str
    title: str
    status: str
    signed_by: str | None
    signed_at: str | None


class DecreeFull(DecreeSummary):
    source_text: str
    registered_by: str
    registered_at: str


class CheckResult(BaseModel):
    ok: bool
    errors: list[dict[str, Any]]
    warnings: list[dict[str, Any]]
    notes: list[str]


@contextmanager
def decree_file(text: str) -> Iterator[Path]:
    """The text as a decree file, for the loader (which reads files)."""
    with tempfile.TemporaryDirectory(prefix="amnesty-decree-") as folder:
        path = Path(folder) / "decree.toml"
        path.write_text(text, encoding="utf-8")
        yield path


def _summary(record: Any) -> dict[str, Any]:
    return plain(record.summary())


@router.get("", response_model=list[DecreeSummary])
def list_decrees(db: Db, _: Annotated[Principal, allow(*READERS)]) -> list[dict[str, Any]]:
    """Every decree in the store, by id (without its text)."""
    with db.connect() as conn:
        rows = conn.execute(sa.select(decrees_table).order_by(decrees_table.c.decree_id)).mappings()
        return [plain({k: r[k] for k in DecreeSummary.model_fields}) for r in rows]


@router.post("", response_model=DecreeSummary, status_code=201)
def upload_decree(
    body: DecreeText, db: Db, principal: Annotated[Principal, allow(*AUTHORS)]
) -> dict[str, Any]:
    """Register the decree (a draft), or update a draft's text; a signed decree is frozen."""
    from amnesty.decree import load
    from amnesty.workflow.decrees import ensure_decree
    from amnesty.workflow.evaluate import decree_source

    with decree_file(body.text) as path:
        decree = load(path)  # a decree with errors is refused with every error located
        text, content_hash = decree_source(path)
    record = ensure_decree(db, decree.id, content_hash, decree.title, text, actor=principal.name)
    return _summary(record)


@router.post("/check", response_model=CheckResult)
def check_decree(
    body: DecreeText, db: Db, _: Annotated[Principal, allow(*AUTHORS, Role.analyst)]
) -> dict[str, Any]:
    """``amnesty check``: errors with line and column, warnings (on the stored registry)."""
    from amnesty.decree.checking import check_path
    from amnesty.registry.snapshot import current_snapshot

    with decree_file(body.text) as path, db.raw() as conn:
        registry = conn if current_snapshot(conn) is not None else None
        report = check_path(path, registry, CHECK_TIME_LIMIT_S)
        doc = plain(report.as_dict())
    return {"ok": report.ok, "errors": doc.get("errors", []),
            "warnings": doc.get("warnings", []), "notes": doc.get("notes", [])}  # fmt: skip


@router.get("/{decree_id}", response_model=DecreeFull)
def show_decree(decree_id: str, db: Db, _: Annotated[Principal, allow(*READERS)]) -> dict[str, Any]:
    """One decree with its source text."""
    from amnesty.workflow.decrees import get_decree

    record = get_decree(db, decree_id)
    if record is None:
        raise NotFound(f"no decree {decree_id!r}")
    return plain({k: getattr(record, k) for k in DecreeFull.model_fields})


@router.post("/{decree_id}/sign", response_model=DecreeSummary)
def sign(
    decree_id: str, db: Db, principal: Annotated[Principal, allow(*AUTHORS)]
) -> dict[str, Any]:
    """Freeze the decree at its content hash (drafter or admin); signing again changes nothing."""
    from amnesty.workflow.decrees import get_decree, sign_decree

    if get_decree(db, decree_id) is None:
        raise NotFound(f"no decree {decree_id!r}")
    return _summary(sign_decree(db, decree_id, principal.name))
