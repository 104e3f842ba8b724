"""Login, sessions, tokens and CSRF, as a browser and a script meet them."""

from __future__ import annotations

import pytest
from serving import Served

from acting import TEST_PASSWORD
from amnesty.server.state import digest

DOMAIN = "testserver.local"  # where the TestClient keeps its cookies


def test_login_sets_a_fresh_httponly_session_and_logout_ends_it(served: Served) -> None:
    client = served.new_client()
    # A session id planted before the login (fixation) is not carried over.
    client.cookies.set("amnesty_session", "planted-by-an-attacker", domain=DOMAIN)
    answer = served.login(client, "rev1")
    assert answer.status_code == 201, answer.text
    assert answer.json()["name"] == "rev1" and answer.json()["roles"] == ["reviewer"]
    cookie = answer.headers["set-cookie"]
    assert "HttpOnly" in cookie and "samesite=lax" in cookie.lower()
    assert "Secure" not in cookie  # plain http here; behind TLS it is set (next test)
    session = client.cookies.get("amnesty_session")
    assert session and session != "planted-by-an-attacker"
    assert client.get("/api/me").json()["name"] == "rev1"

    # Logging in again (the same browser) issues another id: the first one stops working.
    old = session
    # ... which, from a browser already logged in, needs the session's CSRF token.
    assert served.login(client, "rev1").status_code == 403
    csrf = client.get("/api/me").json()["csrf_token"]
    relogin = client.post(
        "/api/session",
        json={"name": "rev1", "password": TEST_PASSWORD},
        headers={"X-CSRF-Token": csrf},
    )
    assert relogin.status_code == 201
    assert client.cookies.get("amnesty_session") != old
    stale = served.new_client()
    stale.cookies.set("amnesty_session", old, domain=DOMAIN)
    assert stale.get("/api/me").status_code == 401

    csrf = client.get("/api/me").json()["csrf_token"]
    session_after_logout = client.cookies.get("amnesty_session")
    assert client.delete("/api/session", headers={"X-CSRF-Token": csrf}).status_code == 204
    again = served.new_client()
    again.cookies.set("amnesty_session", session_after_logout or "x", domain=DOMAIN)
    assert again.get("/api/me").status_code == 401
    # Only the hash of a session id is stored.
    from amnesty.server.state import server_sessions

    with served.app.state.database.connect() as conn:
        stored = [
            r[0]
            for r in conn.execute(
                server_sessions.select().with_only_columns(server_sessions.c.session_hash)
            )
        ]
    assert digest(old) in stored and old not in stored


def test_secure_cookie_over_https(served_duck: Served) -> None:
    from fastapi.testclient import TestClient

    client = TestClient(served_duck.app, base_url="https://testserver")
    answer = served_duck.login(client, "rev1")
    assert "Secure" in answer.headers["set-cookie"]


def test_password_guessing_is_throttled(served_duck: Served) -> None:
    client = served_duck.new_client()
    for _ in range(5):
        wrong = served_duck.login(client, "rev1", "not the password at all")
        assert wrong.status_code == 401
        assert wrong.headers["content-type"].startswith("application/problem+json")
        assert wrong.json()["detail"] == "wrong user name or password"
    # The sixth try is refused before the password is even looked at, the right one too.
    throttled = served_duck.login(client, "rev1")
    assert throttled.status_code == 429
    assert int(throttled.headers["retry-after"]) > 0
    assert throttled.json()["type"] == "urn:amnesty:problem:login-throttled"
    # Another account is not locked by it.
    assert served_duck.login(client, "rev2").status_code == 201


def test_revoked_token_stops_working_at_once(served: Served) -> None:
    from amnesty.workflow.credentials import revoke_token, token_id

    headers = served.headers("off1")
    assert served.client.get("/api/me", headers=headers).status_code == 200
    db = served.app.state.database
    revoke_token(db, token_id(db, served.token("off1")), actor="off1")
    refused = served.client.get("/api/me", headers=headers)
    assert refused.status_code == 401
    assert refused.json()["type"] == "urn:amnesty:problem:unauthenticated"


def test_cookie_requests_that_change_state_need_the_csrf_token(served_duck: Served) -> None:
    s = served_duck
    client = s.new_client()
    s.login(client, "rev1")
    path = f"/api/runs/{s.world.run_id}/reviews/P03"
    body = {"outcome": "eligible", "reason": "assessed fit to travel"}
    refused = client.post(path, json=body)
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["detail"]
    forged = client.post(path, json=body, headers={"X-CSRF-Token": "abc.def"})
    assert forged.status_code == 403
    # A token of another session is no good either.
    other = s.new_client()
    s.login(other, "rev2")
    foreign = other.get("/api/me").json()["csrf_token"]
    assert client.post(path, json=body, headers={"X-CSRF-Token": foreign}).status_code == 403
    # Nothing was decided by the refused requests.
    queue = s.call("rev1", "GET", f"/api/runs/{s.world.run_id}/reviews").json()
    assert [c["state"] for c in queue if c["person_id"] == "P03"] == ["open"]
    token = client.get("/api/me").json()["csrf_token"]
    done = client.post(path, json=body, headers={"X-CSRF-Token": token})
    assert done.status_code == 200, done.text
    assert done.json()["decided_by"] == "rev1"


def test_a_login_form_without_its_token_is_refused(served_duck: Served) -> None:
    client = served_duck.new_client()
    form = {"name": "rev1", "password": "whatever it is"}
    answer = client.post("/api/session", data=form)
    assert answer.status_code == 403


@pytest.mark.parametrize("header", ["", "Bearer ", "Bearer amn_forged", "Basic cmV2MTpwdw=="])
def test_no_standing_credential_is_401(shared_duck: Served, header: str) -> None:
    answer = shared_duck.client.get("/api/me", headers={"Authorization": header} if header else {})
    assert answer.status_code == 401
    assert answer.json()["status"] == 401 and answer.json()["instance"] == "/api/me"


def test_an_idle_session_expires(shared_duck: Served) -> None:
    import datetime as dt
    import time

    from fastapi.testclient import TestClient

    from amnesty.server.app import create_app
    from amnesty.server.settings import ServerSettings

    quick = ServerSettings(session_idle=dt.timedelta(seconds=1))
    app = create_app(shared_duck.app.state.database, settings=quick)
    client = TestClient(app, base_url="http://testserver")
    assert shared_duck.login(client, "appr2").status_code == 201
    assert client.get("/api/me").status_code == 200
    time.sleep(1.5)
    expired = client.get("/api/me")
    assert expired.status_code == 401
    app.state.jobs.shutdown()


def test_sessions_are_shared_by_server_processes(shared_duck: Served) -> None:
    """A second app (another worker) on the same database accepts the first one's session."""
    from fastapi.testclient import TestClient

    from amnesty.server.app import create_app

    first = shared_duck.new_client()
    assert shared_duck.login(first, "appr2").status_code == 201
    other = create_app(shared_duck.app.state.database)
    second = TestClient(other, base_url="http://testserver")
    second.cookies.set("amnesty_session", first.cookies.get("amnesty_session") or "", domain=DOMAIN)
    me = second.get("/api/me").json()
    assert me["name"] == "appr2"
    # and the CSRF token one process issued is good in the other (the key is in the database)
    body = {"label": "from the other worker"}
    issued = second.post("/api/tokens", json=body, headers={"X-CSRF-Token": me["csrf_token"]})
    assert issued.status_code == 201
    other.state.jobs.shutdown()


def test_a_form_with_the_token_of_no_session_passes_the_csrf_check(shared_duck: Served) -> None:
    from starlette.requests import Request

    from amnesty.server.auth import csrf_token

    scope = {"type": "http", "app": shared_duck.app, "headers": [], "method": "GET",
             "path": "/login", "query_string": b""}  # fmt: skip
    token = csrf_token(Request(scope))
    form = {"name": "rev1", "password": "whatever it is", "csrf_token": token}
    client = shared_duck.new_client()
    # past the CSRF check; /api/session itself takes JSON, so the form is then invalid
    assert client.post("/api/session", data=form).status_code == 422
    form["csrf_token"] = token[:-2] + ("00" if not token.endswith("00") else "11")
    assert client.post("/api/session", data=form).status_code == 403
