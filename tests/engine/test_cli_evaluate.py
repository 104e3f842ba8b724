"""``amnesty evaluate`` records the run, and a re-run on the same snapshot says it
reproduces the first (#4); ``--no-record`` stores nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from acting import TEST_PASSWORD
from amnesty.cli import run
from amnesty.registry.generate import generate
from amnesty.registry.importer import import_registry
from amnesty.workflow.users import add_user

DECREE = Path(__file__).resolve().parents[2] / "decrees" / "kp-2015-10-party-founding.toml"


@pytest.fixture
def registry_db(tmp_path: Path, backend_url: str) -> str:
    """A kp-2015 registry of 1000 persons imported into DuckDB, then PostgreSQL."""
    generate("kp-2015", 1000, 1, tmp_path / "registry")
    import_registry(backend_url, tmp_path / "registry")
    add_user(backend_url, "root", ["admin"], password=TEST_PASSWORD)
    add_user(backend_url, "analyst", ["analyst"], actor="root", password=TEST_PASSWORD)
    # --out of a decree with health clauses needs a health reader (docs/security.md)
    add_user(backend_url, "rev", ["reviewer"], actor="root", password=TEST_PASSWORD)
    return backend_url


def _runs(db: str, capsys: pytest.CaptureFixture[str]) -> list[dict[str, object]]:
    capsys.readouterr()
    assert run(["run", "list", "--db", db, "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    return list(data["runs"] if isinstance(data, dict) else data)


def test_evaluate_twice_records_two_runs_and_the_second_reproduces_the_first(
    registry_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "first.jsonl"
    argv = ["evaluate", str(DECREE), "--db", registry_db, "--as", "analyst"]
    assert run([*argv[:-1], "rev", "--out", str(out)]) == 0
    first = capsys.readouterr().out
    assert "Recorded run " in first and "reproduces run" not in first
    assert out.read_text().count("\n") > 0  # --out still written

    assert run(argv) == 0
    second = capsys.readouterr().out
    runs = _runs(registry_db, capsys)
    assert len(runs) == 2
    ids = {str(r["run_id"]) for r in runs}
    reproducing = [r for r in runs if r["reproduces"]]
    assert len(reproducing) == 1
    assert reproducing[0]["reproduces"] in ids - {reproducing[0]["run_id"]}
    assert f"reproduces run {reproducing[0]['reproduces']}: identical determinations" in second
    assert f"Recorded run {reproducing[0]['run_id']}" in second


def test_evaluate_json_names_the_run(registry_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["evaluate", str(DECREE), "--db", registry_db, "--format", "json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["persons"] > 0
    assert summary["run"]["run_id"] and summary["run"]["reproduces_run_id"] is None


def test_no_record_simulates_without_storing_a_run(
    registry_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["evaluate", str(DECREE), "--db", registry_db, "--no-record"]) == 0
    assert "Recorded run" not in capsys.readouterr().out
    assert _runs(registry_db, capsys) == []


def test_the_summary_has_a_table_by_facility(
    registry_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from amnesty.cli.evaluate import by_facility
    from amnesty.decree import load
    from amnesty.engine import evaluate
    from amnesty.store.database import Database

    assert run(["evaluate", str(DECREE), "--db", registry_db, "--no-record"]) == 0
    out = capsys.readouterr().out
    assert "By facility (the 20 largest)" in out
    with Database.of(registry_db).raw() as conn:
        rows = by_facility(evaluate(load(DECREE), conn).determinations)
    assert rows and all(r["persons"] == r["eligible"] + r["review"] + r["ineligible"] for r in rows)
    assert [r["persons"] for r in rows] == sorted((r["persons"] for r in rows), reverse=True)
    assert rows[0]["facility"] in out
