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


@dataclass
class Aggregates:
    dialect: SqlDialect
    as_of: dt.date
    # (collection, phase) -> {sql text: (alias, aggregate expression)}
    registered: dict[tuple[str, int], dict[str, tuple[str, exp.Expr]]] = field(default_factory=dict)
    item_facts: dict[str, set[str]] = field(default_factory=lambda: {c: set() for c in COLLECTIONS})
    used_collections: set[str] = field(default_factory=set)
    person_facts_in_items: set[str] = field(default_factory=set)

    def _register(self, collection: str, phase: int, agg: exp.Expr) -> exp.Column:
        bucket = self.registered.setdefault((collection, phase), {})
        key = agg.sql(self.dialect.name)
        if key not in bucket:
            alias = f"{'cq' if collection == 'convictions' else 'eq'}{phase}_{len(bucket)}"
            bucket[key] = (alias, agg)
        self.used_collections.add(collection)
        return exp.column(bucket[key][0])

    def _condition(self, collection: str, condition: ir.Expr) -> tuple[exp.Expr, int]:
        facts = facts_read(condition)
        person = {f for f in facts if collection_of(f) is None}
        items = {f for f in facts if collection_of(f) is not None}
        for f in items:
            if collection_of(f) != collection:
                raise ir_error(f, collection)
        self.item_facts[collection] |= items
        self.person_facts_in_items |= person
        lowered = Lowerer(self.dialect, self.as_of, None, context=collection).boolean(condition)
        return lowered, (2 if person else 1)

    def quantifier(self, node: ir.Quantifier, clause_if_empty: bool | None) -> exp.Expr:
        cond, phase = self._condition(node.collection, node.condition)
        code = exp.Case(
            ifs=[
                exp.If(this=cond, true=lit(2)),
                exp.If(this=exp.Not(this=exp.paren(cond)), true=lit(0)),
            ],
            default=lit(1),
        )
        agg: exp.Expr = exp.Min(this=code) if node.kind == "all" else exp.Max(this=code)
        q = self._register(node.collection, phase, agg)
        if node.kind == "any":
            return _case(q, {2: exp.true(), 1: exp.Null()}, exp.false())
        if node.kind == "none":
            return _case(q, {2: exp.false(), 1: exp.Null()}, exp.true())
        if_empty = node.if_empty if node.if_empty is not None else clause_if_empty
        empty = exp.Null() if if_empty is None else (exp.true() if if_empty else exp.false())
        return _case(q, {2: exp.true(), 0: exp.false(), 1: exp.Null()}, empty)

    def count(self, node: ir.Count) -> exp.Expr:
        cond, phase = self._condition(node.collection, node.condition)
        n = self._register(
            node.collection,
            phase,
            exp.Sum(this=exp.Case(ifs=[exp.If(this=cond, true=lit(1))], default=lit(0))),
        )
        unknown = self._register(
            node.collection,
            phase,
            exp.Max(
                this=exp.Case(
                    ifs=[
                        exp.If(
                            this=exp.Is(this=exp.paren(cond), expression=exp.Null()), true=lit(1)
                        )
                    ],
                    default=lit(0),
                )
            ),
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


def facts_read(node: ir.Expr) -> list[str]:
    """Fact names in order of first appearance (pre-order, operands left to right)."""
    out: list[str] = []
    for n in walk(node):
        if isinstance(n, ir.Fact) and n.name not in out:
            out.append(n.name)
    return out


def walk(node: ir.Expr) -> list[ir.Expr]:
    """The node and its descendants, pre-order, operands left to right."""
    out: list[ir.Expr] = [node]
    for child in children(node):
        out.extend(walk(child))
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


__all__ = ["Aggregates", "column_name", "facts_read", "walk"]
