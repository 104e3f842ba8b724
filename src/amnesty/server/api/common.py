"""What the API's routers and the web pages share: the handle, dates, files, where a
request's facility is, the determinations' filters, and the bound on explanations."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import tempfile
import threading
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

# An explanation decides the person again and holds a raw connection while it reads
# the run through others: unbounded, 40 of them at once hold every pooled connection
# and wait for one more. A few at a time per process keep the pool for everyone else.
EXPLAIN_SLOTS = threading.BoundedSemaphore(3)


def like_json_item(value: str) -> str:
    """A LIKE pattern for ``"value"`` inside canonical JSON text, wildcards escaped."""
    text = json.dumps(value, ensure_ascii=False)
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


DIVISION_FACILITIES = sa.text(
    "WITH RECURSIVE below(division_id) AS ("
    " SELECT division_id FROM divisions WHERE division_id = :division"
    " UNION SELECT v.division_id FROM divisions v JOIN below b ON v.parent_id = b.division_id)"
    " SELECT facility_id FROM facilities WHERE division_id IN (SELECT division_id FROM below)"
)


def division_facilities(db: Any) -> Any:
    """Facilities in a division or any division below it (the registry's tree)."""

    def facilities(division: str) -> list[str]:
        from amnesty.registry.snapshot import current_snapshot

        with db.raw() as raw:
            if current_snapshot(raw) is None:
                return []  # no registry imported yet: no division has facilities
        with db.connect() as conn:
            return [str(r[0]) for r in conn.execute(DIVISION_FACILITIES, {"division": division})]

    return facilities


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


# --- health referrals in determination rows ---

# What a clause id that reads health data is shown as to a caller who may not read it.
HEALTH_REDACTED = "(health)"


def may_read_health(principal: Any) -> bool:
    from amnesty.server.policy import HEALTH_ROLES

    return bool(principal.has(*HEALTH_ROLES))


def health_clauses(db: Database, run_id: str) -> frozenset[str]:
    """The clauses of a run's stored decree that read a health fact (``health.*``, or an
    attribute its profile marks sensitive): their ids in a row (a referral on
    ``r-health``, a ground on ``g-unable``) tell whoever reads the row something of the
    person's health."""
    import hashlib

    from amnesty.decree import load_text
    from amnesty.workflow.decrees import get_decree
    from amnesty.workflow.run_explanation import PLANS
    from amnesty.workflow.runs import get_run
    from amnesty.workflow.users import health_clauses_of

    run = get_run(db, run_id)
    record = get_decree(db, run.decree_id)
    if record is None:
        return frozenset()
    text = record.source_text
    text_hash = hashlib.sha256(text.encode("utf-8")).hexdigest()
    decree = PLANS.decree(text_hash, lambda: load_text(text, f"decree {run.decree_id} (stored)"))
    return frozenset(health_clauses_of(decree))


def redact_health(row: dict[str, Any], clauses: frozenset[str]) -> dict[str, Any]:
    """``row`` with the ids of ``clauses`` (and health facts it misses) as
    :data:`HEALTH_REDACTED`; the outcome and relief stay."""
    if not clauses:
        return row
    out = dict(row)
    for name in ("grounds", "blocking", "referred"):
        if name in out:
            out[name] = [HEALTH_REDACTED if c in clauses else c for c in out[name] or []]
    if "unknown" in out:
        out["unknown"] = [
            {
                **u,
                "clause": HEALTH_REDACTED if u.get("clause") in clauses else u.get("clause"),
                "missing": [
                    HEALTH_REDACTED
                    if u.get("clause") in clauses or str(m).startswith("health.")
                    else m
                    for m in u.get("missing") or []
                ],
            }
            if isinstance(u, dict)
            else (HEALTH_REDACTED if u in clauses else u)
            for u in out["unknown"] or []
        ]
    return out
