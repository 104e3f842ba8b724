"""amnesty on DuckDB: ``amnesty.engine.evaluate`` on the imported registry file.

Untimed: opening the database read-only and loading the decree file.
Timed: ``evaluate`` whole: compiling the decree to SQL, running it, and fetching
every determination with its explanation (outcome, relief, grounds, blocking,
referred, unknown with missing facts, undertakings) into an Arrow table.

With ``memory_limit`` (the memory demonstration) DuckDB is capped, spills to a
temporary directory, and the determinations go to Parquet with ``COPY`` instead of
into memory (a result that fits nowhere but on disk).
"""

from __future__ import annotations

import shutil
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
from common import BENCH, DECREE, Size

from peers import _canon


@dataclass
class State:
    conn: Any
    decree: Any
    options: dict[str, str]
    size: Size
    spill_dir: Path | None = None
    spilled_mb: float = 0.0
    rows: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


def prepare(size: Size, options: dict[str, str]) -> State:
    from amnesty.decree import load

    conn = duckdb.connect(str(size.duckdb), read_only=True)
    state = State(conn, load(DECREE), options, size)
    if "memory_limit" in options:
        state.spill_dir = BENCH / ".work" / "spill"
        shutil.rmtree(state.spill_dir, ignore_errors=True)
        state.spill_dir.mkdir(parents=True)
        conn.execute(f"SET memory_limit = '{options['memory_limit']}'")
        conn.execute(f"SET temp_directory = '{state.spill_dir}'")
        conn.execute("SET preserve_insertion_order = false")
    return state


def run(state: State) -> Any:
    from amnesty.engine import evaluate

    if state.spill_dir is None:
        return evaluate(state.decree, state.conn)
    from amnesty.compile.sql import compile_decree

    out = state.spill_dir / "determinations.parquet"
    stop = threading.Event()

    def watch() -> None:  # the most the temporary directory held while the query ran
        while not stop.is_set():
            used = (
                sum(
                    f.stat().st_size for f in state.spill_dir.rglob("*") if f.is_file() and f != out
                )
                if state.spill_dir
                else 0
            )
            state.spilled_mb = max(state.spilled_mb, used / 1024 / 1024)
            time.sleep(0.1)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        sql = compile_decree(state.decree, "duckdb").sql
        state.conn.execute(f"COPY ({sql}) TO '{out}' (FORMAT parquet)")
    finally:
        stop.set()
        watcher.join()
    state.rows = state.conn.execute(f"SELECT count(*) FROM '{out}'").fetchone()[0]
    return out


def outcomes(state: State, result: Any) -> pa.Table:
    return _canon.from_arrow(result.determinations)


def report(state: State) -> dict[str, float]:
    return {"spilled_mb": state.spilled_mb, "rows": state.rows}
