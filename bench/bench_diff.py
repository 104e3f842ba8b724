"""A decree and three variants: one query for all four vs four evaluations (issue #12).

    python3 -m uv run python bench/bench_diff.py [--size 100k] [--runs 3]

The October 2015 decree and the variants in ``bench/variants/`` on the kp-2015
registry of the given size (generated and imported once, as ``bench/run.py`` does).
"One pass" is :func:`amnesty.analysis.decide_together`: every distinct clause
computed once per person, then each variant's outcome; "four evaluations" is
:func:`amnesty.engine.evaluate` once per decree. Both give the same
determinations (checked before any time is printed). Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from pathlib import Path

import duckdb

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from bench_engine import timed  # noqa: E402
from common import DECREE, Size  # noqa: E402
from run import ensure_data  # noqa: E402

from amnesty.analysis import decide_together  # noqa: E402
from amnesty.compile.sql.variants import compile_variants  # noqa: E402
from amnesty.decree import load  # noqa: E402
from amnesty.decree.variants import load_variant  # noqa: E402
from amnesty.engine import evaluate  # noqa: E402

VARIANTS = sorted((BENCH / "variants").glob("*.toml"))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", default="100k")
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    size = Size.parse(args.size)
    ensure_data(size)
    decrees = [load(DECREE), *(load_variant(DECREE, v) for v in VARIANTS)]
    con = duckdb.connect(str(size.duckdb), read_only=True)
    together = decide_together(decrees, con)
    for one, d in zip(together, decrees, strict=True):
        alone = evaluate(d, con).determinations
        if one.sort_by("person_id") != alone.sort_by("person_id"):
            raise SystemExit(f"{d.id}: the one-pass determinations differ from evaluate()")
    compiled = compile_variants(decrees)
    one = timed(lambda: decide_together(decrees, con), args.runs)
    four = timed(lambda: [evaluate(d, con) for d in decrees], args.runs)
    single = timed(lambda: evaluate(decrees[0], con), args.runs)
    persons = together[0].num_rows
    print(
        f"{persons:,} persons decided, {len(decrees)} decrees "
        f"({compiled.total_clauses} clauses, {compiled.distinct_clauses} distinct), "
        f"load average {os.getloadavg()[0]:.1f}, median of {args.runs}\n"
    )
    print("| what | seconds | x one evaluation |")
    print("| --- | ---: | ---: |")
    base = statistics.median(single)
    for name, secs in (
        ("one evaluation (the decree alone)", single),
        (f"one pass, decree + {len(VARIANTS)} variants", one),
        (f"{len(decrees)} separate evaluations", four),
    ):
        m = statistics.median(secs)
        print(f"| {name} | {m:.2f} | {m / base:.2f} |")


if __name__ == "__main__":
    main()
