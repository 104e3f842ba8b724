"""One question to the solver: is there a person in the population for whom ``goal`` holds?

``sat`` gives a witness (registry rows, see :mod:`amnesty.assurance.witness`);
``unsat`` is a proof for every person within the bounds; ``unknown`` means the
solver gave up within its time limit, and says so.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import z3

from amnesty.assurance.decide import Decision, decide
from amnesty.assurance.person import Bounds, Strings, SymbolicPerson
from amnesty.assurance.witness import Rows, witness_rows
from amnesty.decree.model import Decree
from amnesty.registry.profiles import Profile, get_profile

Status = Literal["sat", "unsat", "unknown"]
DEFAULT_TIMEOUT_S = 20.0


@dataclass
class Answer:
    status: Status
    seconds: float
    witness: Rows | None = None
    reason: str = ""  # why the solver gave up


@dataclass
class World:
    """A symbolic person and how each decree of the question decides them."""

    person: SymbolicPerson
    decisions: list[Decision] = field(default_factory=list)

    @staticmethod
    def of(
        decrees: list[Decree],
        bounds: Bounds | None = None,
        profile: Profile | None = None,
        as_of: dt.date | None = None,
    ) -> World:
        first = decrees[0]
        prof = profile or get_profile(first.jurisdiction)
        person = SymbolicPerson(prof, as_of or first.as_of, Strings(), bounds or Bounds())
        return World(person, [decide(d, person) for d in decrees])

    def ask(self, goal: z3.BoolRef, timeout_s: float = DEFAULT_TIMEOUT_S) -> Answer:
        solver = z3.Solver()
        solver.set("timeout", max(1, int(timeout_s * 1000)))
        solver.add(*self.person.constraints)
        solver.add(self.person.in_population, goal)
        started = time.perf_counter()
        result = solver.check()
        seconds = time.perf_counter() - started
        if result == z3.sat:
            return Answer("sat", seconds, witness_rows(self.person, solver.model()))
        if result == z3.unsat:
            return Answer("unsat", seconds)
        return Answer("unknown", seconds, reason=solver.reason_unknown())


Goal = Callable[[World], z3.BoolRef]


def search(
    decrees: list[Decree],
    goal: Goal,
    bounds: Bounds | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    profile: Profile | None = None,
    as_of: dt.date | None = None,
) -> Answer:
    """Look for a person for whom ``goal`` holds: first among persons with one
    conviction and two events (witnesses are found fast there and read easily),
    then up to the full bounds, whose ``unsat`` is the proof."""
    full = bounds or Bounds()
    small = Bounds(min(1, full.convictions), min(2, full.events))
    spent = 0.0
    if small != full:
        world = World.of(decrees, small, profile, as_of)
        first = world.ask(goal(world), timeout_s / 4)
        spent = first.seconds
        if first.status == "sat":
            return first
    world = World.of(decrees, full, profile, as_of)
    answer = world.ask(goal(world), max(timeout_s - spent, 0.5))
    answer.seconds += spent
    return answer
