"""Three-valued lowering: one IR predicate to one SQL expression.

SQL's NULL is the decree's unknown, and SQL's AND/OR/NOT are already Kleene's
three-valued connectives, so booleans lower one to one. What needs care:

* ages: ``person.age`` compared with a value is decided on the whole range of
  possible birth dates (``person__age_lo`` .. ``person__age_hi``): true or false
  only if it holds or fails at both ends, else NULL;
* durations lower to one of three shapes: a calendar literal, a span between two
  dates, or exact rational days ``num / den`` (den a positive constant) — never
  floating point. A span against a calendar literal compares by calendar
  arithmetic (``between(a, b) >= 1 year`` iff ``b >= a + 1 year``); any other pair
  compares in rational days by cross-multiplying;
* quantifiers become per-person aggregate columns (see :mod:`.aggregates`).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlglot import exp

from amnesty.compile.sql.columns import AGE, DURATION_FACTS, col
from amnesty.compile.sql.dialect import SqlDialect, lit
from amnesty.decree import ir
from amnesty.errors import EngineError

if TYPE_CHECKING:
    from amnesty.compile.sql.aggregates import Aggregates


@dataclass(frozen=True)
class Calendar:
    amount: int
    unit: str


@dataclass(frozen=True)
class Span:
    start: exp.Expr
    end: exp.Expr


@dataclass(frozen=True)
class Days:
    num: exp.Expr
    den: int


@dataclass(frozen=True)
class CalendarMonths:
    """A fraction in calendar months: ``months`` then ``days`` (both SQL integers)."""

    months: exp.Expr
    days: exp.Expr


Value = exp.Expr | Calendar | Span | Days | CalendarMonths

FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "=": "=", "!=": "!="}
CMP: dict[str, type[exp.Binary]] = {
    "<": exp.LT,
    "<=": exp.LTE,
    ">": exp.GT,
    ">=": exp.GTE,
    "=": exp.EQ,
    "!=": exp.NEQ,
}


def compare(op: str, left: exp.Expr, right: exp.Expr) -> exp.Expr:
    return CMP[op](this=left, expression=right)


def add_calendar(d: dt.date, amount: int, unit: str) -> dt.date:
    """``d`` moved by a calendar duration, month ends clamped (compile-time constant)."""
    if unit == "days":
        return d + dt.timedelta(days=amount)
    months = amount * 12 if unit == "years" else amount
    total = d.year * 12 + (d.month - 1) + months
    year, month = divmod(total, 12)
    month += 1
    last = (dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)).day
    return dt.date(year, month, min(d.day, last))


class Lowerer:
    """Lowers IR nodes in one context: ``person`` (a row of ``people``) or an item
    collection (a row of ``conv_rows`` / ``event_rows``, person columns joined)."""

    def __init__(
        self,
        dialect: SqlDialect,
        as_of: dt.date,
        aggregates: Aggregates | None,
        *,
        context: str = "person",
        if_empty: bool | None = None,
    ) -> None:
        self.dialect = dialect
        self.as_of = as_of
        self.aggregates = aggregates
        self.context = context
        self.if_empty = if_empty  # the clause's stated value for "all of nothing"

    # -- entry points ------------------------------------------------------------------

    def boolean(self, node: ir.Expr) -> exp.Expr:
        value = self.value(node)
        if not isinstance(value, exp.Expr):
            raise EngineError(f"expected a boolean, got a duration: {node!r}")
        return value

    def value(self, node: ir.Expr) -> Value:
        method = getattr(self, f"_{type(node).__name__}", None)
        if method is None:
            raise EngineError(f"the SQL compiler cannot lower {type(node).__name__}")
        result: Value = method(node)
        return result

    # -- leaves ------------------------------------------------------------------------

    def as_of_sql(self) -> exp.Expr:
        return self.dialect.date_literal(self.as_of.isoformat())

    def _Literal(self, node: ir.Literal) -> exp.Expr:
        v = node.value
        if isinstance(v, bool):
            return exp.true() if v else exp.false()
        if isinstance(v, dt.date):
            return self.dialect.date_literal(v.isoformat())
        return lit(v)

    def _Duration(self, node: ir.Duration) -> Calendar:
        return Calendar(node.amount, node.unit)

    def _AsOf(self, node: ir.AsOf) -> exp.Expr:
        return self.as_of_sql()

    def _Fact(self, node: ir.Fact) -> Value:
        if node.name in DURATION_FACTS:
            start, end = DURATION_FACTS[node.name]
            return Span(self._date_fact(start), self._date_fact(end))
        return col(node.name)

    def _date_fact(self, name: str) -> exp.Expr:
        return self.as_of_sql() if name == "as_of" else col(name)

    # -- durations and dates -----------------------------------------------------------

    def _Between(self, node: ir.Between) -> Span:
        return Span(self.boolean(node.start), self.boolean(node.end))

    def days(self, value: Value) -> Days:
        if isinstance(value, Days):
            return value
        if isinstance(value, Span):
            return Days(self.dialect.days_between(value.start, value.end), 1)
        if isinstance(value, Calendar):
            # A calendar literal in day arithmetic: the days of the period of that
            # length ending on the as-of date (docs/semantics.md).
            back = add_calendar(self.as_of, -value.amount, value.unit)
            return Days(lit((self.as_of - back).days), 1)
        raise EngineError("expected a duration")

    def _Scaled(self, node: ir.Scaled) -> Days:
        inner = self.days(self.value(node.operand))
        num = exp.Mul(this=lit(node.fraction.numerator), expression=exp.paren(inner.num))
        return Days(num, inner.den * node.fraction.denominator)

    def _CalendarFraction(self, node: ir.CalendarFraction) -> CalendarMonths:
        months = self.boolean(node.months)
        if isinstance(months, exp.Literal):
            constant = ir.calendar_parts(node.fraction, int(months.this))
            return CalendarMonths(lit(constant[0]), lit(constant[1]))
        # months >= 0: floor(p*m / q) whole months, the rest of a month as 30-day days
        # rounded up (the same integers as ir.calendar_parts).
        p, q = node.fraction.numerator, node.fraction.denominator
        total = exp.Mul(this=lit(p), expression=exp.paren(months))
        if q == 1:
            return CalendarMonths(total, lit(0))
        whole = self.dialect.int_div(total, lit(q))
        rest = exp.Sub(this=total, expression=exp.Mul(this=lit(q), expression=exp.paren(whole)))
        days = self.dialect.int_div(
            exp.Add(this=exp.Mul(this=lit(30), expression=exp.paren(rest)), expression=lit(q - 1)),
            lit(q),
        )
        return CalendarMonths(whole, days)

    def _shift_months_days(self, date: exp.Expr, cal: CalendarMonths, sign: int) -> exp.Expr:
        moved = self.dialect.add_months(date, _signed(cal.months, sign))
        return self.dialect.add_days(moved, _signed(cal.days, sign))

    def _Extreme(self, node: ir.Extreme) -> Value:
        values = [self.value(o) for o in node.operands]
        func = exp.Least if node.kind == "min" else exp.Greatest
        if node.type == "duration":
            days = [self.days(v) for v in values]
            den = 1
            for d in days:
                den = den * d.den // math.gcd(den, d.den)
            scaled = [exp.Mul(this=exp.paren(d.num), expression=lit(den // d.den)) for d in days]
            return Days(self._null_if_any(scaled, func), den)
        exprs = [v for v in values if isinstance(v, exp.Expr)]
        return self._null_if_any(exprs, func)

    def _null_if_any(self, exprs: Sequence[exp.Expr], func: type[exp.Func]) -> exp.Expr:
        # LEAST/GREATEST skip NULLs in most engines; the decree's min/max is unknown
        # when any operand is.
        anynull = exp.or_(*[exp.Is(this=e, expression=exp.Null()) for e in exprs])
        combined = func(this=exprs[0], expressions=exprs[1:])
        return exp.Case(ifs=[exp.If(this=anynull, true=exp.Null())], default=combined)

    def _Shift(self, node: ir.Shift) -> exp.Expr:
        date = self.boolean(node.date)
        dur = self.value(node.duration)
        sign = node.sign
        if isinstance(dur, Calendar):
            return self._shift_calendar(date, dur, sign)
        if isinstance(dur, CalendarMonths):
            return self._shift_months_days(date, dur, sign)
        if isinstance(dur, Span):
            days = self.dialect.days_between(dur.start, dur.end)
            return self.dialect.add_days(date, _signed(days, sign))
        days_value = self.days(dur)
        return self.dialect.add_days(date, _signed(self.ceil(days_value), sign))

    def ceil(self, value: Days) -> exp.Expr:
        """ceil(num / den) in integers, with division only on non-negative operands."""
        if value.den == 1:
            return value.num
        num, den = exp.paren(value.num), lit(value.den)
        up = self.dialect.int_div(exp.Add(this=num, expression=lit(value.den - 1)), den)
        down = exp.Neg(this=exp.paren(self.dialect.int_div(exp.Neg(this=num), den)))
        return exp.Case(
            ifs=[exp.If(this=exp.GTE(this=num, expression=lit(0)), true=up)], default=down
        )

    # -- connectives -------------------------------------------------------------------

    def _Not(self, node: ir.Not) -> exp.Expr:
        return exp.Not(this=exp.paren(self.boolean(node.operand)))

    def _And(self, node: ir.And) -> exp.Expr:
        if not node.operands:
            return exp.true()
        return exp.paren(exp.and_(*[exp.paren(self.boolean(o)) for o in node.operands]))

    def _Or(self, node: ir.Or) -> exp.Expr:
        if not node.operands:
            return exp.false()
        return exp.paren(exp.or_(*[exp.paren(self.boolean(o)) for o in node.operands]))

    def _InSet(self, node: ir.InSet) -> exp.Expr:
        operand = self.boolean(node.operand)
        if not node.values:
            # x in {} is false for a known x, unknown for an unknown one.
            return exp.Case(
                ifs=[exp.If(this=exp.Is(this=operand, expression=exp.Null()), true=exp.Null())],
                default=exp.false(),
            )
        return exp.In(this=operand, expressions=[self._Literal(v) for v in node.values])

    def _IsKnown(self, node: ir.IsKnown) -> exp.Expr:
        value = self.value(node.operand)
        if isinstance(value, Calendar):
            return exp.true()
        if isinstance(value, Span):
            parts = [value.start, value.end]
        elif isinstance(value, Days):
            parts = [value.num]
        elif isinstance(value, CalendarMonths):
            parts = [value.months]
        else:
            parts = [value]
        return exp.and_(*[exp.Not(this=exp.Is(this=p, expression=exp.Null())) for p in parts])

    # -- comparisons -------------------------------------------------------------------

    def _Compare(self, node: ir.Compare) -> exp.Expr:
        if _is_age(node.left):
            return self._age_compare(node.op, self.boolean(node.right))
        if _is_age(node.right):
            return self._age_compare(FLIP[node.op], self.boolean(node.left))
        left, right = self.value(node.left), self.value(node.right)
        if isinstance(left, exp.Expr) and isinstance(right, exp.Expr):
            return compare(node.op, left, right)
        if isinstance(left, Span) and isinstance(right, Calendar):
            return self._span_vs_calendar(node.op, left, right)
        if isinstance(left, Calendar) and isinstance(right, Span):
            return self._span_vs_calendar(FLIP[node.op], right, left)
        if isinstance(left, Span) and isinstance(right, CalendarMonths):
            return compare(node.op, left.end, self._shift_months_days(left.start, right, 1))
        if isinstance(left, CalendarMonths) and isinstance(right, Span):
            return compare(FLIP[node.op], right.end, self._shift_months_days(right.start, left, 1))
        ld, rd = self.days(left), self.days(right)
        lhs = exp.Mul(this=exp.paren(ld.num), expression=lit(rd.den)) if rd.den != 1 else ld.num
        rhs = exp.Mul(this=exp.paren(rd.num), expression=lit(ld.den)) if ld.den != 1 else rd.num
        return compare(node.op, lhs, rhs)

    def _span_vs_calendar(self, op: str, span: Span, cal: Calendar) -> exp.Expr:
        # between(a, b) op D  <=>  b op (a + D), by calendar arithmetic.
        return compare(op, span.end, self._shift_calendar(span.start, cal, 1))

    def _shift_calendar(self, date: exp.Expr, cal: Calendar, sign: int) -> exp.Expr:
        if cal.unit == "days":
            return self.dialect.add_days(date, lit(sign * cal.amount))
        months = cal.amount * (12 if cal.unit == "years" else 1)
        return self.dialect.add_months(date, lit(sign * months))

    def _age_compare(self, op: str, other: exp.Expr) -> exp.Expr:
        lo, hi = exp.column("person__age_lo"), exp.column("person__age_hi")
        if op in ("=", "!="):
            inside = exp.and_(exp.EQ(this=lo, expression=other), exp.EQ(this=hi, expression=other))
            outside = exp.or_(exp.LT(this=other, expression=lo), exp.GT(this=other, expression=hi))
            yes, no = (exp.true(), exp.false()) if op == "=" else (exp.false(), exp.true())
            return exp.Case(ifs=[exp.If(this=inside, true=yes), exp.If(this=outside, true=no)])
        at_lo, at_hi = compare(op, lo, other), compare(op, hi, other)
        return exp.Case(
            ifs=[
                exp.If(this=exp.and_(at_lo, at_hi), true=exp.true()),
                exp.If(
                    this=exp.and_(exp.Not(this=exp.paren(at_lo)), exp.Not(this=exp.paren(at_hi))),
                    true=exp.false(),
                ),
            ]
        )

    # -- collections and readings -----------------------------------------------------

    def _Quantifier(self, node: ir.Quantifier) -> exp.Expr:
        if self.aggregates is None or node.collection == self.context:
            raise EngineError(
                f"a quantifier over {node.collection} cannot stand at this depth of nesting"
            )
        outer = None if self.context == "person" else self.context
        return self.aggregates.quantifier(node, self.if_empty, outer)

    def _Count(self, node: ir.Count) -> exp.Expr:
        if self.aggregates is None or node.collection == self.context:
            raise EngineError(
                f"a count over {node.collection} cannot stand at this depth of nesting"
            )
        outer = None if self.context == "person" else self.context
        return self.aggregates.count(node, self.if_empty, outer)

    def _Contested(self, node: ir.Contested) -> exp.Expr:
        if self.context != "person":
            # The decree language only makes a whole clause contested; inside a
            # quantifier the readings would need per-item agreement, which no
            # source needs: refuse clearly rather than emit a broken query.
            raise EngineError(
                "contested readings apply to a whole clause; they cannot stand inside a quantifier"
            )
        readings = [exp.paren(self.boolean(e)) for _, e in node.readings]
        if not readings:
            return exp.Null()
        return exp.Case(ifs=[exp.If(this=readings_agree(readings), true=readings[0])])


def readings_agree(readings: Sequence[exp.Expr]) -> exp.Expr:
    if len(readings) == 1:
        return exp.true()
    return exp.and_(*[exp.NullSafeEQ(this=r, expression=readings[0]) for r in readings[1:]])


def _is_age(node: ir.Expr) -> bool:
    return isinstance(node, ir.Fact) and node.name == AGE


def _signed(value: exp.Expr, sign: int) -> exp.Expr:
    return value if sign == 1 else exp.Neg(this=exp.paren(value))
