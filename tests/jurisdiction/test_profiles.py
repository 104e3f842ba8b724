"""Profiles as files: what a well-formed one declares, where a bad one is wrong, how a
name or a path finds one, and what the CLI prints for each."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from amnesty.cli import run
from amnesty.decree.facts import CORE_FACTS
from amnesty.decree.parse import parse_text
from amnesty.errors import ConfigError
from amnesty.registry.profiles import (
    BUILTIN,
    PATH_VARIABLE,
    Profile,
    get_profile,
    load_profile_file,
    profile_from_document,
)
from amnesty.registry.profiles.files import (
    RESERVED_FACTS,
    ProfileErrors,
    parse_profile_text,
    skeleton,
    to_toml,
)
from amnesty.registry.schema import BOOLEAN, FACILITY_TYPES, INTEGER, VARCHAR

GOOD = """\
# A small jurisdiction, written by hand.
[profile]
name = "xx-2020"
description = "Test jurisdiction."
language = "es"
id_case = "upper"
leap_birthday = "mar1"
authorities = ["INPEC"]

[divisions]
levels = ["country", "department", "municipality"]
province_levels = ["department"]

[facilities]
types = ["prison", "women_prison"]

[facilities.attributes.overcrowding]
type = "integer"
doc = "Occupancy over capacity, per cent."
min = 0

[offences]
categories = ["theft", "homicide", "drug_possession", "other"]
gravities = ["petty", "serious"]

[offences.attributes.article]
type = "integer"
doc = "Article of the penal code."

[persons.attributes.hiv]
type = "boolean"
doc = "Diagnosed with HIV."
sensitive = true

[persons.attributes.ethnicity]
type = "text"
doc = "Self-declared ethnicity."
values = ["none", "indigenous", "afro"]
unknown = "not declared"

[convictions.attributes.flagrante]
type = "boolean"
doc = "Caught in the act."

[events]
extra_types = ["parole_violation"]

[events.attributes.judge]
type = "text"
doc = "The judge who ordered it."

[labels.facility_types]
prison = "Establecimiento penitenciario"
women_prison = "Reclusión de mujeres"
"""


def test_a_hand_written_profile_declares_its_vocabularies_and_attributes() -> None:
    p = profile_from_document(parse_profile_text(GOOD, "xx.toml"), "xx.toml")
    assert (p.name, p.language, p.id_case, p.leap_birthday) == ("xx-2020", "es", "upper", "mar1")
    assert p.authorities == ("INPEC",)
    assert p.division_levels == ("country", "department", "municipality")
    assert p.province_levels == ("department",)
    assert p.facility_types == ("prison", "women_prison")
    assert p.offence_categories == ("theft", "homicide", "drug_possession", "other")
    assert p.gravities == ("petty", "serious")
    assert p.event_types[-1] == "parole_violation" and "admission" in p.event_types
    assert [(c.name, c.type) for c in p.person_attributes] == [
        ("hiv", BOOLEAN),
        ("ethnicity", VARCHAR),
    ]
    assert p.person_attributes[1].values == ("none", "indigenous", "afro")
    assert p.person_attributes[1].unknown == "not declared"
    assert [(c.name, c.type, c.min_value) for c in p.facility_attributes] == [
        ("overcrowding", INTEGER, 0)
    ]
    assert [c.name for c in p.offence_attributes] == ["article"]
    assert [c.name for c in p.event_attributes] == ["judge"]
    assert p.sensitive == ("persons.hiv",)
    assert p.label("facility_types", "women_prison") == "Reclusión de mujeres"
    assert p.label("facility_types", "prison") == "Establecimiento penitenciario"
    assert p.label("offence_categories", "theft") == "theft"
    # the import checks rows against the profile's vocabularies, not the core ones
    tables = {t.name: t for t in p.tables()}
    assert tables["facilities"].column("facility_type").values == ("prison", "women_prison")
    assert tables["divisions"].column("level").values == p.division_levels
    assert tables["offences"].column("category").values == p.offence_categories
    assert tables["events"].column("event_type").values == p.event_types
    assert tables["facilities"].column_names[-1] == "overcrowding"
    assert tables["offences"].column_names[-1] == "article"
    assert tables["events"].column_names[-1] == "judge"


def test_sections_left_out_keep_the_core_vocabulary() -> None:
    p = profile_from_document(parse_profile_text('[profile]\nname = "yy-1"\n'), "-")
    assert p.facility_types == FACILITY_TYPES
    assert p == Profile("yy-1", "", ())


@pytest.mark.parametrize("name", BUILTIN)
def test_shipped_profiles_are_files_that_round_trip(name: str) -> None:
    p = get_profile(name)
    assert p.source == "built-in"
    again = profile_from_document(parse_profile_text(to_toml(p.document())), "-")
    assert again == p
    assert again.content_hash == p.content_hash


def test_ru_2015_marks_its_health_attributes_sensitive() -> None:
    ru = get_profile("ru-2015")
    assert {"persons.tuberculosis", "persons.cancer_stage"} <= set(ru.sensitive)
    assert "persons.veteran" not in ru.sensitive


def test_the_hash_follows_meaning_not_layout() -> None:
    base = profile_from_document(parse_profile_text(GOOD), "-").content_hash
    relaid = GOOD.replace("# A small jurisdiction, written by hand.\n", "").replace(
        'language = "es"', 'language   =   "es"   # Spanish'
    )
    assert profile_from_document(parse_profile_text(relaid), "-").content_hash == base
    changed = GOOD.replace('"petty", "serious"', '"petty", "grave"')
    assert profile_from_document(parse_profile_text(changed), "-").content_hash != base


BAD = [
    # (the file, the first problem expected: line, column, words of the message)
    ('[profile]\nname = "X 1"\n', 2, 8, "profile.name 'X 1' must be lower case"),
    ('[profile]\nname = "x-1"\nid_case = "lower"\n', 3, 11, "expected one of insensitive, upper"),
    ('[profile]\nname = "x-1"\nauthorites = ["A"]\n', 3, 1, 'did you mean "authorities"'),
    ('[profile]\nname = "x-1"\n[facility]\ntypes = ["a"]\n', 3, 1, 'did you mean "facilities"'),
    ("[profile]\ndescription = 'no name'\n", 1, 1, "profile.name is required"),
    ('description = "no table"\n', 1, 1, "needs a [profile] table"),
    (
        '[profile]\nname = "x-1"\n[divisions]\nlevels = ["country", "state"]\n'
        'province_levels = ["province"]\n',
        5,
        19,
        "'province' is not one of divisions.levels",
    ),
    ('[profile]\nname = "x-1"\n[facilities]\ntypes = []\n', 4, 9, "non-empty list"),
    (
        '[profile]\nname = "x-1"\n[offences]\ncategories = ["theft", "theft"]\n',
        4,
        14,
        "'theft' is listed twice",
    ),
    (
        '[profile]\nname = "x-1"\n[offences]\ncategories = ["Drug Possession"]\n',
        4,
        14,
        "must be lower case letters, digits and _",
    ),
    (
        '[profile]\nname = "x-1"\n[events]\nextra_types = ["release"]\n',
        4,
        15,
        "'release' is a core event type already",
    ),
    (
        '[profile]\nname = "x-1"\n[persons.attributes.hiv]\ntype = "bool"\ndoc = "x"\n',
        4,
        8,
        "persons.attributes.hiv.type is 'bool'; expected one of text, integer",
    ),
    (
        '[profile]\nname = "x-1"\n[persons.attributes.hiv]\ntype = "boolean"\n',
        3,
        1,
        "persons.attributes.hiv.doc is required",
    ),
    (
        '[profile]\nname = "x-1"\n[persons.attributes.age]\ntype = "integer"\ndoc = "x"\n',
        3,
        1,
        "decrees already read person.age as a core fact",
    ),
    (
        '[profile]\nname = "x-1"\n[facilities.attributes.name]\ntype = "text"\ndoc = "x"\n',
        3,
        1,
        "facilities already has a core column name",
    ),
    (
        '[profile]\nname = "x-1"\n[persons.attributes.kids]\ntype = "text"\ndoc = "x"\nmin = 0\n',
        6,
        7,
        "min is a whole number, for integer only",
    ),
    (
        '[profile]\nname = "x-1"\n[persons.attributes.kids]\ntype = "integer"\ndoc = "x"\n'
        "sensitiv = true\n",
        6,
        1,
        'did you mean "sensitive"',
    ),
    (
        '[profile]\nname = "x-1"\n[convictions.attributes.article]\ntype = "integer"\n'
        'doc = "x"\n[offences.attributes.article]\ntype = "integer"\ndoc = "x"\n',
        6,
        1,
        "convictions.attributes has article too",
    ),
    (
        '[profile]\nname = "x-1"\n[labels.facility_types]\nprisn = "Prison"\n',
        4,
        1,
        "'prisn' is not one of facility_types",
    ),
    ('[profile]\nname = "x-1"\nauthorities = [\n', 4, 1, "TOML syntax error"),
]


@pytest.mark.parametrize(("text", "line", "column", "words"), BAD)
def test_a_bad_profile_is_refused_at_its_position(
    text: str, line: int, column: int, words: str
) -> None:
    with pytest.raises(ProfileErrors) as refused:
        parse_profile_text(text, "bad.toml")
    shown = [f"{pos.line}:{pos.column}: {msg}" for pos, msg in refused.value.problems]
    assert any(s.startswith(f"{line}:{column}: ") and words in s for s in shown), shown
    assert f"bad.toml:{line}:{column}: " in str(refused.value)


def test_every_problem_of_a_file_is_reported_at_once() -> None:
    text = '[profile]\nname = "X"\nid_case = "no"\n[facilities]\ntypes = "prison"\n'
    with pytest.raises(ProfileErrors) as refused:
        parse_profile_text(text, "bad.toml")
    assert [p.line for p, _ in refused.value.problems] == [2, 3, 5]


def test_the_reserved_names_are_the_core_facts() -> None:
    prefixes = {"persons": "person", "facilities": "facility", "convictions": "conviction",
                "events": "event"}  # fmt: skip
    for table, prefix in prefixes.items():
        core = {f.name.split(".", 1)[1] for f in CORE_FACTS if f.name.startswith(prefix + ".")}
        assert RESERVED_FACTS[table] == core, table


def test_a_name_or_a_path_finds_a_profile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "profiles"
    folder.mkdir()
    (folder / "xx-2020.profile.toml").write_text(GOOD, encoding="utf-8")
    by_path = get_profile(str(folder / "xx-2020.profile.toml"))
    assert by_path.name == "xx-2020" and by_path.source.endswith("xx-2020.profile.toml")
    with pytest.raises(ConfigError, match="unknown profile 'xx-2020'"):
        get_profile("xx-2020")
    monkeypatch.setenv(PATH_VARIABLE, str(folder))
    assert get_profile("xx-2020") == by_path
    monkeypatch.delenv(PATH_VARIABLE)
    monkeypatch.chdir(folder)
    assert get_profile("xx-2020") == by_path  # the current folder is searched last
    (folder / "zz-1.profile.toml").write_text(GOOD, encoding="utf-8")
    with pytest.raises(ConfigError, match="declares name 'xx-2020'"):
        get_profile("zz-1")


def test_a_file_may_not_take_a_shipped_name(tmp_path: Path) -> None:
    f = tmp_path / "mine.toml"
    f.write_text('[profile]\nname = "kp-2015"\nid_case = "upper"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="'kp-2015' is a shipped profile's"):
        load_profile_file(f)


def test_the_skeleton_checks_clean_and_names_its_file() -> None:
    text = skeleton("ab-2024", "ab-2024.profile.toml")
    assert "amnesty profile check ab-2024.profile.toml" in text
    assert parse_profile_text(text)["name"] == "ab-2024"
    with pytest.raises(ConfigError, match="lower case letters and digits"):
        skeleton("AB 2024", "x")


def test_cli_init_check_show(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert run(["profile", "init", "ab-2024"]) == 0
    assert (tmp_path / "ab-2024.profile.toml").is_file()
    assert run(["profile", "init", "ab-2024"]) == 1
    assert "exists; pass --force" in capsys.readouterr().err
    assert run(["profile", "check", "ab-2024.profile.toml", "--format", "json"]) == 0
    checked = json.loads(capsys.readouterr().out)
    assert checked["ok"] and checked["province_levels"] == ["region"]
    assert run(["profile", "show", "ab-2024", "--format", "json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["content_hash"] == checked["content_hash"]
    assert {"fact": "person.veteran", "type": "bool"}.items() <= next(
        f for f in shown["facts"] if f["fact"] == "person.veteran"
    ).items()
    assert run(["profile", "show", "ru-2015"]) == 0
    out = capsys.readouterr().out
    assert get_profile("ru-2015").content_hash in out
    assert "[persons.attributes.tuberculosis]" in out and "sensitive = true" in out
    (tmp_path / "bad.toml").write_text('[profile]\nname = "x-1"\nlevels = 3\n', encoding="utf-8")
    assert run(["profile", "check", "bad.toml"]) == 1
    err = capsys.readouterr().err
    assert "bad.toml:3:1: unknown key profile.levels" in err and "Traceback" not in err


DECREE = """\
id = "t"
title = "T"
jurisdiction = "xx-2020"
as_of = 2020-04-14

[[clause]]
id = "G1"
kind = "grant"
relief = "release"
text = "x"
source = "S"
basis = "source"
predicate = 'facility.type = "women_prison" and facility.overcrowding > 100'

[[clause]]
id = "E1"
kind = "exclude"
text = "x"
source = "S"
basis = "source"
predicate = 'any convictions (category = "homicde" or article = 103)'
"""


def test_a_decree_finds_its_profile_beside_it_and_is_checked_against_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "xx-2020.profile.toml").write_text(GOOD, encoding="utf-8")
    decree = tmp_path / "decree.toml"
    decree.write_text(DECREE, encoding="utf-8")
    assert run(["check", str(decree)]) == 1
    cap = capsys.readouterr()
    err = cap.err + cap.out
    # the category comes from the profile's list, with its nearest value suggested
    assert 'unknown conviction.category "homicde"' in err and '"homicide"' in err
    assert "decree.toml:21:" in err, err  # the exclude's predicate line
    decree.write_text(DECREE.replace("homicde", "homicide"), encoding="utf-8")
    assert run(["check", str(decree)]) == 0, capsys.readouterr()


def test_a_decree_naming_a_broken_profile_is_told_why(tmp_path: Path) -> None:
    (tmp_path / "xx-2020.profile.toml").write_text(GOOD.replace("mar1", "mar2"), encoding="utf-8")
    (tmp_path / "decree.toml").write_text(DECREE, encoding="utf-8")
    from amnesty.decree.checking import check_syntax

    report = check_syntax(parse_text(DECREE, str(tmp_path / "decree.toml")))
    problems = [e for e in report.errors if e.code == "unknown-jurisdiction"]
    assert problems and "profile.leap_birthday is 'mar2'" in problems[0].message
    assert problems[0].position is not None and problems[0].position.line == 3
