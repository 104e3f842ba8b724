"""A commutation's new sentence end, computed from the sentence and the clause's terms (#10)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from amnesty.compile.interpreter import Registry, person_view
from amnesty.compile.relief_dates import commuted_end, remaining_months, sentence_end
from amnesty.decree.model import CommutationTerms
from amnesty.registry.profiles import get_profile

d = dt.date
AS_OF = d(2015, 10, 1)


def term(months: int | None, start: dt.date | None, aggregate: str | None = None) -> dict[str, Any]:
    return {"sentence_kind": "term", "term_months": months, "start_date": start,
            "aggregate_id": aggregate}  # fmt: skip


def life(start: dt.date) -> dict[str, Any]:
    return {"sentence_kind": "life", "term_months": None, "start_date": start, "aggregate_id": None}


def test_remaining_is_whole_months_then_days() -> None:
    assert remaining_months(AS_OF, d(2017, 3, 1)) == (17, 0)
    assert remaining_months(AS_OF, d(2017, 3, 16)) == (17, 15)
    assert remaining_months(AS_OF, d(2015, 10, 31)) == (0, 30)
    # 31 January plus one month is 28 February: a whole month, no days over
    assert remaining_months(d(2015, 1, 31), d(2015, 2, 28)) == (1, 0)
    assert remaining_months(d(2015, 1, 31), d(2015, 3, 30)) == (1, 30)


@pytest.mark.parametrize(
    ("end", "fraction", "expected"),
    [
        # 17 months left, half cut: 8 1/2 months kept, the half month 15 days
        (d(2017, 3, 1), "1/2", d(2016, 6, 16)),
        # 12 months left: 6 kept, no days
        (d(2016, 10, 1), "1/2", d(2016, 4, 1)),
        # a third cut keeps two thirds: 8 of 12 months
        (d(2016, 10, 1), "1/3", d(2016, 6, 1)),
        # 1 month 1 day left, half kept: 15 1/2 days rounds up to 16
        (d(2015, 11, 2), "1/2", d(2015, 10, 17)),
        # 1 day left, half kept: half a day is served as a whole day, never ending early
        (d(2015, 10, 2), "1/2", d(2015, 10, 2)),
    ],
)
def test_a_fraction_cuts_the_remaining_term(end: dt.date, fraction: str, expected: dt.date) -> None:
    terms = CommutationTerms(fraction_of_remaining=fraction)
    assert commuted_end(end, AS_OF, terms) == expected


def test_a_fraction_never_lengthens_the_sentence() -> None:
    # 30 days left count as a whole month: 99/100 of it rounds up to all of it, no further
    end = d(2015, 10, 31)
    new = commuted_end(end, AS_OF, CommutationTerms(fraction_of_remaining="1/100"))
    assert new is not None and new <= end


def test_to_months_cuts_what_remains_to_that_many_months() -> None:
    assert commuted_end(d(2017, 3, 1), AS_OF, CommutationTerms(to_months=3)) == d(2016, 1, 1)
    assert commuted_end(d(2017, 3, 1), AS_OF, CommutationTerms(to_months=0)) == AS_OF
    # less than three months left already: the sentence keeps its end
    assert commuted_end(d(2015, 11, 20), AS_OF, CommutationTerms(to_months=3)) == d(2015, 11, 20)


def test_reduce_by_months_moves_the_end_back_in_calendar_months() -> None:
    assert commuted_end(d(2017, 3, 1), AS_OF, CommutationTerms(reduce_by_months=6)) == d(2016, 9, 1)
    # 31 March less one month is the last day of February
    assert commuted_end(d(2017, 3, 31), AS_OF, CommutationTerms(reduce_by_months=1)) == d(
        2017, 2, 28
    )


def test_a_reduction_beyond_the_remaining_term_ends_the_sentence_on_the_as_of_date() -> None:
    assert commuted_end(d(2016, 1, 1), AS_OF, CommutationTerms(reduce_by_months=3)) == AS_OF
    assert commuted_end(d(2016, 1, 1), AS_OF, CommutationTerms(reduce_by_months=12)) == AS_OF


def test_no_end_gives_no_date() -> None:
    for terms in (
        CommutationTerms(fraction_of_remaining="1/2"),
        CommutationTerms(to_months=3),
        CommutationTerms(reduce_by_months=6),
    ):
        assert commuted_end(None, AS_OF, terms) is None
    # death to life is a new kind, not a date
    assert commuted_end(d(2017, 3, 1), AS_OF, CommutationTerms(death_to_life=True)) is None


CASES: list[tuple[list[dict[str, Any]], list[dict[str, Any]], dt.date | None]] = [
    ([term(60, d(2012, 3, 1))], [], d(2017, 3, 1)),
    # concurrent: the latest end
    ([term(60, d(2012, 3, 1)), term(24, d(2015, 1, 1))], [], d(2017, 3, 1)),
    # an aggregate: earliest start plus the sum of the terms
    ([term(60, d(2012, 3, 1), "A"), term(24, d(2013, 1, 1), "A")], [], d(2019, 3, 1)),
    ([life(d(2012, 3, 1))], [], None),
    ([term(60, d(2012, 3, 1)), term(None, d(2013, 1, 1))], [], None),
    ([term(60, None)], [], None),
    ([], [], None),
    # the latest commutation on or before as_of decides; a later one is not yet seen
    (
        [life(d(2012, 3, 1))],
        [
            {"event_id": "E1", "event_date": d(2014, 1, 1), "new_end_date": d(2030, 1, 1)},
            {"event_id": "E2", "event_date": d(2015, 1, 1), "new_end_date": d(2025, 1, 1)},
            {"event_id": "E3", "event_date": d(2015, 12, 1), "new_end_date": d(2016, 1, 1)},
        ],
        d(2025, 1, 1),
    ),
]


@pytest.mark.parametrize(("convictions", "commutations", "expected"), CASES)
def test_the_sentence_end_is_the_interpreters(
    convictions: list[dict[str, Any]], commutations: list[dict[str, Any]], expected: dt.date | None
) -> None:
    assert sentence_end(convictions, commutations, AS_OF) == expected
    # the reference interpreter derives sentence.end on its own: the same date
    convs = [
        {**c, "person_id": "P", "conviction_id": f"C{i}", "offence_code": "T1"}
        for i, c in enumerate(convictions)
    ]
    events = [{**e, "person_id": "P", "event_type": "commutation"} for e in commutations]
    reg = Registry({"convictions": convs, "events": events})
    person = {"person_id": "P", "birth_date": d(1960, 1, 1), "birth_precision": "day"}
    view, _reason, _status = person_view(person, reg, AS_OF, get_profile("core"))
    assert view.facts["sentence.end"] == expected
