"""Printing results the CONTRACT way: Rich on a terminal, plain when piped,
``--format table|json|jsonl|csv`` for scripts."""

from __future__ import annotations

import csv
import datetime as dt
import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from enum import StrEnum
from typing import Any

from rich.console import Console
from rich.table import Table


class Format(StrEnum):
    table = "table"
    json = "json"
    jsonl = "jsonl"
    csv = "csv"


# Piped, there is no terminal to fit: a table keeps its natural width instead of being
# cut to Rich's default 80 columns, so no id or hash reaches a script shortened with "…".
PIPED_WIDTH = 10_000


def console(stderr: bool = False) -> Console:
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
        w.writerow(cols)
        for r in rows:
            w.writerow([_cell(r.get(c)) for c in cols])
    else:
        table = Table(title=title, title_justify="left")
        for c in cols:
            table.add_column(c, justify="right" if _numeric(rows, c) else "left")
        for r in rows:
            table.add_row(*(_cell(r.get(c)) for c in cols))
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
