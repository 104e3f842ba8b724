"""Named sets and named predicates: a list or a condition written once, used by name.

A decree's ``[sets]`` table names lists of values (``excluded_articles = ["105",
"111"]``) that a predicate tests with ``code in excluded_articles``; its
``[predicates]`` table names conditions (``grave = 'gravity in {"grave"}'``) that
predicates use like a fact (``none convictions (grave)``). Both are replaced by what
they stand for before names are resolved, so a named predicate means exactly what its
text would mean written out in place: a short name inside it resolves where it is
used (inside ``any convictions (...)`` a field of the conviction), and the SQL, the
interpreter and the prover see the expanded condition.

The copied syntax keeps offsets into its definition (see ``ORIGIN_STRIDE`` in
:mod:`amnesty.compile.unit`), so an error inside a named predicate points at its own
text. Which names each clause used is kept for explanations.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from amnesty.compile.unit import ORIGIN_STRIDE, Origin, Predicate, Unit, did_you_mean
from amnesty.decree import ir
from amnesty.decree import syntax as s
from amnesty.decree.grammar import parse_predicate

_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")
# Words of the predicate language: a definition may not be called by one.
_KEYWORDS = frozenset(
    [
        "any",
        "all",
        "none",
        "count",
        "convictions",
        "events",
        "and",
        "or",
        "not",
        "in",
        "of",
        "as_of",
        "true",
        "false",
        "min",
        "max",
        "known",
        "year",
        "years",
        "month",
        "months",
        "day",
        "days",
    ]
)


def read_definitions(unit: Unit) -> None:
    """Read ``[sets]`` and ``[predicates]`` (their names and values), reporting bad ones."""
    data = unit.syntax.data
    sets = data.get("sets", {})
    definitions = data.get("predicates", {})
    taken = _fact_words(unit)
    for name, values in sets.items() if isinstance(sets, dict) else ():
        path = ("sets", name)
        if not _good_name(unit, name, path, taken, "set"):
            continue
        if (
            not isinstance(values, list)
            or not values
            or not (
                all(isinstance(v, str) for v in values)
                or all(isinstance(v, int) and not isinstance(v, bool) for v in values)
            )
        ):
            unit.error(
                "wrong-type",
                f"sets: {name} must be a non-empty list of quoted texts or of whole numbers",
                unit.at(path),
                'e.g. excluded_articles = ["105", "111"]',
            )
            continue
        unit.sets[name] = (list(values), path)
    for name, text in definitions.items() if isinstance(definitions, dict) else ():
        path = ("predicates", name)
        if not _good_name(unit, name, path, taken, "predicate"):
            continue
        if name in unit.sets:
            unit.error(
                "duplicate-name",
                f"predicates: {name} is also the name of a set",
                unit.syntax.key_at(path),
                "give the set and the predicate different names",
            )
            continue
        if not isinstance(text, str):
            unit.error(
                "wrong-type",
                f"predicates: {name} must be a quoted condition",
                unit.at(path),
                """e.g. grave = 'gravity in {"grave", "especially_grave"}'""",
            )
            continue
        unit.definitions[name] = Predicate(path=path, text=text, owner=f"predicate {name}")


def _fact_words(unit: Unit) -> set[str]:
    words: set[str] = set()
    for fact in unit.facts:
        prefix, _, rest = fact.partition(".")
        words.add(rest)
        words.add(prefix)
    return words


def _good_name(unit: Unit, name: str, path: tuple[str, ...], taken: set[str], what: str) -> bool:
    if not _NAME.match(name):
        problem = "lower case letters, digits and _, starting with a letter"
    elif name in _KEYWORDS:
        problem = "a word of the predicate language"
    elif name in taken:
        problem = "the name of a fact (a predicate would not know which is meant)"
    else:
        return True
    unit.error(
        "bad-name",
        f"{what} name {name!r}: {problem}",
        unit.syntax.key_at(path),
        "choose another name, e.g. excluded_articles",
    )
    return False


def expand_definitions(unit: Unit) -> None:
    """Parse the named predicates, then replace every use of a name by what it names."""
    if not unit.sets and not unit.definitions:
        return
    bases: dict[str, int] = {}
    for name, (_values, path) in unit.sets.items():
        unit.origins.append(Origin(path, ""))
        bases[name] = len(unit.origins) * ORIGIN_STRIDE
    for name, definition in unit.definitions.items():
        tree, problems = parse_predicate(definition.text)
        for p in problems:
            where = unit.syntax.locator.inside(definition.path, p.start, max(p.end - p.start, 1))
            code = "vague-comparator" if "comparator" in p.message else "predicate-syntax"
            unit.error(code, f"{definition.owner}: {p.message}", where, p.hint)
        definition.tree = tree
        unit.origins.append(Origin(definition.path, definition.text))
        bases[name] = len(unit.origins) * ORIGIN_STRIDE
    used: set[str] = set()
    for predicate in unit.predicates():
        if predicate.tree is not None:
            predicate.tree = _Expander(unit, predicate, bases).visit(predicate.tree, ())
            used.update(predicate.uses)
    for name, (_values, path) in unit.sets.items():
        if name not in used:
            unit.warn("unused-definition", f"set {name} is used by no clause", unit.at(path))
    for name, definition in unit.definitions.items():
        if name not in used:
            unit.warn(
                "unused-definition", f"predicate {name} is used by no clause",
                unit.at(definition.path),
            )  # fmt: skip


class _Expander:
    def __init__(self, unit: Unit, predicate: Predicate, bases: dict[str, int]) -> None:
        self.unit = unit
        self.predicate = predicate
        self.bases = bases

    def use(self, name: str) -> None:
        if name not in self.predicate.uses:
            self.predicate.uses.append(name)

    def visit(self, node: s.Node, stack: tuple[str, ...]) -> s.Node:
        if isinstance(node, s.Name) and len(node.parts) == 1:
            return self.named(node, stack)
        if isinstance(node, s.Member) and node.named is not None:
            return self.member(node, stack)
        changes: dict[str, Any] = {}
        for f in dataclasses.fields(node):
            value = getattr(node, f.name)
            if isinstance(value, s.Syntax):
                changes[f.name] = self.visit(value, stack)  # type: ignore[arg-type]
            elif isinstance(value, tuple) and value and isinstance(value[0], s.Syntax):
                changes[f.name] = tuple(self.visit(v, stack) for v in value)
        return dataclasses.replace(node, **changes) if changes else node

    def named(self, node: s.Name, stack: tuple[str, ...]) -> s.Node:
        name = node.parts[0]
        if name in self.unit.sets:
            self.unit.error(
                "set-as-condition",
                f"{self.predicate.owner}: {name} is a set of values, not a condition",
                self.unit.in_predicate(self.predicate, node),
                f"test a value against it: e.g. offence_code in {name}",
            )
            return node
        definition = self.unit.definitions.get(name)
        if definition is None:
            return node  # a fact, resolved by the next pass
        if name in stack:
            self.unit.error(
                "recursive-definition",
                f"predicate {stack[0]} uses itself through " + " -> ".join((*stack, name)),
                self.unit.in_predicate(self.predicate, node),
                "a named predicate must not use itself",
            )
            return _true(node)
        self.use(name)
        if definition.tree is None:  # its syntax error is reported already
            return _true(node)
        return self.visit(_shift(definition.tree, self.bases[name]), (*stack, name))

    def member(self, node: s.Member, stack: tuple[str, ...]) -> s.Node:
        assert node.named is not None
        operand = self.visit(node.operand, stack)
        name = node.named.dotted
        found = self.unit.sets.get(name)
        if found is None:
            what = (
                "a condition (under [predicates]), not a set"
                if name in self.unit.definitions
                else "not a set of the decree's [sets]"
            )
            self.unit.error(
                "unknown-set",
                f"{self.predicate.owner}: {name!r} is {what}",
                self.unit.in_predicate(self.predicate, node.named),
                did_you_mean(name, list(self.unit.sets))
                or 'name the list under [sets], or write it here as {"a", "b"}',
            )
            return dataclasses.replace(node, operand=operand, named=None)
        self.use(name)
        base = self.bases[name]
        values: tuple[s.Node, ...] = tuple(
            s.Text(value=v, start=base, end=base + 1)
            if isinstance(v, str)
            else s.Number(value=v, start=base, end=base + 1)
            for v in found[0]
        )
        return dataclasses.replace(node, operand=operand, values=values, named=None)


def _true(node: s.Syntax) -> s.Node:
    return s.Resolved(node=ir.Literal(value=True, type="bool"), start=node.start, end=node.end)


def _shift(node: s.Node, delta: int) -> s.Node:
    """A copy of ``node`` with every offset lifted by ``delta`` (into its origin's range)."""
    changes: dict[str, Any] = {"start": node.start + delta, "end": node.end + delta}
    if isinstance(node, s.Call):
        changes["name_end"] = node.name_end + delta
    for f in dataclasses.fields(node):
        value = getattr(node, f.name)
        if isinstance(value, s.Syntax):
            changes[f.name] = _shift(value, delta)  # type: ignore[arg-type]
        elif isinstance(value, tuple) and value and isinstance(value[0], s.Syntax):
            changes[f.name] = tuple(_shift(v, delta) for v in value)
    return dataclasses.replace(node, **changes)
