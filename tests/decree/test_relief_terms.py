"""Relief terms (#10): a commutation's fixed reduction and a temporary release's period."""

from __future__ import annotations

import datetime as dt

import pytest

from amnesty.decree import load_text
from amnesty.decree.checking import check_syntax
from amnesty.decree.parse import parse_text
from amnesty.errors import IllegalTransition
from amnesty.workflow.execution import sentence_change

HEAD = """id = "t"
title = "T"
jurisdiction = "kp-2015"
as_of = 2015-10-08
"""


def only_error(text: str) -> tuple[str, str, str, str]:
    errors = check_syntax(parse_text(text, "d.toml"), None).errors
    assert len(errors) == 1, [str(e) for e in errors]
    e = errors[0]
    return str(e.position), e.code, e.message, e.hint


def clause(relief: str, extra: str = "", tail: str = "") -> str:
    return f"""
[[clause]]
id = "G1"
kind = "grant"
relief = "{relief}"
text = "x"
source = "S"
{extra}predicate = 'age > 1'
{tail}"""


def test_reduce_by_months_is_read() -> None:
    decree = load_text(
        HEAD + clause("commutation", tail="[clause.commutation]\nreduce_by_months = 6\n")
    )
    terms = decree.clauses[0].commutation
    assert terms is not None and terms.reduce_by_months == 6 and terms.fraction_of_remaining is None


def test_two_cuts_are_refused_at_the_second() -> None:
    tail = '[clause.commutation]\nfraction_of_remaining = "1/2"\nreduce_by_months = 6\n'
    where, code, message, hint = only_error(HEAD + clause("commutation", tail=tail))
    assert (where, code) == ("d.toml:15:1", "commutation-terms-conflict")
    assert message == (
        "clause G1: a commutation cuts the sentence one way; "
        "it says fraction_of_remaining and reduce_by_months"
    )
    assert hint == "keep one of fraction_of_remaining, to_months, reduce_by_months"


def test_a_reduction_of_nothing_is_refused() -> None:
    tail = "[clause.commutation]\nreduce_by_months = 0\n"
    where, code, message, _ = only_error(HEAD + clause("commutation", tail=tail))
    assert (where, code) == ("d.toml:14:20", "wrong-type")
    assert message == "clause G1: reduce_by_months must be a whole number of months of at least 1"


def test_for_months_stands_for_until() -> None:
    decree = load_text(HEAD + clause("temporary_release", extra="for_months = 3\n"))
    assert decree.clauses[0].for_months == 3 and decree.clauses[0].until is None


def test_until_and_for_months_together_are_refused() -> None:
    extra = "until = 2015-12-31\nfor_months = 3\n"
    assert only_error(HEAD + clause("temporary_release", extra=extra))[:3] == (
        "d.toml:13:1",
        "until-and-for-months",
        "clause G1: a temporary_release says until or for_months, not both",
    )


def test_for_months_on_another_relief_is_refused() -> None:
    assert only_error(HEAD + clause("release", extra="for_months = 3\n"))[:3] == (
        "d.toml:12:1",
        "until-without-temporary",
        'clause G1: for_months is only for relief = "temporary_release"',
    )


def test_for_months_of_nothing_is_refused() -> None:
    where, code, message, _ = only_error(
        HEAD + clause("temporary_release", extra="for_months = 0\n")
    )
    assert (where, code) == ("d.toml:12:14", "wrong-type")
    assert message == "clause G1: for_months must be a whole number of months of at least 1"


@pytest.mark.parametrize(
    ("released", "months", "back"),
    [
        (dt.date(2015, 10, 8), 3, dt.date(2016, 1, 8)),
        # a shorter month clamps to its last day, as calendar months do everywhere
        (dt.date(2015, 10, 31), 4, dt.date(2016, 2, 29)),
        (dt.date(2015, 12, 31), 2, dt.date(2016, 2, 29)),
        (dt.date(2015, 1, 31), 1, dt.date(2015, 2, 28)),
    ],
)
def test_the_return_is_months_after_the_release(
    released: dt.date, months: int, back: dt.date
) -> None:
    decree = load_text(HEAD + clause("temporary_release", extra=f"for_months = {months}\n"))
    assert sentence_change(decree, ("G1",), "temporary_release", None, released) == (
        back,
        back,
        None,
    )


def test_an_officials_date_overrides_the_period() -> None:
    decree = load_text(HEAD + clause("temporary_release", extra="for_months = 3\n"))
    given = dt.date(2015, 11, 1)
    assert sentence_change(decree, ("G1",), "temporary_release", given, dt.date(2015, 10, 8)) == (
        given,
        given,
        None,
    )


def test_without_a_release_date_the_period_gives_no_return() -> None:
    decree = load_text(HEAD + clause("temporary_release", extra="for_months = 3\n"))
    with pytest.raises(IllegalTransition, match="needs a return date"):
        sentence_change(decree, ("G1",), "temporary_release", None, None)
