"""``amnesty run list|show``: stored runs and what they decided.

``run show`` prints a run's inputs, whether it reproduces an earlier run (and which
later runs reproduce it, or had the same inputs but other determinations), then its
counts as ``amnesty evaluate`` printed them: by outcome, relief, ground, facility
type and province, who was left out and why. ``--format json`` gives the stored
record with the reproduction status added.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

import typer

from amnesty.cli.app import DbOption, FormatOption, group
from amnesty.cli.output import Format, console, emit_document, emit_rows
from amnesty.cli.session import open_store

if TYPE_CHECKING:
    from rich.table import Table

    from amnesty.workflow.runs import RunRecord

run_app = group("run", "Stored runs: inputs, counts and reproducibility.")

OUTCOMES = ("eligible", "review", "ineligible")
PLAIN: dict[str, Any] = {"markup": False, "highlight": False}
RUN_TABLES = (
    "inputs",
    "by_outcome",
    "by_relief",
    "by_ground",
    "by_facility_type",
    "by_province",
    "left_out",
)


@dataclass(frozen=True)
class _Listed:
    """What ``run list`` shows of a run, read on the light path (no SQLAlchemy)."""

    run_id: str
    decree_id: str
    as_of: dt.date
    engine: str
    row_count: int
    recorded_at: dt.datetime
    recorded_by: str
    reproduces_run_id: str | None


def _listed(db: str | None) -> list[_Listed]:
    """Every stored run, oldest first, through :mod:`amnesty.store.reader`: ``run list``
    starts without importing SQLAlchemy or duckdb-engine (tests/cli/test_run_show.py)."""
    from amnesty.store.reader import read_only

    columns = ", ".join(_Listed.__dataclass_fields__)
    with read_only(db) as reader:
        if not reader.require_schema():
            return []
        found = reader.rows(f"SELECT {columns} FROM runs ORDER BY recorded_at, run_id")
    return [_Listed(**row) for row in found]


def _summary(run: RunRecord | _Listed) -> dict[str, Any]:
    return {
        "run_id": run.run_id,
        "decree_id": run.decree_id,
        "as_of": run.as_of,
        "engine": run.engine,
        "determinations": run.row_count,
        "recorded_at": run.recorded_at,
        "recorded_by": run.recorded_by,
        "reproduces": run.reproduces_run_id,
    }


def _minute(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M")


@run_app.command("list")
def run_list(db: DbOption = None, fmt: FormatOption = Format.table) -> None:
    """List stored runs, oldest first."""
    runs = _listed(db)
    if fmt is not Format.table:
        emit_rows([_summary(r) for r in runs], fmt)
        return
    if not runs:
        console(stderr=True).print("no runs yet: amnesty evaluate DECREE records one")
        return
    from rich.measure import Measurement

    c = console()
    table = _runs_table(runs)
    if Measurement.get(c, c.options.update_width(10**6), table).maximum <= c.width:
        c.print(table)
        return
    # Too narrow for a table that cuts no id short: one block per run instead.
    for r in runs:
        c.print(f"{r.run_id}  {r.decree_id}  as of {r.as_of.isoformat()}", **PLAIN)
        c.print(
            f"    {r.row_count} persons, {r.engine}, recorded {_minute(r.recorded_at)} UTC "
            f"by {r.recorded_by}",
            **PLAIN,
        )
        if r.reproduces_run_id:
            c.print(f"    reproduces {r.reproduces_run_id}", **PLAIN)


def _runs_table(runs: list[_Listed]) -> Table:
    from rich.table import Table

    table = Table(title="Runs", title_justify="left")
    for name in ("run", "decree", "as of", "engine", "persons", "recorded (UTC)", "by"):
        table.add_column(name, no_wrap=True, justify="right" if name == "persons" else "left")
    table.add_column("reproduces", no_wrap=True)
    for r in runs:
        table.add_row(
            r.run_id,
            r.decree_id,
            r.as_of.isoformat(),
            r.engine,
            str(r.row_count),
            _minute(r.recorded_at),
            r.recorded_by,
            r.reproduces_run_id or "",
        )
    return table


def reproduction(run: RunRecord, runs: list[RunRecord]) -> dict[str, Any]:
    """Whether ``run`` reproduces an earlier run, and how later runs of its inputs went."""
    same_inputs = [
        r
        for r in runs
        if r.run_id != run.run_id
        and (r.decree_hash, r.snapshot_hash, r.as_of)
        == (run.decree_hash, run.snapshot_hash, run.as_of)
    ]
    return {
        "reproduces_run_id": run.reproduces_run_id,
        "reproduced_by": [r.run_id for r in same_inputs if r.reproduces_run_id == run.run_id],
        "same_inputs_other_determinations": [
            r.run_id for r in same_inputs if r.determinations_digest != run.determinations_digest
        ],
    }


def reproduction_lines(run: RunRecord, status: Mapping[str, Any]) -> list[str]:
    if run.reproduces_run_id:
        lines = [f"Reproduces run {run.reproduces_run_id}: identical determinations."]
    else:
        lines = ["First run of these inputs (decree text, registry snapshot, as-of date)."]
    if status["reproduced_by"]:
        lines.append(
            "Reproduced by run(s) "
            + ", ".join(status["reproduced_by"])
            + ": identical determinations."
        )
    if status["same_inputs_other_determinations"]:
        lines.append(
            "Same inputs but OTHER determinations in run(s) "
            + ", ".join(status["same_inputs_other_determinations"])
            + ": the engine did not reproduce this run; compare them before any release."
        )
    return lines


@run_app.command("show")
def run_show(
    run_id: Annotated[str, typer.Argument(help="A run id from amnesty run list.")],
    db: DbOption = None,
    fmt: FormatOption = Format.table,
    table_name: Annotated[
        str | None,
        typer.Option(
            "--table",
            help="Only this table: inputs, by_outcome, by_relief, by_ground, "
            "by_facility_type, by_province or left_out. CSV holds one table: "
            "--format csv writes this one (default by_outcome).",
        ),
    ] = None,
) -> None:
    """One run: its inputs (decree and snapshot hashes), whether it reproduces an
    earlier run, and its counts by outcome, relief, ground, facility type and province."""
    if table_name is not None and table_name not in RUN_TABLES:
        raise typer.BadParameter(
            f"{table_name!r}: expected one of {', '.join(RUN_TABLES)}", param_hint="--table"
        )
    from amnesty.workflow.runs import get_run, list_runs

    url = open_store(db, create=False)
    run = get_run(url, run_id)
    status = reproduction(run, list_runs(url))
    if fmt in (Format.json, Format.jsonl):
        emit_document({**run.as_dict(), "reproduction": status}, fmt)
        return
    if fmt is Format.csv or table_name not in (None, "inputs"):
        wanted = table_name or "by_outcome"
        tables = {t[0]: t for t in count_tables(run.counts or {})}
        if wanted == "inputs":
            emit_rows([{"field": k, "value": v} for k, v in _inputs(run)], fmt)
        elif fmt is Format.csv:
            _name, _title, columns, rows = tables[wanted]
            emit_rows(rows, fmt, columns=columns)
        else:
            print_counts(run.counts, only=wanted)
        return
    c = console()
    c.print(f"Run {run.run_id}: {run.decree_id} as of {run.as_of.isoformat()}", **PLAIN)
    for line in reproduction_lines(run, status):
        c.print(line, **PLAIN)
    from rich.table import Table

    table = Table(title="Inputs", title_justify="left", show_header=False)
    table.add_column("field", no_wrap=True)
    table.add_column("value", overflow="fold")
    for name, value in _inputs(run):
        table.add_row(name, str(value))
    c.print(table)
    if table_name is None:
        print_counts(run.counts)


def _inputs(run: RunRecord) -> list[tuple[str, Any]]:
    took = (run.finished_at - run.started_at).total_seconds()
    return [
        ("decree", run.decree_id),
        ("decree content hash", run.decree_hash),
        ("registry snapshot hash", run.snapshot_hash),
        ("engine", f"{run.engine} {run.engine_version}"),
        ("as of", run.as_of.isoformat()),
        ("started (UTC)", run.started_at.isoformat(timespec="seconds")),
        ("took", f"{took:.1f} s"),
        ("determinations", run.row_count),
        ("determinations digest", run.determinations_digest),
        ("recorded by", run.recorded_by),
        ("recorded at (UTC)", run.recorded_at.isoformat(timespec="seconds")),
    ]


CountTable = tuple[str, str, list[str], list[dict[str, Any]]]


def count_tables(counts: Mapping[str, Any]) -> list[CountTable]:
    """A run's stored summary as named tables: (name for ``--table``, title, columns, rows)."""
    outcomes = counts.get("by_outcome") or {}
    total = counts.get("persons", sum(outcomes.values()))
    out: list[CountTable] = [
        (
            "by_outcome",
            f"By outcome ({total} persons decided)",
            ["outcome", "persons", "share"],
            [
                {"outcome": o, "persons": n, "share": _share(n, total)}
                for o in (*OUTCOMES, *sorted(set(outcomes) - set(OUTCOMES)))
                for n in [outcomes.get(o, 0)]
            ],
        )
    ]
    for key, title, label in (
        ("by_relief", "Eligible by relief", "relief"),
        ("by_ground", "By ground (a person may hold several)", "ground"),
    ):
        rows = [{label: k, "persons": v} for k, v in (counts.get(key) or {}).items()]
        out.append((key, title, [label, "persons"], rows))
    for key, title, label in (
        ("by_facility_type", "By facility type", "facility type"),
        ("by_province", "By province", "province"),
    ):
        by = counts.get(key) or {}
        rows = [
            {label: name, **{o: per.get(o, 0) for o in OUTCOMES}, "total": sum(per.values())}
            for name, per in by.items()
        ]
        out.append((key, title, [label, *OUTCOMES, "total"], rows))
    left_out = counts.get("left_out") or {}
    reasons = [{"reason": k, "persons": v} for k, v in left_out.get("by_reason", {}).items()]
    title = f"Left out of the population ({left_out.get('total', 0)})"
    out.append(("left_out", title, ["reason", "persons"], reasons))
    return out


def print_counts(counts: Mapping[str, Any], only: str | None = None) -> None:
    """A run's stored summary as tables (the summary ``amnesty evaluate`` prints)."""
    if not counts:
        console().print("(no counts stored with this run)")
        return
    for name, title, columns, rows in count_tables(counts):
        if (only is None and (rows or name == "by_outcome")) or name == only:
            emit_rows(rows, Format.table, columns=columns, title=title)
    if only is None and "resting_only_on_assumptions" in counts:
        console().print(
            f"Eligible resting only on assumed clauses: {counts['resting_only_on_assumptions']}",
            highlight=False,
        )


def _share(part: int, total: int) -> str:
    return f"{100 * part / total:.1f}%" if total else ""
