"""The examples of docs/tutorial-jurisdiction.md and docs/decrees.md, run as written.

The tutorial's commands are run in order in an empty folder (its `amnesty ...` lines
exactly, split as a shell would); its profile, CSV and decree excerpts must be lines of
the shipped files the commands then use; its sample error must be what `profile check`
prints. From docs/decrees.md, the file sample of section 1 must pass `amnesty check`, the
named-sets example must be lines of the XA act, and the strictness error must read as
shown. (The one-line examples of the predicate table and the worked examples run in
tests/decrees/test_doc_examples.py; the grammar summary is no example.)
"""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import pytest

from amnesty.cli import run

ROOT = Path(__file__).resolve().parents[2]
TUTORIAL = ROOT / "docs" / "tutorial-jurisdiction.md"
DECREES_DOC = ROOT / "docs" / "decrees.md"
PROFILE = ROOT / "decrees" / "profiles" / "xa-2020.profile.toml"
DECREE = ROOT / "decrees" / "xa-2020-decongestion.toml"
REGISTRY = ROOT / "examples" / "xa-2020" / "registry"


def blocks(path: Path) -> list[tuple[str, str]]:
    """Every fenced block of a Markdown file as (language, text)."""
    found = re.findall(r"^```(\w*)\n(.*?)^```", path.read_text(encoding="utf-8"), re.M | re.S)
    return [(lang, text) for lang, text in found]


def content_lines(text: str) -> list[str]:
    """The lines of a TOML text without comments and blank lines ('#' is never quoted here)."""
    out = []
    for line in text.splitlines():
        bare = line.split("#", 1)[0].rstrip()
        if bare.strip():
            out.append(re.sub(r"\s+", " ", bare.strip()))
    return out


@pytest.fixture
def empty(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("AMNESTY_DB", raising=False)
    monkeypatch.delenv("AMNESTY_PROFILE_PATH", raising=False)
    return tmp_path


def test_the_tutorials_commands_run_as_written(
    empty: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    commands = [
        line.strip()
        for lang, text in blocks(TUTORIAL)
        if lang == ""
        for line in text.splitlines()
        if line.startswith(("amnesty ", "mkdir "))
    ]
    assert commands[0] == "mkdir xa && cd xa" and len(commands) >= 7
    (empty / "xa").mkdir()
    monkeypatch.chdir(empty / "xa")
    ran = []
    for command in commands[1:]:
        argv = shlex.split(command)
        assert argv[0] == "amnesty", command
        if argv[1:3] == ["registry", "import"]:
            # section 2: the CSV files the reader wrote (the tutorial's are excerpts of these)
            shutil.copytree(REGISTRY, Path("registry"))
        if argv[1] == "check":
            shutil.copyfile(DECREE, Path(argv[2]))  # section 3: the decree the reader wrote
        assert run(argv[1:]) == 0, (command, capsys.readouterr())
        out = capsys.readouterr().out
        if argv[1:3] == ["profile", "init"]:
            assert Path(f"{argv[3]}.profile.toml").exists()
            # section 1: the reader writes the profile; the shipped one is what they write
            shutil.copyfile(PROFILE, Path(f"{argv[3]}.profile.toml"))
        ran.append((command, out))
    said = dict(ran)
    assert "profile xa-2020 is well-formed" in said["amnesty profile check xa-2020.profile.toml"]
    explained = said["amnesty explain decongestion.toml P6 --db xa.duckdb"]
    assert "XA-E1" in explained and "ineligible" in explained


def test_the_tutorials_profile_and_decree_are_excerpts_of_the_shipped_files() -> None:
    tomls = [text for lang, text in blocks(TUTORIAL) if lang == "toml"]
    assert len(tomls) == 2
    for excerpt, shipped in zip(tomls, (PROFILE, DECREE), strict=True):
        whole = content_lines(shipped.read_text(encoding="utf-8"))
        missing = [line for line in content_lines(excerpt) if line not in whole]
        assert missing == [], f"lines of the tutorial not in {shipped.name}"


def test_the_tutorials_csv_excerpts_are_the_shipped_registry() -> None:
    csvs = [
        text
        for lang, text in blocks(TUTORIAL)
        if lang == "" and text.startswith(("facility_id,", "offence_code,"))
    ]
    assert len(csvs) == 2
    for excerpt in csvs:
        header, *rows = excerpt.splitlines()
        name = "facilities" if header.startswith("facility_id") else "offences"
        lines = (REGISTRY / f"{name}.csv").read_text(encoding="utf-8").splitlines()
        assert lines[0] == header
        assert rows and all(r in lines[1:] for r in rows)


def test_the_tutorials_sample_error_is_what_profile_check_prints(
    empty: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shown = next(
        text for lang, text in blocks(TUTORIAL) if lang == "" and text.startswith("Error:")
    )
    text = PROFILE.read_text(encoding="utf-8")
    text = text.replace('province_levels = ["region"]', 'province_levels = ["province"]', 1)
    text = text.replace("sensitive = true", "sensitiv = true", 1)
    (empty / "xa-2020.profile.toml").write_text(text, encoding="utf-8")
    assert run(["profile", "check", "xa-2020.profile.toml"]) == 1
    printed = capsys.readouterr()
    assert (printed.out + printed.err).strip() == shown.strip()


def test_the_decree_file_sample_passes_check(
    empty: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sample = next(text for lang, text in blocks(DECREES_DOC) if lang == "toml")
    (empty / "sample.toml").write_text(sample, encoding="utf-8")
    assert run(["check", "sample.toml"]) == 0
    out = capsys.readouterr().out
    assert "clause KP-G4 is contested" in out and "ok, 2 clauses" in out


def test_the_named_sets_example_is_the_xa_act() -> None:
    example = [text for lang, text in blocks(DECREES_DOC) if lang == "toml"][1]
    assert "[sets]" in example
    whole = set(content_lines(DECREE.read_text(encoding="utf-8")))
    assert [line for line in content_lines(example) if line not in whole] == []


def test_the_strictness_error_reads_as_shown(
    empty: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = DECREES_DOC.read_text(encoding="utf-8")
    shown = re.search(r"^    (d\.toml:\d+:\d+: error: .*)\n        (hint: .*)$", doc, re.M)
    assert shown is not None
    (empty / "d.toml").write_text(
        'id = "d"\ntitle = "t"\njurisdiction = "core"\nas_of = 2015-04-24\n\n'
        '[[clause]]\nid = "G1"\nkind = "grant"\nrelief = "release"\ntext = "x"\n'
        "source = \"s\"\npredicate = 'age over 55'\n",
        encoding="utf-8",
    )
    assert run(["check", "d.toml"]) == 1
    printed = capsys.readouterr()
    lines = [line.strip() for line in (printed.out + printed.err).splitlines()]
    assert shown.group(1) in lines and shown.group(2) in lines


def test_the_parts_example_is_the_tested_decree_in_parts() -> None:
    (example,) = [text for lang, text in blocks(DECREES_DOC) if "[[part]]" in text]
    tested = ROOT / "tests" / "decrees" / "language" / "xp-two-occasions.toml"
    whole = set(content_lines(tested.read_text(encoding="utf-8")))
    assert [line for line in content_lines(example) if line not in whole] == []
