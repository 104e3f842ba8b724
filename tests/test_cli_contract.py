"""The outside contract of the CLI root: exit codes and error shape (CONTRACT.md)."""

from __future__ import annotations

import pytest

from amnesty.cli import run
from amnesty.errors import ConfigError
from amnesty.store.db import resolve_db


def test_unknown_option_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["--no-such-option"]) == 2


def test_help_exits_zero(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["--help"]) == 0
    assert "amnesty" in capsys.readouterr().out


def test_db_resolution_order(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AMNESTY_DB", raising=False)
    assert resolve_db(None).target == "amnesty.duckdb"
    monkeypatch.setenv("AMNESTY_DB", "/tmp/x.duckdb")
    assert resolve_db(None).target == "/tmp/x.duckdb"
    assert resolve_db("duckdb:////data/a.duckdb").target == "/data/a.duckdb"
    pg = resolve_db("postgresql://u:secret@localhost/db")
    assert pg.kind == "postgresql" and "secret" not in str(pg)


def test_unknown_scheme_names_what_is_expected() -> None:
    with pytest.raises(ConfigError, match="expected a DuckDB path"):
        resolve_db("mysql://x")
