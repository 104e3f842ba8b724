"""``amnesty prove``: exit codes, and a counterexample folder that import and explain replay."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from amnesty.cli import run

KP = Path("decrees/kp-2015-10-party-founding.toml")


def test_prove_a_shipped_decree_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["prove", str(KP)]) == 0
    out = capsys.readouterr().out
    assert "KP-A1: proved" in out
    assert "up to 3 convictions and 4 events" in out


def test_a_counterexample_is_a_registry_that_explain_replays(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    decree = tmp_path / "kp.toml"
    decree.write_text(
        KP.read_text(encoding="utf-8")
        + '\n[[assertion]]\nid = "T-OLD"\n'
        + "never = 'outcome = \"eligible\" and age >= 70'\n",
        encoding="utf-8",
    )
    assert run(["prove", str(decree), "--out", str(tmp_path / "w"), "--format", "json"]) == 1
    result = json.loads(capsys.readouterr().out)
    old = next(r for r in result["results"] if r["name"] == "T-OLD")
    assert old["status"] == "refuted"
    assert old["engine"]["outcome"] == "eligible"
    folder = Path(old["folder"])
    assert (folder / "persons.parquet").is_file()
    db = str(tmp_path / "r.duckdb")
    assert run(["registry", "import", str(folder), "--db", db]) == 0
    capsys.readouterr()
    pid = old["witness"]["persons"][0]["person_id"]
    assert run(["explain", str(decree), pid, "--db", db, "--format", "json"]) == 0
    explained = json.loads(capsys.readouterr().out)
    assert explained["outcome"] == "eligible"


def test_prove_against_a_variant_gives_a_witness(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    variant = tmp_path / "variant.toml"
    variant.write_text(
        KP.read_text(encoding="utf-8").replace("'health.able_to_work = false'", "'false'"),
        encoding="utf-8",
    )
    assert run(["prove", str(KP), "--against", str(variant)]) == 1
    out = capsys.readouterr().out
    assert "differences: refuted" in out
    assert "the engine decides kp-2015-10-party-founding:" in out


def test_prove_without_assertions_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = KP.read_text(encoding="utf-8")
    decree = tmp_path / "bare.toml"
    decree.write_text(text[: text.index("# -- what this decree can never do")], encoding="utf-8")
    assert run(["prove", str(decree)]) == 1
    assert "Error: " in capsys.readouterr().err


def test_check_runs_the_solver_checks_by_default(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    decree = tmp_path / "shadowed.toml"
    decree.write_text(
        KP.read_text(encoding="utf-8")
        + '\n[[clause]]\nid = "KP-G9"\nkind = "grant"\nrelief = "release"\ntext = "t"\n'
        + 'source = "s"\npredicate = \'authority = "MSS" and age >= 80\'\n',
        encoding="utf-8",
    )
    assert run(["check", str(decree)]) == 0
    out = capsys.readouterr().out
    assert "warning: grant KP-G9 is shadowed" in out
    assert "for every possible person" in out
    assert run(["check", str(decree), "--prove-time-limit", "0"]) == 0
    assert "KP-G9 is shadowed" not in capsys.readouterr().out
