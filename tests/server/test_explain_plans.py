"""Explanations through the plan cache (``workflow/run_explanation.py: PLANS``).

An explanation compiled once per (decree text, as-of date, profile, dialect) and
reused for every person must say exactly what a fresh compilation says: for every
person of the world, on both databases, with the person's id spliced into SQL
that was rendered for another id. A person id with a quote in it reaches the
database as a literal, not as SQL. A changed as-of date gets a plan of its own,
and the cache keeps no more plans than its bound.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "workflow"))

from casework_world import PEOPLE, World, build_world

from amnesty.decree import load
from amnesty.engine import as_backend
from amnesty.explanation import ExplainPlan, explain
from amnesty.store.database import as_database
from amnesty.workflow import run_explanation
from amnesty.workflow.run_explanation import PLANS, PlanCache, explain_under_stored_decree


def _world(url: str) -> World:
    PLANS.clear()
    return build_world(url)


def test_a_planned_explanation_is_the_fresh_one_for_every_person(backend_url: str) -> None:
    world = _world(backend_url)
    db = as_database(world.url)
    decree = load(world.decree_path)
    as_of = dt.date(2015, 10, 1)
    with db.raw() as raw:
        backend = as_backend(raw)
        plan = ExplainPlan(decree, backend.dialect, as_of)
        for person in [*PEOPLE, "NOBODY", "P0'1; DROP TABLE persons; --"]:
            fresh = _or_error(lambda p=person: explain(decree, backend, p, as_of=as_of))
            planned = _or_error(
                lambda p=person: explain(decree, backend, p, as_of=as_of, plan=plan)
            )
            assert planned == fresh, person
    with db.raw() as raw:  # the registry is still there after the quoted id
        assert explain(decree, raw, "P01", as_of=as_of).outcome == "eligible"


def _or_error(call: object) -> object:
    try:
        return call().to_dict()  # type: ignore[operator]
    except Exception as exc:  # the same refusal either way (a person not in the registry)
        return f"{type(exc).__name__}: {exc}"


def test_the_server_path_compiles_once_and_answers_as_before(backend_url: str) -> None:
    world = _world(backend_url)
    before = PLANS.compiled
    answers = {p: explain_under_stored_decree(world.url, world.run_id, p) for p in PEOPLE}
    assert PLANS.compiled == before + 1  # one plan for the run's decree and date
    assert answers["P03"].stored is not None and answers["P03"].today.outcome == "review"
    assert all(a.agrees for a in answers.values())
    referred = [c for c in answers["P03"].today.clauses if c.id == "r-health"]
    assert referred and referred[0].value == "true"


def test_another_date_gets_its_own_plan_and_the_cache_is_bounded(duck_url: str) -> None:
    world = _world(duck_url)
    decree = load(world.decree_path)
    cache = PlanCache(size=2)
    plans = [cache.plan(decree, "hash", "duckdb", dt.date(2015, 10, day)) for day in (1, 2, 3, 1)]
    assert cache.compiled == 4  # the 1 October plan had been pushed out by the 3rd
    assert plans[0] is not plans[1] and plans[0].as_of != plans[1].as_of
    assert cache.plan(decree, "hash", "duckdb", dt.date(2015, 10, 1)) is plans[3]
    assert cache.compiled == 4
    assert len(cache._plans) == 2
    assert run_explanation.PLANS.size >= 1
