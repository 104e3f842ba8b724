"""Decree file -> syntax: read the TOML and remember where every value was written.

Nothing here knows what a clause means; :mod:`amnesty.compile.passes` does. This
step only turns bytes into a nested dict (``tomllib``) plus a
:class:`~amnesty.decree.locate.Locator`, so that every later error can name the
``file:line:column`` a drafter has to fix.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from amnesty.decree.locate import Locator
from amnesty.decree.locate import Path as KeyPath
from amnesty.errors import ConfigError, DecreeError, DecreeErrors, Position

_TOML_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)$")


@dataclass(frozen=True)
class DecreeSyntax:
    """A decree file as read: its data, its text and where each value sits."""

    file: str
    text: str
    data: dict[str, Any]
    locator: Locator
    content_hash: str

    def at(self, path: KeyPath) -> Position:
        """Where the value at ``path`` starts (or the nearest enclosing table)."""
        return self.locator.value(path)

    def key_at(self, path: KeyPath) -> Position:
        return self.locator.key(path)


def read_file(path: str | Path) -> DecreeSyntax:
    """Read a decree file; a missing file is a :class:`ConfigError`."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{p}: no such decree file") from None
    except OSError as exc:
        raise ConfigError(f"{p}: cannot read the decree file: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise DecreeErrors(
            [
                DecreeError(
                    "the file is not UTF-8 text",
                    Position(str(p), line, 1),
                    "save the decree as UTF-8",
                    code="toml-syntax",
                )
            ]
        ) from None
    return parse_text(text, str(p), raw)


def parse_text(text: str, file: str = "<string>", raw: bytes | None = None) -> DecreeSyntax:
    """Parse decree TOML text; a TOML syntax error raises :class:`DecreeErrors` at its position."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise DecreeErrors([_toml_error(str(exc), text, file)]) from None
    digest = hashlib.sha256(raw if raw is not None else text.encode("utf-8")).hexdigest()
    return DecreeSyntax(file, text, data, Locator(text, file), digest)


def _toml_error(message: str, text: str, file: str) -> DecreeError:
    match = _TOML_POSITION.search(message)
    if match:
        line, column = int(match.group(1)), int(match.group(2))
        message = message[: match.start()]
    else:  # "(at end of document)" and friends
        lines = text.split("\n")
        line, column = len(lines), len(lines[-1]) + 1
        message = re.sub(r"\s*\(at end of document\)$", " at the end of the file", message)
    shown = text.split("\n")[line - 1] if line <= text.count("\n") + 1 else ""
    first = message[:1].lower() + message[1:]
    return DecreeError(
        f"TOML syntax error: {first}",
        Position(file, line, column, shown[column - 1 :]),
        "see https://toml.io for the syntax; predicates are best written as '...' or '''...''' "
        "strings so that their double quotes need no escaping",
        code="toml-syntax",
    )
