"""A symbolic person's determination: docs/semantics.md "From clauses to an outcome", 1-8.

Mirrors :func:`amnesty.compile.interpreter.decide`: every clause's three-valued
value, the scope as a require with id ``scope``, then ineligible / review /
eligible and the relief of the best-ranked true (eligible) or possible (review)
grant, the first in file order on ties. The determination's fields become the
names an assertion may use (``outcome``, ``relief``, ``excluded``,
``clause.ID``, ``ground.ID``, ``blocking.ID``, ``referred.ID``).
"""

from __future__ import annotations

from dataclasses import dataclass

import z3

from amnesty.assurance.person import SymbolicPerson
from amnesty.assurance.translate import Translator
from amnesty.assurance.values import TV, Num, Value, member
from amnesty.decree.model import Decree

OUTCOMES = ("eligible", "ineligible", "review")


@dataclass
class Decision:
    clauses: dict[str, tuple[str, TV, str | None]]  # id -> (kind, value, relief)
    eligible: z3.BoolRef
    ineligible: z3.BoolRef
    review: z3.BoolRef
    relief: Num  # code of the relief; unknown when ineligible
    excluded: z3.BoolRef  # an exclude true, a require (or the scope) false

    def outcome(self, person: SymbolicPerson) -> Num:
        code = person.strings.code
        value = z3.If(
            self.eligible,
            code("eligible"),
            z3.If(self.ineligible, code("ineligible"), code("review")),
        )
        return Num(z3.BoolVal(True), value)

    def names(self, person: SymbolicPerson) -> dict[str, Value]:
        """What an assertion may say about the determination, as facts."""
        out: dict[str, Value] = {
            "outcome": self.outcome(person),
            "relief": self.relief,
            "excluded": TV(self.excluded, z3.Not(self.excluded)),
        }
        no = z3.BoolVal(False)
        for cid, (kind, v, _) in self.clauses.items():
            out[f"clause.{cid}"] = v
            ground = v.t if kind == "grant" else no
            blocking = v.t if kind == "exclude" else (v.f if kind == "require" else no)
            referred = z3.Not(v.f) if kind == "refer" else no
            for prefix, holds in (
                ("ground", ground),
                ("blocking", blocking),
                ("referred", referred),
            ):
                out[f"{prefix}.{cid}"] = TV(holds, z3.Not(holds))
        return out


def scope_value(decree: Decree, person: SymbolicPerson) -> TV | None:
    """The scope as the interpreter's ``_scope`` reads it: every listed axis must admit."""
    s = decree.scope
    f = person.facts
    code = person.strings.code
    parts: list[TV] = []

    def admits(name: str, values: tuple[str, ...]) -> TV:
        v = f[name]
        assert isinstance(v, Num)
        hit = member(v.value, [code(x) for x in values])
        return TV(z3.And(v.known, hit), z3.And(v.known, z3.Not(hit)))

    if s.facility_types:
        parts.append(admits("facility.type", s.facility_types))
    if s.facilities:
        parts.append(admits("facility.id", s.facilities))
    if s.authorities:
        parts.append(admits("person.authority", s.authorities))
    if s.divisions:
        # As the engine: any division of the facility's chain (itself and those above)
        # that the scope names; a facility with no division leaves it unknown.
        codes = [code(x) for x in s.divisions]
        held = f["facility.division"].known  # type: ignore[union-attr]
        hit = z3.Or([z3.And(a.known, member(a.value, codes)) for a in person.ancestors])
        parts.append(TV(z3.And(held, hit), z3.And(held, z3.Not(hit))))
    if not parts:
        if s.predicate is not None:
            return Translator(person).condition(s.predicate)
        return None
    return TV(z3.And([p.t for p in parts]), z3.Or([p.f for p in parts]))


def decide(decree: Decree, person: SymbolicPerson) -> Decision:
    clauses: dict[str, tuple[str, TV, str | None]] = {}
    for c in decree.clauses:
        value = Translator(person, c.if_empty).condition(c.predicate)
        clauses[c.id] = (c.kind, value, (c.relief or "release") if c.kind == "grant" else None)
    scope = scope_value(decree, person)
    checks = [(k, v) for k, v, _ in clauses.values() if k in ("exclude", "require")]
    if scope is not None:
        checks.append(("require", scope))
    grants = [(v, r) for k, v, r in clauses.values() if k == "grant"]
    refers = [v for k, v, _ in clauses.values() if k == "refer"]
    ranking = list(decree.relief_ranking)

    def rank(relief: str | None) -> int:
        return ranking.index(relief) if relief in ranking else len(ranking)

    excluded = z3.Or([v.t if k == "exclude" else v.f for k, v in checks])
    possible = z3.Or([z3.Not(v.f) for v, _ in grants])
    any_true = z3.Or([v.t for v, _ in grants])
    worst = len(ranking) + 1
    best_true = best_possible = z3.IntVal(worst)
    for v, r in reversed(grants):  # the first in file order wins ties
        best_true = z3.If(z3.And(v.t, rank(r) <= best_true), rank(r), best_true)
        best_possible = z3.If(z3.And(z3.Not(v.f), rank(r) <= best_possible), rank(r), best_possible)
    # refers that also reach persons with no ground (docs/semantics.md, step 3)
    unfounded = [
        (clauses[c.id][1], c.relief or "release") for c in decree.clauses if c.without_ground
    ]
    reached = z3.Or([z3.Not(v.f) for v, _ in unfounded])
    ineligible = z3.Or(excluded, z3.And(z3.Not(possible), z3.Not(reached)))
    review = z3.And(
        z3.Not(ineligible),
        z3.Or(
            z3.Or([z3.Not(v.known) for _, v in checks]),
            z3.Not(any_true),
            z3.Or([z3.Not(v.f) for v in refers]),
            best_possible < best_true,
        ),
    )
    eligible = z3.And(z3.Not(ineligible), z3.Not(review))
    fallback = z3.IntVal(worst)
    for v, r in reversed(unfounded):  # the first in file order that reaches the person
        fallback = z3.If(z3.Not(v.f), rank(r), fallback)
    ranked = z3.If(eligible, best_true, z3.If(possible, best_possible, fallback))
    relief_code = z3.IntVal(-1)
    for i, relief in enumerate(ranking):
        relief_code = z3.If(ranked == i, person.strings.code(relief), relief_code)
    return Decision(
        clauses=clauses,
        eligible=eligible,
        ineligible=ineligible,
        review=review,
        relief=Num(z3.Not(ineligible), relief_code),
        excluded=excluded,
    )
