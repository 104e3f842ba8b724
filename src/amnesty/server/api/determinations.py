"""A run's determinations: filtered, paginated, exported; and one person explained.

A facility officer (any principal with a facility scope) sees only the rows of
their facilities: the scope is a filter here, not only a refusal, so a list
never shows another facility's persons.
"""

from __future__ import annotations

import csv
import io
import json
from enum import StrEnum
from typing import Annotated, Any

import pyarrow as pa
import sqlalchemy as sa
from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field

from amnesty.server.api.common import (
    EXPLAIN_SLOTS,
    Db,
    division_facilities,
    health_clauses,
    like_json_item,
    may_read_health,
    person_facility,
    plain,
    redact_health,
    run_person_facility,
)
from amnesty.server.api.runs import READERS, _run
from amnesty.server.auth import Principal
from amnesty.server.policy import HEALTH_ROLES, allow, refusal
from amnesty.server.problems import NotFound
from amnesty.store.tables import determinations

router = APIRouter(prefix="/runs/{run_id}", tags=["determinations"])

LIST_COLUMNS = ("grounds", "blocking", "referred", "unknown", "undertakings")
COLUMNS = ("person_id", "facility_id", "outcome", "relief", *LIST_COLUMNS)


class Outcome(StrEnum):
    eligible = "eligible"
    ineligible = "ineligible"
    review = "review"


class ExportFormat(StrEnum):
    csv = "csv"
    xlsx = "xlsx"
    parquet = "parquet"


class Determination(BaseModel):
    person_id: str
    facility_id: str | None
    outcome: str
    relief: str | None
    grounds: list[str]
    blocking: list[str]
    referred: list[str]
    unknown: list[Any]
    undertakings: list[str]


class Page(BaseModel):
    run_id: str
    items: list[Determination]
    total: int = Field(description="rows matching the filters (within the caller's scope)")
    next_after: str | None = Field(
        description="pass as ?after= for the next page; null on the last page"
    )


class Filters(BaseModel):
    outcome: Outcome | None = None
    relief: str | None = None
    facility: str | None = None
    division: str | None = None
    ground: str | None = None


def _conditions(
    run_id: str, filters: Filters, principal: Principal, facilities_in: Any
) -> list[Any]:
    d = determinations.c
    where: list[Any] = [d.run_id == run_id]
    if filters.outcome:
        where.append(d.outcome == filters.outcome.value)
    if filters.relief:
        where.append(d.relief == filters.relief)
    if filters.facility:
        where.append(d.facility_id == filters.facility)
    if filters.ground:
        where.append(d.grounds.like(like_json_item(filters.ground), escape="\\"))
    if filters.division:
        where.append(d.facility_id.in_(facilities_in(filters.division)))
    if principal.facilities:
        where.append(d.facility_id.in_(list(principal.facilities)))
    return where


def _hidden_health(db: Any, run_id: str, principal: Principal, filters: Filters) -> frozenset[str]:
    """The health clauses to redact for ``principal`` (none for a health reader); a
    filter on one of them is refused, as it would list whom it holds for."""
    if may_read_health(principal):
        return frozenset()
    hidden = health_clauses(db, run_id)
    if filters.ground is not None and filters.ground in hidden:
        raise refusal(
            f"user {principal.name!r} filtered by the health ground {filters.ground}",
            f"user {principal.name!r}: a filter on a health ground is for "
            + " or ".join(sorted(r.value for r in HEALTH_ROLES)),
        )
    return hidden


def _row(r: Any) -> dict[str, Any]:
    row = {c: r[c] for c in COLUMNS}
    for c in LIST_COLUMNS:
        row[c] = json.loads(row[c] or "[]")
    return row


FiltersQuery = Annotated[Filters, Query()]


@router.get("/determinations", response_model=Page)
def list_determinations(
    run_id: str,
    db: Db,
    principal: Annotated[Principal, allow(*READERS)],
    filters: FiltersQuery,
    after: Annotated[
        str | None, Query(description="the last person_id of the previous page")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    """Filter by outcome, relief, facility, division (and those below it), ground."""
    _run(db, run_id)
    hidden = _hidden_health(db, run_id, principal, filters)
    d = determinations.c
    where = _conditions(run_id, filters, principal, division_facilities(db))
    page_where = [*where, d.person_id > after] if after is not None else where
    with db.connect() as conn:
        total = conn.execute(
            sa.select(sa.func.count()).select_from(determinations).where(*where)
        ).scalar_one()
        rows = (
            conn.execute(
                sa.select(*[d[c] for c in COLUMNS])
                .where(*page_where)
                .order_by(d.person_id)
                .limit(limit + 1)
            )
            .mappings()
            .all()
        )
    items = [redact_health(_row(r), hidden) for r in rows[:limit]]
    more = len(rows) > limit
    return {"run_id": run_id, "items": items, "total": int(total),
            "next_after": items[-1]["person_id"] if more else None}  # fmt: skip


MEDIA = {
    ExportFormat.csv: "text/csv; charset=utf-8",
    ExportFormat.xlsx: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ExportFormat.parquet: "application/vnd.apache.parquet",
}


@router.get(
    "/determinations/export",
    response_class=Response,
    responses={200: {"content": {m: {} for m in MEDIA.values()},
                     "description": "The matching determinations as a file"}},
)  # fmt: skip
def export_determinations(
    run_id: str,
    db: Db,
    principal: Annotated[Principal, allow(*READERS)],
    filters: FiltersQuery,
    format: ExportFormat = ExportFormat.csv,
) -> Response:
    """Every matching row as CSV (lists joined by ``;``), Excel or Parquet."""
    _run(db, run_id)
    hidden = _hidden_health(db, run_id, principal, filters)
    d = determinations.c
    where = _conditions(run_id, filters, principal, division_facilities(db))
    with db.connect() as conn:
        rows = [
            redact_health(_row(r), hidden)
            for r in conn.execute(
                sa.select(*[d[c] for c in COLUMNS]).where(*where).order_by(d.person_id)
            ).mappings()
        ]
    name = f"determinations-{run_id}.{format.value}"
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    return Response(_encode(rows, format), media_type=MEDIA[format], headers=headers)


def _flat(row: dict[str, Any]) -> list[Any]:
    out: list[Any] = []
    for c in COLUMNS:
        value = row[c]
        if c == "unknown":
            out.append(json.dumps(value, ensure_ascii=False))
        elif c in LIST_COLUMNS:
            out.append(";".join(value))
        else:
            out.append(value)
    return out


def _encode(rows: list[dict[str, Any]], format: ExportFormat) -> bytes:
    if format is ExportFormat.csv:
        text = io.StringIO()
        writer = csv.writer(text)
        writer.writerow(COLUMNS)
        writer.writerows(_flat(r) for r in rows)
        return text.getvalue().encode("utf-8")
    if format is ExportFormat.xlsx:
        from openpyxl import Workbook

        book = Workbook(write_only=True)
        sheet = book.create_sheet("determinations")
        sheet.append(list(COLUMNS))
        for r in rows:
            # a cell starting with = + - @ would be a formula in Excel: store it as text
            sheet.append([f"'{v}" if isinstance(v, str) and v[:1] in "=+-@" else v
                          for v in _flat(r)])  # fmt: skip
        buffer = io.BytesIO()
        book.save(buffer)
        return buffer.getvalue()
    import pyarrow.parquet as pq

    table = pa.table(
        {
            **{c: pa.array([r[c] for r in rows], pa.string())
               for c in ("person_id", "facility_id", "outcome", "relief")},
            **{c: pa.array([r[c] for r in rows], pa.list_(pa.string()))
               for c in ("grounds", "blocking", "referred", "undertakings")},
            "unknown": pa.array([json.dumps(r["unknown"]) for r in rows], pa.string()),
        }
    )  # fmt: skip
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return buffer.getvalue()


@router.get("/explain/{person_id}")
def explain_person(
    run_id: str,
    person_id: str,
    db: Db,
    _: Annotated[
        Principal, allow(*sorted(HEALTH_ROLES), health=True, facility_of=run_person_facility)
    ],
) -> dict[str, Any]:
    """One person clause by clause on the run's as-of date, beside what the run decided.

    Reveals health facts the decree reads, so only for the roles that need them;
    every call is written to the audit chain.
    """
    from amnesty.workflow.run_explanation import explain_under_stored_decree

    _run(db, run_id)
    if person_facility(db, run_id, person_id) is None:
        raise NotFound(f"run {run_id} decided no person {person_id!r}")
    with EXPLAIN_SLOTS:
        compared = explain_under_stored_decree(db, run_id, person_id)
    return plain(compared.to_dict())
