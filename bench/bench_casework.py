"""Case work at national scale: one roster of 10,000 persons, from pledges to PDFs.

    python3 -m uv run python bench/bench_casework.py [--persons 10000] [--backend duckdb]

For each database (DuckDB file; PostgreSQL on a throwaway server, see ``pg.py``)
it builds the case-work world of ``tests/workflow/casework_world.py`` with a crowd
of ``--persons`` at one facility, each eligible once they sign the pledge, then
times what an officer does for the whole facility:

1. prepare and approve the roster (four eyes);
2. import every pledge from one CSV file;
3. ``roster check``;
4. ``release execute --roster`` (batches of 500: each release with its registry
   event, certificate number and audit event, re-checked inside its transaction);
5. the roster's certificates, one batch PDF (a cover list, then a page each), laid
   out in parts of 250 pages by one thread per core and joined;
6. ``audit verify`` of the whole chain (it must pass).

It also times ``amnesty --help`` and ``amnesty run list`` (fresh processes, best of
five). Prints one Markdown table, the databases side by side, with the load
average before and after.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT / "tests" / "workflow"))  # the case-work world of the tests
sys.path.insert(0, str(ROOT / "tests"))  # and the accounts it acts with (acting.py)
sys.path.insert(0, str(BENCH))


def _timed(
    rows: list[tuple[str, str, float, str]],
    backend: str,
    step: str,
    work: Callable[[], Any],
    note: Callable[[Any], str] = lambda _r: "",
) -> Any:
    started = time.perf_counter()
    result = work()
    rows.append((backend, step, time.perf_counter() - started, note(result)))
    print(f"  {backend:<10} {step:<34} {rows[-1][2]:8.2f} s  {rows[-1][3]}", file=sys.stderr)
    return result


def casework(
    url: str, backend: str, persons: int, folder: Path
) -> list[tuple[str, str, float, str]]:
    from casework_world import IN_WINDOW, build_world, crowd_ids

    from amnesty.audit.verify import verify
    from amnesty.store.database import Database
    from amnesty.workflow.batches import check_roster, execute_roster
    from amnesty.workflow.casework_files import import_undertakings
    from amnesty.workflow.certificate_store import print_certificates
    from amnesty.workflow.rosters import approve_roster, prepare_roster

    rows: list[tuple[str, str, float, str]] = []
    world = _timed(
        rows,
        backend,
        "set-up: registry, users, run",
        lambda: build_world(url, crowd=persons),
        lambda _w: f"{persons:,} + 7 persons",
    )
    db = Database.of(world.url)

    def roster() -> int:
        prepared = prepare_roster(db, "off3", world.run_id, "F3")
        approve_roster(db, "appr1", prepared.roster_id)
        return prepared.roster_id

    roster_id = _timed(rows, backend, "roster prepare + approve", roster)
    pledges = folder / f"pledges-{backend}.csv"
    pledges.write_text(
        "person_id,undertaking_id,status,signed_on,witness\n"
        + "".join(f"{p},pledge,signed,{IN_WINDOW},Pak Chol\n" for p in crowd_ids(persons)),
        encoding="utf-8",
    )
    _timed(
        rows,
        backend,
        "import undertakings (CSV)",
        lambda: import_undertakings(db, "off3", roster_id, pledges),
        lambda a: f"{a.records:,} records",
    )
    _timed(
        rows,
        backend,
        "roster check",
        lambda: check_roster(db, roster_id, IN_WINDOW),
        lambda r: f"{len(r.ready):,} ready",
    )
    report = _timed(
        rows,
        backend,
        "release execute --roster",
        lambda: execute_roster(db, "off3", roster_id, release_date=IN_WINDOW),
        lambda r: f"{len(r.released):,} released",
    )
    assert len(report.released) == persons, report.stopped[:3]
    _timed(
        rows,
        backend,
        "certificates for the roster",
        lambda: print_certificates(db, "off3", folder / f"certs-{backend}", roster_id=roster_id),
        lambda paths: f"{len(paths)} batch PDF, {_pages(paths):,} pages",
    )
    verified = _timed(
        rows,
        backend,
        "audit verify",
        lambda: verify(world.url),
        lambda r: "ok" if r.ok else f"FAILED: {r.problems[:1]}",
    )
    assert verified.ok
    db.close()
    return rows


def startup(folder: Path) -> list[tuple[str, str, float, str]]:
    """``amnesty --help`` and ``amnesty run list`` on a small database, best of five."""
    from casework_world import build_world

    from amnesty.store.database import Database

    small = folder / "small.duckdb"
    Database.of(build_world(str(small)).url).close()
    amnesty = str(Path(sys.executable).with_name("amnesty"))
    rows = []
    for words in (["--help"], ["run", "list", "--db", str(small)]):
        best = float("inf")
        for _ in range(5):
            started = time.perf_counter()
            subprocess.run([amnesty, *words], capture_output=True, check=True)
            best = min(best, time.perf_counter() - started)
        rows.append(("process", "amnesty " + " ".join(words[:2]), best, "best of 5"))
    return rows


def _pages(paths: list[Path]) -> int:
    from pypdf import PdfReader

    return sum(len(PdfReader(path).pages) for path in paths)


def table(rows: list[tuple[str, str, float, str]]) -> str:
    """One row per step, one column of seconds (and one of results) per database."""
    backends = list(dict.fromkeys(b for b, _s, _t, _n in rows if b != "process"))
    steps = list(dict.fromkeys(s for _b, s, _t, _n in rows))
    found = {(b, s): (t, n) for b, s, t, n in rows}
    head = ["step", *(f"{b} s" for b in backends), *(f"{b} result" for b in backends)]
    lines = ["| " + " | ".join(head) + " |", "| --- |" + " ---: |" * len(backends)]
    lines[-1] += " --- |" * len(backends)
    for step in steps:
        if ("process", step) in found:
            t, n = found[("process", step)]
            cells = [f"{t:.2f}", *[""] * (len(backends) - 1), n, *[""] * (len(backends) - 1)]
        else:
            got = [found.get((b, step)) for b in backends]
            cells = [f"{g[0]:.2f}" if g else "" for g in got] + [g[1] if g else "" for g in got]
        lines.append("| " + " | ".join([step, *cells]) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=10_000)
    parser.add_argument("--backend", choices=["duckdb", "postgresql", "both"], default="both")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="amnesty-bench-casework-"))
    load_before = os.getloadavg()
    rows = startup(folder)
    if args.backend in ("duckdb", "both"):
        rows += casework(str(folder / "casework.duckdb"), "duckdb", args.persons, folder)
    if args.backend in ("postgresql", "both"):
        from pg import Server

        server = Server()
        try:
            url = server.create_database("bench_casework") if server.start() else ""
            rows += casework(url, "postgresql", args.persons, folder)
        finally:
            server.stop()
    load_after = os.getloadavg()
    before, after = (" ".join(f"{x:.2f}" for x in load) for load in (load_before, load_after))
    print(f"{args.persons:,} persons on {os.cpu_count()} cores; load average (1, 5, 15 min)")
    print(f"{before} before, {after} after\n")
    print(table(rows))


if __name__ == "__main__":
    main()
