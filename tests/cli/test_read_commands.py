"""Commands on a database that is not there: one ``Error:`` line, exit 1, no new file."""

from __future__ import annotations

from pathlib import Path

import pytest

from amnesty.cli import run

READS = [
    ["audit", "verify"],
    ["run", "list"],
    ["registry", "show"],
    ["roster", "show"],
    ["review", "list", "--run", "R1"],
    ["decree", "list"],
    ["evaluate", "decrees/kp-2015-10-party-founding.toml"],
]


@pytest.mark.parametrize("words", READS, ids=lambda w: " ".join(w[:2]))
def test_a_missing_database_is_an_error_and_stays_missing(
    words: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nothing.duckdb"
    assert run([*words, "--db", str(missing)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("Error: ")
    assert "no such database" in err[0] and "amnesty registry import" in err[0]
    assert not missing.exists()
