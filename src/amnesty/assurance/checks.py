"""Built-in checks that need no assertion, each one question to the solver.

* ``unsatisfiable-clause``: no possible person makes the clause true;
* ``shadowed-grant``: every person the grant holds for is excluded;
* ``refer-never-fires``: the refer is false for everyone who reaches step 6;
* ``relief-tie``: two grants with the same relief but different terms can both
  decide one eligible person, and only file order chooses between them;
* ``empty-scope``: the scope leaves out everyone.

``differences`` asks whether two decrees (a decree and a variant) decide any
person differently, and gives that person.
"""

from __future__ import annotations

import datetime as dt
import time

import z3

from amnesty.assurance.assertions import Finding, in_each_part
from amnesty.assurance.decide import scope_value
from amnesty.assurance.person import Bounds
from amnesty.assurance.replay import engine_determinations
from amnesty.assurance.solve import DEFAULT_TIMEOUT_S, Answer, Goal, Prover, World
from amnesty.assurance.values import TV
from amnesty.decree.model import Clause, Decree
from amnesty.registry.profiles import Profile

CHECK_TIMEOUT_S = 8.0


def _gave_up(code: str, what: str, answer: Answer, clauses: tuple[str, ...]) -> Finding:
    return Finding(
        code,
        "unknown",
        f"{what}: not decided, the solver gave up after {answer.seconds:.1f} s ({answer.reason})",
        answer,
        clauses=clauses,
    )


def builtin_checks(
    decree: Decree,
    bounds: Bounds | None = None,
    timeout_s: float = CHECK_TIMEOUT_S,
    profile: Profile | None = None,
    time_limit: float | None = None,
) -> list[Finding]:
    """Every built-in check; a finding is reported only when the problem exists
    (status ``proved``: it holds for every person) or the solver gave up.
    ``time_limit`` bounds all questions together; those left are reported unknown.
    A decree in parts is checked part by part."""
    if decree.parts:
        share = None if time_limit is None else time_limit / len(decree.parts)
        return in_each_part(decree, lambda d: builtin_checks(d, bounds, timeout_s, profile, share))
    out: list[Finding] = []
    started = time.perf_counter()
    prover = Prover([decree], bounds, profile)

    def ask(code: str, what: str, goal: Goal, clauses: tuple[str, ...]) -> Answer | None:
        left = None if time_limit is None else time_limit - (time.perf_counter() - started)
        if left is not None and left < 0.5:
            out.append(_gave_up(code, what, Answer("unknown", 0.0, reason="time limit"), clauses))
            return None
        answer = prover.search(goal, min(timeout_s, left or timeout_s))
        if answer.status == "unknown":
            out.append(_gave_up(code, what, answer, clauses))
            return None
        return answer

    def nobody(code: str, goal: Goal, clause: Clause | None, message: str) -> bool:
        """Report ``message`` when no possible person meets ``goal``."""
        ids = (clause.id,) if clause else ("scope",)
        answer = ask(code, f"{clause.kind} {clause.id}" if clause else "scope", goal, ids)
        if answer is None or answer.status != "unsat":
            return False
        out.append(Finding(code, "proved", message, answer, clause.pos if clause else None, ids))
        return True

    if decree.scope.predicate is not None:
        nobody(
            "empty-scope",
            lambda w: _scope(decree, w).t,
            None,
            "the scope leaves out every possible person",
        )
    for c in decree.clauses:
        what = f"{c.kind} {c.id}"
        if nobody("unsatisfiable-clause", holds(c), c, f"{what} is true for no possible person"):
            continue
        if c.kind == "grant":
            nobody(
                "shadowed-grant",
                unblocked(c),
                c,
                f"{what} is shadowed: every possible person it holds for is excluded",
            )
        if c.kind == "refer":
            nobody(
                "refer-never-fires",
                fires(c),
                c,
                f"{what} can never send anyone to review: whoever it holds for is ineligible "
                "already",
            )
    grants = [c for c in decree.clauses if c.kind == "grant"]
    for i, a in enumerate(grants):
        for b in grants[i + 1 :]:
            terms = (a.until, a.for_months, a.commutation)
            if a.relief != b.relief or terms == (b.until, b.for_months, b.commutation):
                continue
            answer = ask("relief-tie", f"grants {a.id} and {b.id}", tie(a, b), (a.id, b.id))
            if answer is not None and answer.status == "sat":
                out.append(
                    Finding(
                        "relief-tie",
                        "refuted",
                        f"grants {a.id} and {b.id} both give {a.relief} on different terms and "
                        f"can both hold for one eligible person; only file order chooses {a.id}",
                        answer,
                        b.pos,
                        (a.id, b.id),
                    )
                )
    return out


def _v(world: World, clause: Clause) -> TV:
    return world.decisions[0].clauses[clause.id][1]


# The questions the checks ask; a problem is reported when no person meets one.


def holds(c: Clause) -> Goal:
    """Someone for whom the clause is true."""
    return lambda w: _v(w, c).t


def unblocked(c: Clause) -> Goal:
    """Someone for whom the grant holds and nothing blocks."""
    return lambda w: z3.And(_v(w, c).t, z3.Not(w.decisions[0].excluded))


def fires(c: Clause) -> Goal:
    """Someone the refer reaches (true or unknown) who is not ineligible anyway."""
    return lambda w: z3.And(z3.Not(_v(w, c).f), z3.Not(w.decisions[0].ineligible))


def tie(a: Clause, b: Clause) -> Goal:
    """Someone eligible on both grants."""
    return lambda w: z3.And(_v(w, a).t, _v(w, b).t, w.decisions[0].eligible)


def _scope(decree: Decree, world: World) -> TV:
    value = scope_value(decree, world.person)
    return value if value is not None else TV.of(True)


def differences(
    a: Decree,
    b: Decree,
    bounds: Bounds | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    profile: Profile | None = None,
    as_of: dt.date | None = None,
) -> Finding:
    """Is there a person whom ``b`` decides differently from ``a`` (outcome or relief)?

    Both are applied at one as-of date (``as_of``, default ``a``'s) to one symbolic
    person. ``refuted`` (with the witness): they differ; ``proved``: they agree on
    every person within the bounds.
    """

    def differ(world: World) -> z3.BoolRef:
        da, db = world.decisions
        p = world.person
        return z3.Or(
            da.outcome(p).value != db.outcome(p).value,
            z3.And(da.relief.known, db.relief.known, da.relief.value != db.relief.value),
        )

    answer = Prover([a, b], bounds, profile, as_of).search(differ, timeout_s)
    if answer.status == "sat":
        rows = answer.witness
        assert rows is not None
        pid = rows["persons"][0]["person_id"]
        got = [engine_determinations(d, rows, profile, as_of).get(pid) for d in (a, b)]
        finding = Finding(
            "differences",
            "refuted",
            f"{b.id} decides the person below differently from {a.id}",
            answer,
            engine={a.id: got[0], b.id: got[1]},
        )
        same = [(g or {}).get("outcome") for g in got], [(g or {}).get("relief") for g in got]
        if same[0][0] == same[0][1] and same[1][0] == same[1][1]:
            finding.status = "unknown"
            finding.message = (
                "the solver's witness does not replay through the engine (please report it)"
            )
        return finding
    if answer.status == "unsat":
        return Finding(
            "differences", "proved", f"{a.id} and {b.id} decide every person alike", answer
        )
    return _gave_up("differences", f"{a.id} against {b.id}", answer, ())
