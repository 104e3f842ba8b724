"""How `amnesty check` grows with the size of a decree (issue #9: near-linear).

    python3 -m uv run python bench/bench_check.py [--sizes 1000,2000,5000,10000] [--solver]

The October 2015 decree with its first predicate (the require KP-S1) replaced by
a predicate of size N:

* ``set``: a set of N facility ids, ``facility.id in {"KP-F0", ...}``;
* ``articles``: a list of N offence codes, ``any convictions (offence_code in {...})``,
  translated once per conviction slot;
* ``int-set``: N term lengths no two of them consecutive, ``any convictions
  (term_months in {1, 3, 5, ...})``: no run of consecutive values to merge;
* ``and-chain``: a conjunction of N/10 comparisons.

For each, the front end (parse, resolve, type-check: :func:`amnesty.decree.load`)
and, with ``--solver``, the whole `check` including the solver's built-in checks,
with what it found: the warnings' codes and how many questions the solver left
undecided (``notes``). Prints a Markdown table; time per member should stay flat
as N grows, and the findings should not change with the encoding.
"""

from __future__ import annotations

import argparse
import re
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from amnesty.decree import check, load

DECREE = Path(__file__).resolve().parents[1] / "decrees" / "kp-2015-10-party-founding.toml"


def _decree(predicate: str, folder: Path, name: str) -> Path:
    base = DECREE.read_text(encoding="utf-8")
    first = re.search(r"^predicate = .*$", base, re.M)
    assert first is not None
    path = folder / f"{name}.toml"
    path.write_text(base.replace(first.group(0), f"predicate = '{predicate}'", 1), "utf-8")
    return path


def _timed(fn: Callable[[Path], Any], path: Path) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn(path)
    return time.perf_counter() - start, result


def cases(n: int) -> dict[str, tuple[str, int]]:
    """Each kind's predicate and its number of members."""
    texts = ", ".join(f'"KP-F{i}"' for i in range(n))
    codes = ", ".join(f'"ART-{i}"' for i in range(n))
    odd = ", ".join(str(2 * i + 1) for i in range(n))
    return {
        "set": (f"facility.id in {{{texts}}}", n),
        "articles": (f"any convictions (offence_code in {{{codes}}})", n),
        "int-set": (f"any convictions (term_months in {{{odd}}})", n),
        "and-chain": (" and ".join([f"age >= {i % 90}" for i in range(n // 10)]), n // 10),
    }


def findings(report: Any) -> tuple[str, int]:
    codes = sorted(f"{w.code}" for w in report.warnings)
    return ", ".join(codes) or "none", len(report.notes)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1000,2000,5000,10000")
    ap.add_argument("--kinds", default="set,articles,int-set,and-chain")
    ap.add_argument("--solver", action="store_true", help="also time the whole check")
    args = ap.parse_args()
    load(DECREE)  # imports and grammar built once, outside the timings
    folder = Path(tempfile.mkdtemp(prefix="amnesty-bench-check-"))
    head = "| decree | N | front end (s) | per member (ms) |"
    rule = "|---|---:|---:|---:|"
    if args.solver:
        head += " check (s) | per member (ms) | warnings | notes |"
        rule += "---:|---:|---|---:|"
    print(head)
    print(rule)
    kinds = args.kinds.split(",")
    for n in (int(s) for s in args.sizes.split(",")):
        for kind, (predicate, members) in cases(n).items():
            if kind not in kinds:
                continue
            path = _decree(predicate, folder, f"{kind}-{n}")
            front, _ = _timed(load, path)
            row = f"| {kind} | {members:,} | {front:.2f} | {1000 * front / members:.3f} |"
            if args.solver:
                seconds, report = _timed(check, path)
                warned, notes = findings(report)
                row += f" {seconds:.1f} | {1000 * seconds / members:.2f} | {warned} | {notes} |"
            print(row, flush=True)


if __name__ == "__main__":
    main()
