"""The Typer application and the options every command shares (CONTRACT.md)."""

from __future__ import annotations

from typing import Annotated

import typer

from amnesty.cli.output import Format

app = typer.Typer(
    name="amnesty",
    help="Administer mass prisoner releases: decrees as code, decided for a whole registry.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

state = {"debug": False}


@app.callback()
def _root(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
) -> None:
    state["debug"] = debug


DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="DuckDB path, duckdb:///path or postgresql://...; "
        "default $AMNESTY_DB or ./amnesty.duckdb.",
    ),
]
AsOption = Annotated[
    str | None,
    typer.Option("--as", help="Acting user; default $AMNESTY_USER."),
]
FormatOption = Annotated[
    Format,
    typer.Option("--format", help="table on a terminal; json, jsonl or csv for scripts."),
]


def group(name: str, help: str) -> typer.Typer:
    """A sub-command group (``amnesty registry ...``) registered on the app."""
    sub = typer.Typer(help=help, no_args_is_help=True, pretty_exceptions_enable=False)
    app.add_typer(sub, name=name)
    return sub
