"""What the pages read, always within the signed-in user's facilities.

A user's facilities are their scope: an empty tuple is every facility (as
:meth:`amnesty.workflow.users.User.covers` reads it). Every query here takes
the scope and filters by it in SQL, so a page cannot show a person of a
facility its user does not act for. The queries are plain SQLAlchemy Core over
the operational tables and the registry tables, portable across DuckDB and
PostgreSQL.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

# the API's own reading of the ground and division filters, so a page and its export agree
from amnesty.server.api.common import division_facilities, like_json_item
from amnesty.store.database import Database
from amnesty.store.tables import audit_events, determinations, releases
from amnesty.store.tables import decrees as decrees_t

OUTCOMES = ("eligible", "review", "ineligible")
PAGE_SIZE = 50

persons_t = sa.table(
    "persons",
    sa.column("person_id"),
    sa.column("name"),
    sa.column("name_romanised"),
    sa.column("facility_id"),
)
facilities_t = sa.table(
    "facilities",
    sa.column("facility_id"),
    sa.column("name"),
    sa.column("name_romanised"),
    sa.column("division_id"),
)
divisions_t = sa.table(
    "divisions", sa.column("division_id"), sa.column("name"), sa.column("name_romanised")
)

Scope = tuple[str, ...]  # facility ids; () = every facility


def in_scope(scope: Scope, facility_id: str | None) -> bool:
    return not scope or facility_id in scope


def _scoped(query: sa.Select[Any], column: Any, scope: Scope) -> sa.Select[Any]:
    return query.where(column.in_(scope)) if scope else query


@dataclass(frozen=True)
class Filters:
    """The determinations table's filters; empty strings mean "any"."""

    outcome: str = ""
    relief: str = ""
    facility: str = ""
    division: str = ""
    ground: str = ""

    def as_query(self) -> dict[str, str]:
        return {k: v for k, v in self.__dict__.items() if v}


@dataclass
class Counts:
    total: int = 0
    by_outcome: dict[str, int] = field(default_factory=dict)
    by_ground: list[tuple[str, int]] = field(default_factory=list)
    by_facility: list[tuple[str, dict[str, int]]] = field(default_factory=list)
    by_division: list[tuple[str, dict[str, int]]] = field(default_factory=list)


def facility_names(db: Database, scope: Scope) -> dict[str, str]:
    """facility id -> "name (romanised)" for the facilities in scope."""
    query = _scoped(
        sa.select(facilities_t.c.facility_id, facilities_t.c.name, facilities_t.c.name_romanised),
        facilities_t.c.facility_id,
        scope,
    ).order_by(facilities_t.c.facility_id)
    with db.connect() as conn:
        return {r[0]: _both(r[1], r[2]) for r in conn.execute(query).all()}


def division_names(db: Database, scope: Scope) -> dict[str, str]:
    """division id -> name, for the divisions holding a facility in scope."""
    query = _scoped(
        sa.select(divisions_t.c.division_id, divisions_t.c.name, divisions_t.c.name_romanised)
        .distinct()
        .join(facilities_t, facilities_t.c.division_id == divisions_t.c.division_id),
        facilities_t.c.facility_id,
        scope,
    ).order_by(divisions_t.c.division_id)
    with db.connect() as conn:
        return {r[0]: _both(r[1], r[2]) for r in conn.execute(query).all()}


def _both(name: str | None, romanised: str | None) -> str:
    if name and romanised and name != romanised:
        return f"{name} ({romanised})"
    return name or romanised or ""


def counts(db: Database, run_id: str, scope: Scope) -> Counts:
    """The run's persons by outcome, facility, division and ground, within scope."""
    d = determinations
    base = _scoped(sa.select(d.c.outcome).where(d.c.run_id == run_id), d.c.facility_id, scope)
    out = Counts()
    with db.connect() as conn:
        by_facility = conn.execute(
            _scoped(
                sa.select(d.c.facility_id, facilities_t.c.division_id, d.c.outcome, sa.func.count())
                .select_from(
                    d.outerjoin(facilities_t, facilities_t.c.facility_id == d.c.facility_id)
                )
                .where(d.c.run_id == run_id)
                .group_by(d.c.facility_id, facilities_t.c.division_id, d.c.outcome),
                d.c.facility_id,
                scope,
            )
        ).all()
        grounds = conn.execute(
            base.with_only_columns(d.c.grounds, sa.func.count())
            .where(d.c.outcome == "eligible")
            .group_by(d.c.grounds)
        ).all()
    facility: dict[str, Counter[str]] = {}
    division: dict[str, Counter[str]] = {}
    total: Counter[str] = Counter()
    for facility_id, division_id, outcome, n in by_facility:
        facility.setdefault(facility_id or "-", Counter())[outcome] += n
        division.setdefault(division_id or "-", Counter())[outcome] += n
        total[outcome] += n
    out.by_outcome = {o: total.get(o, 0) for o in OUTCOMES}
    out.total = sum(total.values())
    out.by_facility = [(k, dict(v)) for k, v in sorted(facility.items())]
    out.by_division = [(k, dict(v)) for k, v in sorted(division.items())]
    ground: Counter[str] = Counter()
    for text, n in grounds:  # one row per combination of grounds: few
        for g in json.loads(text or "[]"):
            ground[g] += n
    out.by_ground = sorted(ground.items(), key=lambda kv: (-kv[1], kv[0]))
    return out


def _filtered(db: Database, run_id: str, scope: Scope, f: Filters) -> Any:
    d = determinations
    query: Any = (
        sa.select(
            d.c.person_id,
            d.c.facility_id,
            d.c.outcome,
            d.c.relief,
            d.c.grounds,
            d.c.blocking,
            d.c.referred,
            persons_t.c.name,
            persons_t.c.name_romanised,
        )
        .select_from(
            d.outerjoin(persons_t, persons_t.c.person_id == d.c.person_id).outerjoin(
                facilities_t, facilities_t.c.facility_id == d.c.facility_id
            )
        )
        .where(d.c.run_id == run_id)
    )
    query = _scoped(query, d.c.facility_id, scope)
    if f.outcome:
        query = query.where(d.c.outcome == f.outcome)
    if f.relief:
        query = query.where(d.c.relief == f.relief)
    if f.facility:
        query = query.where(d.c.facility_id == f.facility)
    if f.division:  # the division or any below it, as the API's filter reads it
        query = query.where(d.c.facility_id.in_(division_facilities(db)(f.division)))
    if f.ground:
        query = query.where(d.c.grounds.like(like_json_item(f.ground), escape="\\"))
    return query


def determinations_page(
    db: Database, run_id: str, scope: Scope, f: Filters, page: int, size: int = PAGE_SIZE
) -> tuple[list[dict[str, Any]], int]:
    """One page of the run's determinations matching ``f`` within scope, and how many match."""
    query = _filtered(db, run_id, scope, f)
    with db.connect() as conn:
        total = conn.execute(sa.select(sa.func.count()).select_from(query.subquery())).scalar_one()
        rows = conn.execute(
            query.order_by(determinations.c.person_id).limit(size).offset((page - 1) * size)
        ).mappings()
        out = [
            {
                **dict(r),
                "grounds": json.loads(r["grounds"] or "[]"),
                "blocking": json.loads(r["blocking"] or "[]"),
                "referred": json.loads(r["referred"] or "[]"),
            }
            for r in rows
        ]
    return out, int(total)


def reliefs(db: Database, run_id: str) -> list[str]:
    d = determinations
    with db.connect() as conn:
        found = conn.execute(
            sa.select(d.c.relief).distinct().where(d.c.run_id == run_id, d.c.relief.is_not(None))
        ).scalars()
        return sorted(str(r) for r in found)


def person(db: Database, person_id: str) -> dict[str, Any] | None:
    """The person's registry identity (names, current facility), or None."""
    query = sa.select(
        persons_t.c.person_id,
        persons_t.c.name,
        persons_t.c.name_romanised,
        persons_t.c.facility_id,
    ).where(persons_t.c.person_id == person_id)
    with db.connect() as conn:
        row = conn.execute(query).mappings().first()
        return None if row is None else dict(row)


def determination_facility(db: Database, run_id: str, person_id: str) -> str | None:
    """The facility the run decided ``person_id`` at (None: not decided by the run)."""
    d = determinations
    with db.connect() as conn:
        row = conn.execute(
            sa.select(d.c.facility_id).where(d.c.run_id == run_id, d.c.person_id == person_id)
        ).first()
    return None if row is None else row[0]


def names_of(db: Database, people: list[str]) -> dict[str, str]:
    if not people:
        return {}
    query = sa.select(persons_t.c.person_id, persons_t.c.name, persons_t.c.name_romanised).where(
        persons_t.c.person_id.in_(people)
    )
    with db.connect() as conn:
        return {r[0]: _both(r[1], r[2]) for r in conn.execute(query).all()}


def released_count(db: Database, run_id: str, scope: Scope) -> int:
    query = _scoped(
        sa.select(sa.func.count()).select_from(releases).where(releases.c.run_id == run_id),
        releases.c.facility_id,
        scope,
    )
    with db.connect() as conn:
        return int(conn.execute(query).scalar_one())


def recent_events(db: Database, limit: int = 25) -> list[dict[str, Any]]:
    """The newest audit events, newest first (for auditors: the chain is not scoped)."""
    e = audit_events
    query = (
        sa.select(
            e.c.seq,
            e.c.occurred_at,
            e.c.actor,
            e.c.action,
            e.c.entity_kind,
            e.c.entity_id,
            e.c.outcome,
            e.c.reason,
        )
        .order_by(e.c.seq.desc())
        .limit(limit)
    )
    with db.connect() as conn:
        return [dict(r) for r in conn.execute(query).mappings()]


def decrees(db: Database) -> list[dict[str, Any]]:
    """The stored decrees a run may be started from (id, title, draft or signed)."""
    query = sa.select(decrees_t.c.decree_id, decrees_t.c.title, decrees_t.c.status).order_by(
        decrees_t.c.decree_id
    )
    with db.connect() as conn:
        return [dict(r) for r in conn.execute(query).mappings()]
