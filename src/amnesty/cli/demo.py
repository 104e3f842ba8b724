"""``amnesty demo``: the founding case end to end on a fresh embedded database."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from amnesty.cli.app import app
from amnesty.cli.output import console


@app.command()
def demo(
    persons: Annotated[
        int, typer.Option(help="Persons in the generated registry.", min=100)
    ] = 100_000,
    seed: Annotated[int, typer.Option(help="Generator seed.")] = 2015,
    workdir: Annotated[
        Path, typer.Option(help="Folder for the demo's database, registry and certificates.")
    ] = Path("amnesty-demo"),
) -> None:
    """Run the October 2015 founding case end to end: registry, two rounds, case work."""
    from amnesty.demo import login_line, run_demo, try_next

    out = console()
    report = run_demo(workdir, persons=persons, seed=seed, say=out.print)
    out.print(f"\nDone in {report.seconds:.0f} s. Try next:")
    for line in [*try_next(report), f"open {report.workdir / 'certificates'}"]:
        out.print(f"  {line}", markup=False)
    out.print(
        f"To act as a demo user (each has a password of its own, listed in "
        f"{report.passwords}, readable by you only):\n"
        f"  {login_line(report)}",
        markup=False,
    )
