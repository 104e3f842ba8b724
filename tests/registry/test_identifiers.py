"""Identifier hygiene at import: the rules of docs/registry.md "Identifiers"."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from import_fixtures import registry, write

from amnesty.cli import run
from amnesty.errors import ConfigError, ImportRejected
from amnesty.registry import profiles
from amnesty.registry.identifiers import canonical_id, id_problem
from amnesty.registry.importer import import_registry
from amnesty.registry.profiles import Profile, get_profile
from amnesty.registry.profiles.files import to_toml


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("KP-P-0000042", None),
        ("김철수-7", None),
        ("", "is empty"),
        (" P1", "has a leading or trailing space"),
        ("P1\u00a0", "has a leading or trailing space"),
        ("P\u200b1", "contains the invisible or control character U+200B"),
        ("P\u20661", "contains the invisible or control character U+2066"),
        ("P\t1", "contains the invisible or control character U+0009"),
        ("ﬁ1", "is not in Unicode NFKC form (write it 'fi1')"),
    ],
)
def test_id_problem(value: str, problem: str | None) -> None:
    assert id_problem(value) == problem


def test_spellings_of_one_id_share_a_canonical_key() -> None:
    assert {canonical_id(v) for v in ("P001", "p001", " P001 ", "Ｐ００１", "P\u200b001")} == {
        "p001"
    }


def test_ascii_ids_with_inner_spaces_are_allowed(tmp_path: Path) -> None:
    data = registry()
    data["facilities"][0]["facility_id"] = "F 1"
    for person in data["persons"]:
        if person["facility_id"] == "F1":
            person["facility_id"] = "F 1"
    for event in data["events"]:
        if event["facility_id"] == "F1":
            event["facility_id"] = "F 1"
    report = import_registry(str(tmp_path / "r.duckdb"), write(data, tmp_path / "x"))
    assert report.status == "imported"


def test_lookalike_reference_is_refused_where_it_is(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = registry()
    data["events"][3]["person_id"] = "P004 "
    source = write(data, tmp_path / "x")
    assert run(["registry", "import", str(source), "--db", str(tmp_path / "r.duckdb")]) == 1
    err = capsys.readouterr().err
    assert "Error: " in err and "Traceback" not in err
    with pytest.raises(ImportRejected) as refused:
        import_registry(str(tmp_path / "r.duckdb"), source)
    found = {(r.table, r.row, r.column, r.rule.split(":")[0]) for r in refused.value.rejections}
    assert ("events", 4, "person_id", "id_form") in found
    assert ("events", 4, "person_id", "foreign_key") in found


@pytest.fixture
def upper_profile(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    """kp-2015 as a jurisdiction whose ids are printed in capitals: a profile file found
    by name on AMNESTY_PROFILE_PATH, as a user would declare one."""
    upper = dataclasses.replace(get_profile("kp-2015"), name="kp-upper", id_case="upper")
    folder = tmp_path / "profiles"
    folder.mkdir()
    (folder / "kp-upper.profile.toml").write_text(to_toml(upper.document()), encoding="utf-8")
    monkeypatch.setenv(profiles.PATH_VARIABLE, str(folder))
    return upper.name


def test_upper_case_profile_refuses_lower_case_keys_and_references(
    tmp_path: Path, upper_profile: str
) -> None:
    data = registry()
    data["persons"][1]["person_id"] = "p002"
    for table in ("convictions", "health_assessments", "events"):
        for row in data[table]:
            if row["person_id"] == "P002":
                row["person_id"] = "p002"
    source = write(data, tmp_path / "x", profile=upper_profile)
    with pytest.raises(ImportRejected) as refused:
        import_registry(str(tmp_path / "r.duckdb"), source)
    cases = [r for r in refused.value.rejections if r.rule.startswith("id_case")]
    assert {(r.table, r.row) for r in cases} == {
        ("persons", 2),
        ("convictions", 3),
        ("health_assessments", 1),
        ("events", 2),
    }
    assert cases[0].rule == (
        "id_case: person_id 'p002' must be upper case (profile kp-upper: write 'P002')"
    )
    # the same extract is fine where the profile keeps ids as written
    assert (
        import_registry(str(tmp_path / "ok.duckdb"), write(data, tmp_path / "y")).rejections == []
    )


def test_a_profile_declares_a_known_case_rule() -> None:
    with pytest.raises(ConfigError, match="id_case 'mixed'; expected insensitive or upper"):
        Profile("x", "x", (), id_case="mixed")


def test_mixed_case_keys_that_differ_only_by_case_collide(tmp_path: Path) -> None:
    # Neither spelling is all upper or all lower case: the ASCII shortcut of the
    # collision rule must still find them.
    data = registry()
    data["convictions"][0]["conviction_id"] = "Ca01"
    data["convictions"][1]["conviction_id"] = "cA01"
    with pytest.raises(ImportRejected) as refused:
        import_registry(str(tmp_path / "r.duckdb"), write(data, tmp_path / "x"))
    clashes = sorted(
        (r.row, r.value)
        for r in refused.value.rejections
        if r.rule.startswith("id_collision: conviction_id")
    )
    assert clashes == [(1, "Ca01"), (2, "cA01")]


def test_mixed_case_keys_of_different_ids_do_not_collide(tmp_path: Path) -> None:
    data = registry()
    data["convictions"][0]["conviction_id"] = "Ca01"
    data["convictions"][1]["conviction_id"] = "cA02"
    report = import_registry(str(tmp_path / "r.duckdb"), write(data, tmp_path / "x"))
    assert report.status == "imported"
