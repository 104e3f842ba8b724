"""Runs started from the API, decided in a worker thread while the server keeps answering.

A job's state lives in ``server_jobs`` (migration 0007), so any server process on
the same PostgreSQL answers ``GET /api/runs/jobs/{id}``. The engine gives no
finer progress than its stages, so a job reports the stage it is in (queued,
loading, deciding, recording, done) and a fraction for each.

One worker per process: a run is one large set-based query that already uses
the database's parallelism; two at once would only halve each other's speed.

A job records the process that runs it (host, pid and the process's start time,
in ``params["worker"]``). A server that starts marks ``failed`` every queued or
running job of a process on its host that is gone (killed, crashed, stopped
before the job finished): such a job would otherwise show ``running`` for ever.
A job of a process on another host is left alone; only that host can tell.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
import socket
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from amnesty.errors import AmnestyError, ConfigError
from amnesty.server.state import now, server_jobs
from amnesty.store.database import Database

STAGES = {"queued": 0.0, "loading": 0.05, "deciding": 0.1, "recording": 0.8, "done": 1.0}


class JobRunner:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="amnesty-run")
        self._guard = threading.Lock()
        self.interrupted = mark_interrupted(db)

    def submit_run(self, actor: str, decree_id: str, as_of: dt.date | None) -> str:
        """Queue a run of the stored decree ``decree_id``; returns the job id."""
        from amnesty.workflow.decrees import get_decree

        if get_decree(self.db, decree_id) is None:
            raise ConfigError(f"no decree {decree_id!r} in the store; upload it first")
        job_id = "job-" + secrets.token_hex(8)
        at = now()
        params = {
            "decree_id": decree_id,
            "as_of": as_of.isoformat() if as_of else None,
            "worker": this_process(),
        }
        with self.db.engine.begin() as conn:
            conn.execute(
                server_jobs.insert().values(
                    job_id=job_id, kind="run", state="queued", stage="queued", progress=0.0,
                    started_by=actor, params=json.dumps(params), created_at=at, updated_at=at,
                )
            )  # fmt: skip
        self.pool.submit(self._run, job_id, actor, decree_id, as_of)
        return job_id

    def _update(self, job_id: str, **values: Any) -> None:
        if "stage" in values:
            values.setdefault("progress", STAGES[values["stage"]])
        with self.db.engine.begin() as conn:
            conn.execute(
                server_jobs.update()
                .where(server_jobs.c.job_id == job_id)
                .values(updated_at=now(), **values)
            )

    def _run(self, job_id: str, actor: str, decree_id: str, as_of: dt.date | None) -> None:
        from amnesty.workflow.decrees import get_decree
        from amnesty.workflow.evaluate import evaluate_and_record

        try:
            self._update(job_id, state="running", stage="loading")
            record = get_decree(self.db, decree_id)
            assert record is not None
            with tempfile.TemporaryDirectory(prefix="amnesty-run-") as folder:
                path = Path(folder) / f"{decree_id}.toml"
                path.write_text(record.source_text, encoding="utf-8")
                self._update(job_id, stage="deciding")
                recorded = evaluate_and_record(self.db, path, actor=actor, as_of=as_of)
            self._update(job_id, state="done", stage="done", run_id=recorded.run.run_id)
        except AmnestyError as exc:
            self._update(job_id, state="failed", error=str(exc))
        except Exception as exc:  # a bug: keep the job honest, and the traceback in the log
            self._update(job_id, state="failed", error=f"internal error: {exc!r}")
            raise

    def shutdown(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=False)


def _started(pid: int) -> str | None:
    """The start time of process ``pid`` in clock ticks since boot (None: unknown)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def this_process() -> dict[str, Any]:
    pid = os.getpid()
    return {"host": socket.gethostname(), "pid": pid, "started": _started(pid)}


def _alive(worker: dict[str, Any]) -> bool:
    pid = int(worker.get("pid") or 0)
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # a process of another user holds the pid: alive, unless started since
    started = worker.get("started")
    return started is None or _started(pid) in (None, started)


def mark_interrupted(db: Database) -> list[str]:
    """Fail the unfinished jobs of this host's processes that are gone; their ids."""
    host = socket.gethostname()
    with db.engine.connect() as conn:
        rows = conn.execute(
            sa.select(server_jobs.c.job_id, server_jobs.c.params).where(
                server_jobs.c.state.in_(("queued", "running"))
            )
        ).all()
    dead = []
    for job_id, text in rows:
        worker = json.loads(text).get("worker") or {}
        if worker.get("host") == host and not _alive(worker):
            dead.append((job_id, worker))
    for job_id, worker in dead:
        with db.engine.begin() as conn:
            conn.execute(
                server_jobs.update()
                .where(server_jobs.c.job_id == job_id)
                .where(server_jobs.c.state.in_(("queued", "running")))
                .values(
                    state="failed",
                    updated_at=now(),
                    error=f"interrupted: the server process {worker.get('pid')} on {host} "
                    "stopped before the job finished; start the run again",
                )
            )
    return [job_id for job_id, _ in dead]


def get_job(db: Database, job_id: str) -> dict[str, Any] | None:
    with db.engine.connect() as conn:
        row = (
            conn.execute(sa.select(server_jobs).where(server_jobs.c.job_id == job_id))
            .mappings()
            .first()
        )
    if row is None:
        return None
    job = dict(row)
    job["params"] = json.loads(job["params"])
    return job


def list_jobs(db: Database, limit: int = 50) -> list[dict[str, Any]]:
    with db.engine.connect() as conn:
        rows = conn.execute(
            sa.select(server_jobs).order_by(server_jobs.c.created_at.desc()).limit(limit)
        ).mappings()
        jobs = [dict(r) for r in rows]
    for job in jobs:
        job["params"] = json.loads(job["params"])
    return jobs
