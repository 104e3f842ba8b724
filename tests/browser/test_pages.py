"""The pages without a browser: what the end-to-end walk does not reach.

Through Starlette's test client on the real app over a real DuckDB file: the
login redirect, who sees health facts, bulk review decisions (all or nothing),
the assets (ours only, from a fixed list), and the registry's language.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from casework_world import build_world

from acting import TEST_PASSWORD

TEMPLATES = Path(__file__).resolve().parents[2] / "src" / "amnesty" / "server" / "web"


def _token(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from amnesty.server.app import create_app
    from amnesty.store.database import Database

    path = tmp_path_factory.mktemp("pages") / "amnesty.duckdb"
    world = build_world(str(path))
    application = create_app(Database.open(str(path)))
    application.state.world = world
    yield application
    from amnesty.store.engine import dispose_engine
    from amnesty.store.migrate import forget_migrated

    dispose_engine(str(path))
    forget_migrated(str(path))


def signed_in(app: Any, name: str) -> Any:
    from starlette.testclient import TestClient

    client = TestClient(app)
    token = _token(client.get("/login").text)
    answer = client.post(
        "/login",
        data={"name": name, "password": TEST_PASSWORD, "csrf_token": token, "next": "/"},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    return client


def test_a_page_without_a_session_shows_the_login_then_goes_back(app: Any) -> None:
    from starlette.testclient import TestClient

    client = TestClient(app)
    answer = client.get("/review?state=open")
    assert answer.status_code == 401  # as the API answers, with the login form to fill
    assert '<input type="hidden" name="next" value="/review?state=open">' in answer.text
    back = client.post(
        "/login",
        data={"name": "rev1", "password": TEST_PASSWORD, "csrf_token": _token(answer.text),
              "next": "/review?state=open"},
        follow_redirects=False,
    )  # fmt: skip
    assert back.status_code == 303 and back.headers["location"] == "/review?state=open"


def test_a_wrong_password_is_refused_on_the_page(app: Any) -> None:
    from starlette.testclient import TestClient

    client = TestClient(app)
    token = _token(client.get("/login").text)
    answer = client.post(
        "/login", data={"name": "rev1", "password": "guess", "csrf_token": token, "next": "/"}
    )
    assert answer.status_code == 401
    assert "wrong user name or password" in answer.text
    assert "amnesty_session" not in answer.cookies


def test_login_goes_back_only_to_this_server(app: Any) -> None:
    from starlette.testclient import TestClient

    client = TestClient(app)
    token = _token(client.get("/login").text)
    answer = client.post(
        "/login",
        data={"name": "rev1", "password": TEST_PASSWORD, "csrf_token": token,
              "next": "//evil.example/x"},
        follow_redirects=False,
    )  # fmt: skip
    assert answer.status_code == 303 and answer.headers["location"] == "/"


def test_health_facts_only_for_the_roles_that_need_them(app: Any) -> None:
    run = app.state.world.run_id
    officer = signed_in(app, "off1")
    page = officer.get(f"/persons/P03?run={run}").text
    clause = page.split('data-clause="r-health"', 1)[1].split("</tr>", 1)[0]
    assert "withheld" in clause and "severe" not in clause
    assert officer.get(f"/persons/P03/health?run={run}").status_code == 403

    reviewer = signed_in(app, "rev1")
    health = reviewer.get(f"/persons/P03/health?run={run}")
    assert health.status_code == 200
    assert "severe" in health.text.split('data-clause="r-health"', 1)[1].split("</tr>", 1)[0]
    reads = app.state.world.sql(
        "SELECT actor, entity_id FROM audit_events WHERE action = 'health.read'"
    )
    assert ("rev1", "P03") in [tuple(r) for r in reads]


def test_bulk_decisions_are_all_or_nothing(app: Any) -> None:
    run = app.state.world.run_id
    reviewer = signed_in(app, "rev2")
    token = _token(reviewer.get(f"/review?run={run}").text)
    refused = reviewer.post(
        f"/review?run={run}",
        data={"csrf_token": token, "outcome": "eligible", "reason": "checked",
              "person": ["P03", "P01"]},
    )  # fmt: skip
    assert refused.status_code == 422
    assert "P01" in refused.text and "not a review case of this run" in refused.text
    assert app.state.world.sql("SELECT count(*) FROM review_decisions")[0][0] == 0

    token = _token(refused.text)
    done = reviewer.post(
        f"/review?run={run}",
        data={"csrf_token": token, "outcome": "ineligible", "reason": "record confirmed",
              "person": ["P03"]},
        follow_redirects=False,
    )  # fmt: skip
    assert done.status_code == 303
    decided = app.state.world.sql("SELECT person_id, outcome, decided_by FROM review_decisions")
    assert [tuple(r) for r in decided] == [("P03", "ineligible", "rev2")]


def test_a_run_started_from_the_page_goes_on_in_the_background(app: Any) -> None:
    import time

    drafter = signed_in(app, "drafter")
    home = drafter.get("/").text
    assert '<option value="kp-2015-10">' in home  # the stored decree, offered to run
    started = drafter.post(
        "/runs",
        data={"csrf_token": _token(home), "decree_id": "kp-2015-10", "as_of": "2015-10-10"},
        follow_redirects=False,
    )
    assert started.status_code == 303 and started.headers["location"].startswith("/jobs/job-")
    job = started.headers["location"]
    first = drafter.get(job).text
    assert re.search(r'data-state="(queued|running|done)"', first)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        piece = drafter.get(job, headers={"HX-Request": "true"}).text
        if 'data-state="done"' in piece or 'data-state="failed"' in piece:
            break
        assert 'hx-trigger="every 1s"' in piece  # still running: the fragment asks again
        time.sleep(0.2)
    assert 'data-state="done"' in piece, piece
    assert "hx-trigger" not in piece  # done: no more polling
    run_id = re.search(r'href="/\?run=([^"]+)"', piece)
    assert run_id and run_id.group(1) != app.state.world.run_id
    officer = signed_in(app, "off1")
    refused = officer.post(
        "/runs", data={"csrf_token": _token(officer.get("/").text), "decree_id": "kp-2015-10"}
    )
    assert refused.status_code == 403 and "lacks the role" in refused.text


def test_only_our_own_assets_are_served() -> None:
    from amnesty.server.web.pages import STATIC_FILES
    from amnesty.server.web.render import STATIC

    assert sorted(STATIC_FILES) == sorted(p.name for p in STATIC.iterdir())
    for template in (TEMPLATES / "templates").glob("*.html"):
        text = template.read_text(encoding="utf-8")
        assert not re.search(r"""(src|href|action)=["']?(https?:)?//""", text), template.name


def test_an_asset_outside_the_list_is_not_served(app: Any) -> None:
    from starlette.testclient import TestClient

    client = TestClient(app)
    assert client.get("/static/htmx.min.js").status_code == 200
    assert client.get("/static/htmx.min.js").text.startswith("var htmx")
    for name in ("..%2F__init__.py", "amnesty.css.bak", "%2Fetc%2Fpasswd"):
        assert client.get(f"/static/{name}").status_code == 404, name


def test_the_registry_language(tmp_path: Path) -> None:
    """On a kp-2015 registry the pages are offered in Korean as well as English."""

    from amnesty.registry.generate import generate
    from amnesty.registry.importer import import_registry
    from amnesty.server.app import create_app
    from amnesty.store.database import Database
    from amnesty.workflow.users import add_user

    generate("kp-2015", 50, 7, tmp_path / "registry")
    url = str(tmp_path / "kp.duckdb")
    import_registry(url, tmp_path / "registry")
    db = Database.open(url)
    add_user(db, "admin", ["admin"], password=TEST_PASSWORD)
    try:
        client = signed_in(create_app(db), "admin")
        english = client.get("/").text
        assert '<option value="ko">한국어</option>' in english and "Dashboard" in english
        korean = client.get("/?lang=ko")
        assert '<html lang="ko">' in korean.text and "현황판" in korean.text
        assert client.get("/").text.count("현황판") >= 1  # the choice is kept (cookie)
        assert client.get("/?lang=xx").text.startswith('<!doctype html>\n<html lang="en">')
    finally:
        from amnesty.store.engine import dispose_engine
        from amnesty.store.migrate import forget_migrated

        dispose_engine(url)
        forget_migrated(url)


def test_undertakings_one_by_one_and_a_bad_file_named_by_row(app: Any) -> None:
    run = app.state.world.run_id
    officer = signed_in(app, "off1")
    prepared = officer.post(
        f"/rosters?run={run}",
        data={"csrf_token": _token(officer.get(f"/rosters?run={run}").text), "facility_id": "F1"},
        follow_redirects=False,
    )
    assert prepared.status_code == 303
    roster = prepared.headers["location"].split("?", 1)[0]
    approver = signed_in(app, "appr1")
    approved = approver.post(
        f"{roster}/approve", data={"csrf_token": _token(approver.get(roster).text)},
        follow_redirects=False,
    )  # fmt: skip
    assert approved.status_code == 303

    bad = b"person_id,undertaking_id,status,signed_on,witness\nP01,pledge,signed,8 Oct,Ri\n"
    refused = officer.post(
        f"{roster}/undertakings/file",
        data={"csrf_token": _token(officer.get(roster).text)},
        files={"file": ("../../pledges.csv", bad, "text/csv")},
    )
    assert refused.status_code == 422
    assert "pledges.csv row 2 column signed_on" in refused.text  # the base name only
    assert app.state.world.sql("SELECT count(*) FROM undertaking_records")[0][0] == 0

    recorded = officer.post(
        f"{roster}/undertakings",
        data={"csrf_token": _token(refused.text), "person_id": "P01", "undertaking_id": "pledge",
              "signed_on": "2015-10-08", "witness": "Ri Chol"},
        follow_redirects=False,
    )  # fmt: skip
    assert recorded.status_code == 303
    row = officer.get(roster).text.split('data-person="P01"', 1)[1].split("</tr>", 1)[0]
    assert "pledge signed" in row
    signed = app.state.world.sql("SELECT person_id, witness, recorded_by FROM undertaking_records")
    assert [tuple(r) for r in signed] == [("P01", "Ri Chol", "off1")]


@pytest.mark.postgres
def test_the_pages_on_postgresql(pg_db: str) -> None:
    """The same queries on PostgreSQL: counts, filters, scope."""
    from amnesty.server.app import create_app
    from amnesty.store.database import Database

    world = build_world(pg_db)
    application = create_app(Database.open(pg_db))
    reviewer = signed_in(application, "rev1")
    home = reviewer.get("/").text
    assert 'data-count="total">7<' in home and 'data-count="eligible">5<' in home
    theft = reviewer.get(f"/determinations?run={world.run_id}&ground=g-common&division=D0").text
    rows = world.first_run.evaluation.determinations.to_pylist()
    expected = sum("g-common" in (r["grounds"] or []) for r in rows)
    assert expected >= 5 and f'data-total="{expected}"' in theft
    officer = signed_in(application, "off2")
    assert 'data-total="1"' in officer.get(f"/determinations?run={world.run_id}").text
    assert officer.get(f"/persons/P01?run={world.run_id}").status_code == 403
