"""Decree assurance (issue #14): how long the solver takes on every shipped decree.

    python3 -m uv run python bench/bench_assurance.py [--runs 3]

For each decree in ``decrees/``: ``amnesty.assurance.prove`` (every assertion,
witnesses replayed through the engine) and ``builtin_checks`` (what ``amnesty
check`` runs), with the default bounds (3 convictions, 4 events per person).
Prints the median of the runs and what the solver concluded.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import Counter
from pathlib import Path

from amnesty.assurance import builtin_checks, prove
from amnesty.decree import load

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print("| decree | clauses | assertions | prove (s) | results | checks (s) | check findings |")
    print("| --- | ---: | ---: | ---: | --- | ---: | --- |")
    for path in sorted((ROOT / "decrees").glob("*.toml")):
        decree = load(path)
        prove_times, check_times = [], []
        proved: Counter[str] = Counter()
        found: Counter[str] = Counter()
        for _ in range(args.runs):
            started = time.perf_counter()
            proved = Counter(f.status for f in prove(decree))
            prove_times.append(time.perf_counter() - started)
            started = time.perf_counter()
            found = Counter(f"{f.name} {f.status}" for f in builtin_checks(decree))
            check_times.append(time.perf_counter() - started)
        print(
            f"| {path.stem} | {len(decree.clauses)} | {len(decree.assertions)} "
            f"| {statistics.median(prove_times):.2f} | {dict(proved)} "
            f"| {statistics.median(check_times):.2f} | {dict(found) or 'none'} |"
        )


if __name__ == "__main__":
    main()
