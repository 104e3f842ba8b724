"""Engine overhead around the main query (issue #5): compile, left-out query, evaluate.

    python3 -m uv run python bench/bench_engine.py [--db bench/data/kp-2015-100k/registry.duckdb]

Times, in one process, 3 runs each: ``compile_decree`` of the October 2015 decree
(DuckDB dialect), the compiled left-out query alone, and ``amnesty.engine.evaluate``
whole (compile, main query fetched as Arrow, left-out query, facility table).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb

from amnesty.backends.duckdb import DuckDBBackend
from amnesty.compile.sql import compile_decree
from amnesty.decree import load
from amnesty.engine import evaluate

ROOT = Path(__file__).resolve().parent.parent
DECREE = ROOT / "decrees" / "kp-2015-10-party-founding.toml"


def timed(fn: Callable[[], Any], runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        out.append(time.perf_counter() - started)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", type=Path, default=ROOT / "bench/data/kp-2015-100k/registry.duckdb")
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    decree = load(DECREE)
    con = duckdb.connect(str(args.db), read_only=True)
    persons = con.sql("SELECT count(*) FROM persons").fetchall()[0][0]
    compiled = compile_decree(decree, "duckdb")
    left_sql = compiled.left_out_sql
    figures = {
        "compile_decree": timed(lambda: compile_decree(decree, "duckdb"), args.runs),
        "left-out query": timed(lambda: DuckDBBackend(con).fetch_arrow(left_sql), args.runs),
        "evaluate": timed(lambda: evaluate(decree, con), args.runs),
    }
    print(f"{persons:,} persons, load average {os.getloadavg()[0]:.1f}")
    for name, secs in figures.items():
        runs = ", ".join(f"{s:.2f}" for s in secs)
        print(f"{name}: median {statistics.median(secs):.2f} s ({runs})")


if __name__ == "__main__":
    main()
