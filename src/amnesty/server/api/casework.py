"""Case work: the review queue and decisions, rosters, undertakings, releases, certificates.

Each route calls the workflow function the CLI's command calls, as the
authenticated principal; the workflow checks roles, facility scope and
separation of duties again, inside its transaction, and audits every step.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from typing import Annotated, Any, Literal

import sqlalchemy as sa
from fastapi import APIRouter, File, Query, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel, Field

from amnesty.errors import ConfigError
from amnesty.server.api.common import (
    Db,
    plain,
    require_roster,
    roster_facility,
    run_person_facility,
    saved_uploads,
)
from amnesty.server.api.runs import _run
from amnesty.server.auth import Principal
from amnesty.server.policy import allow
from amnesty.server.problems import NotFound
from amnesty.store.tables import releases as releases_table
from amnesty.workflow.roles import Role

router = APIRouter(tags=["case work"])

R = Role
ROSTER_READERS = (R.facility_officer, R.approver, R.reviewer, R.auditor)
Text = Annotated[str, Field(min_length=1, max_length=10_000)]
Id = Annotated[str, Field(min_length=1, max_length=200)]


class Decision(BaseModel):
    outcome: Literal["eligible", "ineligible"]
    reason: Text


class PersonDecision(Decision):
    person_id: Id


class Decisions(BaseModel):
    decisions: list[PersonDecision] = Field(min_length=1, max_length=10_000)


class Reason(BaseModel):
    reason: Text


class Undertaking(BaseModel):
    person_id: Id
    undertaking_id: Id
    signed_on: dt.date | None = None
    witness: Annotated[str, Field(max_length=500)] | None = None
    refused: bool = False


class Undertakings(BaseModel):
    undertakings: list[Undertaking] = Field(min_length=1, max_length=10_000)


class ReleaseOne(BaseModel):
    date: dt.date
    override_reason: Annotated[str, Field(max_length=10_000)] | None = None
    new_end_date: dt.date | None = None


class ReleaseRoster(BaseModel):
    date: dt.date
    override_reason: Annotated[str, Field(max_length=10_000)] | None = None
    limit: int | None = Field(None, ge=1, description="at most this many (a day's work)")


class Revoke(BaseModel):
    reason: Text
    return_date: dt.date


class Applied(BaseModel):
    records: int


# --- review ---


@router.get("/runs/{run_id}/reviews")
def review_queue(
    run_id: str,
    db: Db,
    _: Annotated[Principal, allow(R.reviewer, R.approver, R.auditor)],
    state: Literal["open", "decided"] | None = None,
) -> list[dict[str, Any]]:
    """The run's review cases and where each stands."""
    from amnesty.workflow.review import review_queue as queue

    _run(db, run_id)
    return [plain(c.as_row()) for c in queue(db, run_id, state)]


@router.post("/runs/{run_id}/reviews/{person_id}")
def decide_one(
    run_id: str,
    person_id: str,
    body: Decision,
    db: Db,
    principal: Annotated[Principal, allow(R.reviewer)],
) -> dict[str, Any]:
    """Decide one case eligible or ineligible, with a written reason."""
    from amnesty.workflow.review import decide

    _run(db, run_id)
    record = decide(db, principal.name, run_id, person_id, body.outcome, body.reason)
    return plain(record.as_dict())


@router.post("/runs/{run_id}/reviews")
def decide_many(
    run_id: str, body: Decisions, db: Db, principal: Annotated[Principal, allow(R.reviewer)]
) -> Applied:
    """Decide many cases at once; one refused decision refuses them all."""
    import csv

    from amnesty.workflow.casework_files import import_review_decisions

    _run(db, run_id)
    with tempfile.TemporaryDirectory(prefix="amnesty-decisions-") as folder:
        path = Path(folder) / "decisions.csv"
        with path.open("w", encoding="utf-8", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(["person_id", "outcome", "reason"])
            writer.writerows([d.person_id, d.outcome, d.reason] for d in body.decisions)
        applied = import_review_decisions(db, principal.name, run_id, path)
    return Applied(records=applied.records)


@router.post("/runs/{run_id}/reviews-file")
def decide_file(
    run_id: str,
    db: Db,
    principal: Annotated[Principal, allow(R.reviewer)],
    file: Annotated[UploadFile, File(description="CSV or Excel: person_id, outcome, reason")],
) -> Applied:
    """Decide a file of cases (CSV or Excel); one bad row refuses all, naming it."""
    from amnesty.workflow.casework_files import import_review_decisions

    _run(db, run_id)
    with saved_uploads([file]) as folder:
        path = next(folder.iterdir())
        applied = import_review_decisions(db, principal.name, run_id, path)
    return Applied(records=applied.records)


@router.post("/runs/{run_id}/reviews/{person_id}/reopen")
def reopen(
    run_id: str,
    person_id: str,
    body: Reason,
    db: Db,
    principal: Annotated[Principal, allow(R.reviewer)],
) -> dict[str, Any]:
    """Reopen a decided case (the decision stays in its history)."""
    from amnesty.workflow.review import reopen as reopen_case

    _run(db, run_id)
    return plain(reopen_case(db, principal.name, run_id, person_id, body.reason).as_dict())


# --- rosters ---


@router.get("/rosters")
def list_rosters(
    db: Db,
    principal: Annotated[Principal, allow(*ROSTER_READERS)],
    run_id: str | None = None,
    facility: str | None = None,
) -> list[dict[str, Any]]:
    """Rosters (of a run, of a facility); an officer sees only their facilities'."""
    from amnesty.workflow.rosters import list_rosters as stored

    found = stored(db, run_id, facility)
    return [plain(r.as_dict()) for r in found if principal.covers(r.facility_id)]


@router.post("/runs/{run_id}/rosters/{facility_id}", status_code=201)
def prepare(
    run_id: str,
    facility_id: str,
    db: Db,
    principal: Annotated[
        Principal, allow(R.facility_officer, R.approver, facility_param="facility_id")
    ],
) -> dict[str, Any]:
    """Prepare the facility's roster from the run (eligible plus decided reviews)."""
    from amnesty.workflow.rosters import prepare_roster

    _run(db, run_id)
    return plain(prepare_roster(db, principal.name, run_id, facility_id).as_dict())


@router.get("/rosters/{roster_id}")
def show_roster(
    roster_id: int,
    db: Db,
    _: Annotated[Principal, allow(*ROSTER_READERS, facility_of=roster_facility)],
) -> dict[str, Any]:
    """One roster and the persons on it, with their undertakings and releases."""
    from amnesty.workflow import batches
    from amnesty.workflow.rosters import get_roster

    require_roster(db, roster_id)
    roster, _entries = get_roster(db, roster_id)
    return plain({**roster.as_dict(), "people": batches.roster_people(db, roster_id)})


@router.get("/rosters/{roster_id}/check")
def check_roster(
    roster_id: int,
    date: dt.date,
    db: Db,
    _: Annotated[Principal, allow(*ROSTER_READERS, facility_of=roster_facility)],
) -> dict[str, Any]:
    """How many are ready for release on ``date``, and what blocks the rest."""
    from amnesty.workflow import batches

    require_roster(db, roster_id)
    return plain(batches.check_roster(db, roster_id, date).as_dict())


@router.post("/rosters/{roster_id}/approve")
def approve(
    roster_id: int, db: Db, principal: Annotated[Principal, allow(R.approver)]
) -> dict[str, Any]:
    """Approve a roster someone else prepared (four eyes)."""
    from amnesty.workflow.rosters import approve_roster

    require_roster(db, roster_id)
    return plain(approve_roster(db, principal.name, roster_id).as_dict())


@router.post("/rosters/{roster_id}/withdraw")
def withdraw(
    roster_id: int,
    body: Reason,
    db: Db,
    principal: Annotated[Principal, allow(R.approver, R.admin)],
) -> dict[str, Any]:
    """Withdraw a roster before anyone on it is released."""
    from amnesty.workflow.rosters import withdraw_roster

    require_roster(db, roster_id)
    return plain(withdraw_roster(db, principal.name, roster_id, body.reason).as_dict())


# --- undertakings and releases ---


class OneUndertaking(BaseModel):
    undertaking_id: Id
    signed_on: dt.date | None = None
    witness: Annotated[str, Field(max_length=500)] | None = None
    refused: bool = False


@router.post("/runs/{run_id}/undertakings/{person_id}", status_code=201)
def undertaking(
    run_id: str,
    person_id: str,
    body: OneUndertaking,
    db: Db,
    principal: Annotated[Principal, allow(R.facility_officer, facility_of=run_person_facility)],
) -> dict[str, Any]:
    """Record one undertaking of a person on an approved roster: signed, or refused."""
    from amnesty.workflow.releases import record_undertaking

    _run(db, run_id)
    row = record_undertaking(
        db, principal.name, run_id, person_id, body.undertaking_id, signed_on=body.signed_on,
        witness=body.witness, refused=body.refused,
    )  # fmt: skip
    return plain(row)


Officer = Annotated[Principal, allow(R.facility_officer, facility_of=roster_facility)]


@router.post("/rosters/{roster_id}/undertakings")
def undertakings(roster_id: int, body: Undertakings, db: Db, principal: Officer) -> Applied:
    """Record one or many undertakings (signed with date and witness, or refused).

    All or none: a refused one refuses the lot, and nothing is recorded.
    """
    import csv

    from amnesty.workflow.casework_files import import_undertakings

    require_roster(db, roster_id)
    with tempfile.TemporaryDirectory(prefix="amnesty-undertakings-") as folder:
        path = Path(folder) / "undertakings.csv"
        with path.open("w", encoding="utf-8", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(["person_id", "undertaking_id", "status", "signed_on", "witness"])
            for u in body.undertakings:
                status = "refused" if u.refused else "signed"
                signed_on = u.signed_on.isoformat() if u.signed_on else ""
                writer.writerow([u.person_id, u.undertaking_id, status, signed_on,
                                 u.witness or ""])  # fmt: skip
        applied = import_undertakings(db, principal.name, roster_id, path)
    return Applied(records=applied.records)


@router.post("/rosters/{roster_id}/undertakings-file")
def undertakings_file(
    roster_id: int,
    db: Db,
    principal: Officer,
    file: Annotated[
        UploadFile,
        File(description="CSV or Excel: person_id, undertaking_id, status, signed_on, witness"),
    ],
) -> Applied:
    """Record a file of undertakings; one bad row refuses all, naming row and column."""
    from amnesty.workflow.casework_files import import_undertakings

    require_roster(db, roster_id)
    with saved_uploads([file]) as folder:
        path = next(folder.iterdir())
        applied = import_undertakings(db, principal.name, roster_id, path)
    return Applied(records=applied.records)


@router.post("/rosters/{roster_id}/release")
def release_roster(
    roster_id: int, body: ReleaseRoster, db: Db, principal: Officer
) -> dict[str, Any]:
    """Release everyone ready on an approved roster (each re-checked); resumable."""
    from amnesty.workflow import batches

    require_roster(db, roster_id)
    report = batches.execute_roster(
        db, principal.name, roster_id, release_date=body.date,
        override_reason=body.override_reason, limit=body.limit,
    )  # fmt: skip
    return {
        "roster_id": roster_id,
        "released": list(report.released),
        "already": list(report.already),
        "stopped": [{"person_id": p, "reason": why} for p, why in report.stopped],
        "waiting": [{"person_id": p, "reason": why} for p, why in report.waiting.items()],
    }


@router.post("/runs/{run_id}/releases/{person_id}")
def release_one(
    run_id: str,
    person_id: str,
    body: ReleaseOne,
    db: Db,
    principal: Annotated[Principal, allow(R.facility_officer, facility_of=run_person_facility)],
) -> dict[str, Any]:
    """Release one person of an approved roster, re-checked on today's registry."""
    from amnesty.workflow.releases import execute_release

    _run(db, run_id)
    result = execute_release(
        db, principal.name, run_id, person_id, release_date=body.date,
        override_reason=body.override_reason, new_end_date=body.new_end_date,
    )  # fmt: skip
    return {**plain(result.release.as_dict()), "already": result.already}


@router.post("/runs/{run_id}/releases/{person_id}/revoke")
def revoke(
    run_id: str,
    person_id: str,
    body: Revoke,
    db: Db,
    principal: Annotated[Principal, allow(R.approver, R.admin)],
) -> dict[str, Any]:
    """Revoke a release made in error: the person returns to custody."""
    from amnesty.workflow.releases import revoke_release

    _run(db, run_id)
    revoke_release(db, principal.name, run_id, person_id, reason=body.reason,
                   return_date=body.return_date)  # fmt: skip
    return {"run_id": run_id, "person_id": person_id, "revoked": True}


@router.get("/releases")
def list_releases(
    db: Db,
    principal: Annotated[Principal, allow(R.facility_officer, R.approver, R.auditor)],
    run_id: str | None = None,
    facility: str | None = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
) -> list[dict[str, Any]]:
    """Releases (newest certificate last), within the caller's facility scope."""
    r = releases_table.c
    query = sa.select(releases_table).order_by(r.release_id).limit(limit)
    if run_id:
        query = query.where(r.run_id == run_id)
    if facility:
        query = query.where(r.facility_id == facility)
    if principal.facilities:
        query = query.where(r.facility_id.in_(list(principal.facilities)))
    with db.connect() as conn:
        return [plain(dict(row)) for row in conn.execute(query).mappings()]


# --- certificates ---

PDF: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/pdf": {}}, "description": "The certificate(s) as PDF"}
}
PRINTERS = (R.facility_officer, R.approver, R.admin)


def _pdf(db: Db, actor: str, name: str, **which: Any) -> Response:
    from amnesty.workflow.certificate_store import print_certificates

    with tempfile.TemporaryDirectory(prefix="amnesty-certificates-") as folder:
        try:
            paths = print_certificates(db, actor, Path(folder), **which)
        except ConfigError as exc:
            if "no (unrevoked) release" in str(exc):
                raise NotFound(str(exc)) from None
            raise
        data = paths[0].read_bytes()
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    return Response(data, media_type="application/pdf", headers=headers)


@router.get("/runs/{run_id}/releases/{person_id}/certificate", response_class=Response,
            responses=PDF)  # fmt: skip
def certificate(
    run_id: str,
    person_id: str,
    db: Db,
    principal: Annotated[Principal, allow(*PRINTERS, facility_of=run_person_facility)],
) -> Response:
    """One person's release certificate."""
    return _pdf(db, principal.name, f"certificate-{person_id}.pdf", run_id=run_id,
                person_id=person_id)  # fmt: skip


@router.get("/rosters/{roster_id}/certificates", response_class=Response, responses=PDF)
def roster_certificates(
    roster_id: int,
    db: Db,
    principal: Annotated[Principal, allow(*PRINTERS, facility_of=roster_facility)],
) -> Response:
    """A roster's certificates in one batch PDF."""
    require_roster(db, roster_id)
    return _pdf(db, principal.name, f"certificates-roster-{roster_id}.pdf", roster_id=roster_id)
