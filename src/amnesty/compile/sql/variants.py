"""Several decrees (a decree and its variants) decided in ONE set-based query.

The registry CTEs are built once; every distinct clause predicate (distinct by
its lowered SQL, whatever its id or kind) is computed once per person in
``clauses``; then each decree's outcome steps (docs/semantics.md) read the value
columns it needs, renamed from the shared ones, in one further projection
(``decided``) and the output columns in the last. Each step reads the one
before it exactly once, so no engine evaluates a clause twice.

Output, one row per person of the population: ``person_id``, ``facility_id``
and, for decree ``k`` (0 = the first), ``outcome_k``, ``relief_k``,
``grounds_k``, ``blocking_k``, ``referred_k``, ``unknown_k``,
``undertakings_k``: exactly the columns :func:`compile_decree` gives that
decree alone.

All decrees must share the as-of date (one population) and the profile.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlglot import exp

from amnesty.compile.sql import OUTPUT_COLUMNS
from amnesty.compile.sql.aggregates import Aggregates, facts_read, nested_ctes
from amnesty.compile.sql.decide import (
    LoweredClause,
    MissingFlags,
    clauses_select,
    decided_select,
    final_select,
    lower_clause,
    lower_scope,
    unknown_entries,
)
from amnesty.compile.sql.dialect import get_dialect
from amnesty.compile.sql.lower import Lowerer
from amnesty.compile.sql.registry import registry_ctes
from amnesty.decree.model import Decree
from amnesty.errors import EngineError
from amnesty.registry.profiles import Profile, get_profile, jurisdiction_profile

# the per-decree columns of ``decided`` that the output columns read
DECIDED_COLUMNS = ("outcome", "relief_true", "relief_possible", "unknown")


@dataclass(frozen=True)
class CompiledVariants:
    decree_ids: tuple[str, ...]
    dialect: str
    as_of: dt.date
    query: exp.Select
    distinct_clauses: int  # value columns computed per person
    total_clauses: int  # clauses over all decrees, counted once per decree
    lists_as_json: bool

    @property
    def sql(self) -> str:
        return self.query.sql(dialect=self.dialect, pretty=True)

    def columns(self, k: int) -> dict[str, str]:
        """Output column of decree ``k`` -> the name :func:`compile_decree` gives it."""
        return {f"{c}_{k}": c for c in OUTPUT_COLUMNS if c not in ("person_id", "facility_id")}


def _renamed(node: exp.Expr, names: dict[str, str]) -> exp.Expr:
    def swap(n: exp.Expr) -> exp.Expr:
        if isinstance(n, exp.Column) and not n.table and n.name in names:
            return exp.column(names[n.name])
        return n

    return node.copy().transform(swap, copy=False)


def compile_variants(
    decrees: Sequence[Decree],
    dialect: str = "duckdb",
    *,
    profile: Profile | None = None,
    person_ids: Sequence[str] | None = None,
) -> CompiledVariants:
    if not decrees:
        raise EngineError("compile_variants needs at least one decree")
    as_of = decrees[0].as_of
    for other in decrees[1:]:
        if other.as_of != as_of:
            raise EngineError(
                f"decree {other.id} is decided as of {other.as_of}, {decrees[0].id} as of "
                f"{as_of}: decrees compared in one pass share one as-of date"
            )
    d = get_dialect(dialect)
    profile = profile or _profile(decrees[0])
    aggs = Aggregates(d, as_of)
    person = Lowerer(d, as_of, aggs)

    # 1-3 for every decree; distinct predicates share one value column.
    union: list[LoweredClause] = []
    by_sql: dict[str, int] = {}
    union_u: list[exp.Expr] = []
    by_sql_u: dict[str, int] = {}
    plans: list[tuple[list[LoweredClause], list[int], list[int], list[str]]] = []
    reads: set[str] = set()
    for decree in decrees:
        lowered = [lower_clause(c, decree, d, aggs) for c in decree.clauses]
        scope = lower_scope(decree, d, aggs, person)
        if scope is not None:
            lowered.append(scope)
        columns = []
        for c in lowered:
            key = c.value.sql(d.name)
            if key not in by_sql:
                by_sql[key] = len(union)
                union.append(c)
            columns.append(by_sql[key])
        ucolumns = []
        for u in decree.undertakings:
            value = person.boolean(u.who) if u.who is not None else exp.true()
            key = value.sql(d.name)
            if key not in by_sql_u:
                by_sql_u[key] = len(union_u)
                union_u.append(value)
            ucolumns.append(by_sql_u[key])
        plans.append((lowered, columns, ucolumns, [u.id for u in decree.undertakings]))
        reads |= {f for c in decree.clauses for f in facts_read(c.predicate)}
        reads |= {f for u in decree.undertakings if u.who is not None for f in facts_read(u.who)}
        if decree.scope.predicate is not None:
            reads |= set(facts_read(decree.scope.predicate))

    # 4: the registry CTEs, once.
    _reg, ctes, phase2 = registry_ctes(d, as_of, profile, aggs, person_ids, reads)
    nested_ctes(aggs, ctes, phase2)

    # 5: decide each decree over the shared value columns.
    flags = MissingFlags(d)
    unknowns = [unknown_entries(lowered, d, flags) for lowered, _, _, _ in plans]
    ctes.append(("clauses", clauses_select(union, union_u, flags, phase2)))
    decided_cols: list[exp.Expr] = [exp.column("person_id"), exp.column("facility_id")]
    decided_cols += [exp.column(f"v{j}") for j in range(len(union))]
    decided_cols += [exp.column(f"u{j}") for j in range(len(union_u))]
    out_cols: list[exp.Expr] = [exp.column("person_id"), exp.column("facility_id")]
    for k, (lowered, columns, ucolumns, uids) in enumerate(plans):
        names = {f"v{i}": f"v{j}" for i, j in enumerate(columns)}
        names |= {f"u{i}": f"u{j}" for i, j in enumerate(ucolumns)}
        one = decided_select(lowered, len(ucolumns), unknowns[k])
        for projection in one.expressions:
            if isinstance(projection, exp.Alias) and projection.alias in DECIDED_COLUMNS:
                decided_cols.append(
                    exp.alias_(_renamed(projection.this, names), f"{projection.alias}_{k}")
                )
        names |= {c: f"{c}_{k}" for c in DECIDED_COLUMNS}
        final = final_select(lowered, uids, d)
        for projection in final.expressions:
            name = projection.alias_or_name
            if name in ("person_id", "facility_id"):
                continue
            body = projection.this if isinstance(projection, exp.Alias) else projection
            out_cols.append(exp.alias_(_renamed(body, names), f"{name}_{k}"))
    ctes.append(("decided", exp.select(*decided_cols).from_("clauses", copy=False)))
    query = exp.select(*out_cols).from_("decided", copy=False)
    for name, sel in ctes:
        query = query.with_(name, as_=sel, copy=False)
    return CompiledVariants(
        decree_ids=tuple(dec.id for dec in decrees),
        dialect=d.name,
        as_of=as_of,
        query=query,
        distinct_clauses=len(union),
        total_clauses=sum(len(p[0]) for p in plans),
        lists_as_json=d.lists_as_json,
    )


def _profile(decree: Decree) -> Profile:
    try:
        return jurisdiction_profile(decree.jurisdiction, decree.source_path)
    except Exception:
        return get_profile("core")
