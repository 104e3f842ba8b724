"""``amnesty diff``, ``report``, ``compare``, ``clause-stats``: analysis over the library.

amnesty diff DECREE_A DECREE_B
amnesty diff DECREE --variant V1.toml --variant V2.toml   # one query for all
amnesty diff --runs RUN_A RUN_B
amnesty report RUN [--format html|pdf|md|xlsx|json] [--out FILE] [--transparency]
amnesty compare RUN_A RUN_B
amnesty clause-stats RUN
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from amnesty.cli.app import DbOption, ForceOption, FormatOption, app
from amnesty.cli.output import Format, check_out, emit_rows, private_file, to_json
from amnesty.errors import ConfigError

# amnesty.analysis.suppression.DEFAULT_THRESHOLD (tests/analysis pins them equal): the
# library is imported only when a command runs, so that `amnesty --help` stays light.
DEFAULT_THRESHOLD = 10


def _table_rows(t: dict[str, Any]) -> list[dict[str, Any]]:
    return [dict(zip(t["columns"], r, strict=True)) for r in t["rows"]]


@app.command("diff")
def diff(
    targets: Annotated[
        list[str], typer.Argument(help="DECREE [DECREE_B], or RUN_A RUN_B with --runs.")
    ],
    variant: Annotated[
        list[Path] | None, typer.Option("--variant", help="A variant overlay file (repeatable).")
    ] = None,
    runs: Annotated[bool, typer.Option("--runs", help="Compare two stored runs.")] = False,
    db: DbOption = None,
    fmt: FormatOption = Format.table,
) -> None:
    """Who changes outcome or relief, grouped by the clause that made the difference."""
    from amnesty.analysis import diff_decrees, diff_runs, diff_variants

    if runs:
        if len(targets) != 2 or variant:
            raise ConfigError("diff --runs takes exactly two run ids and no --variant")
        result = diff_runs(db, targets[0], targets[1])
    elif variant:
        if len(targets) != 1:
            raise ConfigError("diff DECREE --variant V ...: give one decree with its variants")
        result = diff_variants(db, targets[0], variant)
    elif len(targets) == 2:
        result = diff_decrees(db, targets[0], targets[1])
    else:
        raise ConfigError("diff needs DECREE_A DECREE_B, DECREE --variant V, or --runs RUN_A RUN_B")
    if fmt in (Format.json, Format.jsonl):
        print(to_json(result))
        return
    emit_rows(
        [{"decision": d["name"], **d["by_outcome"]} for d in result["decisions"]],
        fmt,
        title="Outcomes",
    )
    for d in result["diffs"]:
        emit_rows(
            [
                {
                    "clauses": ", ".join(g["clauses"]),
                    "persons": g["persons"],
                    "transitions": "; ".join(f"{k}: {n}" for k, n in g["transitions"].items()),
                    "examples": ", ".join(e["person_id"] for e in g["examples"]),
                }
                for g in d["groups"]
            ],
            fmt,
            columns=["clauses", "persons", "transitions", "examples"],
            title=f"{d['labels'][0]} -> {d['labels'][1]}: {d['changed']} persons change",
        )


@app.command("report")
def report(
    run_id: Annotated[str, typer.Argument(help="A stored run (amnesty run list).")],
    fmt: Annotated[
        str, typer.Option("--format", help="html, pdf, md, xlsx, or json (the data).")
    ] = "html",
    out: Annotated[
        Path | None, typer.Option("--out", help="File to write; default stdout.")
    ] = None,
    force: ForceOption = False,
    transparency: Annotated[
        bool, typer.Option("--transparency", help="For publication: no personal data, suppressed.")
    ] = False,
    threshold: Annotated[
        int, typer.Option("--threshold", min=2, help="Smallest count published (transparency).")
    ] = DEFAULT_THRESHOLD,
    db: DbOption = None,
) -> None:
    """A run's report with charts: by division, facility, offence, ground, outcome."""
    from amnesty.analysis import render, run_report, transparency_report

    if fmt not in ("html", "pdf", "md", "xlsx", "json"):
        raise ConfigError(f"--format {fmt!r}: expected html, pdf, md, xlsx or json")
    if fmt in ("pdf", "xlsx") and out is None:
        raise ConfigError(f"--format {fmt} writes a binary file: give --out FILE")
    if out is not None:
        check_out(out, force=force)  # before the report is computed
    doc = transparency_report(db, run_id, threshold) if transparency else run_report(db, run_id)
    data = to_json(doc).encode("utf-8") if fmt == "json" else render(doc, fmt)
    if out is None:
        print(data.decode("utf-8"))
    else:
        # A full report names persons (examples per group): owner-only, like every export.
        with private_file(out, "wb", force=force) as handle:
            handle.write(data)
        print(f"wrote {out}")


@app.command("compare")
def compare(
    run_a: Annotated[str, typer.Argument(help="First run.")],
    run_b: Annotated[str, typer.Argument(help="Second run.")],
    db: DbOption = None,
    fmt: FormatOption = Format.table,
) -> None:
    """Two runs side by side, table by table (for example the two 2015 rounds)."""
    from amnesty.analysis import compare_runs

    result = compare_runs(db, run_a, run_b)
    if fmt in (Format.json, Format.jsonl):
        print(to_json(result))
        return
    for t in result["tables"]:
        emit_rows(_table_rows(t), fmt, columns=t["columns"], title=t["title"])


@app.command("clause-stats")
def clause_statistics(
    run_id: Annotated[str, typer.Argument(help="A stored run.")],
    db: DbOption = None,
    fmt: FormatOption = Format.table,
) -> None:
    """How many persons each clause decided; clauses that decided nobody; shadowed grants."""
    from amnesty.analysis import clause_stats
    from amnesty.analysis import runs as stored

    url = stored.database(db)
    record = stored.run(url, run_id)
    stats = clause_stats(stored.determinations(url, run_id), stored.decree(url, record))
    if fmt in (Format.json, Format.jsonl):
        print(to_json(stats))
        return
    emit_rows(stats["clauses"], fmt, title=f"Clauses of run {run_id}")
