"""``amnesty check``: a decree file's errors and warnings.

The ENGINE engineer adds ``evaluate`` and ``explain`` in ``cli/evaluate.py``
(listed in ``COMMAND_MODULES``), so this module stays the language's own.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from amnesty.cli.app import DbOption, app
from amnesty.cli.output import Format, to_json
from amnesty.decree.checking import PROVE_TIME_LIMIT_S, CheckReport, check_path
from amnesty.store.db import connect_duckdb, resolve_db


@app.command("check")
def check_command(
    decree: Annotated[Path, typer.Argument(help="The decree file (.toml).")],
    db: DbOption = None,
    fmt: Annotated[
        Format, typer.Option("--format", help="table (plain lines) or json.")
    ] = Format.table,
    prove_time_limit: Annotated[
        float,
        typer.Option(
            "--prove-time-limit",
            min=0,
            help="Seconds for the solver's built-in checks (docs/assurance.md); 0 skips them.",
        ),
    ] = PROVE_TIME_LIMIT_S,
) -> None:
    """Check a decree: every error with file:line:column; warnings for contested clauses,
    for what no possible person can meet (solver checks) and, with --db, for clauses
    that apply to nobody in that registry."""
    conn = _registry(db) if db else None
    try:
        report = check_path(decree, conn, prove_time_limit)
    finally:
        if conn is not None:
            conn.close()
    if fmt in (Format.json, Format.jsonl):
        print(to_json(report.as_dict()))
    else:
        print_report(report)
    if not report.ok:
        print(f"Error: {len(report.errors)} error(s) in {decree}", file=sys.stderr)
        raise typer.Exit(1)


def print_report(report: CheckReport) -> None:
    """``file:line:column: message`` per problem, its hint indented below."""
    for level, items in (("error", report.errors), ("warning", report.warnings)):
        for item in items:
            where = f"{item.position}: " if item.position else f"{report.path}: "
            print(f"{where}{level}: {item.message}")
            if item.hint:
                print(f"    hint: {item.hint}")
    for note in report.notes:
        print(f"{report.path}: note: {note}")
    if report.ok:
        summary = f"{report.path}: ok"
        if report.decree is not None:
            summary += f", {len(report.decree.clauses)} clauses"
        if report.warnings:
            summary += f", {len(report.warnings)} warning(s)"
        print(summary)


def _registry(db: str) -> Any:
    url = resolve_db(db)
    if url.is_duckdb:
        return connect_duckdb(url, read_only=True)
    import psycopg

    return psycopg.connect(url.target)
