"""The worked examples of docs/decrees.md, run (#10): the fractions example on its dates,
the `applied_by` and `without_ground` excerpts as parts of a decree that `check` accepts
and the engine applies, and the test-table sample of section 5 as a test table."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from amnesty.decree import load_text
from amnesty.errors import ConfigError, DecreeErrors

from .tables import (
    ROOT,
    Table,
    decide_with_engine,
    decide_with_interpreter,
    mismatches,
    read_table,
)

DOC = ROOT / "docs" / "decrees.md"
HEAD = 'id = "doc"\ntitle = "doc"\njurisdiction = "kp-2015"\nas_of = 2015-10-08\n'
PLAIN_GRANT = (
    '\n[[clause]]\nid = "G-ANY"\nkind = "grant"\nrelief = "release"\ntext = "t"\n'
    "source = \"s\"\npredicate = 'sentence.count >= 1'\n"
)


def block(containing: str, lang: str = "toml") -> str:
    found = re.findall(r"^```(\w*)\n(.*?)^```", DOC.read_text(encoding="utf-8"), re.M | re.S)
    (text,) = [t for lg, t in found if lg == lang and containing in t]
    return text


# One penitentiary and plain defaults, for the tables written here.
WORLD = """
facilities: [{id: F, type: penitentiary, authority: MPS}]
defaults:
  person: {born: 1970-01-01, facility: F, authority: MPS}
  conviction: {gravity: medium, intent: intentional, term: 5 years, start: 2013-01-01}"""


def _mismatches(table: Table) -> list[str]:
    """Every case of ``table`` decided by the engine and by the interpreter, as they
    differ from what the case expects."""
    out = []
    for case in table.cases:
        for decide in (decide_with_engine, decide_with_interpreter):
            row = decide(table, case.as_of).get(case.person_id)
            out += [f"{case.name} ({decide.__name__}): {m}" for m in mismatches(case, row)]
    return out


def _decide(tmp_path: Path, decree: str, cases: str) -> list[str]:
    (tmp_path / "d.toml").write_text(decree, encoding="utf-8")
    (tmp_path / "t.yaml").write_text(f"decree_file: d.toml\n{cases}", encoding="utf-8")
    return _mismatches(read_table(tmp_path / "t.yaml"))


def test_the_fractions_example_holds_on_its_dates(tmp_path: Path) -> None:
    days, months = re.findall(r"^(predicate = '.*?')", block("2/3 of term"), re.M)
    clauses = "".join(
        f'\n[[clause]]\nid = "{cid}"\nkind = "grant"\nrelief = "release"\ntext = "t"\n'
        f'source = "s"\n{predicate}\n'
        for cid, predicate in (("G-DAYS", days), ("G-MONTHS", months))
    )
    cases = (
        WORLD
        + """
cases:
  - name: on 1 January 2019 the calendar reading holds and the exact one does not
    as_of: 2019-01-01
    person: {convictions: [{category: theft, term: 6 years, start: 2015-01-01}]}
    expect: {outcome: eligible, grounds: [G-MONTHS], blocking: []}
  - name: from 2 January both hold
    as_of: 2019-01-02
    person: {convictions: [{category: theft, term: 6 years, start: 2015-01-01}]}
    expect: {outcome: eligible, grounds: [G-DAYS, G-MONTHS], blocking: []}
"""
    )
    assert _decide(tmp_path, HEAD + clauses, cases) == []


def _filled(excerpt: str, predicate: str) -> str:
    """The excerpt with its `# ...` lines written out as a clause's remaining keys."""
    rest = f'text = "t"\nsource = "s"\npredicate = \'{predicate}\''
    return excerpt.replace("# ...", rest)


def test_the_applied_by_excerpt_is_a_decree_whose_determinations_name_the_bodies() -> None:
    excerpt = _filled(block('applied_by = "court"'), "age >= 60")
    decree = load_text(HEAD + excerpt + PLAIN_GRANT, "doc.toml")
    assert decree.applied_by == "court" and decree.clause("XB-G2").applied_by == "commission"
    assert set(decree.bodies) == {"court", "commission"}


def test_the_without_ground_excerpt_reaches_a_person_with_no_ground(tmp_path: Path) -> None:
    excerpt = _filled(block("without_ground = true"), "")
    excerpt = re.sub(r"predicate = ''\n", "", excerpt)
    decree = (
        HEAD
        + '\n[bodies]\ncouncil = "the council"\n'
        + excerpt
        + PLAIN_GRANT.replace("sentence.count >= 1", 'any convictions (category = "theft")')
    )
    load_text(decree, "doc.toml")
    cases = (
        WORLD
        + """
cases:
  - name: no ground and severely ill goes to the council
    person: {health: {severity: severe}, convictions: [{category: political}]}
    expect: {outcome: review, grounds: [], blocking: [], referred: [XB-R1]}
  - name: no ground and well stays ineligible
    person: {health: {severity: mild}, convictions: [{category: political}]}
    expect: {outcome: ineligible, grounds: [], blocking: []}
"""
    )
    assert _decide(tmp_path, decree, cases) == []


def test_the_test_table_sample_is_cases_of_the_shipped_table_that_pass(tmp_path: Path) -> None:
    """The sample abridges the defaults (an attribute left out is unknown, which would send
    everyone to review); its cases are the shipped table's, run with the table's defaults."""
    sample = yaml.safe_load(block("decree: ru-2015-victory", "yaml"))
    shipped_path = ROOT / "decrees" / "tests" / "ru-2015-victory.yaml"
    shipped = yaml.safe_load(shipped_path.read_text(encoding="utf-8"))
    by_name = {c["name"]: c for c in shipped["cases"]}
    assert sample["cases"]
    for case in sample["cases"]:
        twin = by_name[case["name"]]
        assert case["person"] == twin["person"] and case.get("as_of") == twin.get("as_of")
        assert case["expect"].items() <= twin["expect"].items(), case["name"]
    for key in ("person", "conviction"):
        assert sample["defaults"][key].items() <= shipped["defaults"][key].items()
    runnable = {**shipped, "cases": sample["cases"]}
    (tmp_path / "sample.yaml").write_text(yaml.safe_dump(runnable), encoding="utf-8")
    assert _mismatches(read_table(tmp_path / "sample.yaml")) == []


# --- the one-line examples of the predicate table (section 2) ---------------------------

BASES = [ROOT / "decrees" / f for f in (
    "kp-2015-10-party-founding.toml", "ru-2015-victory.toml", "xa-2020-decongestion.toml",
    "vn-2021-national-day.toml",
)]  # fmt: skip
# Forms the table writes with placeholders, not as predicates.
PLACEHOLDERS = {
    "x not in {...}", "a and b", "a or b", "not a", "# to the end of the line",
    "< <= > >= = !=", "[sets]", "[predicates]",
}  # fmt: skip
# Forms whose examples stand only in some places (docs: "It may stand in those two places").
WRAP_FORM = {
    "fraction in calendar months": "any convictions (served >= {x})",
    "count": "{x}",
}
WRAP = {
    "condition": "{x}",
    "number": "{x} >= 0",
    "duration": "{x} <= {x}",
    "date": "{x} <= {x}",
    "as operands": "sentence.served >= {x}",
    "text, number, date": "{x} = {x}",
    "the fact's": "known({x})",
}


def table_examples() -> list[tuple[str, str]]:
    """(example, how it is written as a predicate) for each example of the table."""
    section = DOC.read_text(encoding="utf-8").split("## 2. The predicate language", 1)[1]
    rows = re.findall(r"^\| ([^|]+) \| (.+) \| ([^|]*) \|$", section.split("\n\n", 3)[2], re.M)
    out = []
    for form, example, type_ in rows:
        for snippet in re.findall(r"`([^`]+)`", example):
            if snippet not in PLACEHOLDERS and "(...)" not in snippet:
                wrap = WRAP_FORM.get(form.strip()) or WRAP.get(type_.strip(), "{x}")
                out.append((snippet, wrap))
    return out


def _accepted(predicate: str) -> list[str]:
    """Which shipped decree accepts ``predicate`` as its first clause's (none: the errors)."""
    errors = []
    for base in BASES:
        text = base.read_text(encoding="utf-8")
        first = re.search(r"^predicate = ('[^'\n]*'|'''.*?''')$", text, re.M | re.S)
        assert first is not None
        for wrapped in (predicate, f"any convictions ({predicate})"):
            candidate = text[: first.start()] + f"predicate = '{wrapped}'" + text[first.end() :]
            try:
                load_text(candidate, str(base))
                return [base.name]
            except (DecreeErrors, ConfigError) as refused:
                errors.append(f"{base.name}: {str(refused).splitlines()[0]}")
    return errors


def test_the_predicate_table_has_its_examples() -> None:
    assert len(table_examples()) >= 25


@pytest.mark.parametrize("snippet, wrap", table_examples(), ids=lambda v: str(v))
def test_each_predicate_table_example_is_accepted(snippet: str, wrap: str) -> None:
    predicate = wrap.format(x=snippet)
    found = _accepted(predicate)
    assert found and found[0].endswith(".toml"), found
