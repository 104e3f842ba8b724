"""amnesty on Spark in local mode: the same compiled decree in the ``spark`` dialect.

Untimed: starting the SparkSession (JVM), registering the registry's Parquet
files as temporary views, loading the decree file. Timed: compiling to Spark SQL
and running it to a Parquet directory of determinations with their explanations,
as ``amnesty evaluate --engine spark --out DIR`` does (Spark reads the registry
from Parquet on every run: it has no loaded copy to start from).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from common import BENCH, DECREE, Size

from peers import _canon


@dataclass
class State:
    backend: Any
    decree: Any
    out: Path


def prepare(size: Size, options: dict[str, str]) -> State:
    from amnesty.backends.spark import SparkBackend, session
    from amnesty.decree import load

    spark = session(
        options.get("master", "local[2]"),
        app_name="amnesty-bench",
        driver_memory=options.get("driver_memory", "4g"),
    )
    out = BENCH / ".work" / "spark-out" / size.label
    shutil.rmtree(out, ignore_errors=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    return State(SparkBackend(spark, size.parquet), load(DECREE), out)


def run(state: State) -> Path:
    from amnesty.compile.sql import compile_decree

    compiled = compile_decree(state.decree, "spark")
    state.backend.write_parquet(compiled.sql, state.out)
    return state.out


def outcomes(state: State, result: Path) -> pa.Table:
    return _canon.from_arrow(pq.read_table(result))


def close(state: State) -> None:
    state.backend.close()
