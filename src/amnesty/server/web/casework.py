"""The pages that act: review, rosters, undertakings, releases, certificates, audit.

Each form posts to a route that calls one workflow function as the signed-in
principal and then redirects back (303), so a reload never repeats a step. A
refused step re-renders the page with the workflow's own message and the
status the API would give (403 no permission, 409 refused in this state, 422
a file's rows rejected, each row named); nothing was written.
"""

from __future__ import annotations

import csv
import datetime as dt
import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Form, Request, UploadFile
from fastapi.responses import FileResponse, RedirectResponse, Response
from starlette.background import BackgroundTask

from amnesty.audit.verify import verify
from amnesty.errors import AmnestyError, ConfigError, ImportRejected
from amnesty.server.auth import Principal
from amnesty.server.policy import OUT_OF_SCOPE, allow, refusal
from amnesty.server.problems import NotFound, classify
from amnesty.server.web import queries
from amnesty.server.web.pages import chosen_run, person_facility, router
from amnesty.server.web.render import database, fragment, page
from amnesty.store.database import Database
from amnesty.workflow.batches import check_roster, execute_roster, roster_people
from amnesty.workflow.casefiles import decree_for_run, run_info
from amnesty.workflow.casework_files import (
    SPREADSHEETS,
    import_review_decisions,
    import_undertakings,
)
from amnesty.workflow.certificate_store import PRINTERS, print_certificates
from amnesty.workflow.releases import record_undertaking
from amnesty.workflow.review import decide, review_queue
from amnesty.workflow.roles import Role
from amnesty.workflow.rosters import (
    PREPARERS,
    Roster,
    approve_roster,
    find_roster,
    list_rosters,
    prepare_roster,
)

ROSTER_READERS = (Role.facility_officer, Role.approver, Role.admin)
UPLOAD_SUFFIXES = (".csv", ".txt", *SPREADSHEETS)

# what a redirect after a step may say: a fixed text per step, never text from the URL
NOTICES = {
    "decided": "The case is decided.",
    "bulk": "The selected cases are decided.",
    "prepared": "The roster is prepared; an approver who did not prepare it approves it.",
    "approved": "The roster is approved.",
    "undertaking": "The undertaking is recorded.",
    "file": "The file's undertakings are recorded.",
    "released": "The release is executed.",
}


def _notice(request: Request) -> str | None:
    return NOTICES.get(request.query_params.get("done", ""))


def _back(path: str, **query: Any) -> RedirectResponse:
    return RedirectResponse(f"{path}?{urlencode(query)}", status_code=303)


def _status(exc: AmnestyError) -> int:
    return classify(exc)[0]


def _message(exc: AmnestyError) -> str:
    if isinstance(exc, ImportRejected):
        return "; ".join(str(r) for r in exc.rejections[:20]) or str(exc)
    return str(exc)


# --- review ---


@router.get("/review")
def review_page(
    request: Request,
    principal: Annotated[Principal, allow(Role.reviewer)],
    run: str | None = None,
    state: str = "open",
) -> Response:
    return _review(request, principal, run, state)


def _review(
    request: Request,
    principal: Principal,
    run: str | None,
    state: str,
    *,
    error: str | None = None,
    status: int = 200,
) -> Response:
    db = database(request)
    record = chosen_run(db, run)
    cases = [
        c for c in review_queue(db, record.run_id, state or None) if principal.covers(c.facility_id)
    ]
    return page(
        request,
        "review.html",
        principal,
        status=status,
        section="review",
        run=record,
        cases=cases,
        state=state,
        names=queries.names_of(db, [c.person_id for c in cases]),
        error=error,
        notice=None if error else _notice(request),
    )


@router.post("/review/{person_id}")
def review_decide(
    request: Request,
    person_id: str,
    principal: Annotated[Principal, allow(Role.reviewer, facility_of=person_facility)],
    run: str,
    outcome: Annotated[str, Form()],
    reason: Annotated[str, Form()] = "",
) -> Response:
    db = database(request)
    try:
        decide(db, principal.name, run, person_id, outcome, reason)
    except AmnestyError as exc:
        return _review(request, principal, run, "open", error=str(exc), status=_status(exc))
    return _back("/review", run=run, done="decided")


@router.post("/review")
def review_bulk(
    request: Request,
    principal: Annotated[Principal, allow(Role.reviewer)],
    run: str,
    outcome: Annotated[str, Form()],
    reason: Annotated[str, Form()] = "",
    person: Annotated[list[str] | None, Form()] = None,
) -> Response:
    """Decide the selected cases alike, all or none: through the review file import, which
    checks every case before it writes any, in one transaction."""
    db = database(request)
    chosen = person or []
    try:
        if not chosen:
            raise ConfigError("select at least one open case to decide")
        for person_id in chosen:
            facility = queries.determination_facility(db, run, person_id)
            if not principal.covers(facility):
                raise refusal(
                    f"user {principal.name!r} acts for {', '.join(principal.facilities)}, "
                    f"not for facility {facility} ({person_id})",
                    f"user {principal.name!r}: {person_id} is {OUT_OF_SCOPE}",
                )
        with tempfile.TemporaryDirectory(prefix="amnesty-web-") as folder:
            path = Path(folder) / "selected-cases.csv"
            with path.open("w", encoding="utf-8", newline="") as handle:
                writer = csv.writer(handle)
                writer.writerow(["person_id", "outcome", "reason"])
                writer.writerows([p, outcome, reason] for p in chosen)
            import_review_decisions(db, principal.name, run, path)
    except AmnestyError as exc:
        return _review(request, principal, run, "open", error=_message(exc), status=_status(exc))
    return _back("/review", run=run, done="bulk")


# --- rosters ---


def roster_facility(db: Database, request: Request) -> str | None:
    """For the policy: the facility of the roster in the path."""
    try:
        roster_id = int(request.path_params["roster_id"])
        with db.connect() as conn:
            return find_roster(conn, roster_id).facility_id
    except (ValueError, ConfigError):
        return None


@router.get("/rosters")
def rosters_page(
    request: Request,
    principal: Annotated[Principal, allow(*ROSTER_READERS)],
    run: str | None = None,
) -> Response:
    return _rosters(request, principal, run)


def _rosters(
    request: Request,
    principal: Principal,
    run: str | None,
    *,
    error: str | None = None,
    status: int = 200,
) -> Response:
    db = database(request)
    record = chosen_run(db, run)
    rosters = [r for r in list_rosters(db, record.run_id) if principal.covers(r.facility_id)]
    return page(
        request,
        "rosters.html",
        principal,
        status=status,
        section="rosters",
        run=record,
        rosters=rosters,
        facilities=queries.facility_names(db, principal.facilities),
        may_prepare=principal.has(*PREPARERS),
        error=error,
        notice=None if error else _notice(request),
    )


@router.post("/rosters")
def roster_prepare(
    request: Request,
    principal: Annotated[Principal, allow(*PREPARERS)],
    run: str,
    facility_id: Annotated[str, Form()],
) -> Response:
    db = database(request)
    try:
        roster = prepare_roster(db, principal.name, run, facility_id)
    except AmnestyError as exc:
        return _rosters(request, principal, run, error=str(exc), status=_status(exc))
    return _back(f"/rosters/{roster.roster_id}", done="prepared")


@router.get("/rosters/{roster_id}")
def roster_page(
    request: Request,
    roster_id: int,
    principal: Annotated[Principal, allow(*ROSTER_READERS, facility_of=roster_facility)],
) -> Response:
    return _roster(request, principal, roster_id)


def _roster(
    request: Request,
    principal: Principal,
    roster_id: int,
    *,
    error: str | None = None,
    status: int = 200,
    readiness: Any = None,
) -> Response:
    db = database(request)
    roster, decree = _roster_and_decree(db, roster_id)
    if not principal.covers(roster.facility_id):  # the policy checked; a page never relies on it
        raise refusal(
            f"user {principal.name!r} does not act for {roster.facility_id}",
            f"user {principal.name!r}: roster {roster_id} is {OUT_OF_SCOPE}",
        )
    people = roster_people(db, roster_id)
    window = decree.execution_window
    return page(
        request,
        "roster.html",
        principal,
        status=status,
        section="rosters",
        roster=roster,
        facility_name=queries.facility_names(db, (roster.facility_id,)).get(roster.facility_id, ""),
        people=people,
        undertakings=decree.undertakings,
        default_date=(window[0] if window else decree.as_of).isoformat(),
        readiness=readiness,
        released=any(p["certificate_no"] for p in people),
        may_approve=principal.has(Role.approver),
        may_act=principal.has(Role.facility_officer),
        may_print=principal.has(*PRINTERS),
        error=error,
        notice=None if error else _notice(request),
    )


def _roster_and_decree(db: Database, roster_id: int) -> tuple[Roster, Any]:
    try:
        with db.connect() as conn:
            roster = find_roster(conn, roster_id)
            return roster, decree_for_run(conn, run_info(conn, roster.run_id))
    except ConfigError as exc:
        raise NotFound(str(exc)) from None


@router.get("/rosters/{roster_id}/check")
def roster_check(
    request: Request,
    roster_id: int,
    principal: Annotated[Principal, allow(*ROSTER_READERS, facility_of=roster_facility)],
    date: dt.date,
) -> Response:
    readiness = check_roster(database(request), roster_id, date)
    if request.headers.get("HX-Request"):
        return fragment(request, "_readiness.html", readiness=readiness)
    return _roster(request, principal, roster_id, readiness=readiness)


@router.post("/rosters/{roster_id}/approve")
def roster_approve(
    request: Request,
    roster_id: int,
    principal: Annotated[Principal, allow(Role.approver, facility_of=roster_facility)],
) -> Response:
    try:
        approve_roster(database(request), principal.name, roster_id)
    except AmnestyError as exc:
        return _roster(request, principal, roster_id, error=str(exc), status=_status(exc))
    return _back(f"/rosters/{roster_id}", done="approved")


@router.post("/rosters/{roster_id}/undertakings")
def roster_undertaking(
    request: Request,
    roster_id: int,
    principal: Annotated[Principal, allow(Role.facility_officer, facility_of=roster_facility)],
    person_id: Annotated[str, Form()],
    undertaking_id: Annotated[str, Form()],
    signed_on: Annotated[str, Form()] = "",
    witness: Annotated[str, Form()] = "",
    refused: Annotated[str, Form()] = "",
) -> Response:
    db = database(request)
    try:
        roster, _decree = _roster_and_decree(db, roster_id)
        on_roster = {p["person_id"] for p in roster_people(db, roster_id)}
        if person_id not in on_roster:
            raise ConfigError(f"person {person_id!r} is not on roster {roster_id}")
        day = _date(signed_on, "signed on") if signed_on and not refused else None
        record_undertaking(
            db, principal.name, roster.run_id, person_id, undertaking_id,
            signed_on=day, witness=witness, refused=bool(refused),
        )  # fmt: skip
    except AmnestyError as exc:
        return _roster(request, principal, roster_id, error=str(exc), status=_status(exc))
    return _back(f"/rosters/{roster_id}", done="undertaking")


@router.post("/rosters/{roster_id}/undertakings/file")
def roster_undertakings_file(
    request: Request,
    roster_id: int,
    principal: Annotated[Principal, allow(Role.facility_officer, facility_of=roster_facility)],
    file: UploadFile,
) -> Response:
    """A CSV or Excel file of undertakings, checked whole before anything is recorded."""
    db = database(request)
    name = Path(file.filename or "undertakings.csv").name  # never a path the client chose
    try:
        if not name.lower().endswith(UPLOAD_SUFFIXES):
            raise ConfigError(
                f"{name}: expected a .csv or an Excel file ({', '.join(SPREADSHEETS)})"
            )
        with tempfile.TemporaryDirectory(prefix="amnesty-upload-") as folder:
            path = Path(folder) / name
            path.write_bytes(file.file.read())
            import_undertakings(db, principal.name, roster_id, path)
    except AmnestyError as exc:
        return _roster(request, principal, roster_id, error=_message(exc), status=_status(exc))
    return _back(f"/rosters/{roster_id}", done="file")


@router.post("/rosters/{roster_id}/release")
def roster_release(
    request: Request,
    roster_id: int,
    principal: Annotated[Principal, allow(Role.facility_officer, facility_of=roster_facility)],
    release_date: Annotated[str, Form()],
    override_reason: Annotated[str, Form()] = "",
) -> Response:
    db = database(request)
    try:
        execute_roster(
            db, principal.name, roster_id,
            release_date=_date(release_date, "release date"),
            override_reason=override_reason.strip() or None,
        )  # fmt: skip
    except AmnestyError as exc:
        return _roster(request, principal, roster_id, error=str(exc), status=_status(exc))
    return _back(f"/rosters/{roster_id}", done="released")


@router.get("/rosters/{roster_id}/certificates.pdf")
def roster_certificates(
    request: Request,
    roster_id: int,
    principal: Annotated[Principal, allow(*PRINTERS, facility_of=roster_facility)],
) -> Response:
    """The roster's certificates in one PDF; printing is recorded with the file's digest.

    Printed into a fresh folder of the server's own (mode 0700), removed once the file
    is sent: a folder shared under /tmp would let another local account plant a symlink
    or swap the PDF between printing and sending. An operator who keeps the files sets
    ``app.state.certificate_dir``; a roster is then printed again over its own folder.
    """
    db = database(request)
    kept = getattr(request.app.state, "certificate_dir", None)
    if kept is not None:
        out = Path(kept) / f"roster-{roster_id}"
        out.mkdir(parents=True, exist_ok=True)
        cleanup = None
    else:
        out = Path(tempfile.mkdtemp(prefix="amnesty-certificates-"))
        cleanup = BackgroundTask(shutil.rmtree, out, ignore_errors=True)
    try:
        # replace: a kept folder is printed again on every request, on purpose.
        written = print_certificates(
            db, principal.name, out, roster_id=roster_id, replace=kept is not None
        )
    except BaseException as exc:
        if kept is None:
            shutil.rmtree(out, ignore_errors=True)
        if isinstance(exc, ConfigError):
            raise NotFound(str(exc)) from None
        raise
    return FileResponse(
        written[0], media_type="application/pdf", filename=written[0].name, background=cleanup
    )


def _date(text: str, what: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"{what} {text!r}: expected a date YYYY-MM-DD") from None


# --- audit ---


@router.get("/audit")
def audit_page(request: Request, principal: Annotated[Principal, allow(Role.auditor)]) -> Response:
    return _audit(request, principal, None)


@router.post("/audit/verify")
def audit_verify(
    request: Request, principal: Annotated[Principal, allow(Role.auditor)]
) -> Response:
    return _audit(request, principal, verify(database(request).url))


def _audit(request: Request, principal: Principal, report: Any) -> Response:
    db = database(request)
    return page(
        request,
        "audit.html",
        principal,
        section="audit",
        report=report,
        events=queries.recent_events(db),
    )
