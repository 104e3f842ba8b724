"""``amnesty prove DECREE``: each assertion proved for every person, or a counterexample.

``--against B`` asks instead whether decree B decides any person differently.
A counterexample is replayed through the engine before it is printed; with
``--out DIR`` it is also written as a registry folder (``DIR/<assertion id>``)
that ``amnesty registry import`` accepts and ``amnesty explain`` replays. A
``DIR`` that already holds files is refused before anything is proved unless
``--force``; then each counterexample's folder is replaced whole, so that an
earlier witness's tables never sit beside a new one's.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer

from amnesty.cli.app import ForceOption, app
from amnesty.cli.output import Format, check_out_folder, to_json
from amnesty.errors import ConfigError


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
    force: ForceOption = False,
) -> None:
    """Prove the decree's assertions for every possible person, or print a counterexample."""
    if out is not None:  # before anything is proved: a refusal costs no solver time
        check_out_folder(out, force=force)
        if not out.exists() and not out.parent.is_dir():
            raise ConfigError(f"--out {out}: folder {out.parent} does not exist; create it first")
    from amnesty.assurance import Bounds, Finding, differences, prove
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
                folder = _write_witness(f.witness, out, f.name, d.jurisdiction, force=force)
                item["folder"] = str(folder)
        results.append(item)
    if fmt in (Format.json, Format.jsonl):
        print(to_json({"decree": str(decree), "results": results}))
    else:
        for item in results:
            _print(item, bounds)
    if any(f.status != "proved" for f in findings):
        raise typer.Exit(1)


def _write_witness(witness: Any, out: Path, name: str, profile: str, *, force: bool) -> Path:
    """Write ``witness`` as the registry folder ``out/<name>``: staged in a fresh hidden
    folder (0700, its files created under the CLI's umask, 0600) and renamed into place,
    so that a folder already there (``--force``) is replaced whole, never mixed with."""
    from amnesty.assurance.witness import write_registry

    out.mkdir(mode=0o700, exist_ok=True)
    # An assertion id is the decree author's text: it must name a folder inside ``out``.
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name).strip(".") or "_"
    target = out / safe
    staged = Path(tempfile.mkdtemp(dir=out, prefix=f".{safe}."))
    try:
        write_registry(witness, staged, profile)
        if target.exists() or target.is_symlink():
            if not force:  # appeared while proving: the check before it found none
                raise ConfigError(
                    f"--out {target}: appeared while proving; give --force to replace it"
                )
            old = Path(tempfile.mkdtemp(dir=out, prefix=f".{safe}.old."))
            os.replace(target, old / safe)
            os.rename(staged, target)
            shutil.rmtree(old)
        else:
            os.rename(staged, target)
    finally:
        if staged.exists():
            shutil.rmtree(staged)
    return target


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
