"""``amnesty evaluate``: decide a registry under a decree (``amnesty explain`` is in
``cli/explanation.py``).

``--out`` writes determinations by extension: ``.jsonl`` (one object per line),
``.csv`` (list columns joined by ``;``, ``unknown`` as JSON text), ``.parquet``; each
row carries the person's names and the facility's name beside the ids.

On DuckDB and PostgreSQL ``amnesty evaluate`` records the run (issue #4): the
decree is registered with its content hash, and the run stores the registry
snapshot hash, engine version, as-of date, start and end, counts and every
determination (``amnesty.workflow.evaluate.evaluate_and_record``). A run whose
decree and snapshot match an earlier one and whose determinations are identical
says it reproduces that run. ``--no-record`` only simulates: nothing is stored.
``--engine spark`` reads a Parquet folder, not a stored registry, and records nothing.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path
from typing import Annotated, Any

import pyarrow as pa
import pyarrow.parquet as pq
import typer

from amnesty.cli.app import AsOption, DbOption, ForceOption, FormatOption, app
from amnesty.cli.output import (
    Format,
    check_out,
    console,
    csv_cell,
    emit_document,
    markup_inert,
    private_file,
    to_json,
)
from amnesty.cli.session import acting_user, open_store, registry_connection
from amnesty.errors import ConfigError
from amnesty.store.db import resolve_db


def _as_of(value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ConfigError(f"--as-of {value!r}: expected a date as YYYY-MM-DD") from None


PART_HELP = "A decree in parts ([[part]]): evaluate this part, on its own as-of date."


def evaluation_date(decree_path: Path, part: str | None, as_of: str | None) -> dt.date | None:
    """The as-of date of ``--part`` (a decree in parts is evaluated a part at a time, each
    on its own reference date), or of ``--as-of``; never both."""
    if part is None:
        return _as_of(as_of)
    if as_of is not None:
        raise ConfigError("--part and --as-of do not go together: a part has its own as-of date")
    from amnesty.decree import load

    return load(decree_path).part(part).as_of


FACILITIES_SHOWN = 20


def by_facility(determinations: pa.Table) -> list[dict[str, Any]]:
    """Persons per facility by outcome, the largest facilities first."""
    counts = determinations.group_by(["facility_id", "outcome"]).aggregate([("person_id", "count")])
    table: dict[str, dict[str, Any]] = {}
    for row in counts.to_pylist():
        entry = table.setdefault(
            row["facility_id"] or "unrecorded",
            {"facility": row["facility_id"] or "unrecorded", "persons": 0,
             "eligible": 0, "review": 0, "ineligible": 0},
        )  # fmt: skip
        entry[row["outcome"]] = entry.get(row["outcome"], 0) + row["person_id_count"]
        entry["persons"] += row["person_id_count"]
    ranked = sorted(table.values(), key=lambda e: (-e["persons"], e["facility"]))
    return ranked[:FACILITIES_SHOWN]


def check_determinations_out(out: Path, *, force: bool) -> None:
    """Refuse a bad ``--out`` before anything is evaluated or recorded."""
    if out.suffix.lower() not in (".parquet", ".jsonl", ".csv"):
        raise ConfigError(f"--out {out}: unknown extension; expected .jsonl, .csv or .parquet")
    check_out(out, force=force)


def with_names(table: pa.Table, db: str | None) -> pa.Table:
    """The determinations with the person's names and the facility's name beside the ids.

    A file someone opens in a spreadsheet names people, not only registry ids:
    ``name`` and ``name_romanised`` follow ``person_id``, ``facility_name`` follows
    ``facility_id`` (as the registry holds them now; empty where it holds none).
    """
    import sqlalchemy as sa

    from amnesty.cli.session import open_store

    with open_store(db, create=False).connect() as conn:
        people = {
            r[0]: (r[1], r[2])
            for r in conn.execute(sa.text("SELECT person_id, name, name_romanised FROM persons"))
        }
        places = {
            r[0]: r[1] for r in conn.execute(sa.text("SELECT facility_id, name FROM facilities"))
        }
    ids = table.column("person_id").to_pylist()
    found = [people.get(p, (None, None)) for p in ids]
    names = pa.array([f[0] for f in found], pa.string())
    romanised = pa.array([f[1] for f in found], pa.string())
    at = table.schema.get_field_index("person_id") + 1
    table = table.add_column(at, "name", names).add_column(at + 1, "name_romanised", romanised)
    if "facility_id" in table.schema.names:
        facility = table.column("facility_id").to_pylist()
        column = pa.array([places.get(f) for f in facility], pa.string())
        table = table.add_column(
            table.schema.get_field_index("facility_id") + 1, "facility_name", column
        )
    return table


def write_determinations(table: pa.Table, out: Path, *, force: bool = False) -> None:
    """Write the determinations 0600 (they are personal data); see :func:`private_file`."""
    check_determinations_out(out, force=force)
    suffix = out.suffix.lower()
    if suffix == ".parquet":
        with private_file(out, "wb", force=force) as fh:
            pq.write_table(table, fh)
    elif suffix == ".jsonl":
        with private_file(out, force=force) as fh:
            for row in table.to_pylist():
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    else:
        with private_file(out, force=force) as fh:
            writer = csv.writer(fh)
            writer.writerow(table.column_names)
            for row in table.to_pylist():
                writer.writerow(
                    [
                        csv_cell(
                            json.dumps(v, ensure_ascii=False)
                            if k == "unknown"
                            else ";".join(v)
                            if isinstance(v, list)
                            else v
                        )
                        for k, v in row.items()
                    ]
                )


# -- --engine spark (issue #5): the same compiled decree on Spark over Parquet ----------

ENGINES = ("duckdb", "postgres", "spark")
ENGINE_HELP = "duckdb, postgres or spark; default: the kind of --db."
NO_RECORD_HELP = "Only simulate: decide and summarise, but store no run (DuckDB/PostgreSQL)."
REGISTRY_HELP = (
    "Spark: a directory (or hdfs://, s3a:// URI) with one <table>.parquet per registry table."
)
OUT_HELP = ".jsonl, .csv or .parquet; with --engine spark a Parquet directory (or URI)."
SPARK_MASTER_HELP = "Spark: master URL (local[4], spark://host:7077, yarn); default local[*]."


def _engine(
    engine: str | None, db: str | None, registry: str | None, spark_master: str | None
) -> str:
    """Check that --engine, --db, --registry and --spark-master go together."""
    if engine is not None and engine not in ENGINES:
        raise ConfigError(f"--engine {engine!r}: expected one of {', '.join(ENGINES)}")
    if engine != "spark":
        if registry is not None or spark_master is not None:
            raise ConfigError(
                "--registry and --spark-master are for --engine spark; "
                "the other engines read the registry imported into --db"
            )
        if engine is not None:
            kind = resolve_db(db).dialect
            if kind != engine:
                raise ConfigError(
                    f"--engine {engine} but --db is a {kind} database; give a matching --db"
                )
        return engine or resolve_db(db).dialect
    if db is not None:
        raise ConfigError("--engine spark reads Parquet files (--registry DIR), not --db")
    if registry is None:
        raise ConfigError(
            "--engine spark needs --registry DIR: one <table>.parquet per registry table "
            "(amnesty registry generate --out DIR writes one)"
        )
    return "spark"


def _evaluate_on_spark(
    decree: Any,
    registry: str,
    out: str | None,
    master: str | None,
    as_of: dt.date | None,
) -> dict[str, Any]:
    """Run on Spark; determinations go to ``out`` as a Parquet directory."""
    import shutil
    import tempfile

    from amnesty.backends.spark import SparkBackend, evaluate_to_parquet

    if out is not None and out.lower().endswith((".jsonl", ".csv")):
        raise ConfigError(
            f"--out {out}: with --engine spark determinations are written as a Parquet "
            "directory; give a directory path (e.g. out/determinations)"
        )
    backend = SparkBackend.local(registry, master=master)
    scratch = None
    try:
        target: str
        if out is None:  # the summary still needs the determinations somewhere
            scratch = Path(tempfile.mkdtemp(prefix="amnesty-spark-"))
            target = str(scratch / "determinations")
        else:
            target = out
        return evaluate_to_parquet(decree, backend, target, as_of)
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
        backend.close()


def health_clauses(decree: Any) -> list[str]:
    """The clauses whose predicate reads a health fact: an ``--out`` row they decided says
    something of the person's health (a referral for severe illness, a health ground)."""
    from amnesty.workflow.users import health_clauses_of

    return health_clauses_of(decree)


def health_out_reader(decree_path: Path, db: str | None, as_user: str | None) -> str | None:
    """Who may write ``--out`` for a decree with health clauses (docs/security.md).

    None when the decree reads no health fact (no gate). Otherwise a reviewer, an
    approver, an auditor, or a facility officer of every facility (the file covers
    all of them), proved like any acting user; a refusal is audited, before anything
    is evaluated. A database without users is the sandbox: ``(anonymous)``.
    """
    from amnesty.decree import load
    from amnesty.errors import PermissionDenied
    from amnesty.workflow.roles import HEALTH_READERS, Role
    from amnesty.workflow.users import ANONYMOUS_ACTOR, list_users, require

    decree = load(decree_path)
    clauses = health_clauses(decree)
    if not clauses:
        return None
    store = open_store(db)
    if not list_users(store):
        return ANONYMOUS_ACTOR
    action, entity = "health.read", ("decree", decree.id)
    user = require(store, acting_user(as_user, store), HEALTH_READERS, action=action, entity=entity)
    if user.facilities and not any(
        user.has(r) for r in HEALTH_READERS if r != Role.facility_officer
    ):
        reason = (
            f"evaluate --out writes every facility's persons, decided by health clauses "
            f"({', '.join(clauses)}); {user.name} acts for {', '.join(user.facilities)} only"
        )
        store.audit_refusal(user.name, action, entity, reason)
        raise PermissionDenied(reason)
    return user.name


def log_health_out(db: str | None, reader: str | None, decree: Any, out: str, rows: int) -> None:
    """The ``health.read`` audit event of an ``--out`` file with health clauses in it."""
    if reader is None:
        return
    store = open_store(db)
    entity = ("decree", decree.id)
    with store.transaction(reader, action="health.read", entity=entity) as tx:
        tx.audit(
            after={
                "clauses": health_clauses(decree),
                "rows": rows,
                "source": f"evaluate --out {out}",
            }
        )


@app.command("evaluate")
def evaluate_command(
    decree_path: Annotated[Path, typer.Argument(metavar="DECREE", help="Decree file.")],
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="YYYY-MM-DD; default the decree's.")
    ] = None,
    # A str, not a Path: with --engine spark it may be a URI (hdfs://, s3a://).
    out: Annotated[str | None, typer.Option("--out", help=OUT_HELP)] = None,
    db: DbOption = None,
    fmt: FormatOption = Format.table,
    engine: Annotated[str | None, typer.Option("--engine", help=ENGINE_HELP)] = None,
    registry: Annotated[str | None, typer.Option("--registry", help=REGISTRY_HELP)] = None,
    spark_master: Annotated[
        str | None, typer.Option("--spark-master", help=SPARK_MASTER_HELP)
    ] = None,
    no_record: Annotated[bool, typer.Option("--no-record", help=NO_RECORD_HELP)] = False,
    force: ForceOption = False,
    as_user: AsOption = None,
    part: Annotated[str | None, typer.Option("--part", help=PART_HELP)] = None,
) -> None:
    """Decide everyone under sentence on the as-of date; record the run; print the summary."""
    from amnesty.decree import load
    from amnesty.engine import evaluate

    day = evaluation_date(decree_path, part, as_of)
    run = None
    determinations: pa.Table | None = None
    kind = _engine(engine, db, registry, spark_master)
    health_reader = None
    if out is not None and kind != "spark":  # before anything is evaluated or recorded
        check_determinations_out(Path(out), force=force)
        health_reader = health_out_reader(decree_path, db, as_user)
    if kind == "spark":
        decree = load(decree_path)
        assert registry is not None
        summary = _evaluate_on_spark(decree, registry, out, spark_master, day)
    elif no_record:
        decree = load(decree_path)
        with registry_connection(db) as conn:
            ev = evaluate(decree, conn, as_of=day)
        if out is not None:
            write_determinations(with_names(ev.determinations, db), Path(out), force=force)
            log_health_out(db, health_reader, decree, out, ev.determinations.num_rows)
        summary, determinations = ev.summary(), ev.determinations
    else:
        from amnesty.workflow.evaluate import evaluate_and_record

        recorded = evaluate_and_record(
            db, decree_path, actor=acting_user(as_user, open_store(db)), as_of=day
        )
        decree, ev, run = recorded.decree, recorded.evaluation, recorded.run
        if out is not None:
            write_determinations(with_names(ev.determinations, db), Path(out), force=force)
            log_health_out(db, health_reader, decree, out, ev.determinations.num_rows)
        # Done with the store: release its pooled connections (on DuckDB, the file), so
        # that a later command in this process (amnesty explain) can open it read-only.
        open_store(db).close()
        summary, determinations = ev.summary(), ev.determinations
    if fmt is not Format.table:
        if run is not None:
            summary = {
                **summary,
                "run": {"run_id": run.run_id, "reproduces_run_id": run.reproduces_run_id},
            }
        print(to_json(summary))
        return
    c = console()
    persons, day = summary["persons"], summary["as_of"]
    c.print(f"{markup_inert(decree.id)}: {persons} persons decided as of {day}")
    if run is not None:
        c.print(f"Recorded run {run.run_id}")
        if run.reproduces_run_id:
            c.print(f"reproduces run {run.reproduces_run_id}: identical determinations")
    for key, title in (
        ("by_outcome", "By outcome"),
        ("by_relief", "Eligible by relief"),
        ("by_ground", "By ground"),
    ):
        emit_document(
            {key: [{"name": k, "persons": v} for k, v in summary[key].items()]},
            fmt,
            tables=((key, title),),
        )
    for key, title in (("by_facility_type", "By facility type"), ("by_province", "By province")):
        rows = [{"name": k, **v} for k, v in summary[key].items()]
        emit_document({key: rows}, fmt, tables=((key, title),))
    if determinations is not None:
        emit_document(
            {"by_facility": by_facility(determinations)},
            fmt,
            tables=(("by_facility", f"By facility (the {FACILITIES_SHOWN} largest)"),),
        )
    lo = summary["left_out"]
    emit_document(
        {"left_out": [{"reason": k, "persons": v} for k, v in lo["by_reason"].items()]},
        fmt,
        tables=(("left_out", f"Left out of the population ({lo['total']})"),),
    )
    c.print(f"Eligible resting only on assumed clauses: {summary['resting_only_on_assumptions']}")
    if out is not None:
        c.print(f"Determinations written to {markup_inert(out)}")
