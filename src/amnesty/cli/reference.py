"""The command reference in ``docs/cli.md``, rendered from the command tree itself.

    python -m amnesty.cli.reference            # print the reference (Markdown)
    python -m amnesty.cli.reference --write    # refresh docs/cli.md between the markers
    python -m amnesty.cli.reference --check    # exit 1 when docs/cli.md is out of date

The reference walks the Click command behind the Typer app
(``typer.main.get_command``): one section per command path, its help text, its
usage and a table of its arguments and options (name, type, default, help).
``docs/cli.md`` keeps a hand-written introduction above
:data:`START` and anything after :data:`END`; only the text between the
markers is replaced, as cog does. ``tests/test_cli_docs.py`` fails when that
text differs from what :func:`render` gives.

The output depends only on the code: no terminal width, no environment, no
dates. Commands are listed in alphabetical order at each level.
"""

from __future__ import annotations

import argparse
import inspect
import re
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path, PurePath
from typing import Any

import typer
import typer.main

START = "<!-- generated:start -->"
END = "<!-- generated:end -->"
REFRESH = "python -m amnesty.cli.reference --write"
PROG = "amnesty"

# Type names as Typer (its own descriptors) or Click (its ParamType.name) spell them,
# mapped to one vocabulary so the reference reads the same under either.
_TYPE_NAMES = {
    "str": "text",
    "string": "text",
    "text": "text",
    "int": "integer",
    "integer": "integer",
    "int range": "integer",
    "integer range": "integer",
    "float": "number",
    "float range": "number",
    "path": "path",
    "file": "path",
    "directory": "path",
    "bool": "boolean",
    "boolean": "boolean",
    "datetime": "datetime",
}


@dataclass(frozen=True)
class ParamDoc:
    """One argument or option of a command, as the reference shows it."""

    name: str  # "DECREE" for an argument; "--db" (", -h" aliases) for an option
    kind: str  # argument | option
    type: str
    default: str  # "" when there is none to show; "required" for a required parameter
    help: str


@dataclass(frozen=True)
class CommandDoc:
    """A command or a group, at its full path (``("registry", "import")``)."""

    path: tuple[str, ...]
    help: str
    usage: str
    params: tuple[ParamDoc, ...]
    subcommands: tuple[tuple[str, str], ...]  # (name, first line of help) for a group

    @property
    def name(self) -> str:
        return " ".join((PROG, *self.path))

    @property
    def is_group(self) -> bool:
        return bool(self.subcommands)


def _app() -> typer.Typer:
    from amnesty.cli.app import load_all  # every command module registers itself on import

    app: typer.Typer = load_all()
    return app


def walk(app: typer.Typer | None = None) -> list[CommandDoc]:
    """Every command and group of ``app`` (default: amnesty's), depth first, by name."""
    root = typer.main.get_command(app or _app())
    return list(_walk(root, typer.Context(root, info_name=PROG), ()))


def command_paths(app: typer.Typer | None = None) -> set[str]:
    """``{"registry import", "run list", ...}``: every command and group path."""
    return {" ".join(doc.path) for doc in walk(app) if doc.path}


def _walk(command: Any, ctx: typer.Context, path: tuple[str, ...]) -> Iterator[CommandDoc]:
    children: list[tuple[str, Any]] = []
    if hasattr(command, "list_commands"):
        for name in sorted(command.list_commands(ctx)):
            child = command.get_command(ctx, name)
            if child is not None and not getattr(child, "hidden", False):
                children.append((name, child))
    params = tuple(
        _param(p, ctx)
        for p in command.params
        if not getattr(p, "hidden", False) and getattr(p, "expose_value", True)
    )
    yield CommandDoc(
        path=path,
        help=_help(command),
        usage=_usage(command, path, bool(children)),
        params=params,
        subcommands=tuple((name, _first_line(_help(child))) for name, child in children),
    )
    for name, child in children:
        yield from _walk(child, typer.Context(child, info_name=name, parent=ctx), (*path, name))


def _help(command: Any) -> str:
    return inspect.cleandoc(command.help or "").strip()


def _first_line(text: str) -> str:
    paragraph = text.split("\n\n", 1)[0]
    return " ".join(paragraph.split())


def _usage(command: Any, path: tuple[str, ...], is_group: bool) -> str:
    pieces = [PROG, *path]
    if any(p.param_type_name == "option" for p in command.params) or not is_group:
        pieces.append("[OPTIONS]")
    for p in command.params:
        if p.param_type_name != "argument":
            continue
        name = _argument_name(p)
        if p.nargs == -1:
            name += "..."
        pieces.append(name if p.required else f"[{name}]")
    if is_group:
        pieces.append("COMMAND [ARGS]...")
    return " ".join(pieces)


def _argument_name(param: Any) -> str:
    return str(param.metavar or param.name).upper()


def _param(param: Any, ctx: typer.Context) -> ParamDoc:
    if param.param_type_name == "argument":
        name = _argument_name(param)
        kind = "argument"
    else:
        opts = sorted(param.opts, key=lambda o: (not o.startswith("--"), o))
        name = ", ".join(opts)
        if param.secondary_opts:
            name += " / " + ", ".join(param.secondary_opts)
        kind = "option"
    return ParamDoc(
        name=name,
        kind=kind,
        type=_type(param, ctx),
        default="required" if param.required else _default(param, ctx),
        help=" ".join((param.help or "").split()) if hasattr(param, "help") else "",
    )


def _is_flag(param: Any) -> bool:
    return bool(getattr(param, "is_flag", False)) and not getattr(param, "count", False)


def _type(param: Any, ctx: typer.Context) -> str:
    if _is_flag(param):
        return "flag"
    repeatable = bool(param.multiple) or param.nargs == -1
    if hasattr(param, "display_type"):  # Typer's own parameters
        label = param.display_type(ctx).strip("<>")
        if label.startswith("list[") and label.endswith("]"):
            label = label[5:-1]
            repeatable = True
    else:  # plain Click parameters
        choices = getattr(param.type, "choices", None)
        label = "|".join(str(c) for c in choices) if choices else str(param.type.name)
    label = _TYPE_NAMES.get(label.lower(), label)
    bounds = _bounds(param)
    if bounds:
        label += f" ({bounds})"
    if repeatable:
        label += ", repeatable"
    return label


def _bounds(param: Any) -> str:
    low = getattr(param, "min", None)
    high = getattr(param, "max", None)
    if low is None and high is None:  # Click keeps a range on the type
        low = getattr(param.type, "min", None) if hasattr(param, "type") else None
        high = getattr(param.type, "max", None) if hasattr(param, "type") else None
    if low is not None and high is not None:
        return f"{low} to {high}"
    if low is not None:
        return f">= {low}"
    if high is not None:
        return f"<= {high}"
    return ""


def _default(param: Any, ctx: typer.Context) -> str:
    resilient = ctx.resilient_parsing
    ctx.resilient_parsing = True
    try:
        value = param.get_default(ctx, call=False)
    finally:
        ctx.resilient_parsing = resilient
    if callable(value):
        return "(computed)"
    return _show(value, flag=_is_flag(param))


def _show(value: Any, *, flag: bool = False) -> str:
    if value is None or (flag and value is False):
        return ""
    if isinstance(value, (list, tuple)):
        return ", ".join(_show(v) for v in value)
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, PurePath):
        return value.as_posix()
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# -- Markdown --------------------------------------------------------------------------


def render(app: typer.Typer | None = None) -> str:
    """The reference as Markdown, ending in one newline (the text between the markers)."""
    blocks: list[str] = []
    for doc in walk(app):
        blocks.append(_render_command(doc))
    return "\n\n".join(blocks) + "\n"


def _render_command(doc: CommandDoc) -> str:
    level = "#" * min(2 + max(len(doc.path) - 1, 0), 4)
    lines = [f"{level} `{doc.name}`", ""]
    if doc.help:
        lines += [_markdown_text(doc.help), ""]
    lines += ["```text", doc.usage, "```"]
    if doc.params:
        lines += ["", "| name | type | default | help |", "| --- | --- | --- | --- |"]
        for p in doc.params:
            shown = p.default if p.default in ("", "required") else f"`{_code(p.default)}`"
            lines.append(f"| `{_code(p.name)}` | {_cell(p.type)} | {shown} | {_cell(p.help)} |")
    if doc.subcommands:
        lines += ["", "| command | does |", "| --- | --- |"]
        for name, summary in doc.subcommands:
            lines.append(f"| `{_code(doc.name)} {_code(name)}` | {_cell(summary)} |")
    return "\n".join(lines)


def _markdown_text(text: str) -> str:
    """Help text as Markdown paragraphs; Click's ``\\b`` no-rewrap markers dropped."""
    paragraphs = [p.replace("\b\n", "").strip() for p in text.split("\n\n")]
    return "\n\n".join(_escape(" ".join(p.split())) for p in paragraphs if p)


def _escape(text: str) -> str:
    """Characters Markdown would read as HTML or emphasis, backslash-escaped."""
    return re.sub(r"([\\<>*`])", r"\\\1", text)


def _code(text: str) -> str:
    """Text inside a code span in a table cell: only the pipe needs escaping."""
    return text.replace("|", "\\|")


def _cell(text: str) -> str:
    return _escape(text).replace("|", "\\|").replace("\n", " ")


# -- docs/cli.md -----------------------------------------------------------------------


def default_document() -> Path:
    """``docs/cli.md`` of the source checkout this module lives in, else of the cwd."""
    checkout = Path(__file__).resolve().parents[3] / "docs" / "cli.md"
    return checkout if checkout.parent.is_dir() else Path("docs") / "cli.md"


def split_document(text: str, where: str = "docs/cli.md") -> tuple[str, str, str]:
    """(introduction up to and including START, generated part, END and what follows)."""
    pattern = re.compile(rf"(?s)\A(.*?{re.escape(START)}\n)(.*?)({re.escape(END)}.*)\Z")
    match = pattern.match(text)
    if match is None:
        raise ValueError(f"{where}: expected the markers {START} and then {END}, each on a line")
    head, generated, tail = match.groups()
    return head, generated, tail


def refreshed(text: str, where: str = "docs/cli.md", app: typer.Typer | None = None) -> str:
    head, _, tail = split_document(text, where)
    return f"{head}\n{render(app)}\n{tail}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m amnesty.cli.reference", description=__doc__.split("\n\n")[0]
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--write", action="store_true", help="refresh the generated part")
    mode.add_argument("--check", action="store_true", help="exit 1 if it is out of date")
    parser.add_argument("--path", type=Path, default=None, help="default: docs/cli.md")
    args = parser.parse_args(argv)
    if not (args.write or args.check):
        sys.stdout.write(render())
        return 0
    path: Path = args.path or default_document()
    current = path.read_text(encoding="utf-8")
    try:
        wanted = refreshed(current, str(path))
    except ValueError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    if args.check:
        if wanted != current:
            print(f"Error: {path} is out of date; run {REFRESH}", file=sys.stderr)
            return 1
        return 0
    if wanted != current:
        path.write_text(wanted, encoding="utf-8")
        print(f"updated {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
