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
from amnesty.registry.profiles import Profile, jurisdiction_profile

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
        prof = profile or jurisdiction_profile(first.jurisdiction, first.source_path)
        person = SymbolicPerson(prof, as_of or first.as_of, Strings(), bounds or Bounds())
        return World(person, [decide(d, person) for d in decrees])

    def ask(self, goal: z3.BoolRef, timeout_s: float = DEFAULT_TIMEOUT_S, seed: int = 0) -> Answer:
        """One question, to a fresh solver: z3's incremental mode is slower on these."""
        solver = z3.Solver()
        solver.set("timeout", max(1, int(timeout_s * 1000)))
        solver.set("random_seed", seed)
        # Translating the goal may have added constraints (parts of computed dates).
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


class Prover:
    """Questions about some decrees, asked of a small person first, then of the full bound.

    A witness is looked for first among persons with one conviction and two events
    (found fast there, and easy to read), then up to the full bounds, whose
    ``unsat`` is the proof. The symbolic persons are built once per prover.
    """

    def __init__(
        self,
        decrees: list[Decree],
        bounds: Bounds | None = None,
        profile: Profile | None = None,
        as_of: dt.date | None = None,
    ) -> None:
        self.full = World.of(decrees, bounds, profile, as_of)
        b = self.full.person.bounds
        small = Bounds(min(1, b.convictions), min(2, b.events))
        self.small = None if small == b else World.of(decrees, small, profile, as_of)

    def search(self, goal: Goal, timeout_s: float = DEFAULT_TIMEOUT_S) -> Answer:
        spent = 0.0
        if self.small is not None:
            # Two tries with different seeds: z3's time to a witness varies a lot.
            question = goal(self.small)
            for seed in (0, 1):
                first = self.small.ask(question, timeout_s * 0.3, seed)
                spent += first.seconds
                if first.status == "sat":
                    first.seconds = spent
                    return first
                if first.status == "unsat":
                    break
        answer = self.full.ask(goal(self.full), max(timeout_s - spent, 0.5))
        answer.seconds += spent
        return answer
