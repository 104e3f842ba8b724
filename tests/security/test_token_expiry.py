"""A stolen token stops working on its own (#9): tokens expire.

Before, a token acted as its user until someone noticed and revoked it. Now it
carries an expiry (90 days unless issued with ``--days``); an expired token is
refused with the date it expired, the refusal is audited, and ``user tokens``
shows when each token expires.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from acting import TEST_PASSWORD
from amnesty.audit.verify import verify
from amnesty.cli import run
from amnesty.errors import ConfigError, PermissionDenied
from amnesty.store.engine import get_engine
from amnesty.workflow.credentials import (
    DEFAULT_TOKEN_DAYS,
    authenticate_token,
    issue_token,
    list_tokens,
)
from amnesty.workflow.decrees import get_decree
from amnesty.workflow.users import add_user

DECREE = Path(__file__).resolve().parents[2] / "decrees" / "kp-2015-10-party-founding.toml"
ISSUED = dt.datetime(2026, 1, 5, 9, 30, tzinfo=dt.UTC)


@pytest.fixture
def store(backend_url: str) -> str:
    add_user(backend_url, "root", ["admin"], password=TEST_PASSWORD)
    add_user(backend_url, "dora", ["drafter"], actor="root", password="dora's own password")
    return backend_url


def _last_event(url: str) -> tuple[str, str, str, str | None]:
    query = "SELECT actor, action, outcome, reason FROM audit_events ORDER BY seq DESC LIMIT 1"
    with get_engine(url).connect() as conn:
        row = conn.execute(sa.text(query)).one()
    return (row[0], row[1], row[2], row[3])


def test_a_token_works_until_it_expires_then_is_refused_and_audited(store: str) -> None:
    issued = issue_token(store, "dora", actor="dora", days=30, now=ISSUED)
    assert issued.expires_at == ISSUED + dt.timedelta(days=30)
    day_before = ISSUED + dt.timedelta(days=29)
    assert authenticate_token(store, issued.secret, now=day_before) == "dora"
    with pytest.raises(PermissionDenied) as refused:
        authenticate_token(store, issued.secret, now=ISSUED + dt.timedelta(days=30))
    message = str(refused.value)
    assert message == (
        f"token {issued.credential_id} of 'dora' expired on 2026-02-04 09:30 UTC; "
        "amnesty login (or amnesty user token) issues a new one"
    )
    assert _last_event(store) == ("(anonymous)", "login", "refused", message)
    assert verify(store).ok


def test_the_default_lifetime_and_its_limits(store: str) -> None:
    issued = issue_token(store, "dora", actor="dora", now=ISSUED)
    assert issued.expires_at == ISSUED + dt.timedelta(days=DEFAULT_TOKEN_DAYS)
    for days in (0, -1, 367):
        with pytest.raises(ConfigError, match=f"from 1 to 366 days \\(--days\\), not {days}"):
            issue_token(store, "dora", actor="dora", days=days)
    (listed,) = list_tokens(store, "dora")
    assert listed["expires_at"] == issued.expires_at


def test_an_expired_token_does_not_act_through_the_cli(
    store: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=DEFAULT_TOKEN_DAYS + 1)
    issued = issue_token(store, "dora", actor="dora", now=long_ago)
    monkeypatch.delenv("AMNESTY_PASSWORD")
    monkeypatch.setenv("AMNESTY_TOKEN", issued.secret)
    assert run(["decree", "sign", str(DECREE), "--db", store]) == 1
    err = capsys.readouterr().err
    assert f"Error: token {issued.credential_id} of 'dora' expired on" in err
    assert len(err.strip().splitlines()) == 1
    assert get_decree(store, DECREE.stem) is None


def test_user_token_days_and_user_tokens_show_expiry(
    store: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["user", "token", "dora", "--days", "7", "--as", "root", "--db", store]) == 0
    capsys.readouterr()
    assert run(["user", "tokens", "dora", "--db", store, "--format", "json"]) == 0
    (token,) = json.loads(capsys.readouterr().out)
    created = dt.datetime.fromisoformat(token["created_at"].replace("Z", "+00:00"))
    expires = dt.datetime.fromisoformat(token["expires_at"].replace("Z", "+00:00"))
    assert expires - created == dt.timedelta(days=7)
    assert run(["user", "token", "dora", "--days", "400", "--as", "root", "--db", store]) == 1
    assert "from 1 to 366 days" in capsys.readouterr().err
