"""Symbolic values: what a decree expression is for a person the solver has not met yet.

The three-valued logic of ``docs/semantics.md`` becomes two z3 booleans per condition, ``t``
(certainly true) and ``f`` (certainly false), never both; unknown is neither.
Every other value carries a ``known`` flag beside its z3 term, the way the
reference interpreter carries ``None``.

Dates are day ordinals (:meth:`datetime.date.toordinal`). Calendar arithmetic
needs the year, month and day, so a :class:`Day` can also give them: either
from the variables it was built from or from fresh variables tied to the
ordinal. Years are counted from 1901, so within the modelled range
(1901-2099) a year is a leap year exactly when ``(year - 1901) % 4 == 3``.
"""

from __future__ import annotations

import calendar
import datetime as dt
import functools
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction
from itertools import count

import z3

EPOCH = dt.date(1901, 1, 1)
FIRST_DAY = EPOCH.toordinal()
LAST_YEAR = 2099
_CUMULATIVE = (0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334)
_fresh = count()


def fresh(prefix: str) -> str:
    return f"{prefix}!{next(_fresh)}"


@dataclass(frozen=True)
class TV:
    """A three-valued condition: certainly true, certainly false, or neither (unknown)."""

    t: z3.BoolRef
    f: z3.BoolRef

    @staticmethod
    def of(value: bool | None) -> TV:
        return TV(z3.BoolVal(value is True), z3.BoolVal(value is False))

    @property
    def known(self) -> z3.BoolRef:
        return z3.Or(self.t, self.f)

    def negate(self) -> TV:
        return TV(self.f, self.t)


@dataclass(frozen=True)
class Num:
    """An int, or a string as its code (see :class:`Strings`), that may be unknown."""

    known: z3.BoolRef
    value: z3.ArithRef


Parts = tuple[z3.ArithRef, z3.ArithRef, z3.ArithRef, z3.ArithRef]
"""A date as (q, r, month, day) with year = 1901 + 4q + r: no division left for the solver."""


@dataclass
class Day:
    """A date that may be unknown: its ordinal, and on demand its year, month, day."""

    known: z3.BoolRef
    ordinal: z3.ArithRef
    parts: Parts | None = None

    @staticmethod
    def const(d: dt.date) -> Day:
        q, r = divmod(d.year - EPOCH.year, 4)
        return Day(
            z3.BoolVal(True),
            z3.IntVal(d.toordinal()),
            (z3.IntVal(q), z3.IntVal(r), z3.IntVal(d.month), z3.IntVal(d.day)),
        )

    @staticmethod
    def variable(name: str, known: z3.BoolRef, sink: list[z3.BoolRef]) -> Day:
        """A fresh date of the modelled range, built from its parts."""
        parts = _part_vars(name)
        sink.extend(valid_parts(parts))
        return Day(known, ordinal_of(parts), parts)

    def ymd(self, sink: list[z3.BoolRef]) -> Parts:
        """The date's parts; fresh variables bound to the ordinal if needed."""
        if self.parts is None:
            parts = _part_vars(fresh("day"))
            # Only a known date has parts; an unknown one's ordinal is a placeholder.
            tied = [*valid_parts(parts, bounded=False), ordinal_of(parts) == self.ordinal]
            sink.append(z3.Implies(self.known, z3.And(tied)))
            self.parts = parts
        return self.parts


def _part_vars(name: str) -> Parts:
    return (z3.Int(f"{name}.q"), z3.Int(f"{name}.r"), z3.Int(f"{name}.m"), z3.Int(f"{name}.d"))


def year_of(parts: Parts) -> z3.ArithRef:
    """Years since 1901."""
    return 4 * parts[0] + parts[1]


@dataclass(frozen=True)
class Cal:
    """A calendar duration literal: ``1 year``, ``6 months``."""

    amount: int
    unit: str


@dataclass(frozen=True)
class Span:
    """The duration from one date to another (``sentence.served``, ``a - b``)."""

    start: Day
    end: Day


@dataclass(frozen=True)
class Exact:
    """A duration in exact rational days (fractions, ``min``/``max`` of durations)."""

    known: z3.BoolRef
    days: z3.ArithRef


Value = TV | Num | Day | Cal | Span | Exact


# -- the calendar in linear integer arithmetic -------------------------------------------


def days_in_month(r: z3.ArithRef, m: z3.ArithRef) -> z3.ArithRef:
    """Days of month ``m`` in a year whose offset from 1901 leaves ``r`` mod 4 (3: leap)."""
    return z3.If(
        m == 2,
        z3.If(r == 3, 29, 28),
        z3.If(z3.Or(m == 4, m == 6, m == 9, m == 11), 30, 31),
    )


def ordinal_of(parts: Parts) -> z3.ArithRef:
    q, r, m, d = parts
    before = z3.IntVal(0)
    for month in range(12, 1, -1):
        before = z3.If(m == month, _CUMULATIVE[month - 1], before)
    extra = z3.If(z3.And(m > 2, r == 3), 1, 0)
    return FIRST_DAY + 1461 * q + 365 * r + before + extra + d - 1


def valid_parts(parts: Parts, bounded: bool = True) -> list[z3.BoolRef]:
    """A real day; ``bounded``: of the modelled years 1901-2099 (registry dates are)."""
    q, r, m, d = parts
    years = [q >= 0, 4 * q + r <= LAST_YEAR - EPOCH.year] if bounded else []
    return [*years, r >= 0, r <= 3, m >= 1, m <= 12, d >= 1, d <= days_in_month(r, m)]


def shift_months(day: Day, months: z3.ArithRef | int, sink: list[z3.BoolRef]) -> Day:
    """``day`` moved by calendar months; a day past the month's end clamps to its last day."""
    q, r, m, d = day.ymd(sink)
    name = fresh("shift")
    q2, r2, m2 = z3.Int(f"{name}.q"), z3.Int(f"{name}.r"), z3.Int(f"{name}.m")
    total = (4 * q + r) * 12 + (m - 1) + months
    sink.extend([total == (4 * q2 + r2) * 12 + (m2 - 1), r2 >= 0, r2 <= 3, m2 >= 1, m2 <= 12])
    last = days_in_month(r2, m2)
    d2 = z3.If(d > last, last, d)
    parts = (q2, r2, m2, d2)
    return Day(day.known, ordinal_of(parts), parts)


def shift_calendar(day: Day, amount: int, unit: str, sink: list[z3.BoolRef]) -> Day:
    if unit == "days":
        return Day(day.known, day.ordinal + amount)
    return shift_months(day, amount * 12 if unit == "years" else amount, sink)


def cal_days(cal: Cal, as_of: dt.date) -> Fraction:
    """A calendar duration in days: the period of that length ending on the as-of
    date (as the interpreter counts it)."""
    if cal.unit == "days":
        return Fraction(cal.amount)
    months = cal.amount * (12 if cal.unit == "years" else 1)
    y, m = divmod(as_of.year * 12 + as_of.month - 1 - months, 12)
    day = min(as_of.day, calendar.monthrange(y, m + 1)[1])
    return Fraction((as_of - dt.date(y, m + 1, day)).days)


def minimum(values: list[z3.ArithRef]) -> z3.ArithRef:
    out = values[0]
    for v in values[1:]:
        out = z3.If(v < out, v, out)
    return out


def maximum(values: list[z3.ArithRef]) -> z3.ArithRef:
    out = values[0]
    for v in values[1:]:
        out = z3.If(v > out, v, out)
    return out


# -- membership in a set of values -------------------------------------------------------

FEW_RUNS = 8
"""Up to this many runs, membership is tested run by run; above, by halving."""


def runs(values: Iterable[int]) -> list[tuple[int, int]]:
    """The values as maximal runs of consecutive integers, ``(first, last)``, in order."""
    out: list[tuple[int, int]] = []
    for v in sorted(set(values)):
        if out and v == out[-1][1] + 1:
            out[-1] = (out[-1][0], v)
        else:
            out.append((v, v))
    return out


def member(key: z3.ArithRef, values: Iterable[int]) -> z3.BoolRef:
    """Whether ``key`` is one of ``values``: equivalent to ``Or(key == v, ...)``, but small.

    z3 takes time quadratic in the number of disjuncts to decide a disjunction of
    equalities on one integer (10,000 took seconds per question), so the values
    become runs of consecutive integers (a decree's new text literals get
    consecutive codes, so a set of them is usually one run), each tested as a
    range, and many runs are searched by halving: below the middle run's first
    value only the lower half can hold ``key``, from it only the upper half.
    Every step keeps exactly the same members; z3 sees O(runs) terms of depth
    O(log runs).
    """
    spans = runs(values)
    if len(spans) <= FEW_RUNS:
        return _within(key, spans)
    # Built once per set over a placeholder: a quantifier's set is asked of every
    # conviction or event slot, of both persons of a prover, and z3's Python API
    # takes a second to build 10,000 terms; substituting the key is one call.
    return z3.substitute(_searched(tuple(spans)), (_PLACEHOLDER, key))


_PLACEHOLDER = z3.Int("member!key")


@functools.lru_cache(maxsize=32)
def _searched(spans: tuple[tuple[int, int], ...]) -> z3.BoolRef:
    return _within(_PLACEHOLDER, list(spans))


def _within(key: z3.ArithRef, spans: list[tuple[int, int]]) -> z3.BoolRef:
    if len(spans) <= FEW_RUNS:
        return z3.Or([key == lo if lo == hi else z3.And(key >= lo, key <= hi) for lo, hi in spans])
    middle = len(spans) // 2
    return z3.If(key < spans[middle][0], _within(key, spans[:middle]), _within(key, spans[middle:]))
