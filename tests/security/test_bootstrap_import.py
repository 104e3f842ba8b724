"""Who may import the first registry into an empty database (the bootstrap rule, #9).

While the database has no user there is nobody to authenticate: the first import
is allowed and chained under ``(bootstrap)``. From the first user on, every import
needs an admin's credential, and a refusal is chained too.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import sqlalchemy as sa

from acting import TEST_PASSWORD
from amnesty.audit.verify import verify
from amnesty.cli import run
from amnesty.store.engine import dispose_engine, get_engine


def _events(url: str) -> list[tuple[str, str, str]]:
    with get_engine(url).connect() as conn:
        rows = conn.execute(
            sa.text("SELECT actor, action, outcome FROM audit_events ORDER BY seq")
        ).all()
    return [(r[0], r[1], r[2]) for r in rows]


def test_the_first_import_needs_no_one_and_later_ones_an_admin(
    backend_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    registry = tmp_path / "registry"
    assert run(["registry", "generate", "--profile", "kp-2015", "--persons", "20", "--seed", "3",
                "--out", str(registry)]) == 0  # fmt: skip
    monkeypatch.delenv("AMNESTY_PASSWORD")
    assert run(["registry", "import", str(registry), "--db", backend_url]) == 0
    assert _events(backend_url) == [("(bootstrap)", "registry.import", "ok")]

    monkeypatch.setattr("sys.stdin", io.StringIO(TEST_PASSWORD + "\n"))
    assert run(["user", "add", "root", "--role", "admin", "--password-stdin",
                "--db", backend_url]) == 0  # fmt: skip
    capsys.readouterr()
    again = tmp_path / "again"
    assert run(["registry", "generate", "--profile", "kp-2015", "--persons", "21", "--seed", "3",
                "--out", str(again)]) == 0  # fmt: skip
    assert run(["registry", "import", str(again), "--db", backend_url]) == 1
    assert "registry.import needs an authenticated user" in capsys.readouterr().err
    assert _events(backend_url)[-1] == ("(anonymous)", "registry.import", "refused")
    monkeypatch.setenv("AMNESTY_PASSWORD", TEST_PASSWORD)
    assert run(["registry", "import", str(again), "--db", backend_url, "--as", "root"]) == 0
    assert _events(backend_url)[-1] == ("root", "registry.import", "ok")
    dispose_engine(backend_url)
    assert verify(backend_url).ok
