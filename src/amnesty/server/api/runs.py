"""Runs: start one (in the background), follow its job, list and show runs, its report."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from amnesty.server.api.common import Db, plain
from amnesty.server.auth import Principal
from amnesty.server.jobs import get_job, list_jobs
from amnesty.server.policy import allow
from amnesty.server.problems import NotFound
from amnesty.workflow.roles import Role

router = APIRouter(prefix="/runs", tags=["runs"])

RUNNERS = (Role.analyst, Role.drafter)
READERS = (Role.drafter, Role.analyst, Role.reviewer, Role.approver, Role.facility_officer,
           Role.auditor)  # fmt: skip
REPORT_READERS = (Role.drafter, Role.analyst, Role.approver, Role.auditor)


class StartRun(BaseModel):
    decree_id: str = Field(min_length=1, max_length=200,
                           description="A decree in the store (POST /api/decrees).")  # fmt: skip
    as_of: dt.date | None = Field(None, description="Default: the decree's own as-of date.")


class Job(BaseModel):
    job_id: str
    kind: str
    state: str = Field(description="queued, running, done or failed")
    stage: str
    progress: float = Field(ge=0, le=1)
    started_by: str
    params: dict[str, Any]
    run_id: str | None
    error: str | None
    created_at: str
    updated_at: str


class Run(BaseModel):
    run_id: str
    decree_id: str
    decree_hash: str
    snapshot_hash: str
    engine: str
    engine_version: str
    as_of: str
    started_at: str
    finished_at: str
    counts: dict[str, Any]
    model_config = {"extra": "allow"}


@router.post("", response_model=Job, status_code=202)
def start_run(
    body: StartRun, request: Request, db: Db, principal: Annotated[Principal, allow(*RUNNERS)]
) -> dict[str, Any]:
    """Decide everyone under the stored decree, in the background; poll the job."""
    job_id = request.app.state.jobs.submit_run(principal.name, body.decree_id, body.as_of)
    job = get_job(db, job_id)
    assert job is not None
    return plain(job)


@router.get("/jobs", response_model=list[Job])
def jobs(db: Db, _: Annotated[Principal, allow(*RUNNERS, Role.auditor)]) -> list[dict[str, Any]]:
    """The latest runs started from the server, newest first."""
    return [plain(j) for j in list_jobs(db)]


@router.get("/jobs/{job_id}", response_model=Job)
def job(job_id: str, db: Db, _: Annotated[Principal, allow(*RUNNERS, Role.auditor)]) -> Any:
    """One job: its stage and progress; ``run_id`` once done, ``error`` if it failed."""
    found = get_job(db, job_id)
    if found is None:
        raise NotFound(f"no job {job_id!r}")
    return plain(found)


@router.get("", response_model=list[Run])
def list_runs(db: Db, _: Annotated[Principal, allow(*READERS)]) -> list[dict[str, Any]]:
    """Stored runs, oldest first."""
    from amnesty.workflow.runs import list_runs as stored

    return [plain(r.as_dict()) for r in stored(db)]


def _run(db: Db, run_id: str) -> Any:
    from amnesty.errors import ConfigError
    from amnesty.workflow.runs import get_run

    try:
        return get_run(db, run_id)
    except ConfigError as exc:
        raise NotFound(str(exc)) from None


@router.get("/{run_id}", response_model=Run)
def show_run(run_id: str, db: Db, _: Annotated[Principal, allow(*READERS)]) -> dict[str, Any]:
    """One run: inputs (decree and registry hashes), engine, as-of date, counts."""
    return plain(_run(db, run_id).as_dict())


@router.get("/{run_id}/report")
def run_report(
    run_id: str, db: Db, _: Annotated[Principal, allow(*REPORT_READERS)]
) -> dict[str, Any]:
    """The run's report figures (amnesty report): tables by division, facility, offence,
    ground and outcome, small counts suppressed as the printed report does."""
    from amnesty.analysis.report import run_report as report

    _run(db, run_id)
    return plain(report(db.url, run_id))
