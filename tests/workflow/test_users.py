"""Users and roles: bootstrap, admin-only accounts, role and facility checks, all audited."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa

from acting import TEST_PASSWORD
from amnesty.cli import run
from amnesty.errors import ConfigError, PermissionDenied
from amnesty.store.engine import get_engine
from amnesty.store.tables import audit_events
from amnesty.workflow.users import Role, add_user, list_users, require


def _refusals(url: str) -> list[tuple[str, str, str]]:
    with get_engine(url).connect() as connection:
        rows = connection.execute(
            sa.select(audit_events.c.actor, audit_events.c.action, audit_events.c.reason)
            .where(audit_events.c.outcome == "refused")
            .order_by(audit_events.c.seq)
        ).all()
    return [tuple(r) for r in rows]


def test_first_user_bootstraps_then_only_an_admin_adds(backend_url: str) -> None:
    with pytest.raises(ConfigError, match="first user must be an admin"):
        add_user(backend_url, "ana", ["analyst"])
    root = add_user(backend_url, "root", ["admin"])
    assert root.roles == (Role.admin,) and root.created_by is None
    with pytest.raises(PermissionDenied, match="needs an admin"):
        add_user(backend_url, "ana", ["analyst"])
    add_user(backend_url, "rev", ["reviewer"], actor="root")
    with pytest.raises(PermissionDenied, match="lacks the role admin"):
        add_user(backend_url, "ana", ["analyst"], actor="rev")
    assert [u.name for u in list_users(backend_url)] == ["rev", "root"]
    refused = _refusals(backend_url)
    assert [(actor, action) for actor, action, _ in refused] == [
        ("(anonymous)", "user.add"),
        ("rev", "user.add"),
    ]


def test_facility_officer_acts_only_for_their_facilities(backend_url: str) -> None:
    add_user(backend_url, "root", ["admin"])
    with pytest.raises(ConfigError, match="needs at least one --facility"):
        add_user(backend_url, "olga", ["facility_officer"], actor="root")
    add_user(backend_url, "olga", ["facility-officer"], ["KAECHON-14"], actor="root")
    user = require(
        backend_url, "olga", Role.facility_officer, facility="KAECHON-14", action="release.execute"
    )
    assert user.name == "olga"
    with pytest.raises(PermissionDenied, match="not for facility PYONGYANG-1"):
        require(
            backend_url,
            "olga",
            Role.facility_officer,
            facility="PYONGYANG-1",
            action="release.execute",
            entity=("release", "R1:P1"),
        )
    with pytest.raises(PermissionDenied, match="no user named 'mallory'"):
        require(backend_url, "mallory", Role.reviewer, action="review.decide")
    refused = _refusals(backend_url)
    assert [(a, act) for a, act, _ in refused] == [
        ("olga", "release.execute"),
        ("mallory", "review.decide"),
    ]
    assert "PYONGYANG-1" in (refused[0][2] or "")


def test_unknown_role_lists_the_known_ones(backend_url: str) -> None:
    with pytest.raises(ConfigError, match="expected one of: admin, drafter"):
        add_user(backend_url, "root", ["superuser"])


def test_cli_user_add_and_list(
    duck_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(TEST_PASSWORD + "\n"))
    bootstrap = ["user", "add", "root", "--role", "admin", "--password-stdin"]
    assert run([*bootstrap, "--db", duck_url]) == 0
    assert run(["user", "add", "ana", "--role", "analyst", "--db", duck_url]) == 1
    assert "Error: adding a user needs an admin" in capsys.readouterr().err
    officer = ["olga", "--role", "facility_officer", "--facility", "F1", "--facility", "F2"]
    code = run(["user", "add", *officer, "--db", duck_url, "--as", "root"])
    assert code == 0
    capsys.readouterr()
    assert run(["user", "list", "--db", duck_url, "--format", "csv"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("name,roles,facilities")
    assert out[1].startswith('olga,facility_officer,"F1,F2"')
