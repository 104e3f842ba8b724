"""The case-work flow through the API, as several users, on both databases."""

from __future__ import annotations

import hashlib
import io
import json
import tempfile
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from openpyxl import load_workbook
from serving import Served

from amnesty.audit.log import iter_events

NASTY = "O'Brien\"; DROP TABLE users; -- <script>alert(1)</script> %_\\"


def _events(served: Served, action: str) -> list[dict]:
    return [e for e in iter_events(served.app.state.database.url) if e["action"] == action]


def test_the_whole_flow_as_reviewer_approver_officer_auditor(served: Served) -> None:
    _the_whole_flow(served)


@pytest.mark.postgres
def test_the_whole_flow_with_the_server_as_the_app_login(served_as_app_login: Served) -> None:
    """As deployed: the server holds the application's login, which may only append
    history and change the columns amnesty changes (docs/security.md)."""
    s = served_as_app_login
    assert str(s.app.state.database.url).split("://", 1)[1].startswith("app_")
    _the_whole_flow(s)
    # A run through the server's job queue, and a password login with its session.
    started = s.call("analyst", "POST", "/api/runs", json={"decree_id": s.world.decree.id})
    assert started.status_code == 202, started.text
    job = started.json()["job_id"]
    deadline = time.monotonic() + 120
    while (polled := s.call("analyst", "GET", f"/api/runs/jobs/{job}").json())["state"] not in (
        "done",
        "failed",
    ):
        assert time.monotonic() < deadline, polled
        time.sleep(0.2)
    assert polled["state"] == "done", polled
    client = s.new_client()
    assert s.login(client, "rev1").status_code in (200, 201)
    assert client.get("/api/me").json()["name"] == "rev1"
    assert s.call("auditor", "GET", "/api/audit/verify").json()["ok"] is True


def _the_whole_flow(s: Served) -> None:
    run = s.world.run_id
    # The reviewer decides the one referred case; the reason is stored as typed.
    queue = s.call("rev1", "GET", f"/api/runs/{run}/reviews").json()
    assert [(c["person_id"], c["state"]) for c in queue] == [("P03", "open")]
    decided = s.call(
        "rev1",
        "POST",
        f"/api/runs/{run}/reviews/P03",
        json={"outcome": "eligible", "reason": NASTY},
    )
    assert decided.status_code == 200, decided.text
    assert decided.json()["reason"] == NASTY and decided.json()["decided_by"] == "rev1"
    assert (
        s.call("rev1", "GET", f"/api/runs/{run}/reviews?state=decided").json()[0]["person_id"]
        == "P03"
    )

    # The officer prepares F1's roster; an approver approves it (four eyes).
    prepared = s.call("off1", "POST", f"/api/runs/{run}/rosters/F1")
    assert prepared.status_code == 201, prepared.text
    roster = prepared.json()["roster_id"]
    assert s.call("off1", "POST", f"/api/rosters/{roster}/approve").status_code == 403
    approved = s.call("appr1", "POST", f"/api/rosters/{roster}/approve")
    assert approved.status_code == 200 and approved.json()["status"] == "approved"

    check = s.call("off1", "GET", f"/api/rosters/{roster}/check?date=2015-10-08").json()
    assert check["blocked"] == 1  # P01 has not signed the pledge yet

    # Undertakings from a file (one bad row refuses all, naming it), then a good one.
    bad = "person_id,undertaking_id,status,signed_on,witness\nP01,pledge,signed,notadate,W\n"
    refused = s.call(
        "off1",
        "POST",
        f"/api/rosters/{roster}/undertakings-file",
        files={"file": ("u.csv", bad.encode(), "text/csv")},
    )
    assert refused.status_code in (400, 422), refused.text
    assert "row" in refused.json()["detail"] and refused.json()["status"] == refused.status_code
    header = "person_id,undertaking_id,status,signed_on,witness\n"
    good = f"{header}P01,pledge,signed,2015-10-05,{NASTY!r}\n"
    recorded = s.call(
        "off1",
        "POST",
        f"/api/rosters/{roster}/undertakings-file",
        files={"file": ("u.csv", good.encode(), "text/csv")},
    )
    assert recorded.status_code == 200, recorded.text
    assert recorded.json() == {"records": 1}

    released = s.call("off1", "POST", f"/api/rosters/{roster}/release", json={"date": "2015-10-08"})
    assert released.status_code == 200, released.text
    assert sorted(released.json()["released"]) == ["P01", "P02", "P03", "P06", "P07"]

    pdf = s.call("off1", "GET", f"/api/runs/{run}/releases/P01/certificate")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert pdf.headers["content-type"] == "application/pdf"
    batch = s.call("appr1", "GET", f"/api/rosters/{roster}/certificates")
    assert batch.status_code == 200 and batch.content.startswith(b"%PDF")
    # The web page's download prints into a private folder and leaves nothing behind:
    # no shared folder under /tmp where another account could plant a file or a link.
    before = set(Path(tempfile.gettempdir()).glob("amnesty-certificates*"))
    page_pdf = s.call("appr1", "GET", f"/rosters/{roster}/certificates.pdf")
    assert page_pdf.status_code == 200 and page_pdf.content.startswith(b"%PDF")
    printed = _events(s, "certificate.print")[-1]["after"]
    assert printed["sha256"] == hashlib.sha256(page_pdf.content).hexdigest()
    folder = Path(printed["path"]).parent  # this request's own, gone once sent
    assert folder.name.startswith("amnesty-certificates-") and not folder.exists()
    assert set(Path(tempfile.gettempdir()).glob("amnesty-certificates*")) == before

    # The officer of another facility sees nothing of it.
    for path in (
        f"/api/rosters/{roster}",
        f"/api/rosters/{roster}/check?date=2015-10-08",
        f"/api/runs/{run}/releases/P01/certificate",
        f"/api/rosters/{roster}/certificates",
    ):
        answer = s.call("off2", "GET", path)
        assert answer.status_code == 403, path
        # a problem and nothing else: no roster entry, no person, no certificate
        assert set(answer.json()) == {"type", "title", "status", "detail", "instance"}
        # and no facility named: the officer does not learn where the person is held
        assert answer.json()["detail"] == "user 'off2': not within your facility scope"
        assert "F1" not in answer.text
    assert (
        s.call(
            "off2", "POST", f"/api/rosters/{roster}/release", json={"date": "2015-10-08"}
        ).status_code
        == 403
    )
    assert s.call("off2", "GET", "/api/rosters").json() == []
    assert s.call("off2", "GET", "/api/releases").json() == []
    mine = s.call("off2", "GET", f"/api/runs/{run}/determinations").json()
    assert [d["person_id"] for d in mine["items"]] == ["P05"] and mine["total"] == 1
    asked = s.call("off2", "GET", f"/api/runs/{run}/determinations?facility=F1").json()
    assert asked["items"] == [] and asked["total"] == 0
    assert s.call("off1", "GET", "/api/releases").json()[0]["facility_id"] == "F1"

    # The auditor verifies the chain, and the export holds every step.
    verified = s.call("auditor", "GET", "/api/audit/verify").json()
    assert verified["ok"] is True, verified
    export = s.call("auditor", "GET", "/api/audit/export")
    actions = [json.loads(line)["action"] for line in export.text.splitlines()]
    assert {"review.decide", "roster.approve", "release.undertake"} <= set(actions)


def test_determinations_filters_pages_and_exports(served: Served) -> None:
    s, run = served, served.world.run_id
    everyone = s.call("analyst", "GET", f"/api/runs/{run}/determinations").json()
    assert everyone["total"] == 7 and everyone["next_after"] is None
    first = s.call("analyst", "GET", f"/api/runs/{run}/determinations?limit=3").json()
    assert [d["person_id"] for d in first["items"]] == ["P01", "P02", "P03"]
    second = s.call(
        "analyst",
        "GET",
        f"/api/runs/{run}/determinations",
        params={"limit": 3, "after": first["next_after"]},
    ).json()
    assert [d["person_id"] for d in second["items"]] == ["P04", "P05", "P06"]
    review = s.call("analyst", "GET", f"/api/runs/{run}/determinations?outcome=review").json()
    assert [d["person_id"] for d in review["items"]] == ["P03"]
    by_ground = s.call("analyst", "GET", f"/api/runs/{run}/determinations?ground=g-common").json()
    assert by_ground["total"] == 7  # every one of them is convicted of theft
    assert all(d["grounds"] == ["g-common"] for d in by_ground["items"])
    nobody = s.call("analyst", "GET", f"/api/runs/{run}/determinations?ground=g-common-x").json()
    assert nobody["total"] == 0
    # SQL and LIKE meta-characters in a filter match nothing rather than everything.
    for hostile in ("%", "_", "' OR '1'='1", "g-common%", '"'):
        found = s.call(
            "analyst", "GET", f"/api/runs/{run}/determinations", params={"ground": hostile}
        ).json()
        assert found["total"] == 0, hostile
    bad = s.call("analyst", "GET", f"/api/runs/{run}/determinations?outcome=maybe")
    assert bad.status_code == 422
    assert bad.headers["content-type"].startswith("application/problem+json")
    assert bad.json()["errors"][0]["location"] == "query.outcome"

    csv_text = s.call("analyst", "GET", f"/api/runs/{run}/determinations/export?format=csv").text
    assert csv_text.splitlines()[0].startswith("person_id,facility_id,outcome")
    assert len(csv_text.splitlines()) == 8
    xlsx = s.call(
        "analyst", "GET", f"/api/runs/{run}/determinations/export?format=xlsx&outcome=eligible"
    )
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet is not None and sheet.max_row == 1 + 5
    parquet = s.call("analyst", "GET", f"/api/runs/{run}/determinations/export?format=parquet")
    table = pq.read_table(io.BytesIO(parquet.content))
    assert table.num_rows == 7 and table.column("grounds").type.value_type == "string"


def test_health_reads_are_for_those_who_need_them_and_logged(served: Served) -> None:
    s, run = served, served.world.run_id
    before = len(_events(s, "health.read"))
    shown = s.call("appr1", "GET", f"/api/runs/{run}/explain/P03")
    assert shown.status_code == 200, shown.text
    assert shown.json()["stored"]["outcome"] == "review"
    logged = _events(s, "health.read")
    assert len(logged) == before + 1
    assert (logged[-1]["actor"], logged[-1]["entity_id"]) == ("appr1", "P03")
    for user in ("analyst", "off1", "drafter", "auditor", "admin"):
        assert s.call(user, "GET", f"/api/runs/{run}/explain/P03").status_code == 403
    assert len(_events(s, "health.read")) == before + 1
    assert s.call("rev1", "GET", f"/api/runs/{run}/explain/NOBODY").status_code == 404


def test_text_is_stored_and_returned_inert(served: Served) -> None:
    s = served
    text = (
        s.world.decree_path.read_text()
        .replace('title = "Decree on a general amnesty (test)"', f"title = {json.dumps(NASTY)}")
        .replace('id = "kp-2015-10"', 'id = "kp-nasty"')
    )
    uploaded = s.call("drafter", "POST", "/api/decrees", json={"text": text})
    assert uploaded.status_code == 201, uploaded.text
    assert uploaded.json()["title"] == NASTY
    assert uploaded.headers["content-type"] == "application/json"
    listed = {d["decree_id"]: d["title"] for d in s.call("drafter", "GET", "/api/decrees").json()}
    assert listed["kp-nasty"] == NASTY and "kp-2015-10" in listed
    # ids with meta-characters are looked up, not interpreted
    assert s.call("drafter", "GET", "/api/decrees/x' OR '1'='1").status_code == 404
    assert s.call("analyst", "GET", "/api/runs/x' OR '1'='1").status_code == 404
    users = s.call("admin", "GET", "/api/me").json()
    assert users["name"] == "admin"


def test_a_decree_with_errors_is_refused_with_each_located(served_duck: Served) -> None:
    broken = (
        'id = "x"\ntitle = "t"\n[[clause]]\nid = "c"\nkind = "grant"\npredicate = "age >>> 3"\n'
    )
    answer = served_duck.call("drafter", "POST", "/api/decrees", json={"text": broken})
    assert answer.status_code == 422
    problem = answer.json()
    assert problem["type"] == "urn:amnesty:problem:decree-error" and problem["errors"]
    assert all("line" in e for e in problem["errors"])
    checked = served_duck.call("drafter", "POST", "/api/decrees/check", json={"text": broken})
    assert checked.status_code == 200 and checked.json()["ok"] is False


def test_an_admin_imports_a_registry_through_the_api(served_duck: Served) -> None:
    s = served_duck
    folder = s.world.registry_dir
    files = [("files", (p.name, p.read_bytes(), "application/octet-stream"))
             for p in sorted(folder.iterdir())]  # fmt: skip
    assert s.call("off1", "POST", "/api/registry/imports", files=files).status_code == 403
    imported = s.call("admin", "POST", "/api/registry/imports", files=files)
    assert imported.status_code == 201, imported.text
    assert imported.json()["status"] == "unchanged"  # the same extract as the world's
    # the server goes on answering on its handle after the importer closed and reopened it
    assert s.call("analyst", "GET", f"/api/runs/{s.world.run_id}").status_code == 200
    assert s.call("analyst", "GET", "/api/registry").json()
    # a broken extract is refused with the row located, and nothing changes
    broken = [("files", ("persons.csv", b"person_id,name\nP99,\n", "text/csv"))]
    refused = s.call("admin", "POST", "/api/registry/imports", files=broken)
    assert refused.status_code == 422, refused.text
