"""The Typer application and the options every command shares (CONTRACT.md).

Commands load lazily: the root group knows each command's name, module and
one-line help from :data:`amnesty.cli.COMMAND_MODULES` and imports a module only
when one of its commands runs (or shows its own help), so ``amnesty --help``
imports no database library at all, and prints its listing without Rich.
"""

from __future__ import annotations

import importlib
from typing import Annotated, Any

import typer
import typer.core

from amnesty.cli.output import Format


class LazyGroup(typer.core.TyperGroup):
    """The root group: lists commands from the table, imports their module on use."""

    listing = False  # true while the root help is being formatted

    def list_commands(self, ctx: Any) -> list[str]:
        return list(_table())

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        entry = _table().get(cmd_name)
        if entry is None:
            return super().get_command(ctx, cmd_name)
        if self.listing:
            # the root help needs only the one-line help: no import
            return typer.core.TyperCommand(cmd_name, help=entry[1], short_help=entry[1])
        if cmd_name not in self.commands:
            for module in entry[0]:
                importlib.import_module(f"amnesty.cli.{module}")
            built: Any = typer.main.get_command(app)
            self.commands.update(built.commands)
        return self.commands.get(cmd_name)

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if not args and self.no_args_is_help and not ctx.resilient_parsing:
            # Typer shows this help through Rich's error path, which prints nothing for a
            # plain listing: print it here, with the usage exit code it always had.
            typer.echo(ctx.get_help())
            ctx.exit(2)
        result: list[str] = super().parse_args(ctx, args)
        return result

    def format_help(self, ctx: Any, formatter: Any) -> None:
        # The root help is a plain listing: Typer's Rich panels would import Rich's
        # markdown, syntax and traceback modules (~0.2 s) for a list of commands.
        # A command's own help keeps its Rich panels.
        LazyGroup.listing = True
        markup, self.rich_markup_mode = self.rich_markup_mode, None
        try:
            super().format_help(ctx, formatter)
        finally:
            LazyGroup.listing = False
            self.rich_markup_mode = markup


def _table() -> dict[str, tuple[tuple[str, ...], str]]:
    from amnesty.cli import COMMAND_MODULES

    return COMMAND_MODULES


def load_all() -> Any:
    """Import every command module (the rendered reference walks them all)."""
    for modules, _help in _table().values():
        for module in modules:
            importlib.import_module(f"amnesty.cli.{module}")
    return app


app = typer.Typer(
    cls=LazyGroup,
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
    typer.Option(
        "--as",
        help="Acting user (default $AMNESTY_USER), proved by their password or token.",
    ),
]
ForceOption = Annotated[bool, typer.Option("--force", help="Replace what --out names.")]
FormatOption = Annotated[
    Format,
    typer.Option("--format", help="table on a terminal; json, jsonl or csv for scripts."),
]


def group(name: str, help: str) -> typer.Typer:
    """A sub-command group (``amnesty registry ...``) registered on the app."""
    sub = typer.Typer(help=help, no_args_is_help=True, pretty_exceptions_enable=False)
    app.add_typer(sub, name=name)
    return sub
