"""``amnesty registry generate``: a synthetic registry, one Parquet file per table."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from amnesty.cli.app import ForceOption
from amnesty.cli.output import Format, check_out_folder, console, emit_rows
from amnesty.cli.registry import registry_app
from amnesty.registry.generate import generate


@registry_app.command("generate")
def generate_command(
    out: Annotated[Path, typer.Option("--out", help="Directory to write the tables into.")],
    profile: Annotated[str, typer.Option("--profile", help="kp-2015 or ru-2015.")] = "kp-2015",
    persons: Annotated[int, typer.Option("--persons", min=1, help="How many persons.")] = 10_000,
    seed: Annotated[int, typer.Option("--seed", help="Same seed, same bytes.")] = 1,
    dirty: Annotated[
        float,
        typer.Option(
            "--dirty",
            help="Inject faults into about RATE x persons rows; lists them in dirty_manifest.json.",
        ),
    ] = 0.0,
    force: ForceOption = False,
) -> None:
    """Generate a synthetic registry (Parquet per table, manifest.json)."""
    check_out_folder(out, force=force)
    if sys.stderr.isatty():
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total}"),
            TimeElapsedColumn(),
            console=console(stderr=True),
            transient=True,
        ) as bar:
            task = bar.add_task("generating", total=None)

            def advance(step: str, done: int, total: int) -> None:
                bar.update(task, description=step, completed=done, total=total)

            report = generate(profile, persons, seed, out, dirty_rate=dirty, progress=advance)
    else:
        report = generate(profile, persons, seed, out, dirty_rate=dirty)
    rows = [{"table": name, "rows": count} for name, count in report.tables.items()]
    if sys.stdout.isatty():
        emit_rows(rows, Format.table, title=f"{report.profile} registry in {report.out_dir}")
        if report.faults:
            print(f"{report.faults} faults injected, listed in {out / 'dirty_manifest.json'}")
    else:
        for r in rows:
            print(f"{r['table']}\t{r['rows']}")
