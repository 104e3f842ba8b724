"""``amnesty prove DECREE``: each assertion proved for every person, or a counterexample.

``--against B`` asks instead whether decree B decides any person differently.
A counterexample is replayed through the engine before it is printed; with
``--out DIR`` it is also written as a registry folder (``DIR/<assertion id>``)
that ``amnesty registry import`` accepts and ``amnesty explain`` replays.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from amnesty.cli.app import app
from amnesty.cli.output import Format, to_json


@app.command("prove")
def prove_command(
    decree: Annotated[Path, typer.Argument(help="The decree file (.toml).")],
    against: Annotated[
        Path | None, typer.Option("--against", help="Another decree or variant to compare with.")
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Write each counterexample as a registry folder here."),
    ] = None,
    timeout: Annotated[
        float, typer.Option("--timeout", help="Seconds the solver may spend per question.")
    ] = 20.0,
    max_convictions: Annotated[
        int, typer.Option("--max-convictions", min=1, help="Convictions per person (the bound).")
    ] = 3,
    max_events: Annotated[
        int, typer.Option("--max-events", min=1, help="Custody events per person (the bound).")
    ] = 4,
    fmt: Annotated[Format, typer.Option("--format", help="table or json.")] = Format.table,
) -> None:
    """Prove the decree's assertions for every possible person, or print a counterexample."""
    from amnesty.assurance import Bounds, Finding, differences, prove
    from amnesty.assurance.witness import write_registry
    from amnesty.decree import load

    d = load(decree)
    bounds = Bounds(max_convictions, max_events)
    findings: list[Finding]
    if against is not None:
        findings = [differences(d, load(against), bounds, timeout)]
    else:
        findings = prove(d, bounds, timeout)
        if not findings:
            print(f"Error: {decree} has no [[assertion]] to prove", file=sys.stderr)
            raise typer.Exit(1)
    results = []
    for f in findings:
        item: dict[str, Any] = {
            "name": f.name,
            "status": f.status,
            "message": f.message,
            "seconds": round(f.answer.seconds, 3),
            "bound": f"up to {bounds.convictions} convictions and {bounds.events} events",
        }
        if f.witness is not None:
            item["witness"] = f.witness
            item["engine"] = f.engine
            if out is not None:
                folder = write_registry(f.witness, out / f.name, d.jurisdiction)
                item["folder"] = str(folder)
        results.append(item)
    if fmt in (Format.json, Format.jsonl):
        print(to_json({"decree": str(decree), "results": results}))
    else:
        for item in results:
            _print(item, bounds)
    if any(f.status != "proved" for f in findings):
        raise typer.Exit(1)


def _print(item: dict[str, Any], bounds: Any) -> None:
    print(f"{item['name']}: {item['status']} in {item['seconds']:.2f} s: {item['message']}")
    if item["status"] == "proved":
        print(f"    for every person with {item['bound']}")
    witness = item.get("witness")
    if not witness:
        return
    engine = item.get("engine") or {}
    decided = engine if "outcome" in engine else None
    for label, row in [("this person", decided)] if decided else list(engine.items()):
        row = row or {}
        print(
            f"    the engine decides {label}: {row.get('outcome')}"
            + (f" ({row['relief']})" if row.get("relief") else "")
            + (f", grounds {', '.join(row['grounds'])}" if row.get("grounds") else "")
            + (f", blocking {', '.join(row['blocking'])}" if row.get("blocking") else "")
        )
    for table, rows in witness.items():
        for row in rows:
            shown = ", ".join(f"{k}={v}" for k, v in row.items() if v is not None)
            print(f"    {table}: {shown}")
    if "folder" in item:
        print(f"    written to {item['folder']}: amnesty registry import {item['folder']}")
