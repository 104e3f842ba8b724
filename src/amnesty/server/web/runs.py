"""Starting a run from the page and following it: the run goes on in the background.

The form hands the stored decree to the server's job runner (the same one
``POST /api/runs`` uses); the job's page shows its stage and progress and,
through htmx, asks again every second until the run is done or failed, so the
browser never waits on the run and the server keeps answering meanwhile.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import Form, Request
from fastapi.responses import RedirectResponse, Response

from amnesty.errors import AmnestyError, ConfigError
from amnesty.server.api.runs import RUNNERS
from amnesty.server.auth import Principal
from amnesty.server.jobs import get_job
from amnesty.server.policy import allow
from amnesty.server.problems import NotFound, classify
from amnesty.server.web.pages import router
from amnesty.server.web.render import database, fragment, page
from amnesty.workflow.roles import Role

POLL_SECONDS = 1


@router.post("/runs")
def start_run(
    request: Request,
    principal: Annotated[Principal, allow(*RUNNERS)],
    decree_id: Annotated[str, Form()],
    as_of: Annotated[str, Form()] = "",
) -> Response:
    try:
        day = dt.date.fromisoformat(as_of) if as_of else None
    except ValueError:
        raise ConfigError(f"as of {as_of!r}: expected a date YYYY-MM-DD") from None
    try:
        job_id = request.app.state.jobs.submit_run(principal.name, decree_id, day)
    except AmnestyError as exc:
        return page(
            request, "error.html", principal, status=classify(exc)[0], code=classify(exc)[0],
            title="Run not started", detail=str(exc), rejections=[],
        )  # fmt: skip
    return RedirectResponse(f"/jobs/{job_id}", status_code=303)


@router.get("/jobs/{job_id}")
def job_page(
    request: Request, job_id: str, principal: Annotated[Principal, allow(*RUNNERS, Role.auditor)]
) -> Response:
    job = get_job(database(request), job_id)
    if job is None:
        raise NotFound(f"no job {job_id!r}")
    if request.headers.get("HX-Request"):
        return fragment(request, "_job.html", job=job, poll=POLL_SECONDS)
    return page(request, "job.html", principal, section="dashboard", job=job, poll=POLL_SECONDS)
