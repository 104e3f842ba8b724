"""Quantifiers over convictions and events as per-person aggregates.

Every ``any/all/none/count`` of the decree becomes one aggregate column of a
``GROUP BY person_id`` over the collection's rows, so the whole decree reads the
convictions once. A three-valued item condition is folded through an integer
code (true 2, unknown 1, false 0): ``any`` is the MAX code, ``all`` the MIN code,
``none`` the negation of ``any``; over no rows the aggregate is NULL and the
empty-collection rule applies.

Phase 1 aggregates read only item columns and sit in ``conv_agg``/``event_agg``
(the single scan that also computes the sentence aggregates); a condition that
also reads person facts needs those first, so it goes to a phase-2 aggregate
over the rows joined to ``people``.

A quantifier nested in another (``any convictions (any events (...))``) is
pre-aggregated per outer item: ``nest_conv``/``nest_event`` joins each outer row
to the person's inner rows and to ``people`` and folds the inner condition to
its code per outer row, grouped by the outer row's id. The outer condition reads
that code as a column in a phase-3 aggregate over the outer rows, left-joined to
the pre-aggregate (no inner rows: no code, so the empty-collection rule). No
correlated subquery, which not every engine can run inside an aggregate, and a
decree without nesting compiles as before.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlglot import exp

from amnesty.compile.sql.columns import collection_of, column_name, is_null
from amnesty.compile.sql.dialect import SqlDialect, lit
from amnesty.compile.sql.lower import Lowerer
from amnesty.decree import ir

COLLECTIONS = ("convictions", "events")
# Per outer collection: its rows CTE, the column naming one row, the pre-aggregate CTE
# and the phase-3 aggregate CTE.
NESTING = {
    "convictions": ("conv_rows", "conviction__id", "nest_conv", "conv_agg3"),
    "events": ("event_rows", "event__row_id", "nest_event", "event_agg3"),
}


@dataclass
class Aggregates:
    dialect: SqlDialect
    as_of: dt.date
    # (collection, phase) -> {sql text: (alias, aggregate expression)}
    registered: dict[tuple[str, int], dict[str, tuple[str, exp.Expr]]] = field(default_factory=dict)
    item_facts: dict[str, set[str]] = field(default_factory=lambda: {c: set() for c in COLLECTIONS})
    used_collections: set[str] = field(default_factory=set)
    person_facts_in_items: set[str] = field(default_factory=set)
    # outer collection -> {sql text: (alias, aggregate over the inner rows)}
    nested: dict[str, dict[str, tuple[str, exp.Expr]]] = field(default_factory=dict)

    def _register(self, collection: str, phase: int, agg: exp.Expr) -> exp.Column:
        bucket = self.registered.setdefault((collection, phase), {})
        key = agg.sql(self.dialect.name)
        if key not in bucket:
            alias = f"{'cq' if collection == 'convictions' else 'eq'}{phase}_{len(bucket)}"
            bucket[key] = (alias, agg)
        self.used_collections.add(collection)
        return exp.column(bucket[key][0])

    def _condition(
        self, collection: str, condition: ir.Expr, clause_if_empty: bool | None
    ) -> tuple[exp.Expr, int]:
        facts = facts_read(condition, nested=False)
        person = {f for f in facts if collection_of(f) is None}
        items = {f for f in facts if collection_of(f) is not None}
        for f in items:
            if collection_of(f) != collection:
                raise ir_error(f, collection)
        self.item_facts[collection] |= items
        self.person_facts_in_items |= person
        lowerer = Lowerer(
            self.dialect, self.as_of, self, context=collection, if_empty=clause_if_empty
        )
        lowered = lowerer.boolean(condition)
        if any(isinstance(n, (ir.Quantifier, ir.Count)) for n in walk(condition)):
            return lowered, 3
        return lowered, (2 if person else 1)

    def _inner_condition(self, outer: str, node: ir.Quantifier | ir.Count) -> exp.Expr:
        for f in facts_read(node.condition):
            if collection_of(f) not in (None, outer, node.collection):
                raise ir_error(f, node.collection)
        self.used_collections.add(node.collection)
        # No aggregates: the resolver allows two levels only, so a third is refused.
        lowerer = Lowerer(self.dialect, self.as_of, None, context=node.collection)
        return lowerer.boolean(node.condition)

    def _register_nested(self, outer: str, agg: exp.Expr) -> exp.Column:
        bucket = self.nested.setdefault(outer, {})
        key = agg.sql(self.dialect.name)
        if key not in bucket:
            prefix = "nc" if outer == "convictions" else "ne"
            bucket[key] = (f"{prefix}_{len(bucket)}", agg)
        return exp.column(bucket[key][0])

    def quantifier(
        self, node: ir.Quantifier, clause_if_empty: bool | None, outer: str | None = None
    ) -> exp.Expr:
        if outer is None:
            cond, phase = self._condition(node.collection, node.condition, clause_if_empty)
        else:
            cond = self._inner_condition(outer, node)
        code = exp.Case(
            ifs=[
                exp.If(this=cond, true=lit(2)),
                exp.If(this=exp.Not(this=exp.paren(cond)), true=lit(0)),
            ],
            default=lit(1),
        )
        agg: exp.Expr = exp.Min(this=code) if node.kind == "all" else exp.Max(this=code)
        if outer is None:
            q = self._register(node.collection, phase, agg)
        else:
            q = self._register_nested(outer, agg)
        if node.kind == "any":
            return _case(q, {2: exp.true(), 1: exp.Null()}, exp.false())
        if node.kind == "none":
            return _case(q, {2: exp.false(), 1: exp.Null()}, exp.true())
        if_empty = node.if_empty if node.if_empty is not None else clause_if_empty
        empty = exp.Null() if if_empty is None else (exp.true() if if_empty else exp.false())
        return _case(q, {2: exp.true(), 0: exp.false(), 1: exp.Null()}, empty)

    def count(
        self, node: ir.Count, clause_if_empty: bool | None = None, outer: str | None = None
    ) -> exp.Expr:
        if outer is None:
            cond, phase = self._condition(node.collection, node.condition, clause_if_empty)

            def register(agg: exp.Expr) -> exp.Column:
                return self._register(node.collection, phase, agg)
        else:
            cond = self._inner_condition(outer, node)

            def register(agg: exp.Expr) -> exp.Column:
                return self._register_nested(outer, agg)

        n = register(exp.Sum(this=exp.Case(ifs=[exp.If(this=cond, true=lit(1))], default=lit(0))))
        unknown = register(
            exp.Max(
                this=exp.Case(
                    ifs=[
                        exp.If(
                            this=exp.Is(this=exp.paren(cond), expression=exp.Null()), true=lit(1)
                        )
                    ],
                    default=lit(0),
                )
            )
        )
        # Any unknown item makes the count unknown (ir.Count); none counts 0.
        return exp.Case(
            ifs=[exp.If(this=exp.EQ(this=unknown, expression=lit(1)), true=exp.Null())],
            default=exp.Coalesce(this=n, expressions=[lit(0)]),
        )

    def null_flag(self, fact: str) -> exp.Expr:
        """True where the fact is null for at least one of the person's items."""
        collection = collection_of(fact)
        assert collection is not None
        flag = self._register(
            collection,
            1,
            exp.Max(this=exp.Case(ifs=[exp.If(this=is_null(fact), true=lit(1))], default=lit(0))),
        )
        return exp.EQ(this=flag, expression=lit(1))

    def columns(self, collection: str, phase: int) -> list[exp.Expr]:
        return [
            exp.alias_(agg, alias)
            for alias, agg in self.registered.get((collection, phase), {}).values()
        ]

    def aliases(self, collection: str, phase: int) -> list[str]:
        return [alias for alias, _ in self.registered.get((collection, phase), {}).values()]


def _case(q: exp.Expr, when: dict[int, exp.Expr], default: exp.Expr) -> exp.Case:
    return exp.Case(
        ifs=[exp.If(this=exp.EQ(this=q, expression=lit(k)), true=v) for k, v in when.items()],
        default=default,
    )


def nested_ctes(aggs: Aggregates, ctes: list[tuple[str, exp.Select]], phase2: list[str]) -> None:
    """Append the pre-aggregates of nested quantifiers and the phase-3 aggregates that
    read them to ``ctes`` (after ``people``), naming the latter in ``phase2`` so the
    clauses join them; nothing when the decree nests no quantifier."""
    rows_of = dict(ctes)
    for outer, (rows, row_id, nest, agg3) in NESTING.items():
        inner_cols = aggs.nested.get(outer)
        if not inner_cols:
            continue
        if outer == "events":
            # event_rows carries no id unless an outer event must be told apart.
            rows_of["event_rows"].select(
                exp.alias_(exp.column("event_id"), "event__row_id"), copy=False
            )
        inner_rows = NESTING["events" if outer == "convictions" else "convictions"][0]
        pre = (
            exp.select(
                exp.column("person_id", "o"),
                exp.alias_(exp.column(row_id, "o"), "nest_row"),
                *[exp.alias_(agg, alias) for alias, agg in inner_cols.values()],
            )
            .from_(f"{rows} AS o", copy=False)
            .join(f"{inner_rows} AS i", on="i.person_id = o.person_id", copy=False)
            .join("people AS pe", on="pe.person_id = o.person_id", copy=False)
            .group_by(exp.column("person_id", "o"), exp.column(row_id, "o"), copy=False)
        )
        ctes.append((nest, pre))
        sel = (
            exp.select(exp.column("person_id", "r"), *aggs.columns(outer, 3))
            .from_(f"{rows} AS r", copy=False)
            .join("people AS pe", on="pe.person_id = r.person_id", copy=False)
            .join(
                f"{nest} AS n",
                on=f"n.person_id = r.person_id AND n.nest_row = r.{row_id}",
                join_type="left",
                copy=False,
            )
            .group_by(exp.column("person_id", "r"), copy=False)
        )
        ctes.append((agg3, sel))
        phase2.append(agg3)


def facts_read(node: ir.Expr, *, nested: bool = True) -> list[str]:
    """Fact names in order of first appearance (pre-order, operands left to right);
    ``nested=False`` leaves out those read inside a quantifier."""
    out: list[str] = []
    for n in walk(node, nested=nested):
        if isinstance(n, ir.Fact) and n.name not in out:
            out.append(n.name)
    return out


def walk(node: ir.Expr, *, nested: bool = True) -> list[ir.Expr]:
    """The node and its descendants, pre-order, operands left to right; with
    ``nested=False`` a quantifier (``node`` itself too) is listed but not entered, as
    its condition is read over another collection's rows."""
    out: list[ir.Expr] = [node]
    if not nested and isinstance(node, (ir.Quantifier, ir.Count)):
        return out
    for child in children(node):
        out.extend(walk(child, nested=nested))
    return out


def children(node: ir.Expr) -> list[ir.Expr]:
    match node:
        case ir.Between(start=s, end=e):
            return [s, e]
        case ir.Scaled(operand=o) | ir.Not(operand=o) | ir.InSet(operand=o) | ir.IsKnown(operand=o):
            return [o]
        case ir.CalendarFraction(months=m):
            return [m]
        case ir.Extreme(operands=ops) | ir.And(operands=ops) | ir.Or(operands=ops):
            return list(ops)
        case ir.Shift(date=d, duration=u):
            return [d, u]
        case ir.Compare(left=left, right=right):
            return [left, right]
        case ir.Quantifier(condition=c) | ir.Count(condition=c):
            return [c]
        case ir.Contested(readings=readings):
            return [e for _, e in readings]
    return []


def ir_error(fact: str, collection: str) -> Exception:
    from amnesty.errors import EngineError

    return EngineError(f"fact {fact} cannot be read inside a quantifier over {collection}")


__all__ = ["Aggregates", "column_name", "facts_read", "nested_ctes", "walk"]
