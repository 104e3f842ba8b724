"""What a user opens in a spreadsheet: ``explain --format csv`` and ``evaluate --out``.

An explanation as CSV is one row per clause; a determinations file names the
person and the facility beside their ids. Every CSV cell that a spreadsheet
would read as a formula is neutralised.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from casework_world import World, build_world

from amnesty.cli import run as cli_run
from amnesty.cli.explanation import CSV_COLUMNS, RUN_CSV_COLUMNS


@pytest.fixture
def world(duck_url: str) -> World:
    return build_world(duck_url)


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_explain_as_csv_is_one_row_per_clause_with_formulas_neutralised(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hostile = tmp_path / "decree.toml"
    hostile.write_text(
        world.decree_path.read_text(encoding="utf-8").replace(
            'text = "Persons convicted of common crimes shall be released."',
            'text = "=HYPERLINK(\\"http://x\\") persons convicted of common crimes"',
        ),
        encoding="utf-8",
    )
    capsys.readouterr()
    target = ["--db", world.url.target, "--as", "rev1", "--format", "csv"]
    assert cli_run(["explain", str(hostile), "P01", *target]) == 0
    text = capsys.readouterr().out
    assert text.splitlines()[0] == ",".join(CSV_COLUMNS)
    rows = _rows(text)
    assert {r["person_id"] for r in rows} == {"P01"}
    assert {r["outcome"] for r in rows} == {"eligible"}
    clauses = [r["clause"] for r in rows]
    assert len(clauses) == len(set(clauses)) > 1 and "g-common" in clauses
    common = next(r for r in rows if r["clause"] == "g-common")
    assert common["value"] == "true" and common["kind"] == "grant"
    assert common["text"].startswith("'=HYPERLINK(")  # a spreadsheet shows it, runs nothing
    assert all(not cell.startswith(("=", "+", "-", "@")) for r in rows for cell in r.values())


def test_explain_against_a_run_as_csv_says_whether_it_agrees(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    args = ["explain", str(world.decree_path), "P03", "--run", world.run_id]
    assert cli_run([*args, "--db", world.url.target, "--as", "rev1", "--format", "csv"]) == 0
    text = capsys.readouterr().out
    assert text.splitlines()[0] == ",".join(CSV_COLUMNS + RUN_CSV_COLUMNS)
    rows = _rows(text)
    assert rows and {(r["run_id"], r["run_outcome"], r["agrees"]) for r in rows} == {
        (world.run_id, "review", "yes")
    }


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_determinations_carry_person_and_facility_names(
    world: World, tmp_path: Path, suffix: str
) -> None:
    out = tmp_path / f"determinations{suffix}"
    args = ["evaluate", str(world.decree_path), "--db", world.url.target, "--out", str(out)]
    # the decree refers on a health fact, so its rows are a health read: a reviewer's (#9)
    args += ["--as", "rev1"]
    assert cli_run([*args, "--no-record"] if suffix == ".csv" else args) == 0
    if suffix == ".csv":
        rows = _rows(out.read_text(encoding="utf-8"))
    else:
        rows = pq.read_table(out).to_pylist()
    columns = list(rows[0])
    assert columns[:3] == ["person_id", "name", "name_romanised"]
    assert columns[columns.index("facility_id") + 1] == "facility_name"
    by_id = {r["person_id"]: r for r in rows}
    assert (by_id["P01"]["name"], by_id["P01"]["name_romanised"]) == ("김철수", "Kim Chol-su")
    assert (by_id["P05"]["facility_id"], by_id["P05"]["facility_name"]) == ("F2", "제2교화소")
