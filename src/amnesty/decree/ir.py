"""The typed predicate tree every decree compiles through.

The language front end (``decree.parse`` + the ``compile`` name-resolution and
type-check passes) produces it; the SQL compiler and the reference interpreter
both consume it, so they can only disagree about semantics, never about syntax.

Every node is immutable and carries the :class:`~amnesty.errors.Position` of the
text it came from (``pos``, ignored by equality) so later passes can point at it.

Types: ``bool``, ``int``, ``string``, ``date``, ``duration``. Values are
three-valued: any node may evaluate to unknown (SQL NULL, Python ``None``)
when a fact it needs is missing.

Durations and dates follow docs/semantics.md ("Dates") and ``docs/decrees.md``:

* a :class:`Between` duration compared with a calendar :class:`Duration` is
  compared by calendar arithmetic: ``Between(a, b) >= Duration(1, "years")``
  holds when ``a + 1 year <= b`` (month ends clamp: 31 Jan + 1 month = 28/29 Feb);
* a :class:`Scaled` duration (a fraction of a duration) and ``min``/``max`` of
  durations compare in exact rational days, never floating point;
* ``date + Scaled(f, d)`` is the first day on which the fraction is reached:
  ``date + ceil(f * days(d))`` days.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Literal as L

from amnesty.errors import Position

Type = L["bool", "int", "string", "date", "duration"]
CompareOp = L["<", "<=", ">", ">=", "=", "!="]
Unit = L["days", "months", "years"]
Collection = L["convictions", "events"]


@dataclass(frozen=True, kw_only=True)
class Node:
    pos: Position | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, kw_only=True)
class Literal(Node):
    """A constant: ``"theft"``, ``55``, ``true``, ``2015-10-08``."""

    value: str | int | bool | dt.date
    type: Type


@dataclass(frozen=True, kw_only=True)
class Duration(Node):
    """A calendar duration literal: ``1 year``, ``6 months``, ``30 days``."""

    amount: int
    unit: Unit


@dataclass(frozen=True, kw_only=True)
class AsOf(Node):
    """The run's as-of date (an input of every run, never today's date)."""


@dataclass(frozen=True, kw_only=True)
class Fact(Node):
    """A registry fact by its canonical name in :mod:`amnesty.decree.facts`.

    Person facts (``person.age``, ``facility.type``, ``sentence.end``, ...) are
    valid anywhere; ``conviction.*`` facts only inside a quantifier over
    convictions, ``event.*`` only inside one over events.
    """

    name: str
    type: Type


@dataclass(frozen=True, kw_only=True)
class Between(Node):
    """The duration from one date to another (``served`` = start to as-of)."""

    start: Expr
    end: Expr


@dataclass(frozen=True, kw_only=True)
class Scaled(Node):
    """A fraction of a duration: ``1/3 of term``."""

    fraction: Fraction
    operand: Expr


@dataclass(frozen=True, kw_only=True)
class CalendarFraction(Node):
    """A fraction of a term counted in calendar months: ``2/3 in months of term``.

    ``months`` is a whole number of months (``conviction.term_months`` or a literal);
    the value is ``floor(f * months)`` months plus the rest of a month as days (a
    month counted as 30 days, rounded up). It is added to a date months first, then
    days, and compared with a span by moving the span's start by it; it has no
    meaning in exact days (docs/semantics.md, "Fractions in calendar months").
    """

    fraction: Fraction
    months: Expr


@dataclass(frozen=True, kw_only=True)
class Extreme(Node):
    """``min(a, b, ...)`` or ``max(...)`` of values of one type (int, date or duration)."""

    kind: L["min", "max"]
    operands: tuple[Expr, ...]
    type: Type


@dataclass(frozen=True, kw_only=True)
class Shift(Node):
    """A date moved by a duration: ``start + 2/3 of term``, ``as_of - 10 years``."""

    date: Expr
    duration: Expr
    sign: L[1, -1] = 1


@dataclass(frozen=True, kw_only=True)
class Not(Node):
    operand: Expr


@dataclass(frozen=True, kw_only=True)
class And(Node):
    operands: tuple[Expr, ...]


@dataclass(frozen=True, kw_only=True)
class Or(Node):
    operands: tuple[Expr, ...]


@dataclass(frozen=True, kw_only=True)
class Compare(Node):
    """A comparison; its strictness is always explicit in the source."""

    op: CompareOp
    left: Expr
    right: Expr


@dataclass(frozen=True, kw_only=True)
class InSet(Node):
    """``operand in {"a", "b"}``; unknown when the operand is unknown."""

    operand: Expr
    values: tuple[Literal, ...]


@dataclass(frozen=True, kw_only=True)
class IsKnown(Node):
    """``known(x)``: true when the fact is recorded; never unknown itself."""

    operand: Expr


@dataclass(frozen=True, kw_only=True)
class Quantifier(Node):
    """``any|all|none convictions (cond)`` over a person's items of one collection.

    Over an empty collection ``any`` is false, ``none`` is true and ``all`` is
    ``if_empty`` (None = unknown, the default: "all of nothing" never releases).
    Over a non-empty one the three-valued fold of SQL applies: ``any`` is true
    if one item is true, else unknown if one is unknown, else false.
    """

    kind: L["any", "all", "none"]
    collection: Collection
    condition: Expr
    if_empty: bool | None = None


@dataclass(frozen=True, kw_only=True)
class Count(Node):
    """``count convictions (cond)``: items where cond is true (0 over none).

    Items where cond is unknown make the count unknown only if they could
    change the comparison; to keep it simple and safe, any unknown item makes
    the count unknown.
    """

    collection: Collection
    condition: Expr


@dataclass(frozen=True, kw_only=True)
class Contested(Node):
    """A clause whose source has several readings; the decree applies one.

    Where all readings agree for a person the value is theirs; where they
    differ it is unknown (docs/semantics.md, "Contested readings").
    """

    applied: str
    readings: tuple[tuple[str, Expr], ...]


def calendar_parts(fraction: Fraction, months: int) -> tuple[int, int]:
    """``fraction`` of ``months`` as (whole months, days): the rest of a month counted
    as 30 days, rounded up to a whole day."""
    total = fraction * months
    whole = total.numerator // total.denominator
    rest = (total - whole) * 30
    return whole, -((-rest.numerator) // rest.denominator)


Expr = (
    Literal
    | Duration
    | AsOf
    | Fact
    | Between
    | Scaled
    | CalendarFraction
    | Extreme
    | Shift
    | Not
    | And
    | Or
    | Compare
    | InSet
    | IsKnown
    | Quantifier
    | Count
    | Contested
)


def in_ranges(
    operand: Expr,
    values: tuple[Literal, ...],
    ranges: tuple[tuple[int, int], ...],
    pos: Position | None = None,
) -> Expr:
    """``operand in {v1, v2, low..high}``: the set's values, or any range (both ends
    included). A range is two comparisons, so the whole is unknown exactly when the
    operand is, as a plain set is; the engine, the interpreter and the prover need
    nothing more."""
    parts: list[Expr] = [InSet(operand=operand, values=values, pos=pos)] if values else []
    for low, high in ranges:
        parts.append(
            And(
                operands=(
                    Compare(op=">=", left=operand, right=Literal(value=low, type="int"), pos=pos),
                    Compare(op="<=", left=operand, right=Literal(value=high, type="int"), pos=pos),
                ),
                pos=pos,
            )
        )
    return parts[0] if len(parts) == 1 else Or(operands=tuple(parts), pos=pos)
