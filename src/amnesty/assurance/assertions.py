"""``amnesty prove``: each assertion of a decree proved for every person, or refuted.

``never P`` is refuted by a person for whom P is true, ``always P`` by one for
whom P is false; a person for whom P is unknown refutes neither (docs/assurance.md).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import z3

from amnesty.assurance.person import Bounds
from amnesty.assurance.solve import DEFAULT_TIMEOUT_S, Answer, World
from amnesty.assurance.translate import Translator
from amnesty.decree.model import Assertion, Decree
from amnesty.errors import Position
from amnesty.registry.profiles import Profile


@dataclass
class Finding:
    """What the solver said about one property: proved, refuted (with a witness) or unknown."""

    name: str  # the assertion id, or the built-in check's code
    status: str  # "proved", "refuted", "unknown" (the solver gave up)
    message: str
    answer: Answer
    position: Position | None = None
    clauses: tuple[str, ...] = ()  # the clauses a built-in check is about

    @property
    def witness(self) -> dict[str, list[dict[str, object]]] | None:
        return self.answer.witness


def violation(world: World, assertion: Assertion, decree_index: int = 0) -> z3.BoolRef:
    """The condition under which a person breaks ``assertion``."""
    decision = world.decisions[decree_index]
    extra = decision.names(world.person)
    value = Translator(world.person, extra=extra).condition(assertion.predicate)
    return value.t if assertion.kind == "never" else value.f


def prove(
    decree: Decree,
    bounds: Bounds | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    profile: Profile | None = None,
    as_of: dt.date | None = None,
) -> list[Finding]:
    """Prove or refute every assertion of ``decree``."""
    out = []
    for a in decree.assertions:
        world = World.of([decree], bounds, profile, as_of)
        answer = world.ask(violation(world, a), timeout_s)
        status = {"sat": "refuted", "unsat": "proved", "unknown": "unknown"}[answer.status]
        said = {
            "refuted": f"assertion {a.id} ({a.kind}) is refuted by the person below",
            "proved": f"assertion {a.id} ({a.kind}) holds for every person",
            "unknown": f"assertion {a.id}: the solver gave up ({answer.reason})",
        }[status]
        out.append(Finding(a.id, status, said, answer, a.pos))
    return out
