"""Boundary cases of SEMANTICS.md, each checked on the compiled engine and the
interpreter."""

from __future__ import annotations

import datetime as dt
from fractions import Fraction
from typing import Any

import duckdb
import pytest

from amnesty.compile.interpreter import interpret
from amnesty.decree import ir
from amnesty.decree.model import Decree
from amnesty.engine import evaluate
from amnesty.registry.profiles import get_profile

from .helpers import BASE_PLACES, admission, clause, decree, fact, load, n, person, s

KP = get_profile("kp-2015")
AS_OF = dt.date(2015, 4, 24)


def run(
    d: Decree,
    persons: list[dict[str, Any]],
    convictions: list[dict[str, Any]] = (),
    events: list[dict[str, Any]] | None = None,
) -> dict[str, dict[str, Any]]:
    rows = {
        **BASE_PLACES,
        "persons": persons,
        "convictions": list(convictions),
        "events": events if events is not None else [admission(p["person_id"]) for p in persons],
    }
    conn = duckdb.connect()
    load(conn, rows, KP)
    got = {r["person_id"]: r for r in evaluate(d, conn, profile=KP).determinations.to_pylist()}
    assert got == interpret(d, rows, KP).determinations
    return got


def age(op: str, years: int) -> ir.Compare:
    return ir.Compare(op=op, left=fact("person.age", "int"), right=n(years))


def conv(
    pid: str,
    start: dt.date,
    months: int | None = 12,
    kind: str = "term",
    code: str = "T1",
    cid: str | None = None,
) -> dict[str, Any]:
    return {
        "conviction_id": cid or f"c-{pid}-{start}",
        "person_id": pid,
        "offence_code": code,
        "sentence_kind": kind,
        "term_months": months,
        "start_date": start,
    }


def test_over_55_is_false_on_the_birthday_and_has_reached_55_true() -> None:
    d = decree(
        [clause("over", "grant", age(">", 55)), clause("reached", "grant", age(">=", 55))],
        as_of=AS_OF,
    )
    got = run(d, [person("A", dt.date(1960, 4, 24))])
    assert got["A"]["grounds"] == ["reached"]


def test_29_february_birthday_falls_on_28_february_in_a_common_year() -> None:
    d = decree([clause("g", "grant", age(">=", 55))], as_of=dt.date(2015, 2, 28))
    got = run(d, [person("A", dt.date(1960, 2, 29))])
    assert got["A"]["outcome"] == "eligible"
    d = decree([clause("g", "grant", age(">=", 55))], as_of=dt.date(2015, 2, 27))
    assert run(d, [person("A", dt.date(1960, 2, 29))])["A"]["outcome"] == "ineligible"


def test_partial_birth_date_is_unknown_only_where_the_range_straddles() -> None:
    d = decree(
        [clause("g", "grant", age(">=", 55)), clause("h", "grant", age(">=", 50))], as_of=AS_OF
    )
    got = run(d, [person("A", dt.date(1960, 4, 1), "month")])
    assert got["A"]["grounds"] == ["h"]
    assert got["A"]["unknown"] == [{"clause": "g", "missing": ["person.age"]}]


def test_less_than_one_year_is_a_calendar_year_across_a_leap_day() -> None:
    served = ir.Compare(
        op="<",
        left=ir.Between(start=fact("sentence.start", "date"), end=ir.AsOf()),
        right=ir.Duration(amount=1, unit="years"),
    )
    for as_of, expected in (
        (dt.date(2016, 4, 23), "eligible"),
        (dt.date(2016, 4, 24), "ineligible"),
    ):
        d = decree([clause("g", "grant", served)], as_of=as_of)
        got = run(d, [person("A")], [conv("A", dt.date(2015, 4, 24), 60)])
        assert got["A"]["outcome"] == expected, as_of
    assert (dt.date(2016, 4, 24) - dt.date(2015, 4, 24)).days == 366


def test_month_end_plus_one_month_clamps() -> None:
    ends = ir.Compare(
        op="=",
        left=fact("sentence.end", "date"),
        right=ir.Literal(value=dt.date(2015, 2, 28), type="date"),
    )
    d = decree([clause("g", "grant", ends)], as_of=dt.date(2015, 1, 31))
    got = run(d, [person("A")], [conv("A", dt.date(2015, 1, 31), 1)])
    assert got["A"]["outcome"] == "eligible"


def test_all_of_no_convictions_is_unknown_so_review_not_eligible() -> None:
    all_theft = ir.Quantifier(
        kind="all",
        collection="convictions",
        condition=ir.InSet(operand=fact("conviction.category"), values=(s("theft"),)),
    )
    got = run(decree([clause("g", "grant", all_theft)]), [person("A")])
    assert got["A"]["outcome"] == "review"
    assert got["A"]["unknown"] == [{"clause": "g", "missing": ["convictions"]}]


def test_no_conviction_is_never_eligible_by_an_offence_ground() -> None:
    any_theft = ir.Quantifier(
        kind="any",
        collection="convictions",
        condition=ir.InSet(operand=fact("conviction.category"), values=(s("theft"),)),
    )
    got = run(decree([clause("g", "grant", any_theft)]), [person("A")])
    assert got["A"]["outcome"] == "ineligible" and got["A"]["blocking"] == []


TRUE = ir.Literal(value=True, type="bool")
FALSE = ir.Literal(value=False, type="bool")
UNKNOWN = fact("health.able_to_work", "bool")  # no assessment: unknown


@pytest.mark.parametrize(
    ("clauses", "outcome", "relief"),
    [
        ([("g", "grant", TRUE, None), ("x", "exclude", TRUE, None)], "ineligible", None),  # 1
        ([("g", "grant", TRUE, None), ("r", "require", FALSE, None)], "ineligible", None),  # 2
        ([("g", "grant", FALSE, None)], "ineligible", None),  # 3
        ([("g", "grant", TRUE, None), ("x", "exclude", UNKNOWN, None)], "review", "release"),  # 4
        ([("g", "grant", UNKNOWN, None)], "review", "release"),  # 5
        ([("g", "grant", TRUE, None), ("f", "refer", UNKNOWN, None)], "review", "release"),  # 6
        (
            [("g", "grant", TRUE, "commutation"), ("h", "grant", UNKNOWN, "release")],
            "review",
            "release",
        ),  # 7
        (
            [("g", "grant", TRUE, "commutation"), ("h", "grant", TRUE, "release")],
            "eligible",
            "release",
        ),  # 8 and ranking
        (
            [("g", "grant", TRUE, "release"), ("h", "grant", UNKNOWN, "release")],
            "eligible",
            "release",
        ),  # 7 needs a strictly higher rank
    ],
)
def test_outcome_steps(
    clauses: list[tuple[str, str, ir.Expr, str | None]], outcome: str, relief: str | None
) -> None:
    d = decree([clause(i, k, p, relief=r) for i, k, p, r in clauses])
    got = run(d, [person("A")])["A"]
    assert (got["outcome"], got["relief"]) == (outcome, relief)


def test_relief_ties_keep_the_first_grant_in_file_order() -> None:
    d = decree(
        [
            clause("a", "grant", TRUE, relief="conditional_release"),
            clause("b", "grant", TRUE, relief="conditional_release"),
        ]
    )
    got = run(d, [person("A")])["A"]
    assert got["relief"] == "conditional_release" and got["grounds"] == ["a", "b"]


def test_population_leaves_out_the_dead_released_and_ended() -> None:
    d = decree([clause("g", "grant", TRUE)])
    persons = [person(p) for p in ("in", "dead", "freed", "ended", "never", "detainee")]
    events = [admission(p) for p in ("in", "dead", "freed", "ended", "detainee")]
    events += [
        admission("dead", dt.date(2014, 1, 1), etype="death"),
        admission("freed", dt.date(2015, 8, 1), etype="release", decree_id="kp-08", run_id="run-1"),
    ]
    rows = {
        **BASE_PLACES,
        "persons": persons,
        "events": events,
        "convictions": [
            conv("in", dt.date(2014, 1, 1), 60),
            conv("ended", dt.date(2010, 1, 1), 12),
        ],
    }
    conn = duckdb.connect()
    load(conn, rows, KP)
    ev = evaluate(d, conn, profile=KP)
    assert sorted(ev.determinations.column("person_id").to_pylist()) == ["detainee", "in"]
    assert ev.left_out.by_reason == {
        "died": 1,
        "released": 1,
        "sentence ended": 1,
        "not yet admitted": 1,
    }
    assert ev.left_out.by_decree == {"kp-08": 1}


def test_readings_inside_a_quantifier_are_refused_clearly() -> None:
    """Found by the agreement test: contested readings nested in a quantifier used to
    compile to SQL that named a column that does not exist."""
    from amnesty.errors import EngineError

    theft = ir.Compare(op="=", left=fact("conviction.category"), right=s("theft"))
    drugs = ir.Compare(op="=", left=fact("conviction.category"), right=s("drug_trafficking"))
    nested = ir.Quantifier(
        kind="any",
        collection="convictions",
        condition=ir.Contested(applied="a", readings=(("a", theft), ("b", drugs))),
    )
    conn = duckdb.connect()
    load(conn, {**BASE_PLACES, "persons": [person("p")], "events": [admission("p")]}, KP)
    with pytest.raises(EngineError, match="whole clause"):
        evaluate(decree([clause("g", "grant", nested, relief="release")]), conn, profile=KP)


def test_explain_agrees_with_evaluate_and_shows_the_facts() -> None:
    from amnesty.explanation import explain

    d = decree(
        [
            clause("g", "grant", age(">=", 55)),
            clause(
                "x", "exclude", ir.Compare(op="=", left=fact("person.authority"), right=s("MSS"))
            ),
        ],
        as_of=AS_OF,
    )
    rows = {
        **BASE_PLACES,
        "persons": [person("A", dt.date(1960, 4, 24))],
        "events": [admission("A")],
        "convictions": [],
    }
    conn = duckdb.connect()
    load(conn, rows, KP)
    e = explain(d, conn, "A")
    assert e.outcome == "eligible" and e.relief == "release"
    assert [(c.id, c.value) for c in e.clauses] == [("g", "true"), ("x", "false")]
    assert e.clauses[0].facts["person.age"]["person__age"] == 55
    assert e.clauses[1].facts == {"person.authority": "MPS"}


@pytest.mark.postgres
def test_nobody_under_sentence_on_postgres_is_an_empty_table_not_an_error(pg_conn: Any) -> None:
    # Regression (#3): PostgreSQL returned no columns for a query with no rows, and
    # evaluating a registry where nobody is under sentence raised KeyError.
    from .pg import load_pg

    d = decree([clause("g", "grant", TRUE)])
    rows = {**BASE_PLACES, "persons": [person("never")], "convictions": [], "events": []}
    load_pg(pg_conn, rows, KP)
    ev = evaluate(d, pg_conn, profile=KP)
    assert ev.determinations.num_rows == 0
    assert ev.determinations.schema.names[:3] == ["person_id", "facility_id", "outcome"]
    assert ev.left_out.by_reason == {"not yet admitted": 1}
    assert interpret(d, rows, KP).determinations == {}


def _left_out_rows() -> dict[str, list[dict[str, Any]]]:
    released = dt.date(2015, 2, 16)
    return {
        **BASE_PLACES,
        "persons": [person("R"), person("E")],
        "events": [
            admission("R"),
            admission("R", released, etype="release", decree_id="KP-2015-02", run_id="run-7"),
            admission("E"),
        ],
        "convictions": [conv("R", dt.date(2010, 1, 1), 120), conv("E", dt.date(2013, 1, 31), 24)],
    }


@pytest.mark.parametrize(
    "engine", ["duckdb", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def test_explain_of_a_person_left_out_dates_the_event_not_the_as_of(
    engine: str, request: pytest.FixtureRequest
) -> None:
    # Regression (#10): "not decided: released on <the as-of date>" named the day the
    # run looked as the day of release.
    from amnesty.explanation import explain

    d = decree([clause("g", "grant", age(">=", 18))], as_of=AS_OF)
    if engine == "duckdb":
        conn: Any = duckdb.connect()
        load(conn, _left_out_rows(), KP)
    else:
        from .pg import load_pg

        conn = request.getfixturevalue("pg_conn")
        load_pg(conn, _left_out_rows(), KP)
    released = explain(d, conn, "R")
    assert released.outcome is None
    assert released.why == (
        "not decided: released by decree KP-2015-02, run run-7 on 2015-02-16; "
        "not in the population on 2015-04-24"
    )
    # 2013-01-31 + 24 months = 2015-01-31.
    ended = explain(d, conn, "E")
    assert ended.why == (
        "not decided: sentence ended on 2015-01-31; not in the population on 2015-04-24"
    )


def test_an_unrecorded_start_or_term_is_unknown_and_keeps_the_person_in() -> None:
    # #10: a sentence whose start or length is not recorded is never decided on an
    # invented value; the person is under sentence (no known end) and goes to review.
    half = ir.Compare(
        op=">=",
        left=ir.AsOf(),
        right=ir.Shift(
            date=fact("sentence.start", "date"),
            duration=ir.Scaled(fraction=Fraction(1, 2), operand=fact("sentence.term", "duration")),
            sign=1,
        ),
    )
    d = decree([clause("half", "grant", half)], as_of=AS_OF)
    got = run(
        d,
        [person("S"), person("T")],
        [conv("S", None, 12), conv("T", dt.date(2010, 1, 1), None, cid="c-T")],  # type: ignore[arg-type]
    )
    assert got["S"]["outcome"] == got["T"]["outcome"] == "review"
    assert got["S"]["unknown"] == [
        {"clause": "half", "missing": ["sentence.start", "sentence.term"]}
    ]
    assert got["T"]["unknown"] == [{"clause": "half", "missing": ["sentence.term"]}]
