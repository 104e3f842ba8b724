"""Named sets, named predicates, number ranges and `unless` (#10): what they mean (the
same as the text written out in place) and where a mistake in one is reported."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from amnesty.compile.sql import compile_decree
from amnesty.decree import ir, load_text
from amnesty.decree.checking import check_syntax
from amnesty.decree.parse import parse_text
from amnesty.registry.profiles import get_profile

RU = get_profile("ru-2015")
HEAD = """id = "t"
title = "T"
jurisdiction = "ru-2015"
as_of = 2015-04-24
"""


def clause(cid: str, kind: str, predicate: str, extra: str = "") -> str:
    relief = 'relief = "release"\n' if kind == "grant" else ""
    return f"""
[[clause]]
id = "{cid}"
kind = "{kind}"
{relief}text = "x"
source = "S"
basis = "source"
predicate = '{predicate}'
{extra}"""


def errors(text: str) -> list[str]:
    report = check_syntax(parse_text(text, "d.toml"), profile=RU)
    return [f"{e.position.line}:{e.position.column}: {e.message}" for e in report.errors]  # type: ignore[union-attr]


def warnings(text: str) -> list[str]:
    report = check_syntax(parse_text(text, "d.toml"), profile=RU)
    return [f"{w.position.line}: {w.message}" for w in report.warnings]  # type: ignore[union-attr]


DEFINED = (
    HEAD
    + """
[sets]
grave_classes = ["grave", "especially_grave"]
codes = ["105", "111"]

[predicates]
grave = 'gravity in grave_classes'
barred = 'grave or offence_code in codes'
"""
    + clause("G1", "grant", "veteran and none convictions (barred)")
    + clause("E1", "exclude", "any convictions (barred and term_months in {1..12, 60})")
)
INLINE = (
    HEAD
    + clause(
        "G1",
        "grant",
        'veteran and none convictions ((gravity in {"grave", "especially_grave"}) '
        'or offence_code in {"105", "111"})',
    )
    + clause(
        "E1",
        "exclude",
        'any convictions (((gravity in {"grave", "especially_grave"}) or offence_code in '
        '{"105", "111"}) and (term_months in {60} or (term_months >= 1 and term_months <= 12)))',
    )
)


def test_named_parts_mean_their_text_written_in_place() -> None:
    named, inline = load_text(DEFINED, profile=RU), load_text(INLINE, profile=RU)
    assert [c.predicate for c in named.clauses] == [c.predicate for c in inline.clauses]
    for dialect in ("duckdb", "postgres", "spark"):
        assert (
            compile_decree(named, dialect, profile=RU).sql
            == compile_decree(inline, dialect, profile=RU).sql
        )
    assert named.clause("G1").uses == ("barred", "grave", "grave_classes", "codes")
    assert inline.clause("G1").uses == ()


def test_a_range_is_both_ends_included() -> None:
    d = load_text(HEAD + clause("G1", "grant", "minor_children in {2..4}"), profile=RU)
    low, high = d.clauses[0].predicate.operands  # type: ignore[attr-defined]
    assert (low.op, low.right.value, high.op, high.right.value) == (">=", 2, "<=", 4)


def test_unless_bars_only_where_the_exception_fails() -> None:
    d = load_text(
        HEAD
        + clause("G1", "grant", "veteran")
        + clause("E1", "exclude", "regime_violator", "unless = 'age >= 70'"),
        profile=RU,
    )
    p = d.clause("E1").predicate
    assert isinstance(p, ir.And) and isinstance(p.operands[1], ir.Not)
    assert p.operands[0] == ir.Fact(name="person.regime_violator", type="bool")


# -- mistakes, each at the place to fix ---------------------------------------------


def test_a_bad_value_in_a_set_points_at_the_set() -> None:
    text = DEFINED.replace('"especially_grave"]', '"especialy_grave"]')
    found = errors(text)
    assert len(found) == 1, found  # reported once, though two clauses use it
    assert (
        found[0].startswith("7:17: ") and 'unknown conviction.gravity "especialy_grave"' in found[0]
    )


def test_an_unknown_name_inside_a_named_predicate_points_inside_it() -> None:
    text = DEFINED.replace("'gravity in grave_classes'", "'gravty in grave_classes'")
    found = errors(text)
    assert len(found) == 1 and found[0].startswith("11:10: ") and "'gravty'" in found[0], found


def test_an_unknown_set_is_named_with_the_nearest() -> None:
    text = DEFINED.replace("offence_code in codes", "offence_code in code")
    found = errors(text)
    assert found and "'code' is not a set of the decree's [sets]" in found[0], found
    assert found[0].startswith("12:36: ")


def test_a_set_is_no_condition_and_a_condition_no_set() -> None:
    text = HEAD + "[sets]\ns1 = [\"a\"]\n[predicates]\np1 = 'veteran'\n"
    assert any("s1 is a set of values, not a condition" in e
               for e in errors(text + clause("G1", "grant", "s1")))  # fmt: skip
    assert any("'p1' is a condition (under [predicates]), not a set" in e
               for e in errors(text + clause("G1", "grant", "sex in p1")))  # fmt: skip


def test_a_predicate_that_uses_itself_is_refused() -> None:
    text = HEAD + "[predicates]\na = 'veteran or b'\nb = 'not a'\n" + clause("G1", "grant", "a")
    assert any("predicate a uses itself through a -> b -> a" in e for e in errors(text))


def test_names_that_would_be_ambiguous_are_refused() -> None:
    text = (
        HEAD
        + "[predicates]\nveteran = 'age > 50'\nany = 'true'\n"
        + clause("G1", "grant", "age > 1")
    )
    found = errors(text)
    assert any(e.startswith("6:1: ") and "the name of a fact" in e for e in found), found
    assert any(e.startswith("7:1: ") and "a word of the predicate language" in e for e in found)


def test_unused_definitions_are_warned_of() -> None:
    text = (
        HEAD
        + "[sets]\ns1 = [\"a\"]\n[predicates]\np1 = 'veteran'\n"
        + clause("G1", "grant", "veteran")
    )
    assert warnings(text) == [
        "6: set s1 is used by no clause",
        "8: predicate p1 is used by no clause",
    ]


def test_unless_belongs_to_exclusions_and_a_reversed_range_is_empty() -> None:
    found = errors(HEAD + clause("G1", "grant", "veteran", "unless = 'age > 70'"))
    assert any("unless is an exception to an exclusion" in e for e in found), found
    found = errors(HEAD + clause("G1", "grant", "minor_children in {4..2}"))
    assert any("the range `4..2` is empty" in e for e in found), found
    found = errors(HEAD + clause("G1", "grant", "sex in {1..2}"))
    assert any("a range of numbers such as `1..2` needs a number" in e for e in found), found


# -- the property: lifting any part of a predicate into [predicates] changes nothing --

LEAVES = [
    "veteran",
    "age >= 55",
    "minor_children in {1..3, 5}",
    'sex = "F"',
    'any convictions (gravity in {"grave"})',
    "not pregnant",
    "sentence.remaining < 1 year",
]


@st.composite
def formulas(draw: st.DrawFn, depth: int = 3) -> str:
    if depth == 0 or draw(st.booleans()):
        return draw(st.sampled_from(LEAVES))
    op = draw(st.sampled_from(["and", "or", "not"]))
    if op == "not":
        return f"not ({draw(formulas(depth - 1))})"
    return f"({draw(formulas(depth - 1))}) {op} ({draw(formulas(depth - 1))})"


@settings(max_examples=40, deadline=None)
@given(formula=formulas(), lift=st.lists(st.sampled_from(LEAVES), unique=True, max_size=4))
def test_lifting_parts_into_named_predicates_keeps_the_meaning(
    formula: str, lift: list[str]
) -> None:
    names = {leaf: f"part_{i}" for i, leaf in enumerate(lift)}
    named = formula
    for leaf, name in names.items():
        named = named.replace(leaf, name)
    defs = "".join(f"{n} = '{leaf}'\n" for leaf, n in names.items() if n in named)
    with_defs = HEAD + (f"[predicates]\n{defs}" if defs else "") + clause("G1", "grant", named)
    inline = HEAD + clause("G1", "grant", formula)
    a, b = load_text(with_defs, profile=RU), load_text(inline, profile=RU)
    assert a.clauses[0].predicate == b.clauses[0].predicate


# -- an exclusion limited to some grants ----------------------------------------------


def test_a_scoped_exclusion_removes_only_its_grants() -> None:
    scoped = load_text(
        HEAD
        + clause("G1", "grant", "veteran")
        + clause("G2", "grant", "chernobyl")
        + clause("X", "exclude", "regime_violator", 'grants = ["G1"]'),
        profile=RU,
    )
    inline = load_text(
        HEAD + clause("G1", "grant", "veteran and not regime_violator")
        + clause("G2", "grant", "chernobyl"),
        profile=RU,
    )  # fmt: skip
    assert [c.id for c in scoped.clauses] == ["G1", "G2"]  # X bars no one by itself
    assert [c.predicate for c in scoped.clauses] == [c.predicate for c in inline.clauses]
    assert scoped.clause("G1").uses == ("X",)


def test_a_scoped_exclusion_names_grants_of_the_decree() -> None:
    found = errors(
        HEAD + clause("G1", "grant", "veteran")
        + clause("X", "exclude", "regime_violator", 'grants = ["G2"]')
    )  # fmt: skip
    assert any("'G2' is not a grant clause of this decree" in e for e in found), found
    found = errors(HEAD + clause("G1", "grant", "veteran", 'grants = ["G1"]'))
    assert any("grants limits an exclusion to some grants" in e for e in found), found
