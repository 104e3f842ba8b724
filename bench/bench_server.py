"""The server under load: the determinations list and explain, 50 clients, on PostgreSQL,
while a large run is in progress in the same server.

    uv run python bench/bench_server.py [--persons 100k|1m] [--clients 50] [--seconds 15]

Steps: generate the kp-2015 registry (``bench/data/``, kept between runs), start a
throwaway PostgreSQL (``pg.py``), import the registry, record one run of the
October 2015 decree (the run the clients read), start ``amnesty serve`` as its own
process on loopback, then for each endpoint:

* ``idle``: 50 clients for ``--seconds``, nothing else running;
* ``during run``: the same while a run of the same decree over the whole registry,
  started through ``POST /api/runs``, is in progress in the server's worker (a new
  run is started whenever the previous one finishes, so every sample overlaps one).

Clients are httpx2 async clients with Bearer tokens (an analyst lists pages of 100
with a rotating filter; a reviewer explains random referred persons, each call an
audited health read). Prints one Markdown table: requests/s, p50, p99, errors.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))

from common import DECREE, PROFILE, SEED, Size  # noqa: E402
from pg import Server  # noqa: E402

PASSWORD = "a bench password, long enough"


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def amnesty(*args: str, env: dict[str, str] | None = None) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "amnesty", *args], cwd=ROOT, capture_output=True, text=True, env=env
    )
    if proc.returncode != 0:
        raise SystemExit(f"amnesty {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")


def registry(size: Size) -> Path:
    if not (size.parquet / "manifest.json").exists():
        log(f"generating {PROFILE}, {size.persons:,} persons -> {size.parquet}")
        from amnesty.registry.generate import generate

        generate(PROFILE, size.persons, SEED, str(size.parquet))
    return size.parquet


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def prepare(url: str, parquet: Path) -> dict[str, Any]:
    """Import, users with tokens, one recorded run; what the clients need."""
    import sqlalchemy as sa

    from amnesty.store.database import Database
    from amnesty.store.tables import determinations
    from amnesty.workflow.credentials import issue_token
    from amnesty.workflow.evaluate import evaluate_and_record
    from amnesty.workflow.users import add_user

    db = Database.open(url)
    add_user(db, "admin", ["admin"], password=PASSWORD)
    log("importing the registry into PostgreSQL")
    from amnesty.workflow.registry_import import import_as

    import_as(db, "admin", parquet)
    add_user(db, "analyst", ["analyst"], actor="admin", password=PASSWORD)
    add_user(db, "reviewer", ["reviewer"], actor="admin", password=PASSWORD)
    log("recording the run the clients read")
    started = time.perf_counter()
    recorded = evaluate_and_record(db, DECREE, actor="analyst")
    run_seconds = time.perf_counter() - started
    with db.connect() as conn:
        referred = [
            r[0]
            for r in conn.execute(
                sa.select(determinations.c.person_id)
                .where(determinations.c.run_id == recorded.run.run_id)
                .where(determinations.c.outcome == "review")
                .limit(2000)
            )
        ]
        facilities = [
            r[0]
            for r in conn.execute(
                sa.select(determinations.c.facility_id)
                .where(determinations.c.run_id == recorded.run.run_id)
                .group_by(determinations.c.facility_id)
                .limit(50)
            )
        ]
    tokens = {n: issue_token(db, n, actor=n).secret for n in ("analyst", "reviewer")}
    db.close()
    return {
        "run_id": recorded.run.run_id,
        "decree_id": recorded.decree.id,
        "referred": referred or ["none"],
        "facilities": facilities,
        "tokens": tokens,
        "run_seconds": run_seconds,
    }


async def load(
    base: str, ctx: dict[str, Any], endpoint: str, clients: int, seconds: float
) -> dict[str, Any]:
    import httpx2 as httpx

    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds
    run_id = ctx["run_id"]
    filters = [{}, {"outcome": "eligible"}, {"outcome": "review"}, {"relief": "release"}]
    filters += [{"facility": f} for f in ctx["facilities"][:5]]

    async def client(n: int) -> None:
        nonlocal errors
        rng = random.Random(n)
        user = "analyst" if endpoint == "list" else "reviewer"
        headers = {"Authorization": f"Bearer {ctx['tokens'][user]}"}
        async with httpx.AsyncClient(base_url=base, headers=headers, timeout=120) as http:
            while time.perf_counter() < deadline:
                if endpoint == "list":
                    path, params = f"/api/runs/{run_id}/determinations", rng.choice(filters)
                else:
                    path, params = f"/api/runs/{run_id}/explain/{rng.choice(ctx['referred'])}", {}
                t0 = time.perf_counter()
                try:
                    answer = await http.get(path, params=params)
                    ok = answer.status_code == 200
                except httpx.HTTPError:
                    ok = False
                latencies.append(time.perf_counter() - t0)
                errors += not ok

    started = time.perf_counter()
    await asyncio.gather(*(client(i) for i in range(clients)))
    elapsed = time.perf_counter() - started
    ordered = sorted(latencies)
    return {
        "requests": len(latencies),
        "rps": len(latencies) / elapsed,
        "p50": statistics.median(ordered) * 1000 if ordered else float("nan"),
        "p99": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000
        if ordered
        else float("nan"),
        "errors": errors,
    }


class Runs:
    """Keeps one run going in the server while a phase measures."""

    def __init__(self, base: str, ctx: dict[str, Any]) -> None:
        import httpx2 as httpx

        self.http = httpx.Client(
            base_url=base,
            timeout=60,
            headers={"Authorization": f"Bearer {ctx['tokens']['analyst']}"},
        )
        self.decree_id = ctx["decree_id"]
        self.job: str | None = None
        self.finished = 0

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        """One control request; once more on a reset connection (the server closes a
        keep-alive connection idle for 5 s, and a phase leaves this one idle longer)."""
        import httpx2 as httpx

        try:
            return self.http.request(method, path, **kwargs)
        except httpx.TransportError:
            return self.http.request(method, path, **kwargs)

    def start(self) -> str:
        job: str = self._call("POST", "/api/runs", json={"decree_id": self.decree_id}).json()[
            "job_id"
        ]
        return job

    def stage(self) -> str:
        return str(self._call("GET", f"/api/runs/jobs/{self.job}").json()["stage"])

    def running(self) -> bool:
        if self.job is None:
            return False
        state = self._call("GET", f"/api/runs/jobs/{self.job}").json()
        if state["state"] == "failed":
            raise SystemExit(f"the background run failed: {state['error']}")
        return bool(state["state"] in ("queued", "running"))

    async def keep_going(self, until: float) -> None:
        while time.perf_counter() < until:
            if not self.running():
                if self.job is not None:
                    self.finished += 1
                self.job = self.start()
            await asyncio.sleep(0.5)


async def during_run(
    base: str, ctx: dict[str, Any], endpoint: str, clients: int, seconds: float, runs: Runs
) -> dict[str, Any]:
    if not runs.running():
        runs.job = runs.start()
    while runs.stage() != "deciding":
        await asyncio.sleep(0.1)  # measure once the engine is at work, not while queued
    keeper = asyncio.create_task(runs.keep_going(time.perf_counter() + seconds))
    result = await load(base, ctx, endpoint, clients, seconds)
    await keeper
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", default="100k", help="registry size: 100k (default), 1m")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=15.0)
    args = parser.parse_args()
    size = Size.parse(args.persons)
    parquet = registry(size)
    pg = Server()
    server: subprocess.Popen[bytes] | None = None
    try:
        pg.start()
        url = pg.create_database(f"amnesty_bench_server_{size.label}")
        ctx = prepare(url, parquet)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        log(f"amnesty serve on {base}")
        # the server's log outlives this function (it is read after a failure)
        logfile = tempfile.NamedTemporaryFile(prefix="amnesty-serve-", suffix=".log", delete=False)  # noqa: SIM115
        log(f"server log: {logfile.name}")
        server = subprocess.Popen(
            [sys.executable, "-m", "amnesty", "serve", "--db", url, "--port", str(port)],
            cwd=ROOT,
            stdout=logfile,
            stderr=logfile,
            env=os.environ.copy(),
        )
        _wait_for(base)
        rows = []
        runs = Runs(base, ctx)
        for endpoint in ("list", "explain"):
            for phase in ("idle", "during run"):
                log(f"{endpoint}, {phase}: {args.clients} clients for {args.seconds:.0f} s")
                if phase == "idle":
                    while runs.running():
                        time.sleep(0.5)
                    result = asyncio.run(load(base, ctx, endpoint, args.clients, args.seconds))
                else:
                    result = asyncio.run(
                        during_run(base, ctx, endpoint, args.clients, args.seconds, runs)
                    )
                rows.append((endpoint, phase, result))
                log(f"{endpoint}, {phase}: {result['requests']} requests, "
                    f"{result['rps']:.1f}/s, p50 {result['p50']:.0f} ms, "
                    f"p99 {result['p99']:.0f} ms, {result['errors']} errors, "
                    f"load average {os.getloadavg()[0]:.1f}")  # fmt: skip
        _table(size, args, ctx, rows, runs)
    finally:
        if server is not None:
            server.send_signal(signal.SIGINT)
            try:
                server.wait(timeout=60)
            except subprocess.TimeoutExpired:
                server.kill()
        pg.stop()


def _wait_for(base: str) -> None:
    import httpx2 as httpx

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "/openapi.json", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit("amnesty serve did not start")


def _table(size: Size, args: Any, ctx: dict[str, Any], rows: list[Any], runs: Runs) -> None:
    names = {
        "list": "GET /api/runs/{run}/determinations (page of 100, filtered)",
        "explain": "GET /api/runs/{run}/explain/{person} (audited health read)",
    }
    print(
        f"\n{args.clients} concurrent clients on loopback, PostgreSQL, {size.persons:,} persons; "
        f'one run of the decree takes {ctx["run_seconds"]:.0f} s here; during the "during '
        f'run" rows a run over all {size.persons:,} persons was in progress in the server '
        f"({runs.finished} finished while measuring).\n"
    )
    print("| endpoint | background | requests | requests/s | p50 ms | p99 ms | errors |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
    for endpoint, phase, r in rows:
        print(
            f"| {names[endpoint]} | {phase} | {r['requests']:,} | {r['rps']:.1f} | "
            f"{r['p50']:.0f} | {r['p99']:.0f} | {r['errors']} |"
        )


if __name__ == "__main__":
    main()
