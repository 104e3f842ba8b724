"""A name is a claim, not an identity (#9): acting needs a password or a token.

Before, ``--as approver`` was enough for any shell to act as the approver. Each
test here tries what an insider or the holder of a stolen token would.
"""

from __future__ import annotations

import io
import stat
from pathlib import Path

import pytest
import sqlalchemy as sa

from acting import TEST_PASSWORD
from amnesty.audit.verify import verify
from amnesty.cli import run
from amnesty.store.engine import get_engine
from amnesty.workflow.decrees import get_decree
from amnesty.workflow.users import add_user

DECREE = Path(__file__).resolve().parents[2] / "decrees" / "kp-2015-10-party-founding.toml"


@pytest.fixture
def store(backend_url: str) -> str:
    add_user(backend_url, "root", ["admin"], password=TEST_PASSWORD)
    add_user(backend_url, "dora", ["drafter"], actor="root", password="dora's own password")
    return backend_url


def _refusals(url: str) -> list[tuple[str, str]]:
    query = "SELECT actor, action FROM audit_events WHERE outcome = 'refused' ORDER BY seq"
    with get_engine(url).connect() as conn:
        return [(r[0], r[1]) for r in conn.execute(sa.text(query))]


def _sign(store: str, *extra: str) -> int:
    return run(["decree", "sign", str(DECREE), "--db", store, *extra])


def test_a_bare_name_does_not_act(
    store: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("AMNESTY_PASSWORD")
    monkeypatch.setenv("AMNESTY_USER", "dora")
    assert _sign(store) == 1
    assert "acting as 'dora' needs a credential" in capsys.readouterr().err
    assert _sign(store, "--as", "dora") == 1
    assert get_decree(store, DECREE.stem) is None


def test_a_wrong_password_is_refused_and_audited(
    store: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # AMNESTY_PASSWORD holds the test password, which is root's, not dora's
    assert _sign(store, "--as", "dora") == 1
    assert "wrong password for 'dora'" in capsys.readouterr().err
    assert get_decree(store, DECREE.stem) is None
    assert _refusals(store)[-1] == ("(anonymous)", "login")
    assert verify(store).ok


def test_login_keeps_a_private_token_that_then_acts(
    store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("dora's own password\n"))
    assert run(["login", "--as", "dora", "--password-stdin", "--db", store]) == 0
    config = tmp_path / "amnesty-config" / "tokens.json"
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    assert stat.S_IMODE(config.parent.stat().st_mode) == 0o700
    assert "amn_" in config.read_text()
    monkeypatch.delenv("AMNESTY_PASSWORD")
    assert _sign(store) == 0  # the kept token proves dora
    record = get_decree(store, DECREE.stem)
    assert record is not None and record.signed_by == "dora"


def test_a_token_file_others_can_read_is_refused(
    store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("dora's own password\n"))
    assert run(["login", "--as", "dora", "--password-stdin", "--db", store]) == 0
    config = tmp_path / "amnesty-config" / "tokens.json"
    config.chmod(0o644)
    monkeypatch.delenv("AMNESTY_PASSWORD")
    capsys.readouterr()
    assert _sign(store) == 1
    assert "others may read it" in capsys.readouterr().err


def test_a_token_acts_only_as_its_holder_and_not_once_revoked(
    store: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["user", "token", "dora", "--as", "root", "--db", store]) == 0
    token = capsys.readouterr().out.strip().splitlines()[0]
    assert token.startswith("amn_")
    with get_engine(store).connect() as conn:
        stored = conn.execute(sa.text("SELECT secret_hash FROM credentials")).scalars().all()
    assert token not in " ".join(stored)  # only its hash is kept
    monkeypatch.delenv("AMNESTY_PASSWORD")
    monkeypatch.setenv("AMNESTY_TOKEN", token)
    assert _sign(store, "--as", "root") == 1  # dora's token cannot claim to be root
    assert "belongs to 'dora', not to 'root'" in capsys.readouterr().err
    with get_engine(store).connect() as conn:
        token_id = conn.execute(
            sa.text("SELECT credential_id FROM credentials WHERE kind = 'token'")
        ).scalar_one()
    assert run(["user", "revoke-token", token_id, "--db", store]) == 0  # dora revokes it
    capsys.readouterr()
    assert _sign(store) == 1
    assert "the token is unknown or revoked" in capsys.readouterr().err
    assert get_decree(store, DECREE.stem) is None
    assert verify(store).ok


def test_only_an_admin_or_the_owner_issues_a_token(
    store: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AMNESTY_PASSWORD", "dora's own password")
    assert run(["user", "token", "root", "--as", "dora", "--db", store]) == 1
    assert "needs 'root' themself or an admin" in capsys.readouterr().err
    assert _refusals(store)[-1] == ("dora", "user.token")
