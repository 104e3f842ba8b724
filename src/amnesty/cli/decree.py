"""``amnesty check``: a decree file's errors and warnings.

The ENGINE engineer adds ``evaluate`` and ``explain`` in ``cli/evaluate.py``
(listed in ``COMMAND_MODULES``), so this module stays the language's own.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from amnesty.cli.app import DbOption, app
from amnesty.cli.output import Format, to_json
from amnesty.cli.session import registry_connection
from amnesty.decree.checking import PROVE_TIME_LIMIT_S, CheckReport, check_path


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
    if db:
        with registry_connection(db) as conn:
            report = check_path(decree, conn, prove_time_limit)
    else:
        report = check_path(decree, None, prove_time_limit)
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
