"""Passes ``parse_predicates`` and ``resolve_names``.

``parse_predicates`` runs the Lark grammar over every predicate text of the
file. ``resolve_names`` then binds each name to a fact of the catalogue:

* ``as_of`` is the run's as-of date; ``true`` and ``false`` are truth values;
* a dotted name (``facility.type``, ``sentence.remaining``) is a fact as written;
* a short name is a field of the innermost quantifier's item first
  (``category`` -> ``conviction.category``), then of an enclosing quantifier's
  item, else a person fact (``age`` -> ``person.age``);
* ``conviction.*`` is only valid inside ``... convictions (...)`` and
  ``event.*`` only inside ``... events (...)``, at any depth, so inside
  ``any events (...)`` nested in ``any convictions (...)`` the dotted name
  reaches the outer conviction;
* a quantifier nests inside one over the other collection; nesting a collection
  inside itself is refused (which also bounds the depth at two), because its two
  items would share one set of short names.
"""

from __future__ import annotations

from dataclasses import replace

from amnesty.compile.unit import Predicate, Unit, did_you_mean
from amnesty.decree import ir
from amnesty.decree import syntax as s
from amnesty.decree.grammar import parse_predicate

ITEM_PREFIX: dict[str, str] = {"convictions": "conviction", "events": "event"}
_PREFIX_COLLECTION = {v: k for k, v in ITEM_PREFIX.items()}
# One collection inside the other: a third level would repeat a collection.
MAX_DEPTH = 2


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
            predicate.tree = _Resolver(unit, predicate).visit(predicate.tree, ())


class _Resolver:
    def __init__(self, unit: Unit, predicate: Predicate) -> None:
        self.unit = unit
        self.predicate = predicate
        self.facts = unit.facts

    def visit(self, node: s.Node, scope: tuple[str, ...]) -> s.Node:
        """``scope``: the collections of the enclosing quantifiers, innermost last."""
        if isinstance(node, s.Name):
            return self.name(node, scope)
        if isinstance(node, (s.Quantified, s.Counted)):
            if node.collection in scope or len(scope) >= MAX_DEPTH:
                self.unit.error(
                    "nested-quantifier",
                    f"{self.predicate.owner}: a quantifier over {node.collection} inside "
                    f"a quantifier over {node.collection}",
                    self.unit.in_predicate(self.predicate, node),
                    # The inner item would shadow every short name of the outer one and
                    # there is no way to name the outer item, so the link the author
                    # meant cannot be written; the other collection can be nested.
                    "a quantifier can nest only inside one over the other collection, "
                    'e.g. any convictions (any events (type = "pardon" and '
                    "date < conviction.offence_date)); two items of the same "
                    "collection cannot be compared",
                )
            inner = (*scope, node.collection)
            return replace(node, condition=self.visit(node.condition, inner))
        if isinstance(node, s.FractionOf):
            return replace(node, operand=self.visit(node.operand, scope))
        if isinstance(node, (s.Arith, s.Comparison)):
            return replace(
                node,
                left=self.visit(node.left, scope),
                right=self.visit(node.right, scope),
            )
        if isinstance(node, s.Member):
            return replace(node, operand=self.visit(node.operand, scope))
        if isinstance(node, s.Negation):
            return replace(node, operand=self.visit(node.operand, scope))
        if isinstance(node, (s.Conjunction, s.Disjunction)):
            return replace(node, operands=tuple(self.visit(o, scope) for o in node.operands))
        if isinstance(node, s.Call):
            return replace(node, arguments=tuple(self.visit(a, scope) for a in node.arguments))
        return node

    def name(self, node: s.Name, scope: tuple[str, ...]) -> s.Node:
        where = self.unit.in_predicate(self.predicate, node)
        dotted = node.dotted
        if dotted == "as_of":
            return s.Resolved(node=ir.AsOf(pos=where), start=node.start, end=node.end)
        if dotted in ("true", "false"):
            literal = ir.Literal(value=dotted == "true", type="bool", pos=where)
            return s.Resolved(node=literal, start=node.start, end=node.end)
        found = self.lookup(node.parts, scope)
        if found is None:
            self.unit.error(
                "unknown-name",
                f"{self.predicate.owner}: unknown name {dotted!r}",
                where,
                did_you_mean(dotted, self.candidates(scope))
                or "see docs/decrees.md for the facts a decree may use",
            )
            return node
        prefix = found.split(".", 1)[0]
        needed = _PREFIX_COLLECTION.get(prefix)
        if needed is not None and needed not in scope:
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

    def lookup(self, parts: tuple[str, ...], scope: tuple[str, ...]) -> str | None:
        dotted = ".".join(parts)
        if len(parts) > 1:
            return dotted if dotted in self.facts else None
        for collection in reversed(scope):
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

    def candidates(self, scope: tuple[str, ...]) -> list[str]:
        names = ["as_of", "true", "false"]
        for collection in reversed(scope):
            prefix = ITEM_PREFIX[collection] + "."
            names += [n.removeprefix(prefix) for n in self.facts if n.startswith(prefix)]
        names += [n.removeprefix("person.") for n in self.facts if n.startswith("person.")]
        reachable = {ITEM_PREFIX[c] for c in scope}
        names += [
            n
            for n in self.facts
            if n.split(".", 1)[0] not in ITEM_PREFIX.values() or n.split(".", 1)[0] in reachable
        ]
        return names
