"""``amnesty check``: exit codes and output shape (CONTRACT.md)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from amnesty.cli import run

DECREES = Path(__file__).resolve().parents[2] / "decrees"


@pytest.mark.parametrize("name", sorted(p.name for p in DECREES.glob("*.toml")))
def test_shipped_decrees_check_clean(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["check", str(DECREES / name)]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1].startswith(f"{DECREES / name}: ok")


def test_errors_exit_1_with_positions(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(
        'id = "t"\ntitle = "T"\njurisdiction = "kp-2015"\nas_of = 2015-10-08\n\n[[clause]]\n'
        'id = "G1"\nkind = "grant"\nrelief = "release"\ntext = "x"\nsource = "S"\n'
        "predicate = 'age over 55'\n",
        encoding="utf-8",
    )
    assert run(["check", str(bad)]) == 1
    out = capsys.readouterr()
    assert f"{bad}:12:18: error: clause G1: comparator without strictness" in out.out
    assert "    hint: write `age > 55` (strictly over) or `age >= 55` (has reached)" in out.out
    assert out.err.startswith("Error: 1 error(s)")
    assert run(["check", str(bad), "--format", "json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["errors"][0]["line"] == 12 and doc["errors"][0]["code"] == "vague-comparator"


def test_missing_file_is_an_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["check", "/no/such/decree.toml"]) == 1
    assert "no such decree file" in capsys.readouterr().err
