"""The prison registry: what is imported (counts), and a new import (admin)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, UploadFile

from amnesty.server.api.common import Db, plain, saved_uploads
from amnesty.server.auth import Principal
from amnesty.server.policy import allow
from amnesty.server.problems import NotFound
from amnesty.workflow.roles import Role

router = APIRouter(prefix="/registry", tags=["registry"])


@router.get("")
def show(
    db: Db,
    _: Annotated[Principal, allow(Role.admin, Role.analyst, Role.drafter, Role.auditor)],
) -> dict[str, Any]:
    """Counts by table, facility type and authority, province (``amnesty registry show``)."""
    from amnesty.registry.show import summarise
    from amnesty.registry.snapshot import current_snapshot

    with db.raw() as conn:
        if current_snapshot(conn) is None:
            raise NotFound("no registry imported yet")
        return dict(plain(summarise(conn)))


@router.post("/imports", status_code=201)
def import_registry(
    db: Db,
    principal: Annotated[Principal, allow(Role.admin)],
    files: Annotated[
        list[UploadFile], File(description="The extract: one CSV or Parquet file per table")
    ],
    profile: Annotated[str | None, Form()] = None,
    skip_invalid: Annotated[bool, Form()] = False,
) -> dict[str, Any]:
    """Validate and import atomically; rejected rows come back located (table/row/column)."""
    from amnesty.workflow.registry_import import import_as

    with saved_uploads(files) as folder:
        report = import_as(db, principal.name, folder, profile=profile,
                           skip_invalid=skip_invalid)  # fmt: skip
    return {
        "status": report.status,
        "profile": report.profile,
        "content_hash": report.content_hash,
        "snapshot_id": report.snapshot_id,
        "row_counts": dict(report.row_counts),
        "rejections": [
            {"table": r.table, "row": r.row, "column": r.column, "value": r.value,
             "rule": r.rule}
            for r in report.rejections[:1000]
        ],
    }  # fmt: skip
