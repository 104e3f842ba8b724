"""Every route of the app declares who may call it; a wrong role gets 403 on each.

The routes are enumerated from ``app.routes`` (API and pages alike), never listed
by hand, so a route added without a policy fails here.
"""

from __future__ import annotations

import re

import pytest
from fastapi.routing import APIRoute
from serving import Served

from amnesty.server.policy import Policy, route_table
from amnesty.workflow.roles import Role

# A user of the world holding each role (and only it).
HOLDER = {
    Role.admin: "admin",
    Role.drafter: "drafter",
    Role.analyst: "analyst",
    Role.reviewer: "rev1",
    Role.approver: "appr1",
    Role.facility_officer: "off1",
    Role.auditor: "auditor",
}


def _path(path: str, served: Served) -> str:
    values = {
        "run_id": served.world.run_id,
        "person_id": "P01",
        "roster_id": "1",
        "facility_id": "F1",
        "decree_id": served.world.decree.id,
        "job_id": "job-0",
    }
    return re.sub(r"\{(\w+)(:\w+)?\}", lambda m: values.get(m.group(1), "x"), path)


def _calls(served: Served) -> list[tuple[str, str, Policy]]:
    calls = []
    for entry in route_table(served.app):
        assert entry.policy is not None
        if isinstance(entry.route, APIRoute):
            for method in sorted(entry.methods - {"HEAD"}):
                calls.append((method, _path(entry.path, served), entry.policy))
    return calls


def test_every_route_declares_a_policy(shared_duck: Served) -> None:
    routes = route_table(shared_duck.app)
    assert len(routes) > 30
    undeclared = [e.path for e in routes if e.policy is None]
    assert undeclared == []
    # The few open to anyone are the login, the logout and the schema.
    public = sorted(
        (m, e.path)
        for e in routes
        if e.policy and e.policy.public
        for m in e.methods
        if m != "HEAD"
    )
    api_public = [(m, path) for m, path in public if path.startswith(("/api", "/openapi"))]
    assert api_public == [
        ("DELETE", "/api/session"),
        ("GET", "/openapi.json"),
        ("POST", "/api/session"),
    ]


def test_a_wrong_role_gets_403_on_every_route(shared_duck: Served) -> None:
    checked = 0
    for method, path, policy in _calls(shared_duck):
        if policy.public or not policy.roles:
            continue
        for role, user in HOLDER.items():
            if role in policy.roles:
                continue
            answer = shared_duck.call(user, method, path, json={})
            assert answer.status_code == 403, (method, path, user, answer.text)
            assert answer.headers["content-type"].startswith("application/problem+json") or (
                not path.startswith("/api")
            )
            checked += 1
    assert checked > 100


def test_no_credential_gets_401_on_every_route_but_the_public_ones(shared_duck: Served) -> None:
    for method, path, policy in _calls(shared_duck):
        if policy.public:
            continue
        answer = shared_duck.client.request(method, path, json={})
        assert answer.status_code == 401, (method, path, answer.text)


@pytest.mark.parametrize("via", ["token"])
def test_refusals_are_audited(shared_duck: Served, via: str) -> None:
    answer = shared_duck.call("off1", "POST", "/api/rosters/1/approve", json={})
    assert answer.status_code == 403
    from amnesty.audit.log import iter_events

    last = list(iter_events(shared_duck.app.state.database.url))[-1]
    assert last["actor"] == "off1" and last["outcome"] == "refused"
    assert "approver" in last["reason"]


def test_docs_list_every_route_with_its_policy(shared_duck: Served) -> None:
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "server.md").read_text()
    for entry in route_table(shared_duck.app):
        assert entry.policy is not None
        for method in sorted(entry.methods - {"HEAD"}):
            row = f"| {method} | `{entry.path}` | {entry.policy.describe()} |"
            assert row in doc, row
