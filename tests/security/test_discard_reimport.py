"""Re-importing the registry cannot erase a release (#9).

Before, ``registry import --discard-amnesty-events`` needed no user and wrote no
audit event: the release events vanished, the released were back in custody,
and the same decree could free them again under a second certificate.
"""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from released_world import IN_WINDOW, Released, released_world

from amnesty.audit.verify import verify
from amnesty.cli import run
from amnesty.store.engine import get_engine
from amnesty.workflow.releases import revoke_release


@pytest.fixture
def done(backend_url: str) -> Released:
    return released_world(backend_url)


def _events(done: Released) -> set[str]:
    with get_engine(done.url).connect() as conn:
        return {str(e) for e in conn.execute(sa.text("SELECT event_id FROM events")).scalars()}


def _last_audit(done: Released) -> tuple[str, str, str]:
    query = "SELECT actor, action, outcome FROM audit_events ORDER BY seq DESC LIMIT 1"
    with get_engine(done.url).connect() as conn:
        row = conn.execute(sa.text(query)).one()
    return row[0], row[1], row[2]


def _reimport(done: Released, *extra: str) -> int:
    argv = ["registry", "import", str(done.world.registry_dir), "--db", str(done.url.target)]
    return run([*argv, "--discard-amnesty-events", *extra])


def test_reimport_needs_an_admin_and_a_refusal_is_audited(
    done: Released, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _events(done)
    monkeypatch.delenv("AMNESTY_PASSWORD")
    assert _reimport(done) == 1  # no credential at all
    assert "needs an authenticated user" in capsys.readouterr().err
    monkeypatch.setenv("AMNESTY_PASSWORD", "a test password, long enough")
    assert _reimport(done, "--as", "off1") == 1
    assert "lacks the role admin needed for registry.import" in capsys.readouterr().err
    assert _last_audit(done) == ("off1", "registry.import", "refused")
    assert _events(done) == before


def test_a_standing_release_events_cannot_be_discarded(
    done: Released, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _events(done)
    assert _reimport(done, "--as", "admin") == 1
    err = capsys.readouterr().err
    assert "would drop the registry events of 4 standing release(s)" in err
    assert "revoke those releases first" in err
    assert _events(done) == before  # the released stay released
    assert _last_audit(done) == ("admin", "registry.import", "refused")
    assert verify(done.url).ok


def test_after_revocation_the_discard_is_audited_and_verify_agrees(
    done: Released, capsys: pytest.CaptureFixture[str]
) -> None:
    back = IN_WINDOW + dt.timedelta(days=1)
    for person in ("P01", "P02", "P06", "P07"):
        revoke_release(
            done.url, "appr2", done.world.run_id, person, reason="wrong decree", return_date=back
        )
    assert _reimport(done, "--as", "admin") == 0, capsys.readouterr().err
    assert not any(e.startswith(done.world.run_id) for e in _events(done))
    assert _last_audit(done) == ("admin", "registry.import", "ok")
    result = verify(done.url)
    assert result.ok, result.problems[:3]
