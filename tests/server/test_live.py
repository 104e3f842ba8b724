"""The server on a real uvicorn on loopback: a run in the background, answers meanwhile."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx2 as httpx
import pytest
from serving import Live, Served, serve_world


@pytest.fixture
def crowd_world(backend_url: str) -> Iterator[Served]:
    found = serve_world(backend_url, crowd=4000)
    yield found
    found.app.state.jobs.shutdown()


def test_a_run_started_from_the_api_runs_in_the_background(crowd_world: Served) -> None:
    s = crowd_world
    with Live(s.app) as live, httpx.Client(base_url=live.url, timeout=30) as http:
        analyst = s.headers("analyst")
        started = http.post("/api/runs", json={"decree_id": s.world.decree.id}, headers=analyst)
        assert started.status_code == 202, started.text
        job = started.json()
        assert job["state"] in ("queued", "running") and job["started_by"] == "analyst"
        seen: list[tuple[str, float]] = []
        answered_meanwhile = 0
        deadline = time.monotonic() + 300
        while True:
            polled = http.get(f"/api/runs/jobs/{job['job_id']}", headers=analyst).json()
            seen.append((polled["state"], polled["progress"]))
            if polled["state"] in ("done", "failed"):
                break
            # other users' requests are answered while the run is in progress
            page = http.get(
                f"/api/runs/{s.world.run_id}/determinations?limit=5", headers=s.headers("rev1")
            )
            assert page.status_code == 200
            answered_meanwhile += 1
            assert time.monotonic() < deadline, seen
        assert polled["state"] == "done", polled
        assert answered_meanwhile >= 1, seen
        assert any(state == "running" for state, _ in seen), seen
        progress = [p for _, p in seen]
        assert progress == sorted(progress) and progress[-1] == 1.0
        run = http.get(f"/api/runs/{polled['run_id']}", headers=analyst).json()
        assert run["recorded_by"] == "analyst"  # the principal, never a name the client sent
        assert run["counts"]["persons"] == 4000 + 7


def test_a_refused_job_says_why(served_duck: Served) -> None:
    s = served_duck
    answer = s.call("analyst", "POST", "/api/runs", json={"decree_id": "no-such-decree"})
    assert answer.status_code == 400 and "no-such-decree" in answer.json()["detail"]
