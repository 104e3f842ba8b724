"""Compile a :class:`~amnesty.decree.model.Decree` into ONE set-based SQL query.

The passes, in order (each a module of this package):

1. ``lower``      — each clause predicate to a three-valued SQLGlot expression
   (:mod:`.lower`), quantifiers registered as per-person aggregates (:mod:`.aggregates`);
2. ``missing``    — each clause's missing-fact list as SQL (:mod:`.decide`);
3. ``scope``      — the decree's scope as a ``require`` clause with id ``scope``;
4. ``registry``   — the CTEs that build one row of facts per person and decide
   the population (:mod:`.registry`);
5. ``decide``     — docs/semantics.md outcome steps 1-8 and the output columns (:mod:`.decide`);
6. ``emit``       — the tree rendered in the target dialect (:mod:`.dialect`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlglot import exp

from amnesty.compile.sql.aggregates import Aggregates, facts_read, nested_ctes
from amnesty.compile.sql.decide import (
    SCOPE_ID,
    LoweredClause,
    MissingFlags,
    clauses_select,
    decided_select,
    final_select,
    lower_clause,
    lower_scope,
    unknown_entries,
)
from amnesty.compile.sql.dialect import SqlDialect, get_dialect
from amnesty.compile.sql.lower import Lowerer
from amnesty.compile.sql.registry import BOUND_PERSONS, PersonFilter, registry_ctes
from amnesty.decree import ir
from amnesty.decree.model import Decree
from amnesty.registry.profiles import Profile, get_profile, jurisdiction_profile

OUTPUT_COLUMNS = (
    "person_id",
    "facility_id",
    "outcome",
    "relief",
    "grounds",
    "blocking",
    "referred",
    "unknown",
    "undertakings",
)

PASSES = ("lower", "missing", "scope", "registry", "decide", "emit")


@dataclass(frozen=True)
class CompiledDecree:
    decree_id: str
    dialect: str
    as_of: dt.date
    query: exp.Select  # determinations, one row per person of the population
    # counts of persons left out, by reason and releasing run: a lean query of its own
    # (persons, status events, conviction end dates), not the determinations' CTEs
    left_out_query: exp.Select
    clause_ids: tuple[str, ...]  # in file order, then "scope" if the decree has one
    lists_as_json: bool  # list columns arrive as JSON text (PostgreSQL)
    profile: str = ""  # the registry profile compiled against, and its content hash
    profile_hash: str = ""

    @property
    def sql(self) -> str:
        return self.query.sql(dialect=self.dialect, pretty=True)

    @property
    def left_out_sql(self) -> str:
        return self.left_out_query.sql(dialect=self.dialect, pretty=True)


def compile_decree(
    decree: Decree,
    dialect: str | SqlDialect = "duckdb",
    *,
    as_of: dt.date | None = None,
    profile: Profile | None = None,
    person_ids: PersonFilter = None,
) -> CompiledDecree:
    """``decree`` as one query on ``as_of`` (default: the decree's).

    ``person_ids``: None decides everyone; a list of ids decides those, written into
    the query as literals; :data:`BOUND_PERSONS` decides the ids bound as the query's
    one parameter when it runs (:class:`amnesty.compile.sql.plans.PersonsPlan`).
    """
    d = get_dialect(dialect) if isinstance(dialect, str) else dialect
    if decree.parts:
        decree = decree.evaluated_on(as_of)
    as_of = as_of or decree.as_of
    if as_of != decree.as_of:
        from dataclasses import replace

        decree = replace(decree, as_of=as_of)
    profile = profile or _profile_for(decree)
    aggs = Aggregates(d, as_of)

    # 1-3: clauses, their missing facts, the scope.
    lowered: list[LoweredClause] = [lower_clause(c, decree, d, aggs) for c in decree.clauses]
    person = Lowerer(d, as_of, aggs)
    scope = lower_scope(decree, d, aggs, person)
    if scope is not None:
        lowered.append(scope)
    undertakings = [
        person.boolean(u.who) if u.who is not None else exp.true() for u in decree.undertakings
    ]

    # 4: the registry CTEs.
    reads = {f for c in decree.clauses for f in facts_read(c.predicate)}
    reads |= {f for u in decree.undertakings if u.who is not None for f in facts_read(u.who)}
    if decree.scope.predicate is not None:
        reads |= set(facts_read(decree.scope.predicate))
    reg, ctes, phase2 = registry_ctes(d, as_of, profile, aggs, person_ids, reads)
    nested_ctes(aggs, ctes, phase2)

    # 5: decide.
    flags = MissingFlags(d)
    unknown = unknown_entries(lowered, d, flags)  # registers the flag columns first
    ctes.append(("clauses", clauses_select(lowered, undertakings, flags, phase2)))
    bodies = decree.names_bodies
    ctes.append(("decided", decided_select(lowered, len(undertakings), unknown, bodies=bodies)))
    query = final_select(lowered, [u.id for u in decree.undertakings], d, bodies=bodies)
    left_out = (
        exp.select(
            exp.alias_(exp.column("left_out"), "reason"),
            exp.alias_(exp.column("release_decree"), "decree_id"),
            exp.alias_(exp.column("release_run"), "run_id"),
            exp.alias_(exp.Count(this=exp.Star()), "persons"),
        )
        .from_("people", copy=False)
        .where(exp.Not(this=exp.Is(this=exp.column("left_out"), expression=exp.Null())), copy=False)
        .group_by("left_out", "release_decree", "release_run", copy=False)
    )
    for name, sel in ctes:
        query = query.with_(name, as_=sel, copy=False)
    # The left-out counts read only persons, the status events and the conviction
    # end dates: fresh CTEs (a tree may not share nodes with the main query's).
    left_ctes = [
        ("sentence_ends", reg.sentence_ends()),
        ("status", reg.status()),
        ("commuted", reg.commuted()),
        ("people", reg.left_out_people()),
    ]
    for name, sel in left_ctes:
        left_out = left_out.with_(name, as_=sel, copy=False)
    return CompiledDecree(
        decree_id=decree.id,
        dialect=d.name,
        as_of=as_of,
        query=query,
        left_out_query=left_out,
        clause_ids=tuple(c.id for c in lowered),
        lists_as_json=d.lists_as_json,
        profile=profile.name,
        profile_hash=profile.content_hash,
    )


def profile_for(decree: Decree) -> Profile:
    """The profile named by the decree's jurisdiction (core if none can be found: a
    decree that came through the checker has had its jurisdiction checked)."""
    return _profile_for(decree)


def _profile_for(decree: Decree) -> Profile:
    try:
        return jurisdiction_profile(decree.jurisdiction, decree.source_path)
    except Exception:
        return get_profile("core")


__all__ = [
    "BOUND_PERSONS",
    "OUTPUT_COLUMNS",
    "PASSES",
    "SCOPE_ID",
    "CompiledDecree",
    "compile_decree",
    "ir",
]
