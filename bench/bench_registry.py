"""Time ``registry generate`` (and ``registry import`` once it exists) at 100k and 1M persons.

    python3 -m uv run python bench/bench_registry.py [--sizes 100k,1m] [--profile kp-2015]

Each size is generated once into a temporary directory (seed 1, clean), then imported
into a fresh DuckDB file if ``amnesty.registry.importer`` is present. One run per
size: the machine is shared, so read the figures as an order of magnitude.
"""

from __future__ import annotations

import argparse
import importlib.util
import tempfile
import time
from pathlib import Path

from amnesty.registry.generate import generate


def _size(text: str) -> int:
    text = text.strip().lower()
    scale = {"k": 1_000, "m": 1_000_000}.get(text[-1], 1)
    return int(float(text.rstrip("km")) * scale)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100k,1m")
    parser.add_argument("--profile", default="kp-2015")
    args = parser.parse_args()
    can_import = importlib.util.find_spec("amnesty.registry.importer") is not None
    print(f"{'persons':>10} {'rows':>11} {'generate s':>11} {'import s':>9}  profile")
    for size in (_size(s) for s in args.sizes.split(",")):
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "registry"
            report = generate(args.profile, size, 1, out)
            imported = "-"
            if can_import:
                from amnesty.registry.importer import import_registry

                started = time.perf_counter()
                import_registry(str(Path(tmp) / "bench.duckdb"), out, args.profile)
                imported = f"{time.perf_counter() - started:.1f}"
            rows = sum(report.tables.values())
            print(f"{size:>10,} {rows:>11,} {report.seconds:>11.1f} {imported:>9}  {args.profile}")


if __name__ == "__main__":
    main()
