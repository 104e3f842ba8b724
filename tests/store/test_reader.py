"""The light read path and the one-line errors of opening a database: a server that is
not there, a schema of another revision. Never a traceback, never a changed database."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from amnesty.cli import run
from amnesty.registry.generate import generate
from amnesty.registry.importer import import_registry
from amnesty.store import migrate, reader
from amnesty.store.database import Database

UNREACHABLE = "postgresql://nobody@127.0.0.1:1/amnesty"  # port 1: nothing listens


def test_the_light_path_knows_the_migrations_head() -> None:
    assert reader.HEAD == migrate.HEAD == migrate.head_revision()


def _one_error(words: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    capsys.readouterr()
    assert run(words) == 1
    captured = capsys.readouterr()
    err = captured.err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("Error: "), captured.err[-800:]
    assert "Traceback" not in captured.err + captured.out
    return err[0]


@pytest.mark.parametrize(
    "words", [["run", "list"], ["run", "show", "R1"], ["registry", "show"], ["decree", "list"]]
)
def test_an_unreachable_server_is_one_line(
    words: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    line = _one_error([*words, "--db", UNREACHABLE], capsys)
    assert "cannot connect to postgresql://nobody@127.0.0.1:1/amnesty" in line
    assert "check that the server is running" in line


@pytest.fixture
def imported(tmp_path: Path) -> str:
    generate("kp-2015", 50, 1, tmp_path / "registry")
    db = str(tmp_path / "a.duckdb")
    import_registry(db, tmp_path / "registry")
    Database.open(db).close()
    return db


def _set_revision(db: str, revision: str) -> None:
    Database.open(db).close()
    migrate.forget_migrated(db)
    con = duckdb.connect(db)
    con.execute("UPDATE alembic_version SET version_num = ?", [revision])
    con.close()


@pytest.mark.parametrize(
    "words", [["run", "list"], ["run", "show", "R1"], ["registry", "show"], ["decree", "list"]]
)
def test_a_schema_from_a_newer_amnesty_is_one_line_and_left_alone(
    words: list[str], imported: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _set_revision(imported, "0099")
    line = _one_error([*words, "--db", imported], capsys)
    assert "schema revision 0099, but this amnesty reads revision" in line
    assert "written by a newer amnesty" in line
    con = duckdb.connect(imported, read_only=True)
    assert con.execute("SELECT version_num FROM alembic_version").fetchall() == [("0099",)]
    con.close()


def test_an_older_schema_is_refused_by_a_read_and_migrated_by_the_full_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A database really left at revision 0002: Alembic upgraded it that far only.
    from alembic import command

    from amnesty.store.engine import dispose_engine, get_engine

    old = str(tmp_path / "old.duckdb")
    config = migrate.alembic_config()
    with get_engine(old).begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0002")
    dispose_engine(old)
    line = _one_error(["run", "list", "--db", old], capsys)
    assert "schema revision 0002" in line and "migrates it" in line
    # The advice works: any full command migrates it to the head, then reads work.
    assert run(["decree", "list", "--db", old]) == 0
    Database.open(old).close()
    assert run(["run", "list", "--db", old]) == 0
    con = duckdb.connect(old, read_only=True)
    assert con.execute("SELECT version_num FROM alembic_version").fetchone() == (migrate.HEAD,)
    con.close()
