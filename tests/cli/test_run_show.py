"""``amnesty run list|show``: readable on a terminal, nothing cut short when piped.

``run show`` prints the run's counts (by outcome, relief, ground, facility type,
province, left out) and whether it reproduces an earlier run or was reproduced.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from rich.console import Console

from amnesty.cli import run
from amnesty.cli import runs as runs_cli
from amnesty.registry.generate import generate
from amnesty.registry.importer import import_registry
from amnesty.store.database import Database
from amnesty.store.engine import get_engine
from amnesty.workflow.evaluate import evaluate_and_record

DECREE = Path(__file__).resolve().parents[2] / "decrees" / "kp-2015-10-party-founding.toml"


@pytest.fixture
def two_runs(tmp_path: Path, duck_url: str) -> tuple[str, str, str]:
    """A small kp-2015 registry decided twice: the second run reproduces the first."""
    generate("kp-2015", 200, 3, tmp_path / "registry")
    import_registry(duck_url, tmp_path / "registry")
    first = evaluate_and_record(duck_url, DECREE, actor="ana").run.run_id
    second = evaluate_and_record(duck_url, DECREE, actor="ana").run.run_id
    return duck_url, first, second


def _out(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    capsys.readouterr()
    assert run(argv) == 0
    return capsys.readouterr().out


def test_run_show_prints_counts_and_reproduction(
    two_runs: tuple[str, str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    db, first, second = two_runs
    doc = json.loads(_out(["run", "show", first, "--db", db, "--format", "json"], capsys))
    counts = doc["counts"]
    assert doc["reproduction"] == {
        "reproduces_run_id": None,
        "reproduced_by": [second],
        "same_inputs_other_determinations": [],
    }
    out = _out(["run", "show", first, "--db", db], capsys)
    assert f"Run {first}: kp-2015-10-party-founding as of {doc['as_of']}" in out
    assert "First run of these inputs" in out
    assert f"Reproduced by run(s) {second}: identical determinations." in out
    assert doc["decree_hash"] in out and doc["determinations_digest"] in out  # not cut short
    assert f"By outcome ({counts['persons']} persons decided)" in out
    for outcome, persons in counts["by_outcome"].items():
        assert any(
            line.split("│")[1:3] == [f" {outcome} ".ljust(12), f"{persons:>8} "]
            for line in out.splitlines()
            if "│" in line
        ), (outcome, persons, out)
    for title in ("Eligible by relief", "By ground", "By facility type", "By province"):
        assert title in out
    for ground in counts["by_ground"]:
        assert f"│ {ground} " in out
    assert "{" not in out  # no dict printed raw
    second_out = _out(["run", "show", second, "--db", db], capsys)
    assert f"Reproduces run {first}: identical determinations." in second_out


def test_same_inputs_with_other_determinations_are_flagged(
    two_runs: tuple[str, str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    db, first, second = two_runs
    with get_engine(db).begin() as conn:
        conn.execute(
            sa.text("UPDATE runs SET determinations_digest = 'x', reproduces_run_id = NULL "
                    "WHERE run_id = :r"),
            {"r": second},
        )  # fmt: skip
    out = _out(["run", "show", first, "--db", db], capsys)
    assert f"Same inputs but OTHER determinations in run(s) {second}" in out
    assert "Reproduced by" not in out


def test_run_list_keeps_ids_whole_piped_and_on_a_narrow_terminal(
    two_runs: tuple[str, str, str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    db, first, second = two_runs
    piped = _out(["run", "list", "--db", db], capsys)
    assert first in piped and second in piped and "…" not in piped
    narrow = io.StringIO()
    terminal = Console(file=narrow, width=60, soft_wrap=True)  # what console() gives on a tty
    monkeypatch.setattr(runs_cli, "console", lambda **_: terminal)
    assert run(["run", "list", "--db", db]) == 0
    lines = narrow.getvalue().splitlines()
    assert "…" not in narrow.getvalue() and max(len(line) for line in lines) <= 70
    assert lines[0].startswith(f"{first}  kp-2015-10-party-founding  as of ")
    assert lines[1].endswith(" UTC by ana") and lines[2].startswith(f"{second}  ")
    assert lines[4] == f"    reproduces {first}"


HEAVY = ("sqlalchemy", "alembic", "duckdb_engine", "sqlglot", "pyarrow", "amnesty.workflow")


def test_run_list_starts_without_sqlalchemy_or_the_engine(two_runs: tuple[str, str, str]) -> None:
    """``run list`` reads through the light path (amnesty.store.reader): none of the heavy
    modules of a write or an evaluation is imported, and the runs are all listed."""
    db, first, second = two_runs
    Database.open(db).close()  # let the other process open the file
    code = (
        "import sys\n"
        "from amnesty.cli import run\n"
        f"code = run(['run', 'list', '--db', {db!r}, '--format', 'jsonl'])\n"
        f"heavy = [m for m in sys.modules if m.startswith({HEAVY!r})]\n"
        "print('exit', code, 'imported:' + ','.join(sorted(heavy)))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    *listed, last = done.stdout.strip().splitlines()
    assert last == "exit 0 imported:", done.stdout[-500:] + done.stderr[-500:]
    assert [json.loads(line)["run_id"] for line in listed] == [first, second]
    assert json.loads(listed[1])["reproduces"] == first


def test_run_show_csv_is_one_table_per_table_option(
    two_runs: tuple[str, str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    import csv

    db, first, _second = two_runs
    doc = json.loads(_out(["run", "show", first, "--db", db, "--format", "json"], capsys))
    counts = doc["counts"]
    rows = list(
        csv.DictReader(
            io.StringIO(_out(["run", "show", first, "--db", db, "--format", "csv"], capsys))
        )
    )
    assert {r["outcome"]: int(r["persons"]) for r in rows} == {
        o: counts["by_outcome"].get(o, 0) for o in ("eligible", "review", "ineligible")
    }
    text = _out(
        ["run", "show", first, "--db", db, "--format", "csv", "--table", "by_province"], capsys
    )
    reader = csv.reader(io.StringIO(text))
    header = next(reader)
    assert header == ["province", "eligible", "review", "ineligible", "total"]
    body = list(reader)
    assert body and all(len(r) == 5 for r in body)  # one table: no titles, no second header
    assert sum(int(r[4]) for r in body) == sum(
        sum(per.values()) for per in counts["by_province"].values()
    )
    inputs = dict(
        csv.reader(
            io.StringIO(
                _out(
                    ["run", "show", first, "--db", db, "--format", "csv", "--table", "inputs"],
                    capsys,
                )
            )
        )
    )
    assert inputs["determinations digest"] == doc["determinations_digest"]
    assert run(["run", "show", first, "--db", db, "--table", "nonsense"]) == 2
