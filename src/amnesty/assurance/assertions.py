"""``amnesty prove``: each assertion of a decree proved for every person, or refuted.

``never P`` is refuted by a person for whom P is true, ``always P`` by one for
whom P is false; a person for whom P is unknown refutes neither (docs/assurance.md).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, replace

import z3

from amnesty.assurance.person import Bounds
from amnesty.assurance.replay import assertion_value, engine_determinations, violated
from amnesty.assurance.solve import DEFAULT_TIMEOUT_S, Answer, Goal, Prover, World
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
    engine: dict[str, object] | None = None  # the engine's determination of the witness

    @property
    def witness(self) -> dict[str, list[dict[str, object]]] | None:
        return self.answer.witness


def violation(world: World, assertion: Assertion, decree_index: int = 0) -> z3.BoolRef:
    """The condition under which a person breaks ``assertion``."""
    decision = world.decisions[decree_index]
    extra = decision.names(world.person)
    value = Translator(world.person, extra=extra).condition(assertion.predicate)
    return value.t if assertion.kind == "never" else value.f


def breaking(assertion: Assertion) -> Goal:
    """The question "who breaks ``assertion``?"."""
    return lambda world: violation(world, assertion)


def in_each_part(decree: Decree, run: Callable[[Decree], list[Finding]]) -> list[Finding]:
    """``run`` on each part of a decree in parts, each finding's message naming its part."""
    out = []
    for part in decree.parts:
        for f in run(decree.part(part.id)):
            out.append(replace(f, message=f"part {part.id}: {f.message}"))
    return out


def prove(
    decree: Decree,
    bounds: Bounds | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    profile: Profile | None = None,
    as_of: dt.date | None = None,
) -> list[Finding]:
    """Prove or refute every assertion of ``decree``; of a decree in parts, in each part
    (the part named at the front of each message)."""
    if decree.parts and as_of is None:
        return in_each_part(decree, lambda d: prove(d, bounds, timeout_s, profile))
    out = []
    prover = Prover([decree], bounds, profile, as_of) if decree.assertions else None
    for a in decree.assertions:
        assert prover is not None
        answer = prover.search(breaking(a), timeout_s)
        status = {"sat": "refuted", "unsat": "proved", "unknown": "unknown"}[answer.status]
        said = {
            "refuted": f"assertion {a.id} ({a.kind}) is refuted by the person below",
            "proved": f"assertion {a.id} ({a.kind}) holds for every person",
            "unknown": f"assertion {a.id}: the solver gave up ({answer.reason})",
        }[status]
        finding = Finding(a.id, status, said, answer, a.pos)
        if answer.witness is not None:
            _replay(decree, a, finding, profile, as_of)
        out.append(finding)
    return out


def _replay(
    decree: Decree,
    assertion: Assertion,
    finding: Finding,
    profile: Profile | None,
    as_of: dt.date | None,
) -> None:
    """Run the witness through the engine; a witness the engine does not confirm is
    a gap in the translation, and is reported as such, never as a refutation."""
    rows = finding.answer.witness
    assert rows is not None
    pid = rows["persons"][0]["person_id"]
    row = engine_determinations(decree, rows, profile, as_of).get(pid)
    finding.engine = row
    value = (
        None if row is None else assertion_value(decree, assertion, rows, pid, row, profile, as_of)
    )
    if row is None or not violated(value, assertion):
        finding.status = "unknown"
        finding.message = (
            f"assertion {assertion.id}: the solver's counterexample does not replay through "
            "the engine (a gap in the translation; please report it)"
        )
