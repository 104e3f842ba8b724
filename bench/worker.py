"""One engine, one run, in its own process: ``python bench/worker.py PEER SIZE [...]``.

The conductor (``bench/run.py``) starts a fresh process per measured run so that
every figure starts cold on the engine side (no cached plans or warm Python
objects carried over) and peak memory is that engine's alone.

A peer module (``bench/peers/<name>.py``) has:

* ``prepare(size, options) -> state``: untimed; open the database, load the data
  into the engine's own form (a Polars frame, per-person records for a rule engine);
* ``run(state) -> result``: the timed part: decide every person, with the clause
  lists where the engine computes them, into an in-memory result (or Parquet for
  Spark, whose results live on the executors);
* ``outcomes(state, result) -> pyarrow.Table``: untimed; the canonical form
  (person_id, outcome, grounds, blocking) that the conductor checks (the scan
  floor, which decides nobody, has none);
* optionally ``server_pids(state)`` (processes outside this tree whose memory is
  the engine's, e.g. a PostgreSQL backend), ``report(state)`` (extra figures for
  the JSON line) and ``close(state)``.

Prints one JSON line: seconds, persons decided, peak RSS in kB.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import pyarrow.parquet as pq
from common import Size, tree_peak_kb


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("peer")
    ap.add_argument("size")
    ap.add_argument("--check", type=Path, help="write the canonical outcomes here (Parquet)")
    ap.add_argument("--option", action="append", default=[], help="KEY=VALUE for the peer")
    args = ap.parse_args()
    options = dict(o.split("=", 1) for o in args.option)
    size = Size.parse(args.size)
    peer = importlib.import_module(f"peers.{args.peer.replace('-', '_')}")

    if args.check is not None and not hasattr(peer, "outcomes"):
        raise SystemExit(f"{args.peer} decides nobody: there are no outcomes to check")
    state = peer.prepare(size, options)
    started = time.perf_counter()
    result = peer.run(state)
    seconds = time.perf_counter() - started
    extra = tuple(peer.server_pids(state)) if hasattr(peer, "server_pids") else ()
    peak_kb = tree_peak_kb(extra)
    persons = None
    if args.check is not None:
        table = peer.outcomes(state, result)
        persons = table.num_rows
        pq.write_table(table, args.check)
    report = {"seconds": seconds, "peak_kb": peak_kb, "persons": persons}
    if hasattr(peer, "report"):
        report.update(peer.report(state))
    if hasattr(peer, "close"):
        peer.close(state)
    print(json.dumps(report), flush=True)


if __name__ == "__main__":
    main()
