"""Every class of bad decree: the exact position and message a drafter sees."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from amnesty.compile.sql.aggregates import walk
from amnesty.decree import ir, load_text
from amnesty.decree.checking import CheckReport, check_syntax
from amnesty.decree.parse import parse_text
from amnesty.errors import DecreeErrors
from amnesty.registry.profiles import get_profile

HEAD = """id = "t"
title = "T"
jurisdiction = "kp-2015"
as_of = 2015-10-08
"""


def grant(predicate: str, extra: str = "", cid: str = "G1") -> str:
    return f"""
[[clause]]
id = "{cid}"
kind = "grant"
relief = "release"
text = "x"
source = "S"
{extra}predicate = {predicate}
"""


def report(text: str, conn: object = None) -> CheckReport:
    try:
        return check_syntax(parse_text(text, "d.toml"), conn)
    except DecreeErrors as exc:
        return CheckReport("d.toml", list(exc.errors))


def only_error(text: str, conn: object = None) -> tuple[str, str, str, str]:
    errors = report(text, conn).errors
    assert len(errors) == 1, [str(e) for e in errors]
    e = errors[0]
    return str(e.position), e.code, e.message, e.hint


def test_toml_syntax_error() -> None:
    assert only_error(HEAD + "[[clause]\n")[:3] == (
        "d.toml:5:9",
        "toml-syntax",
        "TOML syntax error: expected ']]' at the end of an array declaration",
    )


def test_predicate_syntax_error_points_at_the_end() -> None:
    where, code, message, _ = only_error(HEAD + grant("'age >'"))
    assert (where, code) == ("d.toml:12:18", "predicate-syntax")
    assert message.startswith("clause G1: predicate syntax error: unexpected end of the predicate")
    assert "a number" in message


def test_unknown_name_suggests_the_nearest() -> None:
    assert only_error(HEAD + grant("'agee > 55'")) == (
        "d.toml:12:14",
        "unknown-name",
        "clause G1: unknown name 'agee'",
        "did you mean age?",
    )


@pytest.mark.parametrize(
    ("predicate", "where"),
    [
        ("'''\nany convictions (category = \"theft\")\n  and agee > 55\n'''", "d.toml:14:7"),
        ('"sex = \\"M\\" and agee > 55"', "d.toml:12:30"),
        ('"""\n  agee > 55"""', "d.toml:13:3"),
    ],
    ids=["multi-line literal", "escaped basic", "multi-line basic"],
)
def test_positions_inside_every_string_form(predicate: str, where: str) -> None:
    assert only_error(HEAD + grant(predicate))[0] == where


def test_type_mismatch_number_and_text() -> None:
    assert only_error(HEAD + grant("""'age = "old"'""")) == (
        "d.toml:12:20",
        "type-mismatch",
        'clause G1: type mismatch: `age` is a number but `"old"` is text',
        "compare age with a number, e.g. age >= 55",
    )


def test_ordering_text_is_a_type_error() -> None:
    assert only_error(HEAD + grant("'any convictions (category > 3)'"))[:3] == (
        "d.toml:12:31",
        "type-mismatch",
        "clause G1: `>` orders numbers, dates and durations, but `category` is text",
    )


def test_unknown_category_suggests_theft() -> None:
    where, code, message, hint = only_error(
        HEAD + grant("""'any convictions (category in {"thfet"})'""")
    )
    assert (where, code, hint) == ("d.toml:12:44", "unknown-value", 'did you mean "theft"?')
    assert message.startswith('clause G1: unknown conviction.category "thfet"; expected one of')


def test_local_word_for_a_facility_type() -> None:
    where, code, _, hint = only_error(HEAD + grant("""'facility.type = "kyohwaso"'"""))
    assert (where, code, hint) == ("d.toml:12:30", "unknown-value", 'did you mean "penitentiary"?')


def test_comparator_without_strictness() -> None:
    assert only_error(HEAD + grant("'age over 55'")) == (
        "d.toml:12:18",
        "vague-comparator",
        "clause G1: comparator without strictness: 'over' does not say whether 55 itself counts",
        "write `age > 55` (strictly over) or `age >= 55` (has reached)",
    )


def test_comparator_in_words() -> None:
    where, code, _, hint = only_error(HEAD + grant("'sentence.remaining less than 1 year'"))
    assert (where, code) == ("d.toml:12:33", "vague-comparator")
    assert hint == "write `sentence.remaining < 1 year`"


def test_conviction_field_outside_a_quantifier() -> None:
    assert only_error(HEAD + grant("""'category = "theft"'""")) == (
        "d.toml:12:14",
        "outside-quantifier",
        "clause G1: conviction.category is a field of one conviction, used outside a "
        "quantifier over convictions",
        "write it inside any/all/none/count convictions (...), e.g. any convictions (category ...)",
    )


def test_duplicate_clause_id() -> None:
    text = HEAD + grant("'age > 1'") + grant("'age > 2'")
    assert only_error(text) == (
        "d.toml:15:6",
        "duplicate-id",
        "duplicate clause id 'G1'",
        "first used at line 7; clause ids must be unique",
    )


def test_a_decree_without_grants() -> None:
    text = HEAD + grant("'age > 1'").replace(
        'kind = "grant"\nrelief = "release"\n', 'kind = "exclude"\n'
    )
    assert only_error(text)[:3] == (
        "d.toml:1:1",
        "no-grant",
        "the decree has no grant clause, so it can release no one",
    )


def test_grant_without_relief() -> None:
    text = HEAD + grant("'age > 1'").replace('relief = "release"\n', "")
    assert only_error(text) == (
        "d.toml:6:1",
        "missing-relief",
        "clause G1: a grant must say what relief it gives",
        "add relief = one of release, conditional_release, temporary_release, commutation",
    )


def test_unknown_relief() -> None:
    text = HEAD + grant("'age > 1'").replace('"release"', '"releese"')
    where, code, _, hint = only_error(text)
    assert (where, code, hint) == ("d.toml:9:10", "unknown-relief", 'did you mean "release"?')


def test_refer_with_a_relief() -> None:
    text = HEAD + grant("'age > 1'") + grant("'age > 2'", cid="R1").replace('"grant"', '"refer"')
    assert only_error(text)[:3] == (
        "d.toml:17:1",
        "relief-on-non-grant",
        "clause R1: a refer clause gives no relief; remove relief",
    )


def test_temporary_release_without_until() -> None:
    text = HEAD + grant("'age > 1'").replace('"release"', '"temporary_release"')
    assert only_error(text)[:3] == (
        "d.toml:9:10",
        "missing-until",
        "clause G1: a temporary_release must say until when",
    )


def test_unknown_key_suggests_the_nearest() -> None:
    text = HEAD + grant("'age > 1'").replace("predicate =", "predicat = 'x'\npredicate =")
    assert only_error(text) == (
        "d.toml:12:1",
        "unknown-key",
        "clause G1: unknown key 'predicat'",
        "did you mean predicate?",
    )


def test_clause_contradicting_the_scope() -> None:
    text = (
        HEAD
        + '[scope]\nfacility_types = ["penitentiary"]\n'
        + grant("""'facility.type = "detention_centre" and age > 1'""")
    )
    assert only_error(text) == (
        "d.toml:14:14",
        "contradictory-scope",
        "contradictory scope: clause G1 applies only to facility type 'detention_centre', "
        "which [scope] facility_types leaves out",
        "add it to [scope] facility_types, or remove the condition",
    )


def test_every_problem_is_reported_at_once() -> None:
    text = HEAD + grant("'agee > 1'") + grant("'age over 2'", cid="G2")
    with pytest.raises(DecreeErrors) as caught:
        load_text(text, "d.toml")
    assert [e.code for e in caught.value.errors] == ["vague-comparator", "unknown-name"]


def test_contested_clauses_are_listed() -> None:
    text = HEAD.replace("as_of", 'applied_reading = "a"\nas_of') + (
        '\n[readings]\na = "one"\nb = "two"\n'
        + grant("'age > 1'").replace("predicate = 'age > 1'", "contested = true")
        + "[clause.readings]\na = 'age > 1'\nb = 'age > 2'\n"
    )
    r = report(text)
    assert r.ok, [str(e) for e in r.errors]
    assert [w.message for w in r.warnings] == [
        "clause G1 is contested: readings a (applied), b; persons for whom the readings "
        "differ go to review"
    ]


@pytest.fixture
def registry() -> duckdb.DuckDBPyConnection:
    conn = duckdb.connect(":memory:")
    for table in get_profile("kp-2015").tables():
        columns = ", ".join(f"{c.name} {c.type}" for c in table.columns)
        conn.execute(f"CREATE TABLE {table.name} ({columns})")
    conn.execute(
        "INSERT INTO offences VALUES ('KP-1', 't', 't', 'theft', NULL, NULL, '1950-01-01', NULL),"
        " ('KP-OLD', 't', 't', 'theft', NULL, NULL, '1950-01-01', '2004-12-31');"
        "INSERT INTO divisions VALUES ('C', NULL, 'country', 'c', 'c', false);"
        "INSERT INTO facilities VALUES ('KP-CAMP-14', 'k', 'k', 'political_prison_camp', 'MSS', "
        "'C');"
    )
    return conn


def test_unknown_offence_code_is_an_error(registry: duckdb.DuckDBPyConnection) -> None:
    text = HEAD + grant("""'any convictions (offence_code in {"KP-2"})'""")
    assert only_error(text, registry) == (
        "d.toml:12:48",
        "unknown-offence-code",
        "clause G1: the registry has no offence code 'KP-2'",
        'did you mean "KP-1"?',
    )


def test_repealed_offence_code_is_a_warning(registry: duckdb.DuckDBPyConnection) -> None:
    r = report(HEAD + grant("""'any convictions (offence_code in {"KP-OLD"})'"""), registry)
    assert r.ok
    assert [(str(w.position), w.code, w.message) for w in r.warnings][:1] == [
        (
            "d.toml:12:48",
            "repealed-code",
            "clause G1: offence code 'KP-OLD' was repealed on 2004-12-31, before the as-of "
            "date 2015-10-08",
        )
    ]


def test_listed_facility_of_an_excluded_type(registry: duckdb.DuckDBPyConnection) -> None:
    text = (
        HEAD
        + '[scope]\nfacility_types = ["penitentiary"]\nfacilities = ["KP-CAMP-14"]\n'
        + grant("'age > 1'")
    )
    assert only_error(text, registry) == (
        "d.toml:7:15",
        "contradictory-scope",
        "contradictory scope: facility 'KP-CAMP-14' is a political_prison_camp, which [scope] "
        "facility_types leaves out",
        'add "political_prison_camp" to facility_types, or remove the facility',
    )


def test_a_good_decree_compiles_to_ir() -> None:
    decree = load_text(HEAD + grant("'age >= 55 and sentence.remaining < 1 year'"))
    assert decree.as_of == dt.date(2015, 10, 8)
    assert decree.clauses[0].predicate.pos is not None


def test_dead_and_shadowed_clauses_against_a_registry(
    registry: duckdb.DuckDBPyConnection,
) -> None:
    registry.execute(
        "INSERT INTO persons (person_id, name, name_romanised, facility_id, custody_authority) "
        "VALUES ('P1', 'p', 'p', 'KP-CAMP-14', 'MPS');"
        "INSERT INTO convictions (conviction_id, person_id, offence_code, sentence_kind, "
        "term_months, start_date) VALUES ('C1', 'P1', 'KP-1', 'term', 60, '2013-01-01');"
        "INSERT INTO events (event_id, person_id, event_type, event_date, facility_id) "
        "VALUES ('E1', 'P1', 'admission', '2013-01-01', 'KP-CAMP-14');"
    )
    text = (
        HEAD
        + grant("""'any convictions (category = "theft")'""")
        + grant("""'any convictions (category = "fraud")'""", cid="G2")
        + grant("""'authority = "MPS"'""", cid="X1").replace(
            'kind = "grant"\nrelief = "release"', 'kind = "exclude"'
        )
    )
    r = report(text, registry)
    assert r.ok, [str(e) for e in r.errors]
    assert [(w.code, w.message) for w in r.warnings] == [
        ("shadowed-grant", "grant G1 is shadowed: all 1 persons it holds for are excluded (by X1)"),
        ("dead-clause", "grant G2 applies to nobody in this registry (1 persons)"),
    ]


def test_a_quantifier_over_the_other_collection_nests_and_names_reach_both_items() -> None:
    predicate = """'any convictions (any events (type = "pardon" and date < offence_date))'"""
    r = report(HEAD + grant(predicate))
    assert r.ok, [str(e) for e in r.errors]
    assert r.decree is not None
    outer = r.decree.clauses[0].predicate
    assert isinstance(outer, ir.Quantifier) and outer.collection == "convictions"
    inner = outer.condition
    assert isinstance(inner, ir.Quantifier) and inner.collection == "events"
    # "type" and "date" are the event's own fields; "offence_date" exists only on the
    # enclosing conviction, so it resolves there.
    assert [f.name for f in walk(inner.condition) if isinstance(f, ir.Fact)] == [
        "event.type",
        "event.date",
        "conviction.offence_date",
    ]


def test_a_short_name_of_the_outer_item_reaches_it_from_the_inner_quantifier() -> None:
    predicate = """'any events (count convictions (category = "theft" and decree = "X") >= 1)'"""
    r = report(HEAD + grant(predicate))
    assert r.ok, [str(e) for e in r.errors]
    assert r.decree is not None
    facts = [f.name for f in walk(r.decree.clauses[0].predicate) if isinstance(f, ir.Fact)]
    assert facts == ["conviction.category", "event.decree"]


def test_a_collection_inside_itself_is_refused_where_the_inner_one_starts() -> None:
    predicate = """'any convictions (any events (any convictions (category = "theft")))'"""
    assert only_error(HEAD + grant(predicate)) == (
        "d.toml:12:43",
        "nested-quantifier",
        "clause G1: a quantifier over convictions inside a quantifier over convictions",
        "a quantifier can nest only inside one over the other collection, e.g. any "
        'convictions (any events (type = "pardon" and date < conviction.offence_date)); '
        "two items of the same collection cannot be compared",
    )


def test_a_count_inside_a_quantifier_of_its_own_collection_is_refused_too() -> None:
    where, code, _, _ = only_error(
        HEAD + grant("""'none events (count events (type = "pardon") >= 2)'""")
    )
    assert (where, code) == ("d.toml:12:27", "nested-quantifier")


def test_an_inner_name_that_is_no_field_of_either_item_is_unknown() -> None:
    where, code, message, _ = only_error(
        HEAD + grant("""'any convictions (any events (colour = "red"))'""")
    )
    assert (where, code, message) == (
        "d.toml:12:43",
        "unknown-name",
        "clause G1: unknown name 'colour'",
    )
