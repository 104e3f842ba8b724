"""How `amnesty check` grows with the size of a decree (issue #9: near-linear).

    python3 -m uv run python bench/bench_check.py [--sizes 1000,2500,10000] [--solver]

The October 2015 decree with its first predicate replaced by a set of N facility
ids (``facility.id in {...}``) and by a conjunction of N/10 comparisons. For each,
the front end (parse, resolve, type-check: :func:`amnesty.decree.load`) and, with
``--solver``, the whole `check` including the solver's built-in checks. Prints a
Markdown table; time per member should stay flat as N grows.
"""

from __future__ import annotations

import argparse
import re
import tempfile
import time
from pathlib import Path

from amnesty.decree import check, load

DECREE = Path(__file__).resolve().parents[1] / "decrees" / "kp-2015-10-party-founding.toml"


def _decree(predicate: str, folder: Path, name: str) -> Path:
    base = DECREE.read_text(encoding="utf-8")
    first = re.search(r"^predicate = .*$", base, re.M)
    assert first is not None
    path = folder / f"{name}.toml"
    path.write_text(base.replace(first.group(0), f"predicate = '{predicate}'", 1), "utf-8")
    return path


def _seconds(fn: object, path: Path) -> float:
    start = time.perf_counter()
    fn(path)  # type: ignore[operator]
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1000,2500,10000")
    ap.add_argument("--solver", action="store_true", help="also time the whole check")
    args = ap.parse_args()
    load(DECREE)  # imports and grammar built once, outside the timings
    folder = Path(tempfile.mkdtemp(prefix="amnesty-bench-check-"))
    print(
        "| decree | N | front end (s) | per member (ms) |" + (" check (s) |" if args.solver else "")
    )
    print("|---|---:|---:|---:|" + ("---:|" if args.solver else ""))
    for n in (int(s) for s in args.sizes.split(",")):
        cases = {
            "set": "facility.id in {" + ", ".join(f'"KP-F{i}"' for i in range(n)) + "}",
            "and-chain": " and ".join([f"age >= {i % 90}" for i in range(n // 10)]),
        }
        for kind, predicate in cases.items():
            path = _decree(predicate, folder, f"{kind}-{n}")
            front = _seconds(load, path)
            members = n if kind == "set" else n // 10
            row = f"| {kind} | {members:,} | {front:.2f} | {1000 * front / members:.3f} |"
            if args.solver:
                row += f" {_seconds(check, path):.1f} |"
            print(row, flush=True)


if __name__ == "__main__":
    main()
