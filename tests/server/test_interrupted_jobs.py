"""A run's job left unfinished by a server that was killed is failed when a server starts.

A real ``amnesty serve`` process (uvicorn) is given a run, then killed with
SIGKILL before it can finish: its job is left ``queued`` or ``running``. A server
that starts on the same database marks it ``failed``, saying it was interrupted
and by which process; a job of a process that is still alive is left alone.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx2 as httpx
from serving import build_world

from acting import TEST_PASSWORD
from amnesty.server.jobs import get_job, this_process
from amnesty.server.state import now, server_jobs
from amnesty.store.database import Database
from amnesty.store.engine import dispose_engine
from amnesty.workflow.credentials import issue_token
from amnesty.workflow.users import add_user

ROOT = Path(__file__).resolve().parents[2]


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(url: str, port: int, log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "amnesty", "serve", "--db", url, "--port", str(port)],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"amnesty serve exited: {log.read_text()[-2000:]}")
        try:
            if httpx.get(base + "/openapi.json", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise AssertionError(f"amnesty serve did not start: {log.read_text()[-2000:]}")


def test_a_killed_servers_job_is_failed_as_interrupted(duck_url: str, tmp_path: Path) -> None:
    world = build_world(duck_url, crowd=3000)  # a run that takes a while
    db = Database.open(world.url)
    add_user(db, "analyst", ["analyst"], actor="admin", password=TEST_PASSWORD)
    token = issue_token(db, "analyst", actor="analyst").secret
    db.close()
    dispose_engine(world.url)  # the DuckDB file is the server process's now

    port = _port()
    proc = _serve(duck_url, port, tmp_path / "serve.log")
    try:
        answer = httpx.post(
            f"http://127.0.0.1:{port}/api/runs",
            json={"decree_id": world.decree.id},
            headers={"Authorization": f"Bearer {token}"},
            timeout=60,
        )
        proc.send_signal(signal.SIGKILL)  # at once: the run has not finished
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert answer.status_code == 202, answer.text
    job_id = answer.json()["job_id"]

    db = Database.open(world.url)
    left = get_job(db, job_id)
    assert left is not None and left["state"] in ("queued", "running"), left
    assert left["params"]["worker"]["pid"] == proc.pid
    # A job of a process that is alive (this one) is not another server's to fail.
    with db.engine.begin() as conn:
        conn.execute(
            server_jobs.insert().values(
                job_id="job-alive", kind="run", state="running", stage="deciding",
                progress=0.1, started_by="analyst", created_at=now(), updated_at=now(),
                params=json.dumps({"decree_id": world.decree.id, "worker": this_process()}),
            )
        )  # fmt: skip

    from fastapi.testclient import TestClient

    from amnesty.server.app import create_app

    app = create_app(db)  # a server starting again on the same database
    try:
        client = TestClient(app, base_url="http://testserver")
        shown = client.get(
            f"/api/runs/jobs/{job_id}", headers={"Authorization": f"Bearer {token}"}
        ).json()
        assert shown["state"] == "failed", shown
        assert shown["error"].startswith("interrupted: the server process ")
        assert f" {proc.pid} on " in shown["error"]
        alive = get_job(db, "job-alive")
        assert alive is not None and alive["state"] == "running"
        assert app.state.jobs.interrupted == [job_id]
    finally:
        app.state.jobs.shutdown()
        db.close()
    assert os.getpid() == this_process()["pid"]
