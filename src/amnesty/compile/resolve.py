"""Passes ``parse_predicates`` and ``resolve_names``.

``parse_predicates`` runs the Lark grammar over every predicate text of the
file. ``resolve_names`` then binds each name to a fact of the catalogue:

* ``as_of`` is the run's as-of date; ``true`` and ``false`` are truth values;
* a dotted name (``facility.type``, ``sentence.remaining``) is a fact as written;
* a short name is a field of the item inside a quantifier first
  (``category`` -> ``conviction.category``), else a person fact
  (``age`` -> ``person.age``, ``veteran`` -> ``person.veteran``);
* ``conviction.*`` is only valid inside ``... convictions (...)`` and
  ``event.*`` only inside ``... events (...)``; quantifiers do not nest.
"""

from __future__ import annotations

from dataclasses import replace

from amnesty.compile.unit import Predicate, Unit, did_you_mean
from amnesty.decree import ir
from amnesty.decree import syntax as s
from amnesty.decree.grammar import parse_predicate

ITEM_PREFIX: dict[str, str] = {"convictions": "conviction", "events": "event"}
_PREFIX_COLLECTION = {v: k for k, v in ITEM_PREFIX.items()}


def parse_predicates(unit: Unit) -> None:
    for predicate in unit.predicates():
        tree, problems = parse_predicate(predicate.text)
        for p in problems:
            where = unit.syntax.locator.inside(predicate.path, p.start, max(p.end - p.start, 1))
            code = "vague-comparator" if "comparator" in p.message else "predicate-syntax"
            unit.error(code, f"{predicate.owner}: {p.message}", where, p.hint)
        predicate.tree = tree


def resolve_names(unit: Unit) -> None:
    for predicate in unit.predicates():
        if predicate.tree is not None:
            predicate.tree = _Resolver(unit, predicate).visit(predicate.tree, None)


class _Resolver:
    def __init__(self, unit: Unit, predicate: Predicate) -> None:
        self.unit = unit
        self.predicate = predicate
        self.facts = unit.facts

    def visit(self, node: s.Node, collection: str | None) -> s.Node:
        if isinstance(node, s.Name):
            return self.name(node, collection)
        if isinstance(node, (s.Quantified, s.Counted)):
            if collection is not None:
                self.unit.error(
                    "nested-quantifier",
                    f"{self.predicate.owner}: a quantifier inside a quantifier is not supported",
                    self.unit.in_predicate(self.predicate, node),
                    # Splitting a linked condition into two quantifiers joined with
                    # and/or drops the link between the items and can widen a grant,
                    # so the hint must not suggest it as an equivalent.
                    "a condition linking one item to another, such as an offence within "
                    "10 years after a pardon, is a registry attribute for now, as "
                    "ru-2015's within_10y_of_amnesty; two separate quantifiers do not say "
                    "the same; see docs/decrees.md, Not yet in the language",
                )
            return replace(node, condition=self.visit(node.condition, node.collection))
        if isinstance(node, s.FractionOf):
            return replace(node, operand=self.visit(node.operand, collection))
        if isinstance(node, (s.Arith, s.Comparison)):
            return replace(
                node,
                left=self.visit(node.left, collection),
                right=self.visit(node.right, collection),
            )
        if isinstance(node, s.Member):
            return replace(node, operand=self.visit(node.operand, collection))
        if isinstance(node, s.Negation):
            return replace(node, operand=self.visit(node.operand, collection))
        if isinstance(node, (s.Conjunction, s.Disjunction)):
            return replace(node, operands=tuple(self.visit(o, collection) for o in node.operands))
        if isinstance(node, s.Call):
            return replace(node, arguments=tuple(self.visit(a, collection) for a in node.arguments))
        return node

    def name(self, node: s.Name, collection: str | None) -> s.Node:
        where = self.unit.in_predicate(self.predicate, node)
        dotted = node.dotted
        if dotted == "as_of":
            return s.Resolved(node=ir.AsOf(pos=where), start=node.start, end=node.end)
        if dotted in ("true", "false"):
            literal = ir.Literal(value=dotted == "true", type="bool", pos=where)
            return s.Resolved(node=literal, start=node.start, end=node.end)
        found = self.lookup(node.parts, collection)
        if found is None:
            self.unit.error(
                "unknown-name",
                f"{self.predicate.owner}: unknown name {dotted!r}",
                where,
                did_you_mean(dotted, self.candidates(collection))
                or "see docs/decrees.md for the facts a decree may use",
            )
            return node
        prefix = found.split(".", 1)[0]
        needed = _PREFIX_COLLECTION.get(prefix)
        if needed is not None and needed != collection:
            self.unit.error(
                "outside-quantifier",
                f"{self.predicate.owner}: {found} is a field of one {prefix}, "
                f"used outside a quantifier over {needed}",
                where,
                f"write it inside any/all/none/count {needed} (...), "
                f"e.g. any {needed} ({found.split('.', 1)[1]} ...)",
            )
            return node
        fact = self.facts[found]
        return s.Resolved(
            node=ir.Fact(name=found, type=fact.type, pos=where), start=node.start, end=node.end
        )

    def lookup(self, parts: tuple[str, ...], collection: str | None) -> str | None:
        dotted = ".".join(parts)
        if len(parts) > 1:
            return dotted if dotted in self.facts else None
        if collection is not None:
            item = f"{ITEM_PREFIX[collection]}.{dotted}"
            if item in self.facts:
                return item
        person = f"person.{dotted}"
        if person in self.facts:
            return person
        # A short name of an item's field outside its quantifier: resolve it so the
        # error can say "outside a quantifier" rather than "unknown".
        for prefix in ITEM_PREFIX.values():
            if f"{prefix}.{dotted}" in self.facts:
                return f"{prefix}.{dotted}"
        return None

    def candidates(self, collection: str | None) -> list[str]:
        names = ["as_of", "true", "false"]
        if collection is not None:
            prefix = ITEM_PREFIX[collection] + "."
            names += [n.removeprefix(prefix) for n in self.facts if n.startswith(prefix)]
        names += [n.removeprefix("person.") for n in self.facts if n.startswith("person.")]
        names += [
            n
            for n in self.facts
            if n.split(".", 1)[0] not in ITEM_PREFIX.values() or collection is not None
        ]
        return names
