"""Spark SQL backend: the same compiled decree, run by Spark over Parquet files.

For registries past one machine. The registry is a directory with one Parquet
file (or Spark-written Parquet directory) per table, named ``<table>.parquet``
as ``amnesty registry generate`` writes them; each is registered as a temporary
view under the table's name, so the compiled query (the engine's SQLGlot tree
emitted in the ``spark`` dialect) reads it exactly as it reads DuckDB's tables.
Determinations are written back as Parquet, by the executors, never collected
on the driver unless a caller asks for an Arrow table.

Local mode (``local[N]``) needs only Java 17+ and PySpark; on a cluster, pass
``--spark-master spark://host:7077`` (or ``yarn``, ``k8s://...``) or run under
``spark-submit``, which sets the master itself. See ``docs/scale.md``.

PySpark is optional (``pip install 'amnesty[spark]'``): it is imported only when a
Spark backend is built, and its absence is a :class:`~amnesty.errors.ConfigError`.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from amnesty.errors import ConfigError, EngineError, RegistryError
from amnesty.registry.schema import CORE_TABLES, TABLE_NAMES

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from amnesty.decree.model import Decree

DIALECT = "spark"
LOG4J_CONFIG = Path(__file__).with_name("spark_log4j2.properties")

# Settings every amnesty session gets. Dates are compared as dates and the
# as-of date is a literal, but Spark still renders timestamps and casts through
# the session time zone, so it is pinned: a run must not depend on the host's zone.
BASE_CONF: dict[str, str] = {
    "spark.sql.session.timeZone": "UTC",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    # Parquet as amnesty writes it: plain dates, no legacy calendar rebasing.
    "spark.sql.parquet.datetimeRebaseModeInWrite": "CORRECTED",
    "spark.sql.parquet.datetimeRebaseModeInRead": "CORRECTED",
}


def _require_pyspark() -> Any:
    try:
        import pyspark.sql
    except ImportError as exc:
        raise ConfigError(
            "the Spark engine needs PySpark: install amnesty with the spark extra "
            "(pip install 'amnesty[spark]') and Java 17 or newer"
        ) from exc
    return pyspark.sql


def java_available() -> bool:
    """True when a Java runtime can be found (``JAVA_HOME`` or ``java`` on the PATH)."""
    home = os.environ.get("JAVA_HOME")
    if home and (Path(home) / "bin" / "java").exists():
        return True
    return shutil.which("java") is not None


def session(
    master: str | None = None,
    *,
    app_name: str = "amnesty",
    shuffle_partitions: int | None = None,
    driver_memory: str | None = None,
    conf: Mapping[str, str] | None = None,
) -> SparkSession:
    """A SparkSession configured for amnesty (or the running one, under spark-submit).

    ``master`` defaults to ``$AMNESTY_SPARK_MASTER``, then to what ``spark-submit``
    set, then to ``local[*]``. ``shuffle_partitions`` defaults to twice the local
    cores in local mode (Spark's default of 200 is made for clusters and costs
    seconds on a laptop) and is left to Spark on a cluster.
    """
    sql = _require_pyspark()
    if not java_available():
        raise ConfigError(
            "the Spark engine needs Java 17 or newer: install a JDK and set JAVA_HOME "
            "or put java on the PATH"
        )
    master = master or os.environ.get("AMNESTY_SPARK_MASTER")
    under_submit = "PYSPARK_GATEWAY_PORT" in os.environ  # spark-submit already chose a master
    if master is None and not under_submit:
        master = "local[*]"
    local = master is not None and master.startswith("local")
    if local:
        # A laptop's hostname often resolves to a loopback address; say which one to use
        # instead of letting Spark warn about it on every start.
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")

    builder = sql.SparkSession.builder.appName(app_name)
    if master is not None:
        builder = builder.master(master)
    settings = dict(BASE_CONF)
    log4j = f"-Dlog4j2.configurationFile={LOG4J_CONFIG.as_uri()}"
    settings["spark.driver.extraJavaOptions"] = log4j
    if local:  # no web UI for a one-process run; a cluster keeps its own settings
        settings["spark.ui.enabled"] = "false"
        cores = _local_cores(master or "local[*]")
        settings["spark.sql.shuffle.partitions"] = str(shuffle_partitions or max(2, 2 * cores))
    elif shuffle_partitions:
        settings["spark.sql.shuffle.partitions"] = str(shuffle_partitions)
    if driver_memory:
        settings["spark.driver.memory"] = driver_memory
    settings.update(conf or {})
    for key, value in settings.items():
        builder = builder.config(key, value)
    try:
        spark = builder.getOrCreate()
    except Exception as exc:  # the JVM did not start: say so without a Java stack trace
        where = master or "from spark-submit"
        raise ConfigError(f"cannot start Spark (master {where}): {_short(exc)}") from exc
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def _local_cores(master: str) -> int:
    inner = master.removeprefix("local").strip("[]").split(",")[0]
    if inner in ("", "*"):
        return os.cpu_count() or 1
    try:
        return max(1, int(inner))
    except ValueError:
        return os.cpu_count() or 1


Location = str | Path
"""A local path, or a URI Spark reads (``hdfs://``, ``s3a://``, ``abfss://``, ``file://``)."""


def is_uri(location: Location) -> bool:
    return "://" in str(location)


def registry_paths(directory: Location, tables: Iterable[str] = TABLE_NAMES) -> dict[str, str]:
    """``<table>.parquet`` for every registry table in ``directory``. A local directory
    is checked here (a missing table is a :class:`RegistryError` that names it); a URI
    on a cluster's storage is left to Spark, which fails on a missing path."""
    if is_uri(directory):
        base = str(directory).rstrip("/")
        return {name: f"{base}/{name}.parquet" for name in tables}
    local = Path(directory)
    if not local.is_dir():
        raise RegistryError(
            f"--registry {local}: not a directory; expected one <table>.parquet per table "
            "(amnesty registry generate --out DIR writes one)"
        )
    paths = {name: local / f"{name}.parquet" for name in tables}
    missing = [name for name, path in paths.items() if not path.exists()]
    if missing:
        raise RegistryError(
            f"--registry {local}: missing {', '.join(f'{m}.parquet' for m in missing)}; "
            "expected one Parquet file (or Spark Parquet directory) per registry table"
        )
    return {name: str(path) for name, path in paths.items()}


class SparkBackend:
    """Runs compiled Spark SQL in one SparkSession over registry tables as temp views."""

    name = "spark"
    dialect = DIALECT
    # Operations the compiled query must not rely on here (see the Backend protocol).
    UNSUPPORTED: frozenset[str] = frozenset({"temporary_tables", "transactions", "indexes"})

    def __init__(
        self, spark: SparkSession, registry: Location | None = None, *, owns_session: bool = False
    ) -> None:
        self.spark = spark
        self.owns_session = owns_session  # close() stops only a session this backend started
        self.registry: Location | None = None
        if registry is not None:
            self.register_registry(registry)

    @classmethod
    def local(cls, registry: Location | None = None, *, master: str | None = None) -> SparkBackend:
        """A backend on a new session (see :func:`session`), or on the session already
        running in this process (spark-submit's, a notebook's), which it leaves running."""
        if registry is not None:
            registry_paths(registry)  # a bad local directory fails before the JVM starts
        running = _require_pyspark().SparkSession.getActiveSession()
        spark = running if running is not None else session(master)
        return cls(spark, registry, owns_session=running is None)

    # -- data ------------------------------------------------------------------------

    def register_registry(self, directory: Location, tables: Iterable[str] = TABLE_NAMES) -> None:
        """Register ``<table>.parquet`` of ``directory`` as temp views named by table."""
        optional = {t.name: [c.name for c in t.columns if c.optional] for t in CORE_TABLES}
        for name, path in registry_paths(directory, tables).items():
            try:
                frame = self.spark.read.parquet(path)
                # An extract older than an optional column reads as if it were all null,
                # as the import reads it (registry/sources.py).
                for column in optional.get(name, []):
                    if column not in frame.columns:
                        frame = frame.selectExpr("*", f"CAST(NULL AS STRING) AS {column}")
                frame.createOrReplaceTempView(name)
            except Exception as exc:
                raise RegistryError(
                    f"{path}: Spark cannot read it as Parquet: {_short(exc)}"
                ) from exc
        self.registry = directory

    def register_arrow(self, name: str, table: pa.Table) -> None:
        """Register an in-memory Arrow table as a temp view (small tables, tests)."""
        self.spark.createDataFrame(table).createOrReplaceTempView(name)

    # -- running ---------------------------------------------------------------------

    def frame(self, sql: str) -> DataFrame:
        """The compiled query as a lazy Spark DataFrame (analysed, not run)."""
        try:
            return self.spark.sql(sql)
        except Exception as exc:
            raise EngineError(f"Spark refused the compiled query: {_short(exc)}") from exc

    def execute(self, sql: str) -> None:
        """Run a statement for its effect."""
        try:
            self.spark.sql(sql).collect()
        except Exception as exc:
            raise EngineError(f"Spark failed: {_short(exc)}") from exc

    def fetch_arrow(self, sql: str, params: Sequence[Any] | None = None) -> pa.Table:
        """Run a query and collect its result on the driver as an Arrow table."""
        if params is not None:
            raise EngineError("the spark backend runs SQL text as it is: it binds no parameters")
        df = self.frame(sql)
        try:
            return df.toArrow()
        except Exception as exc:
            raise EngineError(
                f"Spark failed while running the compiled query: {_short(exc)}"
            ) from exc

    def write_parquet(self, sql: str, out: Location) -> None:
        """Run a query and write its result as a Parquet directory (by the executors)."""
        df = self.frame(sql)
        try:
            df.write.mode("overwrite").parquet(str(out))
        except Exception as exc:
            raise EngineError(f"Spark failed while writing {out}: {_short(exc)}") from exc

    def close(self) -> None:
        """Stop the session if this backend started it (never spark-submit's)."""
        if self.owns_session and "PYSPARK_GATEWAY_PORT" not in os.environ:
            self.spark.stop()


def _short(exc: BaseException) -> str:
    """The first lines of a Spark error, without the JVM stack trace."""
    text = str(exc).strip()
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("at ")]
    return " ".join(lines[:3])[:800] or type(exc).__name__


# -- evaluate to Parquet --------------------------------------------------------------


def evaluate_to_parquet(
    decree: Decree,
    backend: SparkBackend,
    out: Location,
    as_of: dt.date | None = None,
) -> dict[str, Any]:
    """Decide every person on Spark, write the determinations to ``out`` (a Parquet
    directory) and return the run's summary, the same document as
    :meth:`amnesty.engine.Evaluation.summary`, computed by Spark from what it wrote:
    nothing of the size of the registry passes through the driver.
    """
    from amnesty.compile.sql import compile_decree
    from amnesty.engine import compile_places, profile_of

    profile = profile_of(decree)
    compiled = compile_decree(decree, DIALECT, as_of=as_of or decree.as_of, profile=profile)
    backend.write_parquet(compiled.sql, out)
    spark = backend.spark
    spark.read.parquet(str(out)).createOrReplaceTempView("amnesty_determinations")
    # provinces by the decree's profile, as the engine's summary counts them
    backend.frame(compile_places(DIALECT, profile)).createOrReplaceTempView("amnesty_places")

    def rows(sql: str) -> list[dict[str, Any]]:
        return backend.fetch_arrow(sql).to_pylist()

    def counts(sql: str) -> dict[str, int]:
        return {str(r["k"]): int(r["n"]) for r in rows(sql)}

    d = "amnesty_determinations"
    assumed = [c.id for c in decree.clauses if c.source.basis == "assumption"]
    only_assumed = "false"
    if assumed:
        ids = ", ".join(_quote(a) for a in assumed)
        only_assumed = f"size(grounds) > 0 AND forall(grounds, g -> g IN ({ids}))"
    totals = rows(
        f"SELECT count(*) AS persons, "
        f"count_if(outcome = 'eligible' AND {only_assumed}) AS only_assumed FROM {d}"
    )[0]

    def nested(key: str) -> dict[str, dict[str, int]]:
        out_: dict[str, dict[str, int]] = {}
        for r in rows(
            f"SELECT coalesce(p.{key}, 'unrecorded') AS g, t.outcome AS o, count(*) AS n "
            f"FROM {d} AS t LEFT JOIN amnesty_places AS p ON p.facility_id = t.facility_id "
            "GROUP BY 1, 2"
        ):
            out_.setdefault(r["g"], {})[r["o"]] = int(r["n"])
        return {g: dict(sorted(v.items())) for g, v in sorted(out_.items())}

    left = rows(compiled.left_out_sql)
    by_reason: dict[str, int] = {}
    by_decree: dict[str, int] = {}
    for r in left:
        by_reason[r["reason"]] = by_reason.get(r["reason"], 0) + int(r["persons"])
        if r["reason"] in ("released", "temporarily released"):
            key = r["decree_id"] or "unrecorded"
            by_decree[key] = by_decree.get(key, 0) + int(r["persons"])
    return {
        "decree": decree.id,
        "as_of": compiled.as_of.isoformat(),
        "profile": {"name": compiled.profile, "hash": compiled.profile_hash},
        "persons": int(totals["persons"]),
        "by_outcome": dict(
            sorted(counts(f"SELECT outcome AS k, count(*) AS n FROM {d} GROUP BY 1").items())
        ),
        "by_relief": dict(
            sorted(
                counts(
                    f"SELECT relief AS k, count(*) AS n FROM {d} "
                    "WHERE outcome = 'eligible' GROUP BY 1"
                ).items()
            )
        ),
        "by_ground": dict(
            sorted(
                counts(
                    f"SELECT g AS k, count(*) AS n FROM {d} LATERAL VIEW explode(grounds) x AS g "
                    "GROUP BY 1"
                ).items()
            )
        ),
        "by_facility_type": nested("facility_type"),
        "by_province": nested("province"),
        "left_out": {
            "total": sum(by_reason.values()),
            "by_reason": by_reason,
            "by_decree": by_decree,
        },
        "resting_only_on_assumptions": int(totals["only_assumed"]),
    }


def _quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"
