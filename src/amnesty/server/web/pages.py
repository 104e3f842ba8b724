"""The pages that read: login, dashboard, determinations, a person, static assets.

Case work (review, rosters, undertakings, releases, certificates, audit) is in
:mod:`.casework`; both add their routes to :data:`router`.
"""

from __future__ import annotations

import math
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import FileResponse, RedirectResponse, Response

from amnesty.errors import ConfigError
from amnesty.server.api.common import (
    EXPLAIN_SLOTS,
    health_clauses,
    may_read_health,
    redact_health,
)
from amnesty.server.api.runs import RUNNERS
from amnesty.server.auth import Principal, login_with_password, logout
from amnesty.server.jobs import list_jobs
from amnesty.server.policy import HEALTH_ROLES, allow, public, refusal
from amnesty.server.problems import NotFound, Throttled, Unauthenticated
from amnesty.server.web import queries
from amnesty.server.web.render import STATIC, database, install_page_errors, page
from amnesty.store.database import Database
from amnesty.workflow.decrees import get_decree
from amnesty.workflow.releases import get_release
from amnesty.workflow.review import case_history
from amnesty.workflow.roles import Role
from amnesty.workflow.run_explanation import RunExplanation, explain_under_stored_decree
from amnesty.workflow.runs import RunRecord, get_run, list_runs

router = APIRouter(include_in_schema=False, dependencies=[Depends(install_page_errors)])

# the assets a page may load: our own files only, never a path the client makes up
STATIC_FILES = {
    "amnesty.css": "text/css",
    "amnesty.js": "text/javascript",
    "htmx.min.js": "text/javascript",
    "htmx.LICENSE.txt": "text/plain",
}
CHART_ROWS = 12  # bars per chart; the determinations table filters by any facility or division
WITHHELD = "\u2063withheld"  # a marker no registry value holds; the template shows a label


def chosen_run(db: Database, run_id: str | None) -> RunRecord:
    """The run asked for, else the latest recorded; NotFound when there is none."""
    if run_id:
        try:
            return get_run(db, run_id)
        except ConfigError as exc:
            raise NotFound(str(exc)) from None
    runs = list_runs(db)
    if not runs:
        raise NotFound("no run is stored yet; evaluate a decree first (amnesty evaluate)")
    return runs[-1]


def person_facility(db: Database, request: Request) -> str | None:
    """For the policy: the facility a person's page is about (the run's, else the registry's)."""
    person_id = request.path_params["person_id"]
    runs = list_runs(db)
    run_id = request.query_params.get("run") or (runs[-1].run_id if runs else None)
    facility = None
    if run_id:  # the run the page will show (the latest unless one is asked for)
        facility = queries.determination_facility(db, run_id, person_id)
    if facility is None:
        found = queries.person(db, person_id)
        facility = None if found is None else found["facility_id"]
    return facility


# --- assets, login ---


@router.get("/static/{name}", dependencies=[public()])
def static(name: str) -> Response:
    if name not in STATIC_FILES:
        raise NotFound(f"no asset {name!r}")
    return FileResponse(
        STATIC / name,
        media_type=STATIC_FILES[name],
        headers={"Cache-Control": "public, max-age=3600"},
    )


@router.get("/login", dependencies=[public()])
def login_form(request: Request, next: str = "/") -> Response:
    return page(request, "login.html", None, next=_local(next), name="")


@router.post("/login", dependencies=[public()])
def login(
    request: Request,
    name: Annotated[str, Form()],
    password: Annotated[str, Form()],
    next: Annotated[str, Form()] = "/",
) -> Response:
    response = RedirectResponse(_local(next), status_code=303)
    try:
        login_with_password(request, response, name, password)
    except (Unauthenticated, Throttled) as exc:
        status = 429 if isinstance(exc, Throttled) else 401
        return page(
            request, "login.html", None, status=status, error=str(exc), next=_local(next), name=name
        )
    return response


@router.post("/logout")
def logout_page(request: Request, _principal: Annotated[Principal, allow()]) -> Response:
    response = RedirectResponse("/login", status_code=303)
    logout(request, response)
    return response


def _local(target: str) -> str:
    """Only a path on this server is a place to go after the login (no open redirect)."""
    return target if target.startswith("/") and not target.startswith("//") else "/"


# --- dashboard ---


@router.get("/")
def dashboard(
    request: Request, principal: Annotated[Principal, allow()], run: str | None = None
) -> Response:
    db = database(request)
    runs = list_runs(db)
    starting: dict[str, Any] = {
        "may_run": principal.has(*RUNNERS),
        "decrees": queries.decrees(db) if principal.has(*RUNNERS) else [],
        "jobs": list_jobs(db, 10) if principal.has(*RUNNERS, Role.auditor) else [],
    }
    if not runs:
        return page(request, "dashboard.html", principal, section="dashboard", runs=[], **starting)
    record = chosen_run(db, run)
    scope = principal.facilities
    counts = queries.counts(db, record.run_id, scope)
    facilities = queries.facility_names(db, scope)
    divisions = queries.division_names(db, scope)
    facility_rows = _largest([(f"{k} {facilities.get(k, '')}", v) for k, v in counts.by_facility])
    division_rows = _largest([(divisions.get(k, k), v) for k, v in counts.by_division])
    return page(
        request,
        "dashboard.html",
        principal,
        section="dashboard",
        runs=list(reversed(runs)),
        run=record,
        counts=counts,
        outcomes=queries.OUTCOMES,
        outcome_rows=[(o, {o: n}) for o, n in counts.by_outcome.items()],
        facility_rows=facility_rows,
        division_rows=division_rows,
        chart_rows=CHART_ROWS,
        max_facility=max((sum(v.values()) for _k, v in counts.by_facility), default=0),
        max_division=max((sum(v.values()) for _k, v in counts.by_division), default=0),
        max_ground=max((n for _g, n in counts.by_ground), default=0),
        released=queries.released_count(db, record.run_id, scope),
        **starting,
    )


def _largest(rows: list[tuple[str, dict[str, int]]]) -> list[tuple[str, dict[str, int]]]:
    """Largest first: a chart shows the first CHART_ROWS, the table has every one."""
    return sorted(rows, key=lambda row: (-sum(row[1].values()), row[0]))


# --- determinations ---


@router.get("/determinations")
def determinations_page(
    request: Request,
    principal: Annotated[Principal, allow()],
    run: str | None = None,
    outcome: str = "",
    relief: str = "",
    facility: str = "",
    division: str = "",
    ground: str = "",
    page_no: Annotated[int, Query(alias="page", ge=1)] = 1,
) -> Response:
    db = database(request)
    record = chosen_run(db, run)
    scope = principal.facilities
    filters = queries.Filters(outcome, relief, facility, division, ground)
    hidden = frozenset() if may_read_health(principal) else health_clauses(db, record.run_id)
    if ground and ground in hidden:  # a list of whom a health ground holds for
        raise refusal(
            f"user {principal.name!r} filtered by the health ground {ground}",
            f"user {principal.name!r}: a filter on a health ground is for "
            + " or ".join(sorted(r.value for r in HEALTH_ROLES)),
        )
    rows, total = queries.determinations_page(db, record.run_id, scope, filters, page_no)
    rows = [redact_health(r, hidden) for r in rows]
    pages = max(1, math.ceil(total / queries.PAGE_SIZE))
    base = {"run": record.run_id, **filters.as_query()}

    def page_href(n: int) -> str:
        return "/determinations?" + urlencode({**base, "page": n})

    exports = [
        (fmt, f"/api/runs/{record.run_id}/determinations/export?"
         + urlencode({**filters.as_query(), "format": fmt}))
        for fmt in ("csv", "xlsx", "parquet")
    ]  # fmt: skip
    grounds = sorted({g for g, _n in queries.counts(db, record.run_id, scope).by_ground} - hidden)
    return page(
        request,
        "determinations.html",
        principal,
        section="determinations",
        run=record,
        rows=rows,
        total=total,
        page=page_no,
        pages=pages,
        page_href=page_href,
        filters=filters,
        outcomes=queries.OUTCOMES,
        reliefs=queries.reliefs(db, record.run_id),
        facilities=queries.facility_names(db, scope),
        divisions=queries.division_names(db, scope),
        grounds=grounds,
        exports=exports,
    )


# --- a person ---


@router.get("/persons/{person_id}")
def person_page(
    request: Request,
    person_id: str,
    principal: Annotated[Principal, allow(facility_of=person_facility)],
    run: str | None = None,
) -> Response:
    return _person(request, principal, person_id, run, health=False)


@router.get("/persons/{person_id}/health")
def person_health_page(
    request: Request,
    person_id: str,
    principal: Annotated[
        Principal, allow(*sorted(HEALTH_ROLES), health=True, facility_of=person_facility)
    ],
    run: str | None = None,
) -> Response:
    return _person(request, principal, person_id, run, health=True)


def _person(
    request: Request, principal: Principal, person_id: str, run: str | None, *, health: bool
) -> Response:
    db = database(request)
    record = chosen_run(db, run)
    identity = queries.person(db, person_id)
    facility = queries.determination_facility(db, record.run_id, person_id)
    if identity is None and facility is None:
        raise NotFound(f"no person {person_id!r} in the registry or in run {record.run_id}")
    explanation = _explain(db, record, person_id)
    clauses, hidden = _clauses(explanation, health_clauses(db, record.run_id), show_health=health)
    release = get_release(db, record.run_id, person_id)
    return page(
        request,
        "person.html",
        principal,
        section="determinations",
        run=record,
        person_id=person_id,
        identity=identity,
        stored=explanation.stored,
        explanation=explanation,
        clauses=clauses,
        withheld=WITHHELD,
        health_hidden=hidden,
        may_see_health=principal.has(*HEALTH_ROLES),
        history=case_history(db, record.run_id, person_id),
        release=release,
    )


def _explain(db: Database, record: RunRecord, person_id: str) -> RunExplanation:
    """Explain the person under the decree text the run evaluated, beside what it stored."""
    if get_decree(db, record.decree_id) is None:
        raise NotFound(f"run {record.run_id}: its decree {record.decree_id!r} is not stored")
    with EXPLAIN_SLOTS:  # the API's bound: explanations never take the whole pool
        return explain_under_stored_decree(db, record.run_id, person_id)


def _clauses(
    explanation: RunExplanation, health: frozenset[str], *, show_health: bool
) -> tuple[list[dict[str, Any]], bool]:
    """The clauses as the page shows them; the facts of the ``health`` clauses (those
    reading a health or sensitive fact) withheld unless ``show_health``."""
    out, hidden = [], False
    for clause in explanation.today.clauses:
        facts = dict(clause.facts)
        row = {**clause.__dict__, "facts": facts}
        if not show_health and (clause.id in health or any(n.startswith("health.") for n in facts)):
            # the facts and the clause's value would tell what the health record says
            row["facts"] = {name: WITHHELD for name in facts}
            row["value"] = WITHHELD
            row["missing"] = []
            hidden = True
        out.append(row)
    return out, hidden
