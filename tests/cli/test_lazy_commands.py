"""Commands load lazily: ``amnesty --help`` imports no database library and no Rich,
a command printing no table imports no Rich, and the one-line help the root lists
without importing a command is that command's own."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import typer.main

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "workflow"))

from casework_world import build_world

from amnesty.cli import COMMAND_MODULES
from amnesty.cli.app import load_all

HEAVY = (
    "sqlalchemy",
    "alembic",
    "duckdb",
    "psycopg",
    "pyarrow",
    "sqlglot",
    "pydantic",
    "rich",
)


def _imported_after(argv: list[str]) -> set[str]:
    code = (
        "import sys\n"
        "from amnesty.cli import run\n"
        f"run({argv!r})\n"
        f"print('imported:' + ','.join(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    last = done.stdout.strip().splitlines()[-1]
    assert last.startswith("imported:"), done.stdout[-500:]
    return set(filter(None, last.removeprefix("imported:").split(",")))


def test_help_imports_no_database_library_and_no_rich() -> None:
    assert _imported_after(["--help"]) == set()
    assert _imported_after([]) == set()  # no arguments: the same listing


def test_rich_is_imported_only_to_print_a_table(tmp_path: Path) -> None:
    from amnesty.store.database import Database

    small = str(tmp_path / "small.duckdb")
    Database.of(build_world(small).url).close()
    assert "rich" not in _imported_after(["run", "list", "--db", small, "--format", "json"])
    assert "rich" in _imported_after(["run", "list", "--db", small, "--format", "table"])


def test_parsing_a_command_line_imports_no_pydantic(tmp_path: Path) -> None:
    # typer 0.29 coerces every option through a pydantic TypeAdapter, about half a
    # second of imports before any command runs; amnesty keeps typer below it
    imported = _imported_after(["run", "list", "--db", str(tmp_path / "none.duckdb")])
    assert "pydantic" not in imported


def test_a_command_imports_what_it_uses() -> None:
    # and its own help keeps Typer's Rich panels
    assert {"sqlalchemy", "rich"} <= _imported_after(["decree", "--help"])


def test_the_table_lists_every_command_with_its_own_help() -> None:
    group = typer.main.get_command(load_all())
    commands = getattr(group, "commands", {})
    assert set(commands) == set(COMMAND_MODULES)
    for name, (_modules, listed) in COMMAND_MODULES.items():
        own = " ".join((commands[name].help or "").split("\n\n")[0].split())
        assert own == listed, name


def test_no_arguments_prints_the_listing_with_the_usage_exit_code() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "amnesty"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 2
    assert done.stdout.startswith("Usage: amnesty")
    assert all(f"  {name} " in done.stdout for name in COMMAND_MODULES)
