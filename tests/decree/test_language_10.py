"""Fractions in calendar months, `applied_by` with `[bodies]` and refers reaching
persons with no ground (#10): what the front end accepts, and where it reports a
mistake (file:line:column, one message each)."""

from __future__ import annotations

from fractions import Fraction

from amnesty.decree import ir, load_text
from amnesty.decree.checking import check_syntax
from amnesty.decree.parse import parse_text
from amnesty.registry.profiles import get_profile

KP = get_profile("kp-2015")
HEAD = """id = "t"
title = "T"
jurisdiction = "kp-2015"
as_of = 2019-01-01
"""


def clause(cid: str, kind: str, predicate: str, extra: str = "") -> str:
    relief = 'relief = "release"\n' if kind == "grant" else ""
    return f"""
[[clause]]
id = "{cid}"
kind = "{kind}"
{relief}text = "x"
source = "S"
predicate = '{predicate}'
{extra}"""


def errors(text: str) -> list[str]:
    report = check_syntax(parse_text(text, "d.toml"), profile=KP)
    return [f"{e.position.line}:{e.position.column}: {e.message}" for e in report.errors]  # type: ignore[union-attr]


def test_a_fraction_in_months_of_a_term_reads_the_months() -> None:
    d = load_text(
        HEAD + clause("G", "grant", "any convictions (start + 2/3 in months of term <= as_of)"),
        profile=KP,
    )
    q = d.clauses[0].predicate
    assert isinstance(q, ir.Quantifier) and isinstance(q.condition, ir.Compare)
    shift = q.condition.left
    assert isinstance(shift, ir.Shift) and isinstance(shift.duration, ir.CalendarFraction)
    assert shift.duration.fraction == Fraction(2, 3)
    assert shift.duration.months == ir.Fact(name="conviction.term_months", type="int")


def test_in_days_is_the_exact_reading_written_out() -> None:
    a = load_text(
        HEAD + clause("G", "grant", "sentence.served >= 1/3 of sentence.term"), profile=KP
    )
    b = load_text(
        HEAD + clause("G", "grant", "sentence.served >= 1/3 in days of sentence.term"), profile=KP
    )
    assert a.clauses[0].predicate == b.clauses[0].predicate


def test_the_month_rest_is_thirty_day_days_rounded_up() -> None:
    assert ir.calendar_parts(Fraction(1, 2), 7) == (3, 15)
    assert ir.calendar_parts(Fraction(1, 3), 7) == (2, 10)
    assert ir.calendar_parts(Fraction(2, 3), 7) == (4, 20)
    assert ir.calendar_parts(Fraction(1, 7), 1) == (0, 5)  # 30/7 = 4.29 -> 5 days
    assert ir.calendar_parts(Fraction(2, 3), 72) == (48, 0)


def test_a_fraction_in_months_needs_a_number_of_months() -> None:
    text = HEAD + clause("G", "grant", "sentence.served >= 1/3 in months of sentence.term")
    [error] = errors(text)
    assert error.startswith("12:50: clause G: a fraction in months needs a term counted in months")


def test_a_fraction_in_months_stands_only_beside_a_date_or_a_span() -> None:
    inside_min = HEAD + clause(
        "G", "grant", "any convictions (served >= min(1 year, 1/3 in months of term))"
    )
    [error] = errors(inside_min)
    assert "cannot stand inside min(...)" in error and error.startswith("12:")
    against_literal = HEAD + clause("G", "grant", "1/3 in months of 6 years >= 1 year")
    [error] = errors(against_literal)
    assert "against a duration that is not a span" in error


def test_applied_by_must_name_a_body() -> None:
    text = (
        HEAD
        + 'applied_by = "cort"\n[bodies]\ncourt = "the court"\n'
        + clause("G", "grant", "age >= 60")
    )
    [error] = errors(text)
    assert error == "5:14: decree: applied_by 'cort' is not one of the decree's [bodies]"


def test_bodies_are_carried_by_the_decree_and_its_grants() -> None:
    text = (
        HEAD
        + 'applied_by = "court"\n[bodies]\ncourt = "the court"\ncouncil = "the council"\n'
        + clause("G", "grant", "age >= 60", 'applied_by = "council"')
    )
    d = load_text(text, profile=KP)
    assert d.applied_by == "court" and d.bodies == {"court": "the court", "council": "the council"}
    assert d.clauses[0].applied_by == "council"


def test_applied_by_is_refused_on_an_exclusion() -> None:
    text = (
        HEAD
        + '[bodies]\ncourt = "the court"\n'
        + clause("G", "grant", "age >= 60")
        + clause("X", "exclude", "age >= 90", 'applied_by = "court"')
    )
    [error] = errors(text)
    assert "clause X: applied_by names who applies a ground; a exclude clause" in error


def test_without_ground_is_for_refers_and_gives_release_by_default() -> None:
    text = (
        HEAD
        + clause("G", "grant", "age >= 60")
        + clause("R", "refer", "age >= 80", "without_ground = true")
    )
    d = load_text(text, profile=KP)
    assert d.clauses[1].without_ground and d.clauses[1].relief == "release"
    bad = HEAD + clause("G", "grant", "age >= 60", "without_ground = true")
    [error] = errors(bad)
    assert "without_ground lets a refer reach persons with no ground" in error
    commuting = (
        HEAD
        + clause("G", "grant", "age >= 60")
        + clause("R", "refer", "age >= 80", 'without_ground = true\nrelief = "commutation"')
    )
    [error] = errors(commuting)
    assert "gives release or conditional_release, not 'commutation'" in error


def test_a_plain_refer_still_takes_no_relief() -> None:
    text = (
        HEAD
        + clause("G", "grant", "age >= 60")
        + clause("R", "refer", "age >= 80", 'relief = "release"')
    )
    [error] = errors(text)
    assert "a refer clause gives no relief" in error
