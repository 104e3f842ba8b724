"""Time record_run, load_determinations, audit verify and Evaluation.summary for N
determinations.

    python3 -m uv run python bench/bench_store.py --persons 1000000 --db /tmp/b.duckdb
    python3 -m uv run python bench/bench_store.py --persons 1000000 --db postgresql://...
    python3 -m uv run python bench/bench_store.py --persons 1000000 --db postgres

The database should be fresh (a new DuckDB file, an empty PostgreSQL database).
``--db postgres`` starts a throwaway PostgreSQL server as the bench suite does
(bench/pg.py; ``AMNESTY_BENCH_PG`` names an existing server instead) and uses a
new database on it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path
from typing import Any

import pyarrow as pa

from amnesty.audit.verify import verify
from amnesty.store.determinations import DETERMINATION_SCHEMA
from amnesty.workflow.decrees import ensure_decree
from amnesty.workflow.runs import load_determinations, record_run


def table(n: int) -> pa.Table:
    """A third in review with an unknown clause, a fifth with an undertaking."""
    review = [i % 3 == 0 for i in range(n)]
    return pa.table(
        {
            "person_id": [f"P{i:08d}" for i in range(n)],
            "facility_id": [f"F{i % 40:02d}" for i in range(n)],
            "outcome": ["review" if r else "eligible" for r in review],
            "relief": ["release"] * n,
            "grounds": [[] if r else ["theft"] for r in review],
            "blocking": [[] for _ in range(n)],
            "referred": [[] for _ in range(n)],
            "unknown": [
                [{"clause": "health", "missing": ["severity"]}] if r else [] for r in review
            ],
            "undertakings": [["pledge"] if i % 5 == 0 else [] for i in range(n)],
        },
        schema=DETERMINATION_SCHEMA,
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--db", required=True)
    args = parser.parse_args()
    if args.db != "postgres":
        run(args.persons, args.db)
        return
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from pg import Server

    server = Server()
    try:
        server.start()
        run(args.persons, server.create_database("amnesty_bench_store"))
    finally:
        server.stop()


def run(persons: int, db: str) -> None:
    data = table(persons)
    ensure_decree(db, "bench", "h", "bench", "")
    now = dt.datetime.now(dt.UTC)
    started = time.perf_counter()
    recorded_run = record_run(
        db, decree_id="bench", decree_hash="h", snapshot_hash="s", engine="duckdb",
        engine_version="bench", as_of=dt.date(2015, 10, 8), started_at=now, finished_at=now,
        determinations=data, counts={}, actor="bench",
    )  # fmt: skip
    recorded = time.perf_counter()
    load_determinations(db, recorded_run.run_id)
    loaded = time.perf_counter()
    assert verify(db).ok
    verified = time.perf_counter()
    summary_seconds = time_summary(data)
    print(
        f"{persons} determinations: record_run {recorded - started:.1f}s, "
        f"load {loaded - recorded:.1f}s, audit verify {verified - loaded:.1f}s, "
        f"summary {summary_seconds:.1f}s"
    )


def time_summary(data: pa.Table) -> float:
    """Evaluation.summary over the same determinations, 40 facilities in 9 provinces."""
    from amnesty.decree.ir import Literal
    from amnesty.decree.model import Clause, Decree, Scope, Source
    from amnesty.engine import Evaluation, LeftOut

    theft = Clause(
        id="theft", kind="grant", predicate=Literal(value=True, type="bool"), text="",
        source=Source("bench", basis="assumption"), relief="release",
    )  # fmt: skip
    decree = Decree(
        id="bench", title="bench", jurisdiction="kp-2015", occasion="", authority="",
        signed=None, as_of=dt.date(2015, 10, 8), execution_window=None, scope=Scope(),
        clauses=(theft,), undertakings=(),
    )  # fmt: skip
    places = {f"F{i:02d}": ("camp" if i % 2 else "prison", f"Province {i % 9}") for i in range(40)}
    no_sql: Any = None  # summary() does not read the compiled query
    evaluation = Evaluation(decree, decree.as_of, no_sql, data, LeftOut({}, {}), dict(places))
    started = time.perf_counter()
    evaluation.summary()
    return time.perf_counter() - started


if __name__ == "__main__":
    main()
