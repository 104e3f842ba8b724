"""Three real acts, each a profile file, a decree and a CSV registry, driven through the CLI.

For Viet Nam's 2021 National Day special amnesty, Indonesia's 2020 COVID-19 assimilation
and integration, and California's compassionate release (Penal Code 1172.2), as a
ministry lawyer would, in an empty folder: `profile check`, `registry import --profile`,
`check --db` (no error), `evaluate`, and `explain` of one person. The outcomes of every
person of examples/<act>/registry/ were worked out by hand from the decree's clauses
(the arithmetic is in the comments); docs/acts/ holds each act's sources.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from amnesty.cli import run

ROOT = Path(__file__).resolve().parents[2]

Outcome = tuple[str, str | None, list[str], list[str], list[str]]


@dataclass(frozen=True)
class Act:
    profile: str
    decree: str
    expected: dict[str, Outcome]  # person -> (outcome, relief, grounds, blocking, referred)
    explain: str  # a person whose explanation is checked
    explain_clause: str
    explain_value: str


VN = Act(
    "vn-2021",
    "vn-2021-national-day",
    {
        # 48 months from 2019-08-31 = 1461 days, half rounded up 731: 2021-08-31, the as-of.
        "P1": ("eligible", "release", ["VN-G1"], [], []),
        # the same from 2019-09-01: half reached on 2021-09-01, a day late.
        "P2": ("ineligible", None, [], [], []),
        # life commuted to 30 years, served from 2006-08-31: fifteen years on the day.
        "P3": ("eligible", "release", ["VN-G2"], [], []),
        # 36 months from 2018-09-01, half served in 2020; Penal Code art. 109 (Law Art. 12).
        "P4": ("ineligible", None, ["VN-G1"], ["VN-E1"], []),
        # half of 36 months from 2020-01-15 is 2021-07-17; conduct 'average' (Art. 11).
        "P5": ("ineligible", None, ["VN-G1"], ["VN-R1"], []),
        # half of 60 months from 2018-06-01 is 2020-12-01; conduct not classified: review.
        "P6": ("review", "release", ["VN-G1"], [], []),
        # half of 24 months from 2020-05-01 is 2021-05-01; part paid, in hardship.
        "P7": ("eligible", "release", ["VN-G1"], [], []),
    },
    "P6",
    "VN-R1",
    "unknown",
)

ID = Act(
    "id-2020",
    "id-2020-covid-assimilation",
    {
        # 36 months from 2018-03-30 = 1096 days, two thirds 731: 2020-03-30, the as-of.
        "P1": ("eligible", "conditional_release", ["ID-G1", "ID-G3"], [], []),
        # two thirds of 36 months from 2018-06-01 falls on 2020-06-01: assimilation only.
        "P2": ("eligible", "temporary_release", ["ID-G1"], [], []),
        # narcotics (PP 99/2012): two thirds of 60 months from 2017-01-01 is 2020-05-03.
        "P3": ("ineligible", None, ["ID-G1"], ["ID-E1"], []),
        # a Malaysian national, two thirds of 24 months from 2018-09-01 on 2020-01-02.
        "P4": ("ineligible", None, ["ID-G1", "ID-G3"], ["ID-E2"], []),
        # a child: half of 24 months from 2019-03-30 (731 days) is 366 days, 2020-03-30.
        "P5": ("eligible", "conditional_release", ["ID-G2", "ID-G4"], [], []),
        # two thirds of 120 months from 2016-01-01 falls on 2022-09-02: no ground.
        "P6": ("ineligible", None, [], [], []),
        # two thirds served, but serving subsidiary imprisonment for an unpaid fine.
        "P7": ("ineligible", None, ["ID-G1", "ID-G3"], ["ID-E3"], []),
        # two thirds served on 2020-02-02; citizenship not recorded: review.
        "P8": ("review", "conditional_release", ["ID-G1", "ID-G3"], [], []),
    },
    "P8",
    "ID-E2",
    "unknown",
)

CA = Act(
    "us-ca-2023",
    "us-ca-2023-compassionate-release",
    {
        # end-of-life illness (b)(1): a ground, referred to the court (CA-F1).
        "P1": ("review", "release", ["CA-G1"], [], ["CA-F1"]),
        # no medical criterion: no ground (the refer holds for everyone, and is listed).
        "P2": ("ineligible", None, [], [], ["CA-F1"]),
        # permanently incapacitated after sentencing (b)(2).
        "P3": ("review", "release", ["CA-G2"], [], ["CA-F1"]),
        # incapacitated already at sentencing: no ground.
        "P4": ("ineligible", None, [], [], ["CA-F1"]),
        # end-stage dementia, the sentencing record silent: (b)(2) unknown.
        "P5": ("review", "release", [], [], ["CA-F1"]),
        # no determination of illness yet: (b)(1) unknown.
        "P6": ("review", "release", [], [], ["CA-F1"]),
    },
    "P5",
    "CA-G2",
    "unknown",
)


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AMNESTY_DB", raising=False)
    monkeypatch.delenv("AMNESTY_PROFILE_PATH", raising=False)


@pytest.mark.slow  # each runs the solver checks of `amnesty check` (about 20 s under load)
@pytest.mark.parametrize("act", [VN, ID, CA], ids=lambda a: a.decree)
def test_a_real_act_from_files_only(
    act: Act,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    clean_env: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    profile = f"{act.profile}.profile.toml"
    shutil.copyfile(ROOT / "decrees" / "profiles" / profile, tmp_path / profile)
    shutil.copyfile(ROOT / "decrees" / f"{act.decree}.toml", tmp_path / "act.toml")
    shutil.copytree(ROOT / "examples" / act.profile / "registry", tmp_path / "registry")
    monkeypatch.chdir(tmp_path)
    db = str(tmp_path / "r.duckdb")

    assert run(["profile", "check", profile]) == 0
    assert f"profile {act.profile} is well-formed" in capsys.readouterr().out
    assert run(["registry", "import", "registry", "--profile", profile, "--db", db]) == 0
    assert f"({act.profile})" in capsys.readouterr().out
    # the decree finds its profile beside it by the jurisdiction it names
    assert run(["check", "act.toml", "--db", db]) == 0
    checked = capsys.readouterr()
    assert "error" not in checked.out + checked.err
    assert run(["evaluate", "act.toml", "--db", db, "--out", "d.jsonl", "--format", "json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["profile"]["name"] == act.profile
    got = {}
    for line in (tmp_path / "d.jsonl").read_text(encoding="utf-8").splitlines():
        r = json.loads(line)
        got[r["person_id"]] = (
            r["outcome"], r["relief"], r["grounds"], r["blocking"], r["referred"] or [],
        )  # fmt: skip
    assert got == act.expected
    assert run(["explain", "act.toml", act.explain, "--db", db, "--format", "json"]) == 0
    e = json.loads(capsys.readouterr().out)
    clause = next(c for c in e["clauses"] if c["id"] == act.explain_clause)
    assert clause["value"] == act.explain_value
    assert clause["text"]  # every clause carries its legal text


def test_the_explained_facts_name_what_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clean_env: None,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    """California P5: (b)(2) is unknown because the sentencing record is silent."""
    profile = "us-ca-2023.profile.toml"
    shutil.copyfile(ROOT / "decrees" / "profiles" / profile, tmp_path / profile)
    shutil.copyfile(ROOT / "decrees" / "us-ca-2023-compassionate-release.toml", tmp_path / "a.toml")
    shutil.copytree(ROOT / "examples" / "us-ca-2023" / "registry", tmp_path / "registry")
    monkeypatch.chdir(tmp_path)
    db = str(tmp_path / "r.duckdb")
    assert run(["registry", "import", "registry", "--profile", profile, "--db", db]) == 0
    capsys.readouterr()
    assert run(["explain", "a.toml", "P5", "--db", db, "--format", "json"]) == 0
    e = json.loads(capsys.readouterr().out)
    g2 = next(c for c in e["clauses"] if c["id"] == "CA-G2")
    assert g2["missing"] == ["person.incapacitated_at_sentencing"]
