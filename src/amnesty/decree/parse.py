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

# Limits a decree file is held to before it is parsed (docs/security.md, "Decree limits"). A
# legal text is far inside each; past them a parser would exhaust Python's stack or
# spend minutes, so the file is refused with where it crosses the limit.
MAX_DECREE_BYTES = 1_000_000
MAX_TOML_NESTING = 32  # arrays and inline tables inside one another
MAX_PREDICATE_NESTING = 100  # parentheses, and `not` applied to `not`, inside one another
_NOT = re.compile(r"\bnot\b")


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
    encoded = raw if raw is not None else text.encode("utf-8")
    _check_size(encoded, file)
    _check_toml_nesting(text, file)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise DecreeErrors([_toml_error(str(exc), text, file)]) from None
    digest = hashlib.sha256(encoded).hexdigest()
    syntax = DecreeSyntax(file, text, data, Locator(text, file), digest)
    _check_predicate_nesting(syntax)
    return syntax


def _limit_error(message: str, where: Position, hint: str) -> DecreeErrors:
    return DecreeErrors([DecreeError(message, where, hint, code="limit")])


def _check_size(encoded: bytes, file: str) -> None:
    if len(encoded) <= MAX_DECREE_BYTES:
        return
    line = encoded[:MAX_DECREE_BYTES].count(b"\n") + 1
    raise _limit_error(
        f"the decree file is {len(encoded):,} bytes; a decree file holds at most "
        f"{MAX_DECREE_BYTES:,} bytes (the limit is crossed on this line)",
        Position(file, line, 1),
        "a decree is a legal text: split a long list into a registry attribute, or the "
        "decree into several",
    )


def _check_toml_nesting(text: str, file: str) -> None:
    """Arrays and inline tables nested past :data:`MAX_TOML_NESTING` (a nesting bomb).

    A scan of brackets outside strings and comments, before ``tomllib`` recurses into
    them; table headers (``[[clause]]``) open and close on their line and never count.
    """
    depth, line, column, i, n = 0, 1, 1, 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "\n":
            line, column = line + 1, 0
        elif ch == "#":
            end = text.find("\n", i)
            i, column = (n, column) if end < 0 else (end - 1, column + end - 1 - i)
        elif ch in "\"'":
            quote = ch * 3 if text.startswith(ch * 3, i) else ch
            j = i + len(quote)
            while j < n and not text.startswith(quote, j):
                if ch == '"' and text[j] == "\\":
                    j += 1
                elif len(quote) == 1 and text[j] == "\n":
                    break
                j += 1
            skipped = text[i : j + len(quote)]
            line += skipped.count("\n")
            if "\n" in skipped:
                column = len(skipped) - skipped.rfind("\n") - 1
            else:
                column += len(skipped) - 1
            i = j + len(quote) - 1
        elif ch in "[{":
            depth += 1
            if depth > MAX_TOML_NESTING:
                shown = text[i : text.find("\n", i) if "\n" in text[i:] else n][:40]
                raise _limit_error(
                    f"arrays or inline tables nested more than {MAX_TOML_NESTING} deep",
                    Position(file, line, column, shown),
                    "a decree needs a few levels at most; this looks like a generated or "
                    "damaged file",
                )
        elif ch in "]}":
            depth = max(0, depth - 1)
        i += 1
        column += 1


def _check_predicate_nesting(syntax: DecreeSyntax) -> None:
    """Predicates nested past :data:`MAX_PREDICATE_NESTING`: refused at the predicate."""
    for path, value in _strings(syntax.data, ()):
        if path[-1] not in ("predicate", "who") or len(value) < MAX_PREDICATE_NESTING:
            continue
        depth = deepest = 0
        for ch in value:
            depth += ch == "("
            depth -= ch == ")"
            deepest = max(deepest, depth)
        nested = deepest + len(_NOT.findall(value))
        if nested > MAX_PREDICATE_NESTING:
            raise _limit_error(
                f"the predicate nests {nested} levels (parentheses and `not`); a predicate "
                f"nests at most {MAX_PREDICATE_NESTING}",
                syntax.at(path),
                "write the condition flatter (`not (a or b)` rather than `not not ...`), or "
                "split it into clauses",
            )


def _strings(value: Any, path: KeyPath) -> list[tuple[KeyPath, str]]:
    if isinstance(value, str):
        return [(path, value)]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in _strings(v, (*path, k))]
    if isinstance(value, list):
        return [s for i, v in enumerate(value) for s in _strings(v, (*path, i))]
    return []


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
