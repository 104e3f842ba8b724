"""The predicate language: a Lark LALR grammar and the transform into :mod:`syntax`.

Predicates are parsed, never evaluated as Python. The grammar is deliberately
small and reads like the law it encodes::

    age > 55 and sex = "M"
    any convictions (category in {"theft", "violent_crime"})
    all convictions (gravity in {"small", "medium"} and intent = "intentional")
    count convictions (intent = "intentional") >= 2
    sentence.remaining < 1 year
    conviction.start + 2/3 of conviction.term <= 2020-12-31
    conviction.start + 2/3 in months of conviction.term <= as_of
    sentence.served >= min(10 years, 3/4 of sentence.term)

Words whose strictness the law leaves open (``over``, ``under``, ``before``,
``up to`` ...) are recognised only to be refused with a precise error: every
comparison must say whether its boundary counts.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, cast

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from amnesty.decree import ir
from amnesty.decree import syntax as s

GRAMMAR = r"""
?start: expr

?expr: or_expr
?or_expr: and_expr
    | and_expr (_OR and_expr)+                -> disjunction
?and_expr: not_expr
    | not_expr (_AND not_expr)+               -> conjunction
?not_expr: comparison
    | _NOT not_expr                           -> negation
?comparison: sum
    | sum COMPARATOR sum                      -> comparison
    | sum VAGUE sum                           -> vague
    | sum _IN set                             -> member
    | sum _NOT _IN set                        -> non_member
    | sum _IN name                            -> member_named
    | sum _NOT _IN name                       -> non_member_named
?sum: product
    | sum PLUS product                        -> arith
    | sum MINUS product                       -> arith
?product: atom
    | fraction _OF product                    -> fraction_of
    | fraction _IN MONTHS _OF product         -> fraction_of_months
    | fraction _IN DAYS _OF product           -> fraction_of
fraction: INT "/" INT
    | PERCENT
?atom: literal
    | name
    | "(" expr ")"
    | quant collection "(" expr ")"           -> quantified
    | _COUNT collection "(" expr ")"          -> counted
    | NAME "(" [expr ("," expr)*] ")"         -> call
?literal: INT                                 -> number
    | STRING                                  -> text
    | DATE                                    -> date
    | INT unit                                -> duration
set: "{" [set_item ("," set_item)*] "}"
?set_item: literal
    | INT ".." INT                            -> range
name: NAME ("." NAME)*

quant: ANY | ALL | NONE
collection: CONVICTIONS | EVENTS
unit: YEARS | YEAR | MONTHS | MONTH | DAYS | DAY

ANY: "any"
ALL: "all"
NONE: "none"
CONVICTIONS: "convictions"
EVENTS: "events"
YEARS: "years"
YEAR: "year"
MONTHS: "months"
MONTH: "month"
DAYS: "days"
DAY: "day"
_OR: "or"
_AND: "and"
_NOT: "not"
_IN: "in"
_OF: "of"
_COUNT: "count"
PLUS: "+"
MINUS: "-"
COMPARATOR: "<=" | ">=" | "!=" | "<" | ">" | "="
VAGUE.2: /\b(not\s+more\s+than|not\s+less\s+than|more\s+than|less\s+than|at\s+least)\b/
    | /\b(at\s+most|older\s+than|younger\s+than|up\s+to|over|under|above|below)\b/
    | /\b(before|after|within|exceeding|beyond|since|until|till|prior\s+to)\b/
DATE.3: /\d{4}-\d{2}-\d{2}/
PERCENT.2: /\d+%/
INT: /\d+/
STRING: /"[^"\n]*"/ | /'[^'\n]*'/
NAME: /[A-Za-z_][A-Za-z0-9_]*/
COMMENT: /#[^\n]*/

%import common.WS
%ignore WS
%ignore COMMENT
"""

# Words a lawyer might write, with the symbols that say the same thing precisely.
_EXPLICIT_WORDS = {
    "more than": ">",
    "older than": ">",
    "less than": "<",
    "younger than": "<",
    "at least": ">=",
    "not less than": ">=",
    "at most": "<=",
    "not more than": "<=",
}
# Words whose strictness is open: (strict, strict meaning, inclusive, inclusive meaning).
_AMBIGUOUS_WORDS = {
    "over": (">", "strictly over", ">=", "has reached"),
    "above": (">", "strictly above", ">=", "at or above"),
    "exceeding": (">", "strictly exceeding", ">=", "at least"),
    "beyond": (">", "strictly beyond", ">=", "at least"),
    "after": (">", "strictly after", ">=", "on or after"),
    "since": (">", "strictly after", ">=", "on or after"),
    "under": ("<", "strictly under", "<=", "at most"),
    "below": ("<", "strictly below", "<=", "at or below"),
    "before": ("<", "strictly before", "<=", "on or before"),
    "prior to": ("<", "strictly before", "<=", "on or before"),
    "up to": ("<", "strictly less", "<=", "up to and including"),
    "within": ("<", "strictly within", "<=", "within, boundary included"),
    "until": ("<", "strictly before", "<=", "up to and including"),
    "till": ("<", "strictly before", "<=", "up to and including"),
}

_UNITS = {
    "year": "years",
    "years": "years",
    "month": "months",
    "months": "months",
    "day": "days",
    "days": "days",
}

# How to name the grammar's terminals in "expected ..." messages.
_EXPECTED_NAMES = {
    "COMPARATOR": "a comparison (< <= > >= = !=)",
    "NAME": "a name",
    "INT": "a number",
    "STRING": 'a quoted text such as "theft"',
    "DATE": "a date such as 2015-10-08",
    "YEARS": "a unit (years, months, days)",
    "YEAR": "a unit (years, months, days)",
    "MONTHS": "a unit (years, months, days)",
    "MONTH": "a unit (years, months, days)",
    "DAYS": "a unit (years, months, days)",
    "DAY": "a unit (years, months, days)",
    "ANY": "any",
    "ALL": "all",
    "NONE": "none",
    "CONVICTIONS": "convictions or events",
    "EVENTS": "convictions or events",
    "_NOT": "not",
    "_COUNT": "count",
    "DOT": ".",
    "PERCENT": "a percentage",
    "_AND": "and",
    "_OR": "or",
    "_IN": "in",
    "_OF": "of",
    "RPAR": ")",
    "LPAR": "(",
    "RBRACE": "}",
    "LBRACE": "{",
    "COMMA": ",",
    "PLUS": "+",
    "MINUS": "-",
    "SLASH": "/",
    "$END": "the end of the predicate",
}


@dataclass(frozen=True)
class Problem:
    """A syntax problem at a character offset of the predicate text."""

    start: int
    end: int
    message: str
    hint: str = ""


_PARSER = Lark(GRAMMAR, parser="lalr", propagate_positions=True, maybe_placeholders=False)


def parse_predicate(text: str) -> tuple[s.Node | None, list[Problem]]:
    """Parse one predicate; return its tree, or None with the problems found."""
    try:
        tree = _PARSER.parse(text)
    except UnexpectedInput as exc:
        return None, [_syntax_problem(text, exc)]
    builder = _Builder()
    node = builder.transform(tree)
    return (None if builder.problems else node), builder.problems


def _syntax_problem(text: str, exc: UnexpectedInput) -> Problem:
    start = exc.pos_in_stream if exc.pos_in_stream is not None else len(text)
    expected: set[str] = set()
    if isinstance(exc, UnexpectedToken):
        expected = set(exc.accepts or exc.expected)
        token = exc.token
        if token.type == "$END":
            found = "end of the predicate"
            start = len(text.rstrip())
        else:
            found = repr(str(token))
        end = start + max(len(str(token)), 1)
    elif isinstance(exc, UnexpectedCharacters):
        expected = set(exc.allowed or ())
        found = f"character {text[start]!r}"
        end = start + 1
    elif isinstance(exc, UnexpectedEOF):
        expected = set(exc.expected)
        found = "end of the predicate"
        start = len(text.rstrip())
        end = start + 1
    else:  # pragma: no cover - lark raises only the three above
        found, end = "this", start + 1
    expected -= {"VAGUE", "COMMENT"}
    names = sorted({_EXPECTED_NAMES.get(e, e.strip('"').lower()) for e in expected})
    wanted = f"; expected {', '.join(names[:8])}" if names else ""
    return Problem(start, end, f"predicate syntax error: unexpected {found}{wanted}")


@v_args(meta=True)
class _Builder(Transformer[Token, s.Node]):
    """Lark tree -> :mod:`syntax` nodes, collecting refused comparators as problems."""

    def __init__(self) -> None:
        super().__init__()
        self.problems: list[Problem] = []

    def disjunction(self, meta: Any, items: list[s.Node]) -> s.Node:
        return s.Disjunction(operands=tuple(items), start=meta.start_pos, end=meta.end_pos)

    def conjunction(self, meta: Any, items: list[s.Node]) -> s.Node:
        return s.Conjunction(operands=tuple(items), start=meta.start_pos, end=meta.end_pos)

    def negation(self, meta: Any, items: list[s.Node]) -> s.Node:
        return s.Negation(operand=items[0], start=meta.start_pos, end=meta.end_pos)

    def comparison(self, meta: Any, items: list[Any]) -> s.Node:
        left, op, right = items
        return s.Comparison(
            op=cast(ir.CompareOp, str(op)),
            left=left,
            right=right,
            start=meta.start_pos,
            end=meta.end_pos,
        )

    def vague(self, meta: Any, items: list[Any]) -> s.Node:
        left, word, right = items
        said = " ".join(str(word).split())
        self.problems.append(_vague_problem(said, word, left, right))
        return s.Comparison(op="=", left=left, right=right, start=meta.start_pos, end=meta.end_pos)

    def member(self, meta: Any, items: list[Any]) -> s.Node:
        return s.Member(
            operand=items[0], values=tuple(items[1]), start=meta.start_pos, end=meta.end_pos
        )

    def non_member(self, meta: Any, items: list[Any]) -> s.Node:
        return s.Member(
            operand=items[0],
            values=tuple(items[1]),
            negated=True,
            start=meta.start_pos,
            end=meta.end_pos,
        )

    def member_named(self, meta: Any, items: list[Any]) -> s.Node:
        return s.Member(
            operand=items[0], values=(), named=items[1], start=meta.start_pos, end=meta.end_pos
        )

    def non_member_named(self, meta: Any, items: list[Any]) -> s.Node:
        return s.Member(
            operand=items[0],
            values=(),
            named=items[1],
            negated=True,
            start=meta.start_pos,
            end=meta.end_pos,
        )

    def set(self, meta: Any, items: list[s.Node]) -> list[s.Node]:
        return [i for i in items if i is not None]  # `{}` gives one None

    def range(self, meta: Any, items: list[Token]) -> s.Node:
        return s.Range(
            low=int(items[0]), high=int(items[1]), start=meta.start_pos, end=meta.end_pos
        )

    def arith(self, meta: Any, items: list[Any]) -> s.Node:
        left, op, right = items
        return s.Arith(op=str(op), left=left, right=right, start=meta.start_pos, end=meta.end_pos)  # type: ignore[arg-type]

    def fraction(self, meta: Any, items: list[Token]) -> tuple[Fraction, Token]:
        if len(items) == 1:
            return Fraction(int(str(items[0])[:-1]), 100), items[0]
        num, den = int(items[0]), int(items[1])
        if den == 0:
            self.problems.append(Problem(meta.start_pos, meta.end_pos, "a fraction of 0 parts"))
            den = 1
        return Fraction(num, den), items[0]

    def fraction_of(self, meta: Any, items: list[Any]) -> s.Node:
        (fraction, _), *_unit, operand = items
        return s.FractionOf(
            fraction=fraction, operand=operand, start=meta.start_pos, end=meta.end_pos
        )

    def fraction_of_months(self, meta: Any, items: list[Any]) -> s.Node:
        (fraction, _), _unit, operand = items
        return s.FractionOf(
            fraction=fraction,
            operand=operand,
            in_months=True,
            start=meta.start_pos,
            end=meta.end_pos,
        )

    def quant(self, meta: Any, items: list[Token]) -> str:
        return str(items[0])

    def collection(self, meta: Any, items: list[Token]) -> str:
        return str(items[0])

    def unit(self, meta: Any, items: list[Token]) -> str:
        return str(items[0])

    def quantified(self, meta: Any, items: list[Any]) -> s.Node:
        kind, collection, condition = items
        return s.Quantified(
            kind=str(kind),  # type: ignore[arg-type]
            collection=str(collection),  # type: ignore[arg-type]
            condition=condition,
            start=meta.start_pos,
            end=meta.end_pos,
        )

    def counted(self, meta: Any, items: list[Any]) -> s.Node:
        collection, condition = items
        return s.Counted(
            collection=cast(ir.Collection, collection),
            condition=condition,
            start=meta.start_pos,
            end=meta.end_pos,
        )

    def call(self, meta: Any, items: list[Any]) -> s.Node:
        function, *arguments = items
        return s.Call(
            function=str(function),
            arguments=tuple(a for a in arguments if a is not None),
            name_end=function.end_pos or 0,
            start=meta.start_pos,
            end=meta.end_pos,
        )

    def name(self, meta: Any, items: list[Token]) -> s.Node:
        return s.Name(parts=tuple(str(t) for t in items), start=meta.start_pos, end=meta.end_pos)

    def number(self, meta: Any, items: list[Token]) -> s.Node:
        return s.Number(
            value=int(items[0]), start=items[0].start_pos or 0, end=items[0].end_pos or 0
        )

    def text(self, meta: Any, items: list[Token]) -> s.Node:
        return s.Text(
            value=str(items[0])[1:-1], start=items[0].start_pos or 0, end=items[0].end_pos or 0
        )

    def date(self, meta: Any, items: list[Token]) -> s.Node:
        try:
            value = dt.date.fromisoformat(str(items[0]))
        except ValueError:
            self.problems.append(
                Problem(
                    items[0].start_pos or 0,
                    items[0].end_pos or 0,
                    f"{items[0]} is not a calendar date",
                    "write a real date as YYYY-MM-DD",
                )
            )
            value = dt.date(1, 1, 1)
        return s.DateValue(value=value, start=items[0].start_pos or 0, end=items[0].end_pos or 0)

    def duration(self, meta: Any, items: list[Token]) -> s.Node:
        amount, unit = items
        return s.DurationValue(
            amount=int(amount),
            unit=_UNITS.get(str(unit), "days"),  # type: ignore[arg-type]
            start=meta.start_pos,
            end=meta.end_pos,
        )


def _vague_problem(said: str, word: Token, left: s.Node, right: s.Node) -> Problem:
    lhs = _source_text(left)
    rhs = _source_text(right)
    start, end = word.start_pos or 0, word.end_pos or 0
    if said in _EXPLICIT_WORDS:
        op = _EXPLICIT_WORDS[said]
        return Problem(
            start,
            end,
            f"comparator in words: write {said!r} as a symbol",
            f"write `{lhs} {op} {rhs}`",
        )
    strict, strict_means, inclusive, inclusive_means = _AMBIGUOUS_WORDS[said]
    boundary = rhs if rhs else "the boundary"
    return Problem(
        start,
        end,
        f"comparator without strictness: {said!r} does not say whether {boundary} itself counts",
        f"write `{lhs} {strict} {rhs}` ({strict_means}) or `{lhs} {inclusive} {rhs}` "
        f"({inclusive_means})",
    )


def _source_text(node: s.Node) -> str:
    """A short rendering of a syntax node, for hints."""
    if isinstance(node, s.Name):
        return node.dotted
    if isinstance(node, s.Number):
        return str(node.value)
    if isinstance(node, s.Text):
        return f'"{node.value}"'
    if isinstance(node, s.DateValue):
        return node.value.isoformat()
    if isinstance(node, s.DurationValue):
        unit = node.unit if node.amount != 1 else node.unit[:-1]
        return f"{node.amount} {unit}"
    return "..."
