"""amnesty on PostgreSQL: the same compiled decree, run in-database.

Untimed: connecting, loading the decree file. Timed: ``evaluate`` whole
(compile to the PostgreSQL dialect, run, fetch every determination with its
explanation). Peak RSS is the client's plus the server backend's that ran the
query (its parallel workers are not counted).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pyarrow as pa
from common import DECREE, Size

from peers import _canon


@dataclass
class State:
    conn: Any
    decree: Any
    backend_pid: int


def prepare(size: Size, options: dict[str, str]) -> State:
    import psycopg

    from amnesty.decree import load

    conn = psycopg.connect(options["url"])
    pid = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
    return State(conn, load(DECREE), int(pid))


def run(state: State) -> Any:
    from amnesty.engine import evaluate

    return evaluate(state.decree, state.conn)


def server_pids(state: State) -> tuple[int, ...]:
    return (state.backend_pid,)


def outcomes(state: State, result: Any) -> pa.Table:
    return _canon.from_arrow(result.determinations)


def close(state: State) -> None:
    state.conn.close()
