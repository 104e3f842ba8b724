"""The predicate as written: a small tree straight from the grammar, before any
name is resolved or any type checked.

Each node keeps ``start`` and ``end``, character offsets into the predicate
string, so later passes can point an error at the exact text. The compile
passes turn this tree into :mod:`amnesty.decree.ir` (``compile.resolve`` then
``compile.typecheck``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Literal as L

from amnesty.decree import ir


@dataclass(frozen=True, kw_only=True)
class Syntax:
    start: int = field(default=0, compare=False)
    end: int = field(default=0, compare=False)


@dataclass(frozen=True, kw_only=True)
class Name(Syntax):
    """``age``, ``facility.type``, ``veteran``: resolved against the fact catalogue."""

    parts: tuple[str, ...]

    @property
    def dotted(self) -> str:
        return ".".join(self.parts)


@dataclass(frozen=True, kw_only=True)
class Resolved(Syntax):
    """A name after resolution: a fact, ``as_of`` or ``true``/``false``."""

    node: ir.Fact | ir.AsOf | ir.Literal


@dataclass(frozen=True, kw_only=True)
class Number(Syntax):
    value: int


@dataclass(frozen=True, kw_only=True)
class Text(Syntax):
    value: str


@dataclass(frozen=True, kw_only=True)
class DateValue(Syntax):
    value: dt.date


@dataclass(frozen=True, kw_only=True)
class DurationValue(Syntax):
    amount: int
    unit: ir.Unit


@dataclass(frozen=True, kw_only=True)
class FractionOf(Syntax):
    """``1/3 of sentence.term``, ``75% of term``; ``1/3 in months of term`` counts the
    fraction in calendar months (``in_months``)."""

    fraction: Fraction
    operand: Node
    in_months: bool = False


@dataclass(frozen=True, kw_only=True)
class Arith(Syntax):
    """``a + b`` or ``a - b``: only dates and durations mix this way."""

    op: L["+", "-"]
    left: Node
    right: Node


@dataclass(frozen=True, kw_only=True)
class Comparison(Syntax):
    op: ir.CompareOp
    left: Node
    right: Node


@dataclass(frozen=True, kw_only=True)
class Member(Syntax):
    """``x in {..}`` or ``x not in {..}``; ``x in NAME`` names a set of the decree's
    ``[sets]`` (``named``), replaced by its values before names are resolved."""

    operand: Node
    values: tuple[Node, ...]
    negated: bool = False
    named: Name | None = None


@dataclass(frozen=True, kw_only=True)
class Range(Syntax):
    """``105..111`` inside a set: every whole number from low to high, both included."""

    low: int
    high: int


@dataclass(frozen=True, kw_only=True)
class Negation(Syntax):
    operand: Node


@dataclass(frozen=True, kw_only=True)
class Conjunction(Syntax):
    operands: tuple[Node, ...]


@dataclass(frozen=True, kw_only=True)
class Disjunction(Syntax):
    operands: tuple[Node, ...]


@dataclass(frozen=True, kw_only=True)
class Quantified(Syntax):
    """``any|all|none convictions (...)``."""

    kind: L["any", "all", "none"]
    collection: ir.Collection
    condition: Node


@dataclass(frozen=True, kw_only=True)
class Counted(Syntax):
    """``count convictions (...)``."""

    collection: ir.Collection
    condition: Node


@dataclass(frozen=True, kw_only=True)
class Call(Syntax):
    """``min(..)``, ``max(..)``, ``known(..)``."""

    function: str
    arguments: tuple[Node, ...]
    name_end: int = 0


Node = (
    Name
    | Resolved
    | Number
    | Text
    | DateValue
    | DurationValue
    | FractionOf
    | Arith
    | Comparison
    | Member
    | Range
    | Negation
    | Conjunction
    | Disjunction
    | Quantified
    | Counted
    | Call
)
