"""The audit chain: verify it, export it (JSON Lines)."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask

from amnesty.server.api.common import Db, plain
from amnesty.server.auth import Principal
from amnesty.server.policy import allow
from amnesty.workflow.roles import Role

router = APIRouter(prefix="/audit", tags=["audit"])

AUDITORS = (Role.auditor, Role.admin)


@router.get("/verify")
def verify_chain(db: Db, _: Annotated[Principal, allow(*AUDITORS)]) -> dict[str, Any]:
    """Recompute the chain; check runs, releases and stored checkpoints against it.

    Answers 200 either way: ``ok`` says whether it verifies, ``problems`` what is wrong.
    """
    from amnesty.audit.verify import verify

    report = verify(db.url)
    doc = plain(report.as_dict())
    doc["ok"] = not report.problems
    return dict(doc)


@router.get(
    "/export",
    response_class=FileResponse,
    responses={200: {"content": {"application/x-ndjson": {}},
                     "description": "One event per line, oldest first"}},
)  # fmt: skip
def export(db: Db, _: Annotated[Principal, allow(*AUDITORS)]) -> FileResponse:
    """The whole chain as JSON Lines, byte for byte what ``amnesty audit export`` writes."""
    from amnesty.audit.log import export_chain

    folder = tempfile.mkdtemp(prefix="amnesty-audit-")
    path = Path(folder) / "audit.jsonl"
    export_chain(db.url, path)
    return FileResponse(
        path,
        media_type="application/x-ndjson",
        filename="audit.jsonl",
        background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True),
    )
