"""Pass ``check_types``: resolved syntax -> typed :mod:`amnesty.decree.ir`.

Types are ``bool``, ``int``, ``string``, ``date`` and ``duration``. Only what
the law needs mixes: a date plus or minus a duration is a date, a date minus a
date is a duration, a fraction applies to a duration, ``min``/``max`` take
values of one orderable type. Ordering (``< <= > >=``) needs numbers, dates or
durations; ``=`` and ``!=`` need both sides of one type. Durations compare
with durations (``1 year``), never with bare numbers.
"""

from __future__ import annotations

from typing import Literal

from amnesty.compile.unit import Predicate, Unit, did_you_mean
from amnesty.decree import ir
from amnesty.decree import syntax as s
from amnesty.errors import Position

_WORDS: dict[str, str] = {
    "bool": "a condition (true or false)",
    "int": "a number",
    "string": "text",
    "date": "a date",
    "duration": "a duration",
}
_ORDERED = ("int", "date", "duration")
FUNCTIONS = ("min", "max", "known")

Typed = tuple[ir.Expr, ir.Type]


def check_types(unit: Unit) -> None:
    for predicate in unit.predicates():
        if predicate.tree is None:
            continue
        typed = _Checker(unit, predicate).expr(predicate.tree)
        if typed is None:
            continue
        expr, typ = typed
        if typ != "bool":
            shown = predicate.text.strip()
            unit.error(
                "type-mismatch",
                f"{predicate.owner}: a predicate must be a condition, "
                f"but `{shown}` is {_WORDS[typ]}",
                unit.in_predicate(predicate, predicate.tree),
                "compare it, e.g. age >= 55",
            )
            continue
        predicate.expr = expr


class _Checker:
    def __init__(self, unit: Unit, predicate: Predicate) -> None:
        self.unit = unit
        self.predicate = predicate

    def at(self, node: s.Syntax) -> Position:
        return self.unit.in_predicate(self.predicate, node)

    def shown(self, node: s.Syntax) -> str:
        return " ".join(self.unit.text_of(self.predicate, node).split())

    def fail(
        self, node: s.Syntax, message: str, hint: str = "", code: str = "type-mismatch"
    ) -> None:
        self.unit.error(code, f"{self.predicate.owner}: {message}", self.at(node), hint)

    def expr(self, node: s.Node) -> Typed | None:
        method = getattr(self, "on_" + type(node).__name__.lower())
        result: Typed | None = method(node)
        return result

    # -- leaves ------------------------------------------------------------------------
    def on_name(self, node: s.Name) -> Typed | None:
        return None  # resolve_names reported it

    def on_resolved(self, node: s.Resolved) -> Typed | None:
        leaf = node.node
        if isinstance(leaf, ir.AsOf):
            return leaf, "date"
        return leaf, leaf.type

    def on_number(self, node: s.Number) -> Typed | None:
        return ir.Literal(value=node.value, type="int", pos=self.at(node)), "int"

    def on_text(self, node: s.Text) -> Typed | None:
        return ir.Literal(value=node.value, type="string", pos=self.at(node)), "string"

    def on_datevalue(self, node: s.DateValue) -> Typed | None:
        return ir.Literal(value=node.value, type="date", pos=self.at(node)), "date"

    def on_durationvalue(self, node: s.DurationValue) -> Typed | None:
        return ir.Duration(amount=node.amount, unit=node.unit, pos=self.at(node)), "duration"

    # -- arithmetic --------------------------------------------------------------------
    def on_fractionof(self, node: s.FractionOf) -> Typed | None:
        operand = self.expr(node.operand)
        if operand is None:
            return None
        if node.in_months:
            return self.in_months(node, operand[0])
        if isinstance(operand[0], ir.CalendarFraction):
            self._refuse_calendar(node.operand, "under another fraction")
            return None
        if operand[1] != "duration":
            self.fail(
                node.operand,
                f"a fraction applies to a duration, but `{self.shown(node.operand)}` is "
                f"{_WORDS[operand[1]]}",
                "e.g. 1/3 of sentence.term",
            )
            return None
        return ir.Scaled(fraction=node.fraction, operand=operand[0], pos=self.at(node)), "duration"

    def in_months(self, node: s.FractionOf, operand: ir.Expr) -> Typed | None:
        """``f in months of D``: D must have a number of months (docs/decrees.md)."""
        months: ir.Expr | None = None
        if isinstance(operand, ir.Fact) and operand.name == "conviction.term":
            months = ir.Fact(name="conviction.term_months", type="int", pos=operand.pos)
        elif isinstance(operand, ir.Duration) and operand.unit in ("months", "years"):
            amount = operand.amount * (12 if operand.unit == "years" else 1)
            months = ir.Literal(value=amount, type="int", pos=operand.pos)
        if months is None:
            self.fail(
                node.operand,
                f"a fraction in months needs a term counted in months, but "
                f"`{self.shown(node.operand)}` has no number of months",
                "write it of conviction.term (inside a quantifier over convictions) or of "
                "a duration in months or years; `1/3 of ...` is the exact-days reading",
            )
            return None
        return (
            ir.CalendarFraction(fraction=node.fraction, months=months, pos=self.at(node)),
            "duration",
        )

    def _refuse_calendar(self, node: s.Node, where: str) -> None:
        self.fail(
            node,
            f"a fraction in calendar months (`{self.shown(node)}`) cannot stand {where}: "
            "it is a number of months and days, not of exact days",
            "add it to a date or compare it with a span such as conviction.served; "
            "or write the exact-days reading `1/3 of ...`",
        )

    def on_arith(self, node: s.Arith) -> Typed | None:
        left, right = self.expr(node.left), self.expr(node.right)
        if left is None or right is None:
            return None
        types = (left[1], right[1])
        if types == ("date", "duration"):
            sign: Literal[1, -1] = 1 if node.op == "+" else -1
            return ir.Shift(date=left[0], duration=right[0], sign=sign, pos=self.at(node)), "date"
        if types == ("duration", "date") and node.op == "+":
            return ir.Shift(date=right[0], duration=left[0], pos=self.at(node)), "date"
        if types == ("date", "date") and node.op == "-":
            return ir.Between(start=right[0], end=left[0], pos=self.at(node)), "duration"
        self.fail(
            node,
            f"cannot compute {_WORDS[types[0]]} {node.op} {_WORDS[types[1]]} "
            f"in `{self.shown(node)}`",
            "only date + duration, date - duration and date - date are defined",
        )
        return None

    # -- conditions --------------------------------------------------------------------
    def condition(self, node: s.Node) -> ir.Expr | None:
        typed = self.expr(node)
        if typed is None:
            return None
        if typed[1] != "bool":
            self.fail(
                node,
                f"expected a condition, but `{self.shown(node)}` is {_WORDS[typed[1]]}",
                "compare it with something, e.g. age >= 55",
            )
            return None
        return typed[0]

    def on_negation(self, node: s.Negation) -> Typed | None:
        operand = self.condition(node.operand)
        return None if operand is None else (ir.Not(operand=operand, pos=self.at(node)), "bool")

    def on_conjunction(self, node: s.Conjunction) -> Typed | None:
        operands = [self.condition(o) for o in node.operands]
        if any(o is None for o in operands):
            return None
        return ir.And(operands=tuple(o for o in operands if o), pos=self.at(node)), "bool"

    def on_disjunction(self, node: s.Disjunction) -> Typed | None:
        operands = [self.condition(o) for o in node.operands]
        if any(o is None for o in operands):
            return None
        return ir.Or(operands=tuple(o for o in operands if o), pos=self.at(node)), "bool"

    def on_comparison(self, node: s.Comparison) -> Typed | None:
        left, right = self.expr(node.left), self.expr(node.right)
        if left is None or right is None:
            return None
        lt, rt = left[1], right[1]
        if node.op not in ("=", "!=") and (lt not in _ORDERED or rt not in _ORDERED):
            side = node.left if lt not in _ORDERED else node.right
            typ = lt if lt not in _ORDERED else rt
            self.fail(
                side,
                f"`{node.op}` orders numbers, dates and durations, but `{self.shown(side)}` is "
                f"{_WORDS[typ]}",
                "use = or in {...} for text and conditions",
            )
            return None
        lc, rc = isinstance(left[0], ir.CalendarFraction), isinstance(right[0], ir.CalendarFraction)
        if lc or rc:
            other = right[0] if lc else left[0]
            if lt == rt and not _is_span(other):
                self._refuse_calendar(
                    node.left if lc else node.right, "against a duration that is not a span"
                )
                return None
        if lt != rt:
            self.fail(
                node.right,
                f"type mismatch: `{self.shown(node.left)}` is {_WORDS[lt]} but "
                f"`{self.shown(node.right)}` is {_WORDS[rt]}",
                _mismatch_hint(self.shown(node.left), lt, rt),
            )
            return None
        return ir.Compare(op=node.op, left=left[0], right=right[0], pos=self.at(node)), "bool"

    def on_member(self, node: s.Member) -> Typed | None:
        operand = self.expr(node.operand)
        if operand is None:
            return None
        values: list[ir.Literal] = []
        ranges: list[s.Range] = []
        ok = True
        for v in node.values:
            if isinstance(v, s.Range):
                if operand[1] != "int":
                    self.fail(
                        v,
                        f"a range of numbers such as `{self.shown(v)}` needs a number, but "
                        f"`{self.shown(node.operand)}` is {_WORDS[operand[1]]}",
                        "a code written as text is matched by listing it; a profile can "
                        "declare its offences' article numbers as an integer attribute",
                    )
                    ok = False
                elif v.low > v.high:
                    self.fail(v, f"the range `{self.shown(v)}` is empty: {v.low} > {v.high}",
                              f"write {v.high}..{v.low}", "empty-set")  # fmt: skip
                    ok = False
                else:
                    ranges.append(v)
                continue
            typed = self.expr(v)
            if typed is None:
                ok = False
                continue
            if not isinstance(typed[0], ir.Literal) or typed[1] != operand[1]:
                self.fail(
                    v,
                    f"type mismatch: `{self.shown(node.operand)}` is {_WORDS[operand[1]]} but "
                    f"`{self.shown(v)}` in the set is {_WORDS[typed[1]]}",
                    _mismatch_hint(self.shown(node.operand), operand[1], typed[1]),
                )
                ok = False
                continue
            values.append(typed[0])
        if not ok:
            return None
        if not values and not ranges:
            self.fail(node, "an empty set matches nothing", "list at least one value", "empty-set")
            return None
        expr = ir.in_ranges(
            operand[0], tuple(values), tuple((r.low, r.high) for r in ranges), self.at(node)
        )
        if node.negated:
            expr = ir.Not(operand=expr, pos=self.at(node))
        return expr, "bool"

    def on_quantified(self, node: s.Quantified) -> Typed | None:
        condition = self.condition(node.condition)
        if condition is None:
            return None
        if_empty = self.predicate.if_empty if node.kind == "all" else None
        quantifier = ir.Quantifier(
            kind=node.kind,
            collection=node.collection,
            condition=condition,
            if_empty=if_empty,
            pos=self.at(node),
        )
        return quantifier, "bool"

    def on_counted(self, node: s.Counted) -> Typed | None:
        condition = self.condition(node.condition)
        if condition is None:
            return None
        return ir.Count(collection=node.collection, condition=condition, pos=self.at(node)), "int"

    def on_call(self, node: s.Call) -> Typed | None:
        if node.function not in FUNCTIONS:
            name_node = s.Name(parts=(node.function,), start=node.start, end=node.name_end)
            self.fail(
                name_node,
                f"unknown function {node.function!r}; expected min, max or known",
                did_you_mean(node.function, FUNCTIONS),
                "unknown-name",
            )
            return None
        args = [self.expr(a) for a in node.arguments]
        if any(a is None for a in args):
            return None
        typed = [a for a in args if a is not None]
        if node.function == "known":
            if len(typed) != 1:
                self.fail(node, "known(...) takes exactly one fact", "e.g. known(health.severity)")
                return None
            return ir.IsKnown(operand=typed[0][0], pos=self.at(node)), "bool"
        if len(typed) < 2:
            self.fail(node, f"{node.function}(...) needs at least two values")
            return None
        types = {t for _, t in typed}
        if len(types) != 1 or next(iter(types)) not in _ORDERED:
            self.fail(
                node,
                f"{node.function}(...) needs values of one type (numbers, dates or durations)",
                "e.g. min(10 years, 3/4 of sentence.term)",
            )
            return None
        typ = next(iter(types))
        for (e, _), a in zip(typed, node.arguments, strict=True):
            if isinstance(e, ir.CalendarFraction):
                self._refuse_calendar(a, f"inside {node.function}(...)")
                return None
        kind: Literal["min", "max"] = "min" if node.function == "min" else "max"
        extreme = ir.Extreme(
            kind=kind, operands=tuple(e for e, _ in typed), type=typ, pos=self.at(node)
        )
        return extreme, typ


def _is_span(e: ir.Expr) -> bool:
    """A duration between two dates: ``a - b`` or a span fact (``conviction.served``)."""
    return isinstance(e, ir.Between) or (isinstance(e, ir.Fact) and e.type == "duration")


def _mismatch_hint(left: str, lt: str, rt: str) -> str:
    if lt == "duration" and rt == "int":
        return "give the number a unit: 1 year, 6 months, 30 days"
    if lt == "int" and rt == "duration":
        return f"{left} is a plain number (age in completed years, a count): drop the unit"
    if lt == "int" and rt == "string":
        return f"compare {left} with a number, e.g. {left} >= 55"
    if lt == "string" and rt == "int":
        return 'quote the value, e.g. "theft"'
    if lt == "date" and rt == "string":
        return "write dates without quotes, e.g. 2015-10-08"
    if lt == "bool":
        return f"write {left} alone for true, or not {left}"
    return ""
