"""Printing results the CONTRACT way: Rich on a terminal, plain when piped,
``--format table|json|jsonl|csv`` for scripts.

Whatever a user, a registry extract or a decree supplied is printed inert
(:func:`inert`): control characters (ANSI escape sequences among them), line and
paragraph separators and bidi overrides are shown as ``\\x1b``-style escapes, so
a user name cannot clear the screen, forge a second output line or reorder what
an official reads; where Rich would read markup, ``[`` is escaped too
(:func:`markup_inert`, and table cells are passed as plain ``Text``). CSV cells
that a spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return) are written with a leading ``'``
(:func:`csv_cell`): numbers stay numbers, only text is touched.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import sys
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from enum import StrEnum
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from amnesty.errors import ConfigError

if TYPE_CHECKING:
    from rich.console import Console

# Invisible characters that reorder the text around them (Trojan Source), beyond Cc.
_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_SEPARATORS = frozenset("\u2028\u2029\x85")
# What a spreadsheet takes for the start of a formula (OWASP's list).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def inert(value: object, *, lines: bool = False) -> str:
    """``value`` as text a terminal shows and does not obey; see the module docstring.

    ``lines=True`` keeps line feeds (a legal text of several lines); otherwise they are
    escaped too, so a one-line message stays one line.
    """
    text = "" if value is None else str(value)
    if text.isprintable() and text.isascii():
        return text
    out = []
    for ch in text:
        if ch == "\n" and lines:
            out.append(ch)
        elif unicodedata.category(ch) == "Cc" or ch in _BIDI or ch in _SEPARATORS:
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
        else:
            out.append(ch)
    return "".join(out)


def check_out(path: Path, *, force: bool, option: str = "--out") -> None:
    """Refuse an output file before any work: an existing one (without ``--force``), a
    missing folder, a folder in its place. Called before anything is computed or stored."""
    if path.is_dir():
        raise ConfigError(f"{option} {path}: is a folder; give a file name")
    if not path.parent.is_dir():
        raise ConfigError(f"{option} {path}: folder {path.parent} does not exist; create it first")
    if path.exists() and not force:
        raise ConfigError(f"{option} {path}: the file exists; give --force to replace it")


def check_out_folder(path: Path, *, force: bool, option: str = "--out") -> None:
    """Refuse an output folder that already holds files (without ``--force``): what a
    command writes there would mix with what an earlier run left."""
    if path.exists() and not path.is_dir():
        raise ConfigError(f"{option} {path}: is a file; give a folder")
    if path.is_dir() and any(path.iterdir()) and not force:
        raise ConfigError(
            f"{option} {path}: the folder is not empty; give --force to write into it"
        )


def private_file(path: Path, mode: str = "w", *, force: bool) -> IO[Any]:
    """Open ``path`` for writing as a file only its owner can read (0600).

    Output of amnesty holds personal (and health) data. ``force`` replaces an existing
    file (and takes its permissions down to 0600); without it an existing file is an
    error, checked by the operating system at the moment of creation (``O_EXCL``).
    """
    flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if force else os.O_EXCL)
    try:
        fd = os.open(path, flags, 0o600)
    except FileExistsError:
        raise ConfigError(f"--out {path}: the file exists; give --force to replace it") from None
    os.fchmod(fd, 0o600)
    if "b" in mode:
        return os.fdopen(fd, mode)
    return os.fdopen(fd, mode, encoding="utf-8", newline="" if "w" in mode else None)


def markup_inert(value: object) -> str:
    """:func:`inert`, and safe inside a string Rich reads as markup."""
    from rich.markup import escape

    return escape(inert(value))


def csv_cell(value: Any) -> Any:
    """A CSV cell a spreadsheet will not run: text starting like a formula gets a ``'``."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


class Format(StrEnum):
    table = "table"
    json = "json"
    jsonl = "jsonl"
    csv = "csv"


# Piped, there is no terminal to fit: a table keeps its natural width instead of being
# cut to Rich's default 80 columns, so no id or hash reaches a script shortened with "…".
PIPED_WIDTH = 10_000


def console(stderr: bool = False) -> Console:
    # Rich is imported here and in the table and progress helpers, not at the top: a
    # command that prints no table (``--help``, JSON for scripts) never pays for it.
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    width = None if stream.isatty() else PIPED_WIDTH
    return Console(stderr=stderr, soft_wrap=True, width=width)


def is_terminal() -> bool:
    return sys.stdout.isatty()


def _plain(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    return value


def to_json(value: Any) -> str:
    return json.dumps(_plain(value), ensure_ascii=False, sort_keys=False)


def emit_rows(
    rows: Sequence[Mapping[str, Any]],
    fmt: Format,
    columns: Sequence[str] | None = None,
    title: str | None = None,
) -> None:
    """One table of rows in the chosen format on stdout."""
    cols = list(columns or (rows[0].keys() if rows else []))
    if fmt is Format.json:
        print(to_json([{c: r.get(c) for c in cols} for r in rows]))
    elif fmt is Format.jsonl:
        for r in rows:
            print(to_json({c: r.get(c) for c in cols}))
    elif fmt is Format.csv:
        w = csv.writer(sys.stdout)
        w.writerow([csv_cell(c) for c in cols])
        for r in rows:
            w.writerow([csv_cell(_cell(r.get(c))) for c in cols])
    else:
        from rich.table import Table
        from rich.text import Text

        table = Table(title=title and Text(inert(title)), title_justify="left")
        for c in cols:
            table.add_column(Text(inert(c)), justify="right" if _numeric(rows, c) else "left")
        for r in rows:
            table.add_row(*(Text(inert(_cell(r.get(c)))) for c in cols))
        console().print(table)


def emit_document(doc: Mapping[str, Any], fmt: Format, tables: Iterable[tuple[str, str]] = ()):  # type: ignore[no-untyped-def]
    """A nested result: JSON for scripts; on a table format each named list becomes a table."""
    if fmt in (Format.json, Format.jsonl):
        print(to_json(doc))
        return
    for key, title in tables:
        rows = doc.get(key) or []
        emit_rows(rows, fmt, title=title)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _numeric(rows: Sequence[Mapping[str, Any]], col: str) -> bool:
    return bool(rows) and all(isinstance(r.get(col), (int, float)) for r in rows)


class progress_bar:
    """A Rich progress bar on a terminal; nothing when piped or for machine output."""

    def __init__(self, fmt: Format, description: str = "working") -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        self.description = description
        self.bar: Any = None
        if fmt is Format.table and sys.stderr.isatty():
            self.bar = Progress(
                TextColumn("{task.description:<28}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=console(stderr=True),
                transient=True,
            )
        self.task: Any = None

    def __enter__(self) -> Any:
        if self.bar is None:
            return None
        self.bar.start()
        self.task = self.bar.add_task(self.description, total=None)

        def update(step: str, done: int, total: int) -> None:
            assert self.bar is not None
            self.bar.update(self.task, description=step, completed=done, total=total)

        return update

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()
