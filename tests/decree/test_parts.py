"""A decree in parts (``[[part]]``), each with its own reference date (#10): checked with
positions, evaluated a part at a time (``--part``), and a stored run re-derived as the part
it evaluated, never as the whole decree."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from amnesty.cli import run
from amnesty.decree import load, load_text
from amnesty.errors import ConfigError, DecreeErrors
from amnesty.store.database import Database
from amnesty.workflow.casefiles import decree_for_run, run_info

DECREE = Path(__file__).resolve().parents[1] / "decrees" / "language" / "xp-two-occasions.toml"


def _errors(text: str) -> list[str]:
    with pytest.raises(DecreeErrors) as err:
        load_text(text, "parts.toml")
    return [f"{e.position.line if e.position else '?'}: {e}" for e in err.value.errors]


def test_each_part_is_the_decree_its_clauses_make() -> None:
    decree = load(DECREE)
    first, second = decree.part("liberation-day"), decree.part("founding-day")
    assert [c.id for c in first.clauses] == ["G-AGE", "G-SHORT"]
    assert [c.id for c in second.clauses] == ["G-AGE", "X-MSS"]
    assert str(second.as_of) == "2015-10-10"
    assert second.execution_window is not None and str(second.execution_window[0]) == "2015-10-10"
    # a part without its own window takes the decree's
    assert first.execution_window == decree.execution_window
    assert decree.evaluated_on(second.as_of).part_id == "founding-day"
    with pytest.raises(ConfigError, match=r"is in parts.*liberation-day \(as_of 2015-08-15\)"):
        decree.evaluated_on(None)
    with pytest.raises(ConfigError, match="has no part 'harvest'"):
        decree.part("harvest")


@pytest.mark.parametrize(
    "change, line, message",
    [
        ('parts = ["liberation-day"]', 'parts = ["liberation-dya"]', "names 'liberation-dya'"),
        ("as_of = 2015-10-10", "as_of = 2015-08-15", "is already part liberation-day's"),
        ('id = "founding-day"', 'id = "liberation-day"', "duplicate part id"),
        ('title = "Held on Liberation Day"', 'titel = "x"', "part liberation-day: unknown key"),
    ],
)
def test_bad_parts_are_refused_with_their_position(change: str, line: str, message: str) -> None:
    text = DECREE.read_text(encoding="utf-8")
    assert change in text
    bad = text.replace(change, line, 1)
    found = [e for e in _errors(bad) if message in e]
    assert found, _errors(bad)
    wanted = text[: text.index(change)].count("\n") + 1
    assert found[0].startswith(f"{wanted}:"), found


def test_a_part_with_no_grant_is_refused() -> None:
    text = DECREE.read_text(encoding="utf-8").replace(
        'id = "G-AGE"\nkind = "grant"\nrelief = "release"\n',
        'id = "G-AGE"\nkind = "grant"\nrelief = "release"\nparts = ["liberation-day"]\n',
    )
    assert any("part founding-day has no grant clause" in e for e in _errors(text))


@pytest.fixture
def registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("AMNESTY_DB", raising=False)
    args = ["--profile", "kp-2015", "--persons", "400", "--seed", "3", "--out", "reg"]
    assert run(["registry", "generate", *args]) == 0
    assert run(["registry", "import", "reg", "--db", "r.duckdb"]) == 0
    return tmp_path / "r.duckdb"


def test_evaluate_takes_one_part_and_the_run_is_that_part(
    registry: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(registry)
    capsys.readouterr()
    assert run(["evaluate", str(DECREE), "--db", db]) != 0
    assert "choose one with --part ID" in capsys.readouterr().err
    assert run(["evaluate", str(DECREE), "--db", db, "--part", "x", "--as-of", "2015-10-10"]) != 0
    assert "--part and --as-of do not go together" in capsys.readouterr().err
    assert (
        run(["evaluate", str(DECREE), "--db", db, "--part", "founding-day", "--format", "json"])
        == 0
    )
    summary = json.loads(capsys.readouterr().out)
    assert summary["part"] == "founding-day" and summary["as_of"] == "2015-10-10"
    run_id = summary["run"]["run_id"]
    with Database.of(db).connect() as conn:
        info = run_info(conn, run_id)
        again = decree_for_run(conn, info)
        person = conn.exec_driver_sql(
            "SELECT person_id FROM determinations WHERE run_id = ? ORDER BY person_id LIMIT 1",
            (run_id,),
        ).scalar_one()
    assert str(info.as_of) == "2015-10-10"
    assert again.part_id == "founding-day" and [c.id for c in again.clauses] == ["G-AGE", "X-MSS"]
    assert (
        str(again.execution_window) == "(datetime.date(2015, 10, 10), datetime.date(2015, 11, 10))"
    )
    explain = ["explain", str(DECREE), person, "--db", db, "--format", "json"]
    assert run([*explain, "--part", "founding-day"]) == 0
    shown = {c["id"] for c in json.loads(capsys.readouterr().out)["clauses"]}
    assert "G-SHORT" not in shown and "X-MSS" in shown
    assert run([*explain, "--part", "liberation-day"]) == 0
    shown = {c["id"] for c in json.loads(capsys.readouterr().out)["clauses"]}
    assert "G-SHORT" in shown and "X-MSS" not in shown
