"""The floor: the hand-written DuckDB query of ``bench/floor_sql.py``.

Untimed: opening the database read-only. Timed: running the query and fetching
every determination (the same nine columns as amnesty, explanations included)
into an Arrow table.
"""

from __future__ import annotations

from typing import Any

import duckdb
import pyarrow as pa
from common import Size
from floor_sql import floor_sql

from peers import _canon


def prepare(size: Size, options: dict[str, str]) -> Any:
    return duckdb.connect(str(size.duckdb), read_only=True)


def run(conn: Any) -> pa.Table:
    return conn.sql(floor_sql()).to_arrow_table()


def outcomes(conn: Any, result: pa.Table) -> pa.Table:
    return _canon.from_arrow(result)
