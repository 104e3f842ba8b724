"""Fixtures for the backend tests.

``spark_session``: ONE SparkSession for the whole test run (starting a JVM costs
seconds; every Spark test shares it). Local mode on two cores, few shuffle
partitions, no UI, errors-only logging, UTC. Without Java or PySpark the Spark
tests are skipped locally, but under ``CI=true`` they fail: CI must run them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest


def _missing_spark() -> str | None:
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return "PySpark is not installed (uv sync --group dev)"
    from amnesty.backends.spark import java_available

    if not java_available():
        return "no Java runtime (set JAVA_HOME or put java on the PATH)"
    return None


@pytest.fixture(scope="session")
def spark_session() -> Iterator[Any]:
    reason = _missing_spark()
    if reason is not None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"Spark tests must run under CI=true: {reason}")
        pytest.skip(reason)
    from amnesty.backends.spark import session

    spark = session(
        "local[2]",
        app_name="amnesty-tests",
        shuffle_partitions=2,
        driver_memory="1g",
        conf={
            "spark.default.parallelism": "2",
            "spark.sql.files.openCostInBytes": "1048576",
        },
    )
    yield spark
    spark.stop()
