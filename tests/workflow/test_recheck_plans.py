"""The release re-check through its plan (``workflow/recheck.py: PLANS``, #8).

The decree is compiled once per (decree text, as-of date, profile, dialect) and
each batch's person ids are bound to the query when it runs. For every batch the
planned re-check must say what a fresh ``compile_decree(..., person_ids=batch)``
says, on both databases: a batch of everyone, a person whose id holds a quote
and SQL (in the registry, so that they are found and decided), an empty batch,
ids the registry does not hold. Another decree and another as-of date each get
their own plan, and no decree is ever handed a plan compiled from another.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from casework_world import BODY_DECREE_TOML, PEOPLE, World, build_world, make_decree

from amnesty.compile.sql import compile_decree
from amnesty.compile.sql.plans import PersonsPlan, PlanCache
from amnesty.decree import Decree, load_text
from amnesty.engine import as_backend, run_compiled
from amnesty.store.database import as_database
from amnesty.workflow import recheck
from amnesty.workflow.casefiles import RunInfo, decree_for_run, run_info

TRICKY = "P'); DROP TABLE x; --"


def _add_tricky_person(world: World) -> None:
    """A person at F1 like P02 (eligible, no pledge), under an id made to break SQL."""
    world.change(
        "persons",
        "INSERT INTO persons (person_id, name, name_romanised, sex, birth_date, "
        "birth_precision, citizenship, facility_id, custody_authority) VALUES "
        "(:p, 'x', 'x', 'M', DATE '1960-04-24', 'day', 'PRK', 'F1', 'MPS')",
        key=TRICKY,
        p=TRICKY,
    )
    world.change(
        "convictions",
        "INSERT INTO convictions (conviction_id, person_id, offence_code, offence_date, "
        "sentence_kind, term_months, start_date) VALUES "
        "(:c, :p, 'T1', DATE '2012-01-01', 'term', 60, DATE '2012-03-01')",
        key="C-tricky",
        c="C-tricky",
        p=TRICKY,
    )
    world.change(
        "events",
        "INSERT INTO events (event_id, person_id, event_type, event_date, facility_id) "
        "VALUES (:e, :p, 'admission', DATE '2012-03-01', 'F1')",
        key="E-tricky",
        e="E-tricky",
        p=TRICKY,
    )
    world.change(
        "health_assessments",
        "INSERT INTO health_assessments (assessment_id, person_id, assessed_on, severity, "
        "able_to_work) VALUES (:h, :p, DATE '2015-09-01', 'none', TRUE)",
        key="H-tricky",
        h="H-tricky",
        p=TRICKY,
    )


def _run_and_decree(world: World) -> tuple[RunInfo, Decree]:
    """The run and its decree as the release reads them (from the store's text)."""
    with as_database(world.url).connect() as conn:
        run = run_info(conn, world.run_id)
        return run, decree_for_run(conn, run)


def _fresh(decree: Decree, run: RunInfo, people: list[str], conn: Any) -> dict[str, Any]:
    """What the re-check said before plans: the decree compiled with the ids written in."""
    backend = as_backend(conn.connection.driver_connection)
    compiled = compile_decree(decree, backend.dialect, as_of=run.as_of, person_ids=people)
    return {r["person_id"]: r for r in run_compiled(backend, compiled).to_pylist()}


def test_the_planned_recheck_decides_each_batch_as_a_fresh_compilation(
    backend_url: str,
) -> None:
    world = build_world(backend_url)
    _add_tricky_person(world)
    recheck.PLANS.clear()
    made = recheck.PLANS.compiled
    batches = [
        [*PEOPLE, TRICKY, "NOBODY"],
        [],
        ["NOBODY", "P'1"],
        [TRICKY],
        ["P03", "P04", "P03"],
    ]
    db = as_database(world.url)
    run, decree = _run_and_decree(world)
    with db.connect() as conn:
        for batch in batches:
            planned = recheck.engine_evaluator(decree, run, batch, conn)
            assert planned == _fresh(decree, run, batch, conn), batch
        everyone = recheck.engine_evaluator(decree, run, batches[0], conn)
    assert recheck.PLANS.compiled == made + 1  # six batches, one plan
    assert {p: r["outcome"] for p, r in everyone.items()} == {
        **{p: v[3] for p, v in PEOPLE.items()},
        TRICKY: "eligible",
    }
    assert "NOBODY" not in everyone
    with db.connect() as conn:  # the registry is whole after the id with SQL in it
        assert recheck.engine_evaluator(decree, run, ["P02"], conn)["P02"]["outcome"] == (
            "eligible"
        )


def test_another_decree_and_another_date_get_plans_of_their_own(backend_url: str) -> None:
    world = build_world(backend_url)
    recheck.PLANS.clear()
    made = recheck.PLANS.compiled
    db = as_database(world.url)
    run, decree = _run_and_decree(world)
    with db.connect() as conn:
        # The same decree applied by a court: another text, and determinations that
        # name the court, which the first decree's plan would not give.
        by_court = load_text(BODY_DECREE_TOML.format(decree_id=decree.id), "court.toml")
        assert by_court.content_hash != decree.content_hash
        people = list(PEOPLE)
        first = recheck.engine_evaluator(decree, run, people, conn)
        court = recheck.engine_evaluator(by_court, run, people, conn)
        assert recheck.PLANS.compiled == made + 2
        assert court == _fresh(by_court, run, people, conn)
        assert {r["applied_by"] for r in court.values() if r["outcome"] == "eligible"} == {"court"}
        assert all("applied_by" not in r for r in first.values())
        # Five years from 1 March 2012: on 2 March 2017 every sentence has ended.
        later = dataclasses.replace(run, as_of=dt.date(2017, 3, 2))
        assert recheck.engine_evaluator(decree, later, people, conn) == {}
        assert _fresh(decree, later, people, conn) == {}
        assert recheck.PLANS.compiled == made + 3
        assert recheck.engine_evaluator(decree, run, people, conn) == first
        assert recheck.PLANS.compiled == made + 3


def test_a_decree_is_never_given_another_decrees_plan() -> None:
    cache: PlanCache[PersonsPlan] = PlanCache(PersonsPlan, size=2)
    one, other = make_decree("kp-2015-10"), make_decree("kp-2015-11")
    day = dt.date(2015, 10, 1)
    first = cache.plan(one, one.content_hash, "duckdb", day)
    assert cache.plan(one, one.content_hash, "duckdb", day) is first
    assert cache.plan(one, one.content_hash, "postgres", day) is not first
    # Under its own hash, and even under the first decree's, the other decree gets
    # a plan compiled from itself.
    assert cache.plan(other, other.content_hash, "duckdb", day).decree is other
    assert cache.plan(other, one.content_hash, "duckdb", day).decree is other
    # A decree with no content hash is compiled every time and never kept.
    unhashed = dataclasses.replace(one, content_hash="")
    made = cache.compiled
    assert cache.plan(unhashed, "", "duckdb", day) is not cache.plan(unhashed, "", "duckdb", day)
    assert cache.compiled == made + 2
    assert len(cache._plans) == 2  # bounded


def test_a_full_run_has_no_person_filter_and_a_plan_binds_one() -> None:
    decree = make_decree()
    for dialect in ("duckdb", "postgres"):
        full = compile_decree(decree, dialect).sql
        assert "$1" not in full and "ANY(" not in full
        plan = PersonsPlan(decree, dialect, decree.as_of)
        assert "= ANY(CAST($1 AS" in " ".join(plan.sql.split()).replace("( ", "(")
        assert plan.parameters(("P01", "P02")) == [["P01", "P02"]]
