"""``amnesty remote``: an officer's case work through the server, with no database access."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from serving import Live, Served

from amnesty.cli import run as cli


def _as(monkeypatch: pytest.MonkeyPatch, served: Served, user: str | None) -> None:
    if user is None:
        monkeypatch.delenv("AMNESTY_TOKEN", raising=False)
    else:
        monkeypatch.setenv("AMNESTY_TOKEN", served.token(user))


def test_an_officer_works_through_the_server(
    served_duck: Served,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    s, run = served_duck, served_duck.world.run_id
    # No database for the CLI at all: it only knows the server.
    monkeypatch.setenv("AMNESTY_DB", str(tmp_path / "nowhere" / "none.duckdb"))
    with Live(s.app) as live:
        monkeypatch.setenv("AMNESTY_SERVER", live.url)
        # The officer logs in with their password; the token is kept (0600) for the server.
        assert cli(["remote", "login", "--as", "off1"]) == 0
        config = Path(os.environ["AMNESTY_CONFIG"])
        assert oct(config.stat().st_mode & 0o777) == "0o600"
        assert f"server:{live.url}" in config.read_text()
        assert cli(["remote", "whoami"]) == 0
        assert '"off1"' in capsys.readouterr().out

        roster = s.call("off1", "POST", f"/api/runs/{run}/rosters/F1").json()["roster_id"]
        # An officer cannot approve; the approver can.
        assert cli(["remote", "roster", "approve", str(roster)]) == 1
        assert "lacks the role approver" in capsys.readouterr().err
        _as(monkeypatch, s, "appr1")
        assert cli(["remote", "roster", "approve", str(roster)]) == 0
        assert "approved by appr1" in capsys.readouterr().out
        _as(monkeypatch, s, None)  # back to the officer's kept token

        assert cli(["remote", "roster", "check", str(roster), "--date", "2015-10-08"]) == 0
        assert "1 blocked" in capsys.readouterr().out
        assert (
            cli(
                [
                    "remote",
                    "release",
                    "undertake",
                    "--run",
                    run,
                    "P01",
                    "pledge",
                    "--signed-on",
                    "2015-10-05",
                    "--witness",
                    "W. Itness",
                ]
            )
            == 0
        )
        assert "undertaking pledge signed" in capsys.readouterr().out
        assert (
            cli(["remote", "release", "execute", "--roster", str(roster), "--date", "2015-10-08"])
            == 0
        )
        # P01, P02, P06, P07 (P03's review is still open, so P03 is not on the roster)
        assert "4 released" in capsys.readouterr().out
        out = tmp_path / "pdf"
        assert (
            cli(["remote", "certificate", "--run", run, "--person", "P01", "--out", str(out)]) == 0
        )
        assert (out / "certificate-P01.pdf").read_bytes().startswith(b"%PDF")

        # The officer of another facility is refused, with the server's reason (--force: the
        # file is there, and without it the CLI refuses before asking); the file is kept.
        kept = (out / "certificate-P01.pdf").read_bytes()
        _as(monkeypatch, s, "off2")
        assert (
            cli(["remote", "certificate", "--run", run, "--person", "P01", "--out", str(out),
                 "--force"]) == 1
        )  # fmt: skip
        err = capsys.readouterr().err
        assert "not within your facility scope" in err and "F1" not in err
        assert (out / "certificate-P01.pdf").read_bytes() == kept
        _as(monkeypatch, s, None)

        # Logging out revokes the token on the server.
        token = json.loads(config.read_text())[f"server:{live.url}"]
        assert cli(["remote", "logout"]) == 0
        assert (
            s.client.get("/api/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
        )
        assert cli(["remote", "whoami"]) == 1
    assert not (tmp_path / "nowhere").exists()
