"""Time record_run, load_determinations and audit verify for N determinations.

    python3 -m uv run python bench/bench_store.py --persons 1000000 --db /tmp/b.duckdb
    python3 -m uv run python bench/bench_store.py --persons 1000000 --db postgresql://...

The database should be fresh (a new DuckDB file, an empty PostgreSQL database).
"""

from __future__ import annotations

import argparse
import datetime as dt
import time

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
            "unknown": [[{"clause": "health", "missing": ["severity"]}] if r else [] for r in review],
            "undertakings": [["pledge"] if i % 5 == 0 else [] for i in range(n)],
        },
        schema=DETERMINATION_SCHEMA,
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--db", required=True)
    args = parser.parse_args()
    data = table(args.persons)
    ensure_decree(args.db, "bench", "h", "bench", "")
    now = dt.datetime.now(dt.UTC)
    started = time.perf_counter()
    run = record_run(
        args.db, decree_id="bench", decree_hash="h", snapshot_hash="s", engine="duckdb",
        engine_version="bench", as_of=dt.date(2015, 10, 8), started_at=now, finished_at=now,
        determinations=data, counts={}, actor="bench",
    )  # fmt: skip
    recorded = time.perf_counter()
    load_determinations(args.db, run.run_id)
    loaded = time.perf_counter()
    assert verify(args.db).ok
    verified = time.perf_counter()
    print(
        f"{args.persons} determinations: record_run {recorded - started:.1f}s, "
        f"load {loaded - recorded:.1f}s, audit verify {verified - loaded:.1f}s"
    )


if __name__ == "__main__":
    main()
