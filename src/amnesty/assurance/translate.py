"""Decree IR -> z3: every node of :mod:`amnesty.decree.ir` as the solver sees it.

Written against the reference interpreter (``compile/interpreter.py``), node for
node, so that what is proved is what the engine does: three-valued ``and``/``or``,
``all`` over no items as the clause says (unknown by default), calendar
comparison of a span with a calendar duration, exact rational days for fractions
and ``min``/``max`` of durations, ``date + fraction`` on the first whole day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

import z3

from amnesty.assurance.person import Item, SymbolicPerson
from amnesty.assurance.values import (
    TV,
    Cal,
    Day,
    Exact,
    Num,
    Span,
    Value,
    cal_days,
    maximum,
    member,
    minimum,
    shift_calendar,
    shift_months,
)
from amnesty.decree import ir


@dataclass(frozen=True)
class CalMonths:
    """A fraction in calendar months: whole months, then days."""

    known: z3.BoolRef
    months: z3.ArithRef
    days: z3.ArithRef


_OPS = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
}
_FLIPPED = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "=": "=", "!=": "!="}


def compared(op: str, known: z3.BoolRef, a: z3.ArithRef, b: z3.ArithRef) -> TV:
    holds = _OPS[op](a, b)
    return TV(z3.And(known, holds), z3.And(known, z3.Not(holds)))


def _is_age(node: ir.Expr) -> bool:
    return isinstance(node, ir.Fact) and node.name == "person.age"


class Translator:
    """Translates expressions for one symbolic person, in one clause, maybe over one item
    (and, inside a nested quantifier, the item of the enclosing one)."""

    def __init__(
        self,
        person: SymbolicPerson,
        clause_if_empty: bool | None = None,
        item: Item | None = None,
        extra: Mapping[str, Value] | None = None,
        outer: Item | None = None,
    ) -> None:
        self.person = person
        self.as_of: dt.date = person.as_of
        self.clause_if_empty = clause_if_empty
        self.item = item
        self.outer = outer
        self.extra = extra or {}

    @property
    def sink(self) -> list[z3.BoolRef]:
        return self.person.constraints

    def condition(self, node: ir.Expr) -> TV:
        value = self.ev(node)
        assert isinstance(value, TV), node
        return value

    def ev(self, node: ir.Expr) -> Value:
        method = getattr(self, "on_" + type(node).__name__.lower())
        result: Value = method(node)
        return result

    # -- leaves --------------------------------------------------------------------------
    def on_literal(self, node: ir.Literal) -> Value:
        v = node.value
        if isinstance(v, bool):
            return TV.of(v)
        if isinstance(v, int):
            return Num(z3.BoolVal(True), z3.IntVal(v))
        if isinstance(v, str):
            return Num(z3.BoolVal(True), z3.IntVal(self.person.strings.code(v)))
        return Day.const(v)

    def on_duration(self, node: ir.Duration) -> Value:
        return Cal(node.amount, node.unit)

    def on_asof(self, node: ir.AsOf) -> Value:
        return Day.const(self.as_of)

    def on_fact(self, node: ir.Fact) -> Value:
        if node.name in self.extra:
            return self.extra[node.name]
        if node.name.startswith(("conviction.", "event.")):
            assert self.item is not None, node.name
            # The resolver lets a nested condition read the enclosing item's fields;
            # the two items are of different collections, so a name is in one only.
            if node.name not in self.item.facts and self.outer is not None:
                return self.outer.facts[node.name]
            return self.item.facts[node.name]
        return self.person.facts[node.name]

    # -- dates and durations -----------------------------------------------------------
    def on_between(self, node: ir.Between) -> Value:
        start, end = self.ev(node.start), self.ev(node.end)
        assert isinstance(start, Day) and isinstance(end, Day)
        return Span(start, end)

    def days(self, v: Value) -> Exact:
        if isinstance(v, Exact):
            return v
        if isinstance(v, Span):
            known = z3.And(v.start.known, v.end.known)
            return Exact(known, z3.ToReal(v.end.ordinal - v.start.ordinal))
        assert isinstance(v, Cal), v
        d = cal_days(v, self.as_of)
        return Exact(z3.BoolVal(True), z3.RealVal(d))

    def on_scaled(self, node: ir.Scaled) -> Value:
        d = self.days(self.ev(node.operand))
        f = node.fraction
        return Exact(d.known, d.days * z3.RealVal(f"{f.numerator}/{f.denominator}"))

    def on_calendarfraction(self, node: ir.CalendarFraction) -> CalMonths:
        # A fraction in calendar months (docs/semantics.md): whole months, then the rest
        # of a month as 30-day days rounded up; the type check lets it meet only a date
        # shift or a span.
        m = self.ev(node.months)
        assert isinstance(m, Num)
        p, q = node.fraction.numerator, node.fraction.denominator
        total = p * m.value
        whole = total / q  # integer division: total >= 0
        days = (30 * (total - q * whole) + q - 1) / q
        return CalMonths(m.known, whole, days)

    def _shift_months_days(self, date: Day, cal: CalMonths, sign: int) -> Day:
        moved = shift_months(date, sign * cal.months, self.sink)
        return Day(z3.And(date.known, cal.known), moved.ordinal + sign * cal.days)

    def on_extreme(self, node: ir.Extreme) -> Value:
        pick = minimum if node.kind == "min" else maximum
        values = [self.ev(o) for o in node.operands]
        if node.type == "duration":
            ds = [self.days(v) for v in values]
            return Exact(z3.And([d.known for d in ds]), pick([d.days for d in ds]))
        if node.type == "date":
            days = [v for v in values if isinstance(v, Day)]
            return Day(z3.And([d.known for d in days]), pick([d.ordinal for d in days]))
        nums = [v for v in values if isinstance(v, Num)]
        return Num(z3.And([n.known for n in nums]), pick([n.value for n in nums]))

    def on_shift(self, node: ir.Shift) -> Value:
        date = self.ev(node.date)
        assert isinstance(date, Day)
        dur = self.ev(node.duration)
        if isinstance(dur, CalMonths):
            return self._shift_months_days(date, dur, node.sign)
        if isinstance(dur, Cal):
            return shift_calendar(date, node.sign * dur.amount, dur.unit, self.sink)
        d = self.days(dur)
        whole = -z3.ToInt(-d.days)  # ceil: the first day on which the fraction is reached
        return Day(z3.And(date.known, d.known), date.ordinal + node.sign * whole)

    # -- conditions ------------------------------------------------------------------------
    def on_not(self, node: ir.Not) -> Value:
        return self.condition(node.operand).negate()

    def on_and(self, node: ir.And) -> Value:
        parts = [self.condition(o) for o in node.operands]
        return TV(z3.And([p.t for p in parts]), z3.Or([p.f for p in parts]))

    def on_or(self, node: ir.Or) -> Value:
        parts = [self.condition(o) for o in node.operands]
        return TV(z3.Or([p.t for p in parts]), z3.And([p.f for p in parts]))

    def on_compare(self, node: ir.Compare) -> Value:
        if _is_age(node.left) or _is_age(node.right):
            return self.age_compare(node)
        a, b = self.ev(node.left), self.ev(node.right)
        op: str = node.op
        if isinstance(a, TV) and isinstance(b, TV):
            return compared(op, z3.And(a.known, b.known), z3.If(a.t, 1, 0), z3.If(b.t, 1, 0))
        if isinstance(a, Num) and isinstance(b, Num):
            return compared(op, z3.And(a.known, b.known), a.value, b.value)
        if isinstance(a, Day) and isinstance(b, Day):
            return compared(op, z3.And(a.known, b.known), a.ordinal, b.ordinal)
        if isinstance(a, CalMonths) and isinstance(b, Span):
            a, b, op = b, a, _FLIPPED[op]
        if isinstance(a, Span) and isinstance(b, CalMonths):
            moved = self._shift_months_days(a.start, b, 1)
            return compared(op, z3.And(a.end.known, moved.known), a.end.ordinal, moved.ordinal)
        if isinstance(a, Cal) and isinstance(b, Span):
            a, b, op = b, a, _FLIPPED[op]
        if isinstance(a, Span) and isinstance(b, Cal):
            moved = shift_calendar(a.start, b.amount, b.unit, self.sink)
            return compared(op, z3.And(a.start.known, a.end.known), a.end.ordinal, moved.ordinal)
        da, db = self.days(a), self.days(b)
        return compared(op, z3.And(da.known, db.known), da.days, db.days)

    def age_compare(self, node: ir.Compare) -> Value:
        """As the interpreter: compared for every possible birth day, unknown where they differ."""
        left = _is_age(node.left)
        op = node.op if left else _FLIPPED[node.op]
        other = self.ev(node.right if left else node.left)
        assert isinstance(other, Num)
        p = self.person
        oldest, youngest = _OPS[op](p.oldest, other.value), _OPS[op](p.youngest, other.value)
        known = z3.And(p.birth.known, other.known, oldest == youngest)
        return TV(z3.And(known, oldest), z3.And(known, z3.Not(oldest)))

    def on_inset(self, node: ir.InSet) -> Value:
        v = self.ev(node.operand)
        if isinstance(v, TV):
            wanted = [bool(lit.value) for lit in node.values]
            hit = z3.Or([v.t if w else v.f for w in wanted])
            return TV(hit, z3.And(v.known, z3.Not(hit)))
        key: z3.ArithRef
        if isinstance(v, Day):
            known, key = v.known, v.ordinal
        else:
            assert isinstance(v, Num)
            known, key = v.known, v.value
        hit = member(key, [self._code(lit) for lit in node.values])
        return TV(z3.And(known, hit), z3.And(known, z3.Not(hit)))

    def _code(self, lit: ir.Literal) -> int:
        v = lit.value
        if isinstance(v, str):
            return self.person.strings.code(v)
        if isinstance(v, dt.date):
            return v.toordinal()
        return int(v)

    def on_isknown(self, node: ir.IsKnown) -> Value:
        v = self.ev(node.operand)
        if isinstance(v, Cal):
            return TV.of(True)
        known = z3.And(v.start.known, v.end.known) if isinstance(v, Span) else v.known
        return TV(known, z3.Not(known))

    # -- quantifiers -----------------------------------------------------------------------
    def items(self, collection: str) -> list[Item]:
        return self.person.convictions if collection == "convictions" else self.person.events

    def each(self, node: ir.Quantifier | ir.Count) -> list[tuple[Item, TV]]:
        return [
            (
                i,
                Translator(
                    self.person, self.clause_if_empty, i, self.extra, outer=self.item
                ).condition(node.condition),
            )
            for i in self.items(node.collection)
        ]

    def on_quantifier(self, node: ir.Quantifier) -> Value:
        pairs = self.each(node)
        some_true = z3.Or([z3.And(i.present, v.t) for i, v in pairs])
        some_false = z3.Or([z3.And(i.present, v.f) for i, v in pairs])
        all_true = z3.And([z3.Implies(i.present, v.t) for i, v in pairs])
        all_false = z3.And([z3.Implies(i.present, v.f) for i, v in pairs])
        if node.kind == "any":
            return TV(some_true, all_false)
        if node.kind == "none":
            return TV(all_false, some_true)
        empty = z3.Not(z3.Or([i.present for i, _ in pairs]))
        stated = node.if_empty if node.if_empty is not None else self.clause_if_empty
        when_empty = TV.of(stated)
        return TV(
            z3.If(empty, when_empty.t, all_true),
            z3.If(empty, when_empty.f, some_false),
        )

    def on_count(self, node: ir.Count) -> Value:
        pairs = self.each(node)
        known = z3.And([z3.Implies(i.present, v.known) for i, v in pairs])
        total = z3.Sum([z3.If(z3.And(i.present, v.t), 1, 0) for i, v in pairs] or [z3.IntVal(0)])
        return Num(known, total)

    def on_contested(self, node: ir.Contested) -> Value:
        readings = [self.condition(e) for _, e in node.readings]
        if not readings:
            return TV.of(None)
        return TV(z3.And([r.t for r in readings]), z3.And([r.f for r in readings]))
