"""The decision side of the query: every clause's value and missing facts per
person (``clauses``), then docs/semantics.md "Outcome" steps 1-8 (``decided``), then
the output columns.

Missing facts of an unknown clause (docs/engine.md, "Missing facts"): the names,
in order of first appearance in the predicate, of

* every person fact it reads that is NULL for the person;
* every conviction/event fact it reads that is NULL for at least one of the
  person's items of that collection;
* ``convictions`` / ``events`` when an ``all`` with no stated empty value meets an
  empty collection;
* ``contested`` when the readings of a contested node differ for the person.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp

from amnesty.compile.sql.aggregates import Aggregates, walk
from amnesty.compile.sql.columns import collection_of, is_null
from amnesty.compile.sql.dialect import SqlDialect, lit
from amnesty.compile.sql.lower import Lowerer, readings_agree
from amnesty.decree import ir
from amnesty.decree.model import Clause, Decree

SCOPE_ID = "scope"


@dataclass(frozen=True)
class LoweredClause:
    id: str
    kind: str  # grant, exclude, require, refer
    value: exp.Expr
    missing: list[tuple[str, exp.Expr]]
    relief: str | None = None
    rank: int = 0
    body: str | None = None  # applied_by of a grant, or of a refer reaching no ground
    without_ground: bool = False  # a refer that also reaches persons with no ground


def missing_facts(
    predicate: ir.Expr, lowerer: Lowerer, aggs: Aggregates, clause_if_empty: bool | None
) -> list[tuple[str, exp.Expr]]:
    found: dict[str, list[exp.Expr]] = {}

    def add(name: str, cond: exp.Expr) -> None:
        found.setdefault(name, []).append(cond)

    for node in walk(predicate):
        if isinstance(node, ir.Fact):
            if collection_of(node.name) is None:
                add(node.name, is_null(node.name))
            else:
                add(node.name, aggs.null_flag(node.name))
        elif isinstance(node, ir.Quantifier) and node.kind == "all":
            if_empty = node.if_empty if node.if_empty is not None else clause_if_empty
            if if_empty is None:
                n = "conv_n" if node.collection == "convictions" else "event_n"
                add(node.collection, exp.EQ(this=exp.column(n), expression=lit(0)))
        elif isinstance(node, ir.Contested):
            readings = [exp.paren(lowerer.boolean(e)) for _, e in node.readings]
            add("contested", exp.Not(this=exp.paren(readings_agree(readings))))
    return [
        (name, exp.or_(*conds) if len(conds) > 1 else conds[0]) for name, conds in found.items()
    ]


def lower_clause(
    clause: Clause,
    decree: Decree,
    dialect: SqlDialect,
    aggs: Aggregates,
    lowerer_for: type[Lowerer] = Lowerer,
) -> LoweredClause:
    lowerer = lowerer_for(dialect, decree.as_of, aggs, if_empty=clause.if_empty)
    value = lowerer.boolean(clause.predicate)
    missing = missing_facts(clause.predicate, lowerer, aggs, clause.if_empty)
    relief = (clause.relief or "release") if clause.kind == "grant" else None
    if clause.without_ground:
        relief = clause.relief or "release"
    ranking = list(decree.relief_ranking)
    rank = ranking.index(relief) if relief in ranking else len(ranking)
    body = (clause.applied_by or decree.applied_by) if relief is not None else None
    return LoweredClause(
        clause.id, clause.kind, value, missing, relief, rank, body, clause.without_ground
    )


def lower_scope(
    decree: Decree, dialect: SqlDialect, aggs: Aggregates, as_of_lowerer: Lowerer
) -> LoweredClause | None:
    """The decree's scope as a ``require`` clause with id ``scope``."""
    s = decree.scope
    parts: list[exp.Expr] = []
    missing: list[tuple[str, exp.Expr]] = []

    def axis(fact: str, values: tuple[str, ...]) -> None:
        column = exp.column(fact.replace(".", "__"))
        parts.append(exp.In(this=column, expressions=[lit(v) for v in values]))
        missing.append((fact, is_null(fact)))

    if s.facility_types:
        axis("facility.type", s.facility_types)
    if s.facilities:
        axis("facility.id", s.facilities)
    if s.authorities:
        axis("person.authority", s.authorities)
    if s.divisions:
        from amnesty.compile.sql.registry import ANCESTOR_DEPTH

        hits = [
            exp.Coalesce(
                this=exp.In(
                    this=exp.column(f"facility__anc{i}"), expressions=[lit(v) for v in s.divisions]
                ),
                expressions=[exp.false()],
            )
            for i in range(ANCESTOR_DEPTH)
        ]
        # A facility not in the registry has no known division: unknown, not outside.
        parts.append(
            exp.Case(
                ifs=[
                    exp.If(
                        this=exp.Is(this=exp.column("facility__division"), expression=exp.Null()),
                        true=exp.Null(),
                    )
                ],
                default=exp.paren(exp.or_(*hits)),
            )
        )
        missing.append(("facility.division", is_null("facility.division")))
    if not parts and s.predicate is not None:
        value = as_of_lowerer.boolean(s.predicate)
        missing = missing_facts(s.predicate, as_of_lowerer, aggs, None)
        return LoweredClause(SCOPE_ID, "require", value, missing)
    if not parts:
        return None
    value = exp.paren(exp.and_(*[exp.paren(p) for p in parts]))
    return LoweredClause(SCOPE_ID, "require", value, missing)


def value_col(i: int) -> exp.Column:
    return exp.column(f"v{i}")


class MissingFlags:
    """Missing-fact conditions become boolean columns of ``clauses`` (deduplicated
    by their SQL), so that ``decided`` can build a clause's list only where the
    clause is unknown."""

    def __init__(self, dialect: SqlDialect) -> None:
        self.dialect = dialect
        self.columns: dict[str, tuple[str, exp.Expr]] = {}

    def flag(self, cond: exp.Expr) -> exp.Column:
        key = cond.sql(self.dialect.name)
        if key not in self.columns:
            self.columns[key] = (f"m{len(self.columns)}", cond)
        return exp.column(self.columns[key][0])


def clauses_select(
    lowered: list[LoweredClause],
    undertakings: list[exp.Expr],
    flags: MissingFlags,
    phase2: list[str],
) -> exp.Select:
    cols: list[exp.Expr] = [
        exp.alias_(exp.column("person_id", "pe"), "person_id"),
        exp.alias_(exp.column("facility__id", "pe"), "facility_id"),
    ]
    for i, c in enumerate(lowered):
        cols.append(exp.alias_(c.value, f"v{i}"))
    for i, u in enumerate(undertakings):
        cols.append(exp.alias_(u, f"u{i}"))
    for alias, cond in flags.columns.values():
        cols.append(exp.alias_(cond, alias))
    sel = exp.select(*cols).from_("people AS pe", copy=False)
    for cte in phase2:
        sel = sel.join(
            f"{cte} AS {cte}", on=f"{cte}.person_id = pe.person_id", join_type="left", copy=False
        )
    return sel.where(exp.Is(this=exp.column("left_out", "pe"), expression=exp.Null()), copy=False)


def unknown_entries(
    lowered: list[LoweredClause], dialect: SqlDialect, flags: MissingFlags
) -> exp.Expr:
    """The ``unknown`` column, built in ``decided`` from the clause values and flags."""
    entries: list[exp.Expr] = []
    for i, c in enumerate(lowered):
        names = dialect.string_list(
            [
                exp.Case(ifs=[exp.If(this=flags.flag(cond), true=lit(name))])
                for name, cond in c.missing
            ]
        )
        entries.append(
            exp.Case(
                ifs=[
                    exp.If(
                        this=exp.Is(this=value_col(i), expression=exp.Null()),
                        true=dialect.unknown_entry(c.id, names),
                    )
                ]
            )
        )
    return dialect.unknown_list(entries)


def decided_select(
    lowered: list[LoweredClause],
    n_undertakings: int,
    unknown: exp.Expr,
    *,
    bodies: bool = False,
) -> exp.Select:
    """Outcome steps 1-8 of docs/semantics.md, and the relief per outcome."""

    def is_true(i: int) -> exp.Expr:
        return exp.Coalesce(this=value_col(i), expressions=[exp.false()])

    def true_or_unknown(i: int) -> exp.Expr:
        return exp.Coalesce(this=value_col(i), expressions=[exp.true()])

    def is_unknown(i: int) -> exp.Expr:
        return exp.Is(this=value_col(i), expression=exp.Null())

    def any_of(conds: list[exp.Expr]) -> exp.Expr:
        return exp.paren(exp.or_(*conds)) if conds else exp.false()

    idx = {
        kind: [i for i, c in enumerate(lowered) if c.kind == kind]
        for kind in ("grant", "exclude", "require", "refer")
    }
    excl_true = any_of([is_true(i) for i in idx["exclude"]])
    req_false = any_of(
        [
            exp.Coalesce(this=exp.Not(this=value_col(i)), expressions=[exp.false()])
            for i in idx["require"]
        ]
    )
    grant_possible = any_of([true_or_unknown(i) for i in idx["grant"]])
    guard_unknown = any_of([is_unknown(i) for i in idx["exclude"] + idx["require"]])
    grant_true = any_of([is_true(i) for i in idx["grant"]])
    referred = any_of([true_or_unknown(i) for i in idx["refer"]])
    # Refers that also reach persons with no ground (docs/semantics.md, step 3).
    unfounded = [i for i in idx["refer"] if lowered[i].without_ground]
    if unfounded:
        grant_possible = any_of([grant_possible, *[true_or_unknown(i) for i in unfounded]])
    # Grants in ranking order, ties in file order: the first that holds wins.
    ranked = sorted(idx["grant"], key=lambda i: (lowered[i].rank, i))

    def first(cond: exp.Expr | None, pick: str) -> exp.Expr:
        ifs = []
        for i in ranked:
            c = is_true(i) if cond is None else true_or_unknown(i)
            if pick == "rank":
                v = lit(lowered[i].rank)
            elif pick == "body":
                body = lowered[i].body
                v = exp.Null() if body is None else lit(body)
            else:
                v = lit(lowered[i].relief or "release")
            ifs.append(exp.If(this=c, true=v))
        if cond is not None and pick != "rank":
            # no grant possible: the first refer reaching persons with no ground
            for i in unfounded:
                body = lowered[i].body
                v = (
                    lit(lowered[i].relief or "release")
                    if pick == "relief"
                    else (exp.Null() if body is None else lit(body))
                )
                ifs.append(exp.If(this=true_or_unknown(i), true=v))
        return exp.Case(ifs=ifs) if ifs else exp.Null()

    step7 = exp.Coalesce(
        this=exp.LT(this=first(exp.true(), "rank"), expression=first(None, "rank")),
        expressions=[exp.false()],
    )
    outcome = exp.Case(
        ifs=[
            exp.If(this=exp.or_(excl_true, req_false), true=lit("ineligible")),
            exp.If(this=exp.Not(this=grant_possible), true=lit("ineligible")),
            exp.If(
                this=exp.or_(guard_unknown, exp.Not(this=grant_true), referred, step7),
                true=lit("review"),
            ),
        ],
        default=lit("eligible"),
    )
    cols: list[exp.Expr] = [
        exp.column("person_id"),
        exp.column("facility_id"),
        exp.alias_(outcome, "outcome"),
        exp.alias_(first(None, "relief"), "relief_true"),
        exp.alias_(first(exp.true(), "relief"), "relief_possible"),
        exp.alias_(unknown, "unknown"),
    ]
    if bodies:
        cols.append(exp.alias_(first(None, "body"), "body_true"))
        cols.append(exp.alias_(first(exp.true(), "body"), "body_possible"))
    cols += [value_col(i) for i in range(len(lowered))]
    cols += [exp.column(f"u{i}") for i in range(n_undertakings)]
    return exp.select(*cols).from_("clauses", copy=False)


def final_select(
    lowered: list[LoweredClause],
    undertaking_ids: list[str],
    dialect: SqlDialect,
    *,
    bodies: bool = False,
) -> exp.Select:
    def listed(kind: str, cond: str) -> list[exp.Expr]:
        out: list[exp.Expr] = []
        for i, c in enumerate(lowered):
            if c.kind != kind:
                continue
            v = value_col(i)
            test: exp.Expr = {
                "true": exp.Coalesce(this=v, expressions=[exp.false()]),
                "false": exp.Coalesce(this=exp.Not(this=v), expressions=[exp.false()]),
                "true_or_unknown": exp.Coalesce(this=v, expressions=[exp.true()]),
            }[cond]
            out.append(exp.Case(ifs=[exp.If(this=test, true=lit(c.id))]))
        return out

    blocking: list[exp.Expr] = []
    for i, c in enumerate(lowered):
        if c.kind == "exclude":
            blocking += [
                exp.Case(
                    ifs=[
                        exp.If(
                            this=exp.Coalesce(this=value_col(i), expressions=[exp.false()]),
                            true=lit(c.id),
                        )
                    ]
                )
            ]
        elif c.kind == "require":
            blocking += [
                exp.Case(
                    ifs=[
                        exp.If(
                            this=exp.Coalesce(
                                this=exp.Not(this=value_col(i)), expressions=[exp.false()]
                            ),
                            true=lit(c.id),
                        )
                    ]
                )
            ]
    outcome = exp.column("outcome")
    relief = exp.Case(
        ifs=[
            exp.If(
                this=exp.EQ(this=outcome, expression=lit("eligible")),
                true=exp.column("relief_true"),
            ),
            exp.If(
                this=exp.EQ(this=outcome, expression=lit("review")),
                true=exp.column("relief_possible"),
            ),
        ]
    )
    signs: list[exp.Expr] = [
        exp.Case(
            ifs=[
                exp.If(
                    this=exp.Coalesce(this=exp.column(f"u{i}"), expressions=[exp.true()]),
                    true=lit(uid),
                )
            ]
        )
        for i, uid in enumerate(undertaking_ids)
    ]
    undertakings = exp.Case(
        ifs=[
            exp.If(
                this=exp.EQ(this=outcome, expression=lit("ineligible")),
                true=dialect.string_list([]),
            )
        ],
        default=dialect.string_list(signs),
    )
    columns: list[exp.Expr | str] = [
        "person_id",
        "facility_id",
        "outcome",
        exp.alias_(relief, "relief"),
        exp.alias_(dialect.string_list(listed("grant", "true")), "grounds"),
        exp.alias_(dialect.string_list(blocking), "blocking"),
        exp.alias_(dialect.string_list(listed("refer", "true_or_unknown")), "referred"),
        "unknown",
        exp.alias_(undertakings, "undertakings"),
    ]
    if bodies:
        body = exp.Case(
            ifs=[
                exp.If(
                    this=exp.EQ(this=outcome, expression=lit("eligible")),
                    true=exp.column("body_true"),
                ),
                exp.If(
                    this=exp.EQ(this=outcome, expression=lit("review")),
                    true=exp.column("body_possible"),
                ),
            ]
        )
        columns.append(exp.alias_(body, "applied_by"))
    return exp.select(*columns).from_("decided", copy=False)
