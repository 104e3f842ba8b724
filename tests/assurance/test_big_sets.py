"""Sets of thousands of members: the same verdicts as one equality per member (#9).

A set's membership is translated as runs of consecutive codes searched by
halving (``values.member``); these tests hold it to the disjunction of
equalities it replaces, term against term, and hold the built-in checks'
verdicts on decrees whose sets have 2,500-5,000 members to what the sets make
true by construction.
"""

from __future__ import annotations

import random

import pytest
import z3
from hypothesis import given, settings
from hypothesis import strategies as st

from amnesty.assurance import builtin_checks
from amnesty.assurance.checks import holds
from amnesty.assurance.replay import engine_determinations
from amnesty.assurance.solve import Prover
from amnesty.assurance.values import FEW_RUNS, member, runs
from amnesty.decree import load_text


def same_members(key: z3.ArithRef, values: list[int]) -> bool:
    """z3 proves that ``member`` holds exactly where some ``key == v`` does."""
    plain = z3.Or([key == v for v in values])
    solver = z3.Solver()
    solver.add(member(key, values) != plain)
    return solver.check() == z3.unsat


def test_runs_are_maximal_and_ordered() -> None:
    assert runs([]) == []
    assert runs([7, 3, 4, 5, 5, 10, 9, -1]) == [(-1, -1), (3, 5), (7, 7), (9, 10)]


@given(st.lists(st.integers(-60, 60), max_size=80))
@settings(max_examples=150, deadline=None)
def test_membership_is_the_disjunction_of_equalities(values: list[int]) -> None:
    x = z3.Int("x")
    assert same_members(x, values)
    assert same_members(x + 3, values)  # a key that is a term, not a variable


def test_membership_of_thousands_of_scattered_values_is_exact() -> None:
    rng = random.Random(9)
    x = z3.Int("x")
    for size in (FEW_RUNS, FEW_RUNS + 1, 700, 3000):
        values = [2 * v for v in rng.sample(range(-5 * size, 5 * size), size)]
        assert len(runs(values)) == size  # even numbers: no two consecutive
        assert same_members(x, values)
    assert same_members(x, list(range(5000)))  # one run


def _ids(numbers: range) -> str:
    return "{" + ", ".join(f'"F-{i}"' for i in numbers) + "}"


def _clause(cid: str, kind: str, predicate: str) -> str:
    relief = 'relief = "release"\n' if kind == "grant" else ""
    return (
        f'\n[[clause]]\nid = "{cid}"\nkind = "{kind}"\n{relief}'
        f'text = "t"\nsource = "s"\npredicate = \'{predicate}\'\n'
    )


HEAD = 'id = "t"\ntitle = "t"\njurisdiction = "kp-2015"\nas_of = 2015-10-08\n'
EVENS, ODDS = range(0, 10_000, 2), range(1, 10_000, 2)  # 5,000 facilities each

# G1's sets come first, so the even and the odd facilities get two blocks of
# consecutive codes; the multiples of 4 and of 3 then fall on every other and every
# third code, thousands of runs, which the halving search decides.
FACILITIES = HEAD + "".join(
    [
        _clause("G1", "grant", f"facility.id in {_ids(EVENS)} and facility.id in {_ids(ODDS)}"),
        _clause("G2", "grant", f"facility.id in {_ids(range(0, 10_000, 4))}"),
        _clause("G3", "grant", f"facility.id in {_ids(range(0, 10_000, 3))}"),
        _clause("G4", "grant", 'facility.id = "F-4998"'),
        _clause("G5", "grant", 'facility.id = "F-4999"'),
        _clause("G6", "grant", f"not facility.id in {_ids(EVENS)}"),
        _clause("X1", "exclude", f"facility.id in {_ids(EVENS)}"),
    ]
)


def _found(text: str) -> set[tuple[str, tuple[str, ...]]]:
    findings = builtin_checks(load_text(text, "t.toml"), time_limit=None)
    assert [f.message for f in findings if f.status == "unknown"] == []
    return {(f.name, f.clauses) for f in findings}


@pytest.mark.slow  # a few seconds each: thousands of members, every check
def test_big_facility_sets_keep_their_verdicts() -> None:
    """Disjoint sets meet nowhere; a subset of the excluded set, or one of its members,
    is shadowed; a set reaching outside it, a member outside it, or its complement
    is not."""
    assert _found(FACILITIES) == {
        ("unsatisfiable-clause", ("G1",)),
        ("shadowed-grant", ("G2",)),
        ("shadowed-grant", ("G4",)),
    }


@pytest.mark.slow  # a few seconds each: thousands of members, every check
def test_a_witness_in_a_big_set_is_one_of_its_members_to_the_engine() -> None:
    decree = load_text(FACILITIES, "t.toml")
    answer = Prover([decree]).search(holds(decree.clause("G3")))
    assert answer.status == "sat"
    rows = answer.witness
    assert rows is not None
    facility = rows["persons"][0]["facility_id"]
    assert int(facility.removeprefix("F-")) % 3 == 0
    pid = rows["persons"][0]["person_id"]
    assert "G3" in engine_determinations(decree, rows)[pid]["grounds"]


def _codes(numbers: range) -> str:
    return "{" + ", ".join(f'"ART-{i}"' for i in numbers) + "}"


def _months(numbers: range) -> str:
    return "{" + ", ".join(str(i) for i in numbers) + "}"


# Term lengths: a conviction's term is 1-600 months; 5,000 odd lengths none of them
# consecutive, from 601 up, leave no term in the set; from 1 up, the odd terms.
CONVICTIONS = HEAD + "".join(
    [
        _clause(
            "G1", "grant", f"any convictions (term_months in {_months(range(601, 10_600, 2))})"
        ),
        _clause("G2", "grant", f"any convictions (term_months in {_months(range(1, 10_000, 2))})"),
        _clause("G3", "grant", f"any convictions (offence_code in {_codes(range(0, 5000, 2))})"),
        _clause("G4", "grant", f"any convictions (offence_code in {_codes(range(5000, 7500))})"),
        _clause("X1", "exclude", f"any convictions (offence_code in {_codes(range(5000))})"),
    ]
)


@pytest.mark.slow  # a few seconds each: thousands of members, every check
def test_big_sets_inside_quantifiers_keep_their_verdicts() -> None:
    """Over every conviction slot: a set of terms no sentence has is true for no one; a
    list of offence codes inside the excluded list is shadowed, one reaching past it
    is not."""
    assert _found(CONVICTIONS) == {
        ("unsatisfiable-clause", ("G1",)),
        ("shadowed-grant", ("G3",)),
    }
