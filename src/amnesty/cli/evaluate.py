"""``amnesty evaluate`` and ``amnesty explain``: decide a registry under a decree.

``--out`` writes determinations by extension: ``.jsonl`` (one object per line),
``.csv`` (list columns joined by ``;``, ``unknown`` as JSON text), ``.parquet``.

Recording the run in the store (``amnesty.workflow.runs.record_run``) is not done
here yet: it needs the decree registered and the registry snapshot hash; see
issue #3's follow-up.
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

from amnesty.cli.app import DbOption, FormatOption, app
from amnesty.cli.output import Format, console, emit_document, to_json
from amnesty.errors import ConfigError
from amnesty.store.db import connect_duckdb, resolve_db


def _connect(db: str | None) -> Any:
    url = resolve_db(db)
    if url.is_duckdb:
        return connect_duckdb(url, read_only=True)
    from amnesty.backends.postgres import PostgresBackend

    return PostgresBackend.connect(url.target)


def _as_of(value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ConfigError(f"--as-of {value!r}: expected a date as YYYY-MM-DD") from None


def write_determinations(table: pa.Table, out: Path) -> None:
    suffix = out.suffix.lower()
    if suffix == ".parquet":
        pq.write_table(table, out)
    elif suffix == ".jsonl":
        with out.open("w", encoding="utf-8") as fh:
            for row in table.to_pylist():
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    elif suffix == ".csv":
        with out.open("w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(table.column_names)
            for row in table.to_pylist():
                writer.writerow(
                    [
                        json.dumps(v, ensure_ascii=False)
                        if k == "unknown"
                        else ";".join(v)
                        if isinstance(v, list)
                        else v
                        for k, v in row.items()
                    ]
                )
    else:
        raise ConfigError(f"--out {out}: unknown extension; expected .jsonl, .csv or .parquet")


@app.command("evaluate")
def evaluate_command(
    decree_path: Annotated[Path, typer.Argument(metavar="DECREE", help="Decree file.")],
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="YYYY-MM-DD; default the decree's.")
    ] = None,
    out: Annotated[Path | None, typer.Option("--out", help=".jsonl, .csv or .parquet")] = None,
    db: DbOption = None,
    fmt: FormatOption = Format.table,
) -> None:
    """Decide everyone under sentence on the as-of date; print the summary."""
    from amnesty.decree import load
    from amnesty.engine import evaluate

    decree = load(decree_path)
    ev = evaluate(decree, _connect(db), as_of=_as_of(as_of))
    if out is not None:
        write_determinations(ev.determinations, out)
    summary = ev.summary()
    if fmt is not Format.table:
        print(to_json(summary))
        return
    c = console()
    c.print(f"{decree.id}: {summary['persons']} persons decided as of {summary['as_of']}")
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
    lo = summary["left_out"]
    emit_document(
        {"left_out": [{"reason": k, "persons": v} for k, v in lo["by_reason"].items()]},
        fmt,
        tables=(("left_out", f"Left out of the population ({lo['total']})"),),
    )
    c.print(f"Eligible resting only on assumed clauses: {summary['resting_only_on_assumptions']}")
    if out is not None:
        c.print(f"Determinations written to {out}")


@app.command("explain")
def explain_command(
    decree_path: Annotated[Path, typer.Argument(metavar="DECREE", help="Decree file.")],
    person_id: Annotated[str, typer.Argument(metavar="PERSON_ID")],
    as_of: Annotated[str | None, typer.Option("--as-of")] = None,
    db: DbOption = None,
    fmt: Annotated[str, typer.Option("--format", help="text or json")] = "text",
) -> None:
    """One person, clause by clause, with legal text, value and the facts read."""
    from amnesty.decree import load
    from amnesty.explain import explain

    decree = load(decree_path)
    e = explain(decree, _connect(db), person_id, as_of=_as_of(as_of))
    if fmt == "json":
        print(to_json(e.to_dict()))
        return
    c = console()
    c.print(f"{e.person_id} under {e.decree_id} as of {e.as_of.isoformat()}")
    for cl in e.clauses:
        c.print(f"\n[{cl.kind}] {cl.id} = {cl.value}  ({cl.citation}, {cl.basis})")
        c.print(f"  {cl.text}")
        for name, value in cl.facts.items():
            c.print(f"  {name}: {value}")
        if cl.missing:
            c.print(f"  missing: {', '.join(cl.missing)}")
    c.print(f"\nOutcome: {e.why}")
