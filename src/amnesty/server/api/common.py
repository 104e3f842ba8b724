"""What the API's routers share: the handle, dates, files, and where a request's facility is."""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import Depends, Request, UploadFile

from amnesty.server.auth import database
from amnesty.server.problems import NotFound
from amnesty.store.database import Database
from amnesty.store.tables import determinations, rosters

Db = Annotated[Database, Depends(database)]

# Largest upload read (decree texts, case-work files, registry tables).
MAX_UPLOAD_BYTES = 512 * 1024 * 1024


def run_person_facility(db: Database, request: Request) -> str | None:
    """The facility a run decided a person in (path ``run_id``, ``person_id``)."""
    run_id = request.path_params.get("run_id", "")
    return person_facility(db, run_id, request.path_params.get("person_id", ""))


def person_facility(db: Database, run_id: str, person_id: str) -> str | None:
    with db.connect() as conn:
        found = conn.execute(
            sa.select(determinations.c.facility_id).where(
                determinations.c.run_id == run_id, determinations.c.person_id == person_id
            )
        ).scalar_one_or_none()
    return None if found is None else str(found)


def roster_facility(db: Database, request: Request) -> str | None:
    """The facility of the roster in the path (``roster_id``)."""
    try:
        roster_id = int(request.path_params.get("roster_id", ""))
    except ValueError:
        return None
    with db.connect() as conn:
        found = conn.execute(
            sa.select(rosters.c.facility_id).where(rosters.c.roster_id == roster_id)
        ).scalar_one_or_none()
    return None if found is None else str(found)


def require_roster(db: Database, roster_id: int) -> None:
    with db.connect() as conn:
        found = conn.execute(
            sa.select(rosters.c.roster_id).where(rosters.c.roster_id == roster_id)
        ).scalar_one_or_none()
    if found is None:
        raise NotFound(f"no roster {roster_id}")


@contextmanager
def saved_uploads(files: list[UploadFile]) -> Iterator[Path]:
    """The uploaded files in a fresh folder, under their own (base) names."""
    folder = Path(tempfile.mkdtemp(prefix="amnesty-upload-"))
    try:
        for upload in files:
            name = Path(upload.filename or "upload").name or "upload"
            with (folder / name).open("wb") as out:
                shutil.copyfileobj(upload.file, out, 1 << 20)
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def plain(value: Any) -> Any:
    """JSON-ready: dates as ISO text, tuples as lists, nested dicts converted."""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    return value
