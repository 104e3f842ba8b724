"""``registry import`` at 100k and 1M persons (10M with ``--10m``), beside its floor.

    uv run python bench/bench_import.py [--sizes 100k,1m] [--10m] [--rounds 1]

Each size is generated once (seed 2015, clean) into ``bench/data/kp-2015-<size>/parquet``
as ``bench/run.py`` does, then imported into a fresh DuckDB file by a fresh process per
round, so that peak RSS is the import's own. Three rows per size, side by side:

* ``amnesty import``: :func:`amnesty.registry.importer.import_registry`, every rule
  checked, the content hash computed, the registry written in one transaction;
* ``  no migration``: the same, less the time and CPU of migrating the fresh file to
  the schema head first (every import into a new database pays it once: the store's
  revisions, the registry tables' 0010 among them, run before anything is staged);
* ``floor: copy``: DuckDB copying the same Parquet files into a new DuckDB file
  (``CREATE TABLE AS SELECT * FROM read_parquet(...)``), no check and no hash: what
  reading and writing alone cost on this machine.

``cpu s`` is user + system time of the process (both cores count), less disturbed than
wall time by other work on a shared machine; the load average is printed with the table.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from common import PROFILE, SEED, Size

_CHILD = rf"""
import json, resource, sys, time
kind, source, target = sys.argv[1:4]
started = time.perf_counter()
migration_seconds = migration_cpu = 0.0
if kind == "amnesty":
    from amnesty.registry.importer import import_registry
    report = import_registry(target, source, "{PROFILE}")
    rows = sum(report.row_counts.values())
elif kind == "migrated":
    from amnesty.registry.importer import import_registry
    from amnesty.store.database import Database
    t0, u0 = time.perf_counter(), resource.getrusage(resource.RUSAGE_SELF)
    db = Database.open(target)
    u1 = resource.getrusage(resource.RUSAGE_SELF)
    migration_seconds = time.perf_counter() - t0
    migration_cpu = (u1.ru_utime + u1.ru_stime) - (u0.ru_utime + u0.ru_stime)
    report = import_registry(db, source, "{PROFILE}")
    rows = sum(report.row_counts.values())
else:
    import duckdb
    from pathlib import Path
    con = duckdb.connect(target)
    rows = 0
    for path in sorted(Path(source).glob("*.parquet")):
        con.execute(f"CREATE TABLE {{path.stem}} AS SELECT * FROM read_parquet('{{path}}')")
        rows += con.execute(f"SELECT count(*) FROM {{path.stem}}").fetchall()[0][0]
    con.close()
seconds = time.perf_counter() - started - migration_seconds
usage = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({{"seconds": seconds, "cpu": usage.ru_utime + usage.ru_stime - migration_cpu,
                  "rss_mb": usage.ru_maxrss / 1024, "rows": rows}}))
"""


def _registry(size: Size) -> Path:
    out = size.parquet
    if not (out / "manifest.json").is_file():
        from amnesty.registry.generate import generate

        print(f"generating {size.label} into {out} ...", file=sys.stderr, flush=True)
        generate(PROFILE, size.persons, SEED, out)
    return out


def _once(kind: str, source: Path) -> dict[str, float]:
    with tempfile.TemporaryDirectory(dir=source.parent) as tmp:
        target = Path(tmp) / "import.duckdb"
        done = subprocess.run(
            [sys.executable, "-c", _CHILD, kind, str(source), str(target)],
            capture_output=True,
            text=True,
            check=False,
        )
    if done.returncode != 0:
        raise SystemExit(f"{kind} import of {source} failed:\n{done.stderr}")
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100k,1m")
    parser.add_argument("--10m", dest="ten", action="store_true", help="also 10M persons")
    parser.add_argument("--rounds", type=int, default=1, help="best of N rounds per row")
    args = parser.parse_args()
    labels = [s for s in args.sizes.split(",") if s] + (["10m"] if args.ten else [])
    sizes = [Size.parse(label) for label in labels]
    print(f"load average before: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    header = (
        f"| {'persons':>10} | {'what':<15} | {'rows':>11} | {'seconds':>8} | {'cpu s':>7} "
        f"| {'persons/s':>10} | {'peak RSS MB':>11} |"
    )
    print(header)
    print("|" + "|".join("-" * (len(c) + 0) for c in header.split("|")[1:-1]) + "|")
    for size in sizes:
        source = _registry(size)
        for kind, label in (
            ("amnesty", "amnesty import"),
            ("migrated", "  no migration"),
            ("floor", "floor: copy"),
        ):
            runs = [_once(kind, source) for _ in range(args.rounds)]
            best = min(runs, key=lambda r: r["seconds"])
            print(
                f"| {size.persons:>10,} | {label:<15} | {int(best['rows']):>11,} "
                f"| {best['seconds']:>8.1f} | {best['cpu']:>7.1f} "
                f"| {size.persons / best['seconds']:>10,.0f} | {best['rss_mb']:>11,.0f} |",
                flush=True,
            )
    print(f"load average after: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
