"""A smoke run of the benchmark (``bench/run.py --quick``): 2,000 persons, one round.

It proves the bench still runs end to end and that every engine it can run here
(amnesty on DuckDB, the hand-written floor, the Python loop, and the peers of the
``bench`` dependency group where they are installed) decides every person as
amnesty does before any time is printed. Services (PostgreSQL, Spark) are left to
the full bench.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_quick_bench_prints_one_table_and_every_engine_agrees(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), "--quick"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("| ")]
    assert lines[0].startswith(
        "| persons | engine | seconds | persons/s | peak RSS | x floor | x scan |"
    )
    rows = lines[2:]
    engines = {row.split("|")[2].strip(): row for row in rows}
    assert "floor: hand-written DuckDB SQL" in engines
    assert "amnesty on DuckDB" in engines
    assert "plain Python loop" in engines
    # The scan floor reads what the decree reads and decides nobody; every engine's
    # ratio to it is printed beside its ratio to the floor.
    scan = engines.pop("scan: the columns the decree reads, read once")
    assert scan.split("|")[7].strip() == "1.0"
    assert all(row.split("|")[7].strip() not in ("", "-") for row in engines.values())
    for name, row in engines.items():
        checked = row.split("|")[8].strip()
        assert checked == "reference" or checked.startswith("agrees"), f"{name}: {checked}"
    # The floor and the Python loop are held to all nine columns, explanations included.
    assert "all 9 columns" in engines["floor: hand-written DuckDB SQL"]
    assert "all 9 columns" in engines["plain Python loop"]
