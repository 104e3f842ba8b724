"""The analysis commands: output, exit codes and `Error:` messages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from amnesty.analysis.suppression import DEFAULT_THRESHOLD
from amnesty.cli import analysis as cli_analysis
from amnesty.cli import run

OCTOBER = Path(__file__).resolve().parents[2] / "decrees" / "kp-2015-10-party-founding.toml"

pytestmark = pytest.mark.slow


def test_threshold_default_is_the_library_s() -> None:
    assert cli_analysis.DEFAULT_THRESHOLD == DEFAULT_THRESHOLD


def test_bad_variant_is_an_error_with_its_position(world, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.toml"
    bad.write_text('id = "bad"\n[[override]]\nclause = "KP-X1"\npredicate = \'authorty = "MSS"\'\n')
    code = run(["diff", str(OCTOBER), "--variant", str(bad), "--db", world.db])
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith("Error: ") and f"{bad}:4:14" in err and "Traceback" not in err


def test_report_formats_and_refusals(world, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    october = world.runs[1]
    assert run(["report", october, "--format", "pdf", "--db", world.db]) == 1
    assert "--out" in capsys.readouterr().err
    assert (
        run(
            [
                "report",
                october,
                "--format",
                "md",
                "--transparency",
                "--threshold",
                "3",
                "--db",
                world.db,
            ]
        )
        == 0
    )
    md = capsys.readouterr().out
    assert "# Transparency report" in md and "stopped_persons" not in md
    out = tmp_path / "r.html"
    assert run(["report", october, "--out", str(out), "--db", world.db]) == 0
    assert out.read_text().count("<svg") >= 4
    assert out.stat().st_mode & 0o777 == 0o600  # the report names persons
    out.write_text("kept")
    assert run(["report", october, "--out", str(out), "--db", world.db]) == 1
    assert "give --force" in capsys.readouterr().err and out.read_text() == "kept"
    assert run(["report", october, "--out", str(out), "--force", "--db", world.db]) == 0
    assert out.read_text().count("<svg") >= 4
    missing = tmp_path / "no-such-folder" / "r.html"
    assert run(["report", october, "--out", str(missing), "--db", world.db]) == 1
    assert "does not exist" in capsys.readouterr().err and not missing.parent.exists()
    assert run(["report", "R-nope", "--db", world.db]) == 1
    assert "no run 'R-nope'" in capsys.readouterr().err


def test_compare_and_clause_stats_json(world, capsys) -> None:  # type: ignore[no-untyped-def]
    august, october = world.runs
    assert run(["compare", august, october, "--format", "json", "--db", world.db]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [r["run_id"] for r in doc["runs"]] == [august, october]
    assert run(["clause-stats", october, "--format", "json", "--db", world.db]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert {r["clause"] for r in stats["clauses"]} >= {"KP-G1", "KP-X1"}
    assert run(["diff", "--runs", august, october, "--format", "json", "--db", world.db]) == 0
    diff = json.loads(capsys.readouterr().out)
    assert diff["diffs"][0]["persons_compared"] > 0
