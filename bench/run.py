"""The benchmark: the October 2015 decree on the kp-2015 registry, amnesty and its
peers side by side, one table.

    python3 -m uv run --group bench python bench/run.py [--sizes 100k,1m,10m] [--quick]

For each size: generate the registry once into ``bench/data/`` (kept between runs,
gitignored), import it into DuckDB (and into a throwaway PostgreSQL where that peer
runs), then

1. **check**: run every engine once and compare its outcome per person, and its
   grounds and blocking sets where it computes them, with amnesty on DuckDB; any
   disagreement stops the bench before a second is counted;
2. **time**: ``--runs`` rounds (5 by default); in each round every engine runs once,
   each run preceded by a run of the floor (the hand-written DuckDB query), so the
   floor is measured interleaved with everything else, under the same noise;
3. report the median seconds, persons per second, the median peak RSS of the
   engine's process tree, the ratio to the floor's median and the ratio to the
   scan floor's (``bench/peers/scan.py``: every column the decree reads, read once
   and nothing decided, measured ``--runs`` times before the rounds).

Per-record peers (a Python loop, rule-engine, zen-engine) run up to 1M persons;
at larger sizes their figure is extrapolated linearly from the largest measured
size and marked so. ``--quick`` is the smoke run (2k persons, one round, the
engines that need no server).

Every engine runs in a fresh process (``bench/worker.py``); what is timed and what
is not is written in each peer module's docstring and in ``bench/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import pyarrow as pa
import pyarrow.parquet as pq
from common import BENCH, PROFILE, ROOT, SEED, Size, machine


@dataclass(frozen=True)
class Peer:
    name: str  # module in bench/peers/, and the name on the command line
    label: str  # as printed in the table
    max_persons: int | None = None  # per-record peers: measured up to here, extrapolated above
    needs: str = ""  # "postgres", "spark": a service the quick run leaves out
    pg_max: int | None = None
    max_runs: int | None = None  # fewer timed rounds for the slowest peer
    above_note: str = ""  # why the peer is extrapolated above max_persons


FLOOR = Peer("floor", "floor: hand-written DuckDB SQL")
SCAN = Peer("scan", "scan: the columns the decree reads, read once")
REFERENCE = "amnesty_duckdb"
PEERS = (
    Peer("amnesty_duckdb", "amnesty on DuckDB"),
    Peer("amnesty_postgres", "amnesty on PostgreSQL", needs="postgres", pg_max=1_000_000),
    Peer("amnesty_spark", "amnesty on Spark local[2]", needs="spark"),
    Peer("polars_rules", "Polars expressions"),
    # OpenFisca holds every item of every person as numpy object arrays: about 3.2 GB
    # of RSS per million persons measured here, so 10M (~32 GB) does not fit in this
    # machine's 23 GB; it is extrapolated above 1M, and the reason printed.
    Peer(
        "openfisca_rules",
        "OpenFisca-core (vectorised)",
        max_persons=1_000_000,
        above_note="memory: ~3.2 GB RSS per million persons at 1M; 10M would need ~32 GB",
    ),
    Peer("python_loop", "plain Python loop", max_persons=1_000_000),
    # rule-engine walks its AST in Python (about 1.4 ms a person here): measured at
    # 100k with 3 rounds, extrapolated above.
    Peer("rule_engine_rules", "rule-engine (per record)", max_persons=100_000, max_runs=3),
    Peer("zen_rules", "zen-engine (per record)", max_persons=1_000_000),
)


@dataclass
class Measure:
    peer: Peer
    size: Size
    seconds: list[float] = field(default_factory=list)
    peak_kb: list[int] = field(default_factory=list)
    agrees: str = ""
    note: str = ""
    extrapolated_from: Measure | None = None

    @property
    def median(self) -> float | None:
        if self.extrapolated_from is not None:
            base = self.extrapolated_from.median
            return (
                None
                if base is None
                else base * self.size.persons / self.extrapolated_from.size.persons
            )
        return statistics.median(self.seconds) if self.seconds else None

    @property
    def peak(self) -> int | None:
        return int(statistics.median(self.peak_kb)) if self.peak_kb else None


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def amnesty(*args: str) -> None:
    cmd = [sys.executable, "-m", "amnesty", *args]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{proc.stdout}\n{proc.stderr}")


def ensure_data(size: Size) -> None:
    """Generate the registry once, and import it into DuckDB once, per size."""
    if not (size.parquet / "manifest.json").exists():
        log(f"generating {PROFILE} registry, {size.persons:,} persons -> {size.parquet}")
        shutil.rmtree(size.parquet, ignore_errors=True)
        code = (
            "from amnesty.registry.generate import generate; "
            f"generate({PROFILE!r}, {size.persons}, {SEED}, {str(size.parquet)!r})"
        )
        proc = subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True
        )
        if proc.returncode != 0:
            raise SystemExit(f"generating {size.label} failed:\n{proc.stderr}")
    if not size.duckdb.exists():
        log(f"importing into {size.duckdb}")
        tmp = size.duckdb.with_suffix(".importing.duckdb")
        tmp.unlink(missing_ok=True)
        amnesty("registry", "import", str(size.parquet), "--db", str(tmp))
        tmp.rename(size.duckdb)


def worker(
    peer: str, size: Size, check: Path | None = None, options: dict[str, str] | None = None
) -> dict[str, float]:
    cmd = [sys.executable, str(BENCH / "worker.py"), peer, size.label]
    if check is not None:
        cmd += ["--check", str(check)]
    for k, v in (options or {}).items():
        cmd += ["--option", f"{k}={v}"]
    proc = subprocess.Popen(
        cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    out, err = proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"{peer} at {size.label} failed:\n{err[-3000:]}")
    report = json.loads(out.strip().splitlines()[-1])
    return report


def canonical(path: Path) -> pa.Table:
    return pq.read_table(path).sort_by("person_id")


def compare(ref: pa.Table, got: pa.Table) -> tuple[bool, str]:
    """Every column the peer computes against amnesty's: the outcome always, lists
    (grounds, blocking, referred, undertakings) as sets, ``unknown`` exactly."""
    if ref.num_rows != got.num_rows:
        return False, f"{got.num_rows:,} persons decided, reference {ref.num_rows:,}"
    if ref.column("person_id") != got.column("person_id"):
        return False, "a different population (person ids differ)"
    cols = [c for c in got.column_names if c != "person_id" and c in ref.column_names]
    problems = []
    for col in cols:
        if ref.column(col).combine_chunks().equals(got.column(col).combine_chunks()):
            continue  # identical, lists in the same order: no need to look closer
        a = ref.column(col).to_pylist()
        b = got.column(col).to_pylist()
        if col in ("grounds", "blocking", "referred", "undertakings"):
            a = [sorted(v or []) for v in a]
            b = [sorted(v or []) for v in b]
        diff = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
        if diff:
            i = diff[0]
            pid = ref.column("person_id")[i].as_py()
            problems.append(
                f"{col} differs for {len(diff):,} persons, e.g. {pid}: "
                f"reference {a[i]!r}, got {b[i]!r}"
            )
    if problems:
        return False, "; ".join(problems)
    return True, "all 9 columns" if len(cols) == 8 else "+".join(cols)


def fmt_rss(kb: int | None) -> str:
    if kb is None:
        return "-"
    return f"{kb / 1024 / 1024:.2f} GB" if kb >= 1024 * 1024 else f"{kb / 1024:.0f} MB"


def table(rows: list[Measure], floors: dict[str, Measure], scans: dict[str, Measure]) -> str:
    head = (
        "| persons | engine | seconds | persons/s | peak RSS | x floor | x scan | checked |\n"
        "| ---: | --- | ---: | ---: | ---: | ---: | ---: | --- |"
    )
    lines = [head]
    for m in rows:
        med = m.median
        floor = floors[m.size.label].median
        mark = " (extrapolated)" if m.extrapolated_from is not None else ""
        secs = "-" if med is None else f"{med:.2f}{mark}"
        rate = "-" if not med else f"{m.size.persons / med:,.0f}"
        ratio = "-" if (med is None or not floor) else f"{med / floor:.2f}"
        scan = scans[m.size.label].median if m.size.label in scans else None
        to_scan = "-" if (med is None or not scan) else f"{med / scan:.1f}"
        rss = "-" if m.extrapolated_from is not None else fmt_rss(m.peak)
        check = m.agrees + (f" {m.note}" if m.note else "")
        lines.append(
            f"| {m.size.label} | {m.peer.label} | {secs} | {rate} | {rss} | {ratio} | {to_scan} "
            f"| {check} |"
        )
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="100k,1m", help="comma list: 100k,1m,10m")
    ap.add_argument("--quick", action="store_true", help="smoke run: 2k persons, one round")
    ap.add_argument("--runs", type=int, default=5, help="timed rounds (median reported)")
    ap.add_argument("--peers", default="", help="comma list of peers to run (default all)")
    ap.add_argument(
        "--results",
        type=Path,
        default=None,
        help="write the Markdown results here (default bench/RESULTS.md; none with --quick)",
    )
    ap.add_argument(
        "--keep-going",
        action="store_true",
        help="leave a disagreeing engine out instead of stopping",
    )
    ap.add_argument(
        "--reuse-check",
        action="store_true",
        help="count the (verified) check run as the one timed run; for --runs 1 at 10M, "
        "where a second pass of every engine does not fit the session",
    )
    ap.add_argument(
        "--memory-demo",
        default="",
        help="size for the DuckDB memory-limit demonstration (e.g. 10m)",
    )
    args = ap.parse_args()

    if args.quick:
        sizes = [Size.parse("2000")]
        runs = 1
    else:
        sizes = [Size.parse(s) for s in args.sizes.split(",") if s]
        runs = args.runs
    wanted = {p.strip() for p in args.peers.split(",") if p.strip()}
    peers = [p for p in PEERS if not wanted or p.name in wanted or p.name == REFERENCE]
    if args.quick:
        peers = [p for p in peers if not p.needs]

    results: list[Measure] = []
    floors: dict[str, Measure] = {}
    scans: dict[str, Measure] = {}
    pg = None
    skipped: list[str] = []
    try:
        for size in sizes:
            ensure_data(size)
            active: list[Peer] = []
            options: dict[str, dict[str, str]] = {}
            for p in peers:
                if p.max_persons is not None and size.persons > p.max_persons:
                    continue
                if p.pg_max is not None and size.persons > p.pg_max:
                    continue
                reason = unavailable(p)
                if reason:
                    skipped.append(f"{p.label}: {reason}")
                    continue
                if p.needs == "postgres":
                    if pg is None:
                        from pg import Server

                        pg = Server()
                        pg.start()
                    db = pg.create_database(f"bench_{size.label}")
                    log(f"importing {size.label} into PostgreSQL")
                    amnesty("registry", "import", str(size.parquet), "--db", db)
                    options[p.name] = {"url": db}
                active.append(p)

            # 1. check
            checks = BENCH / ".work" / "check" / size.label
            checks.mkdir(parents=True, exist_ok=True)
            log(f"{size.label}: checking the floor and {len(active)} engines agree")
            check_runs: dict[str, dict[str, float]] = {}
            check_runs[FLOOR.name] = worker(FLOOR.name, size, checks / "floor.parquet")
            measures: dict[str, Measure] = {}
            ref_path = checks / f"{REFERENCE}.parquet"
            for p in active:
                check_runs[p.name] = worker(
                    p.name, size, checks / f"{p.name}.parquet", options.get(p.name)
                )
            ref = canonical(ref_path)
            floor_m = Measure(FLOOR, size)
            ok, what = compare(ref, canonical(checks / "floor.parquet"))
            floor_m.agrees = ("agrees: " if ok else "DISAGREES: ") + what
            if not ok:
                raise SystemExit(f"the floor disagrees with amnesty at {size.label}: {what}")
            timed: list[Peer] = []
            for p in active:
                m = Measure(p, size)
                ok, what = compare(ref, canonical(checks / f"{p.name}.parquet"))
                m.agrees = ("agrees: " if ok else "DISAGREES: ") + what
                if p.name == REFERENCE:
                    m.agrees = "reference"
                measures[p.name] = m
                log(f"  {p.label}: {m.agrees}")
                if ok:
                    timed.append(p)
                elif not args.keep_going:
                    raise SystemExit(
                        f"{p.label} disagrees at {size.label}: {what}; "
                        "no figure counts until every engine agrees"
                    )

            # 2. time: the scan floor first, then every engine interleaved with the floor
            scan_m = Measure(SCAN, size, agrees="decides nobody: read only")
            for _ in range(max(runs, 1)):
                rep = worker(SCAN.name, size)
                scan_m.seconds.append(rep["seconds"])
                scan_m.peak_kb.append(int(rep["peak_kb"]))
            log(f"  {size.label} scan floor: {scan_m.median:.2f} s")
            scans[size.label] = scan_m
            if args.reuse_check:
                for name, rep in check_runs.items():
                    m = floor_m if name == FLOOR.name else measures.get(name)
                    if m is not None and (m is floor_m or m.peer in timed):
                        m.seconds.append(rep["seconds"])
                        m.peak_kb.append(int(rep["peak_kb"]))
            for r in range(0 if args.reuse_check else runs):
                for p in timed:
                    if p.max_runs is not None and r >= p.max_runs:
                        continue
                    f = worker(FLOOR.name, size)
                    floor_m.seconds.append(f["seconds"])
                    floor_m.peak_kb.append(int(f["peak_kb"]))
                    rep = worker(p.name, size, None, options.get(p.name))
                    measures[p.name].seconds.append(rep["seconds"])
                    measures[p.name].peak_kb.append(int(rep["peak_kb"]))
                    log(
                        f"  round {r + 1}/{runs} {size.label} {p.label}: {rep['seconds']:.2f} s "
                        f"(floor {f['seconds']:.2f} s)"
                    )
            floors[size.label] = floor_m
            results.extend((scan_m, floor_m))
            results.extend(measures[p.name] for p in active)

        # per-record peers above their largest measured size: extrapolated, marked so
        for size in sizes:
            for p in peers:
                if p.max_persons is None or size.persons <= p.max_persons:
                    continue
                base = [m for m in results if m.peer == p and m.seconds]
                if not base:
                    continue
                src = max(base, key=lambda m: m.size.persons)
                m = Measure(
                    p,
                    size,
                    extrapolated_from=src,
                    agrees=f"linear from {src.size.label}",
                    note=f"({p.above_note})" if p.above_note else "",
                )
                results.append(m)
        demo = memory_demo(Size.parse(args.memory_demo)) if args.memory_demo else None
    finally:
        if pg is not None:
            pg.stop()

    order = {s.label: i for i, s in enumerate(sizes)}
    rank = {p.name: i for i, p in enumerate((SCAN, FLOOR, *PEERS))}
    results.sort(key=lambda m: (order[m.size.label], rank[m.peer.name]))
    text = table(results, floors, scans)
    print(text)
    for s in skipped:
        print(f"not run: {s}")
    if demo:
        print(demo)
    target = args.results if args.results else (None if args.quick else BENCH / "RESULTS.md")
    if target is not None:
        write_results(target, text, skipped, demo, sizes, 0 if args.reuse_check else runs)
        log(f"wrote {target}")
    return 0


def unavailable(p: Peer) -> str:
    """Why a peer cannot run here (its library is not installed), or ''."""
    needs = {
        "polars_rules": "polars",
        "openfisca_rules": "openfisca_core",
        "rule_engine_rules": "rule_engine",
        "zen_rules": "zen",
        "amnesty_spark": "pyspark",
        "amnesty_postgres": "psycopg",
    }
    mod = needs.get(p.name)
    if mod is None:
        return ""
    import importlib.util

    if importlib.util.find_spec(mod) is None:
        return f"{mod} not installed (python3 -m uv sync --group bench)"
    if (
        p.name == "amnesty_spark"
        and shutil.which("java") is None
        and not os.environ.get("JAVA_HOME")
    ):
        return "no Java runtime"
    return ""


def memory_demo(size: Size) -> str:
    """DuckDB under a memory limit well below the registry's size: spills, not refused."""
    ensure_data(size)
    limit = "500MB"
    log(f"memory demo: {size.label} under memory_limit={limit}")
    rep = worker("amnesty_duckdb", size, None, {"memory_limit": limit, "spill": "1"})
    db_mb = size.duckdb.stat().st_size / 1024 / 1024
    pq_mb = sum(f.stat().st_size for f in size.parquet.glob("*.parquet")) / 1024 / 1024
    spilled = rep.get("spilled_mb", 0.0)
    return (
        f"memory limit: {size.persons:,} persons (DuckDB file {db_mb:,.0f} MB, Parquet "
        f"{pq_mb:,.0f} MB) evaluated under memory_limit='{limit}' in {rep['seconds']:.1f} s, "
        f"peak RSS {fmt_rss(int(rep['peak_kb']))}, up to {spilled:,.0f} MB spilled to disk; "
        f"determinations written to Parquet ({int(rep.get('rows', 0)):,} rows)"
    )


def write_results(
    path: Path, text: str, skipped: list[str], demo: str | None, sizes: list[Size], runs: int
) -> None:
    """Write (or replace) this run's section of ``path``, keyed by its sizes; the
    other sections of the file (other benchmarks, other sizes) are kept."""
    label = ",".join(s.label for s in sizes)
    start, end = f"<!-- bench/run.py --sizes {label}: start -->", "<!-- bench/run.py: end -->"
    mach = machine()
    lines = [
        start,
        f"## Decree evaluation, amnesty and its peers: {label} persons",
        "",
        f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} by "
        f"`python3 -m uv run --group bench python bench/run.py --sizes {label}"
        f"{'' if runs == 5 else f' --runs {runs}' if runs else ' --runs 1 --reuse-check'}`: "
        "the October 2015 decree (`decrees/kp-2015-10-party-founding.toml`) on the "
        f"`{PROFILE}` registry (seed {SEED}). "
        + (
            f"Median of {runs} timed runs (rule-engine: at most 3), each in a fresh process, "
            "each preceded by a run of the floor; before any run is timed, every engine's "
            "determinations were checked against amnesty's on DuckDB (the `checked` column "
            "says which columns)."
            if runs
            else "ONE run per engine, in a fresh process: the check run itself, whose "
            "determinations were then verified against amnesty's on DuckDB (the `checked` "
            "column says which columns); no median at this size."
        ),
        "",
        "Machine: " + "; ".join(f"{k} {v}" for k, v in mach.items()) + ".",
        "",
        text,
        "",
    ]
    if skipped:
        lines += ["Not run: " + "; ".join(skipped) + ".", ""]
    if demo:
        lines += ["Memory limit: " + demo + ".", ""]
    lines.append(end)
    section = "\n".join(lines)
    old = path.read_text() if path.exists() else "# Benchmark results\n"
    if start in old:
        head, rest = old.split(start, 1)
        tail = rest.split(end, 1)[1] if end in rest else ""
        new = head + section + tail
    else:
        new = old.rstrip("\n") + "\n\n" + section + "\n"
    path.write_text(new)


if __name__ == "__main__":
    raise SystemExit(main())
