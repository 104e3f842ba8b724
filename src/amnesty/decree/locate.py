"""Where each value of a TOML decree file sits in the raw text.

``tomllib`` returns values without positions, yet a drafter needs every error at
``file:line:column`` of the text they typed, down to a name inside a predicate
string. This module scans the raw text once, line by line, and records where
each key's value starts, keyed by its table path: ``("clause", 2, "predicate")``
is the ``predicate`` of the third ``[[clause]]``. It then maps an offset in a
decoded string value back to the raw line and column, through escapes and the
four TOML string forms (basic, literal, and their multi-line variants).

It only has to agree with ``tomllib`` on files ``tomllib`` accepted, so it can
stay small: it never validates, and it skips the bodies of multi-line strings
so that text inside them is never mistaken for a key.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from typing import Literal as L

from amnesty.errors import Position

Path = tuple[str | int, ...]
StringKind = L["basic", "literal", "ml_basic", "ml_literal", "other"]

_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(
    r"""^\s*((?:[A-Za-z0-9_\-]+|"[^"]*"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_\-]+|"[^"]*"|'[^']*'))*)\s*=\s*"""
)
_ESCAPE_LENGTH = {"u": 6, "U": 10}
_LINE_ENDING_BACKSLASH = re.compile(r"[ \t]*\r?\n")  # matched in place: no copy of the rest


@dataclass(frozen=True)
class ValueSpan:
    """A key's value: where the key and the value start (0-based offsets) and its form."""

    key_offset: int
    value_offset: int
    kind: StringKind


def _split_key(dotted: str) -> list[str]:
    parts = re.findall(r"""[A-Za-z0-9_\-]+|"[^"]*"|'[^']*'""", dotted)
    return [p[1:-1] if p[:1] in "\"'" else p for p in parts]


class Locator:
    """Positions of keys, values and tables of one TOML text."""

    def __init__(self, text: str, file: str) -> None:
        self.text = text
        self.file = file
        self._line_starts = [0] + [m.end() for m in re.finditer(r"\n", text)]
        self.values: dict[Path, ValueSpan] = {}
        self.tables: dict[Path, int] = {}
        # path -> raw offsets of its decoded string, computed once: the compiler asks for a
        # position inside the same predicate once per node, and recomputing them each time
        # made `amnesty check` quadratic in the predicate's length (#9).
        self._raw: dict[Path, list[int]] = {}
        self._scan()

    # -- positions -----------------------------------------------------------------
    def position(self, offset: int, length: int = 0) -> Position:
        """The 1-based line and column of a 0-based offset in the raw text."""
        offset = max(0, min(offset, len(self.text)))
        line = bisect.bisect_right(self._line_starts, offset) - 1
        column = offset - self._line_starts[line] + 1
        return Position(self.file, line + 1, column, self.text[offset : offset + length])

    def key(self, path: Path) -> Position:
        """Where ``path``'s key is written, else its table's header, else the top of the file."""
        span = self.values.get(path)
        if span is not None:
            return self.position(span.key_offset)
        return self.table(path[:-1])

    def value(self, path: Path) -> Position:
        """Where ``path``'s value starts (its opening quote for a string)."""
        span = self.values.get(path)
        if span is not None:
            end = self.text.find("\n", span.value_offset)
            return self.position(
                span.value_offset, (end if end >= 0 else len(self.text)) - span.value_offset
            )
        return self.table(path[:-1])

    def table(self, path: Path) -> Position:
        while path and path not in self.tables:
            path = path[:-1]
        return self.position(self.tables.get(path, 0))

    def inside(self, path: Path, offset: int, length: int = 1) -> Position:
        """Where the character at ``offset`` of the *decoded* string value of ``path`` is."""
        span = self.values.get(path)
        if span is None or span.kind == "other":
            return self.value(path)
        raw = self._raw.get(path)
        if raw is None:
            raw = self._raw[path] = _raw_offsets(self.text, span.value_offset, span.kind)
        if not raw:
            return self.value(path)
        start = raw[min(offset, len(raw) - 1)]
        end = raw[min(offset + max(length, 1), len(raw)) - 1] + 1
        return self.position(start, end - start)

    # -- scanning --------------------------------------------------------------------
    def _scan(self) -> None:
        arrays: dict[tuple[str, ...], int] = {}  # array-of-tables name -> index of the last one
        current: Path = ()
        self.tables[()] = 0
        lines = self.text.split("\n")
        i = 0
        while i < len(lines):
            line = lines[i]
            start = self._line_starts[i]
            stripped = line.strip()
            if not stripped or stripped.startswith("#"):
                i += 1
                continue
            header = _HEADER.match(line)
            if header and not _KEY.match(line):
                names = _split_key(header.group(2))
                current = _resolve_table(names, arrays, header.group(1) == "[[")
                self.tables[current] = start + line.index("[")
                i += 1
                continue
            key = _KEY.match(line)
            if key is None:
                i += 1
                continue
            path = current + tuple(_split_key(key.group(1)))
            value_offset = start + key.end()
            kind = _string_kind(self.text, value_offset)
            self.values[path] = ValueSpan(start + line.index(key.group(1)), value_offset, kind)
            if kind in ("ml_basic", "ml_literal"):
                close = _close_multiline(self.text, value_offset, kind)
                i = bisect.bisect_right(self._line_starts, close) - 1
            i += 1


def _resolve_table(names: list[str], arrays: dict[tuple[str, ...], int], is_array: bool) -> Path:
    """The path of a table header, indexing through arrays of tables already seen."""
    path: list[str | int] = []
    for n in range(1, len(names) + 1):
        prefix = tuple(names[:n])
        path.append(names[n - 1])
        last = n == len(names)
        if last and is_array:
            arrays[prefix] = arrays.get(prefix, -1) + 1
            path.append(arrays[prefix])
        elif prefix in arrays:
            path.append(arrays[prefix])
    return tuple(path)


def _string_kind(text: str, offset: int) -> StringKind:
    if text.startswith('"""', offset):
        return "ml_basic"
    if text.startswith("'''", offset):
        return "ml_literal"
    if text.startswith('"', offset):
        return "basic"
    if text.startswith("'", offset):
        return "literal"
    return "other"


def _close_multiline(text: str, offset: int, kind: StringKind) -> int:
    """Offset of the closing delimiter of the multi-line string opened at ``offset``."""
    delim = '"""' if kind == "ml_basic" else "'''"
    i = offset + 3
    while i < len(text):
        if kind == "ml_basic" and text[i] == "\\":
            i += 2
            continue
        if text.startswith(delim, i):
            # A closing delimiter may carry up to two extra quotes of content before it.
            while text.startswith(delim, i + 1):
                i += 1
            return i
        i += 1
    return len(text)


def _raw_offsets(text: str, offset: int, kind: StringKind) -> list[int]:
    """For each character of the decoded string opened at ``offset``, its raw offset."""
    multiline = kind in ("ml_basic", "ml_literal")
    basic = kind in ("basic", "ml_basic")
    i = offset + (3 if multiline else 1)
    end = _close_multiline(text, offset, kind) if multiline else len(text)
    if multiline and text.startswith("\r\n", i):
        i += 2
    elif multiline and text.startswith("\n", i):
        i += 1
    quote = '"' if basic else "'"
    out: list[int] = []
    while i < end:
        ch = text[i]
        if not multiline and (ch == quote or ch == "\n"):
            break
        if basic and ch == "\\":
            nxt = text[i + 1 : i + 2]
            if multiline and _LINE_ENDING_BACKSLASH.match(text, i + 1):
                # A line-ending backslash swallows the newline and following whitespace.
                i += 1
                while i < end and text[i] in " \t\r\n":
                    i += 1
                continue
            out.append(i)
            i += _ESCAPE_LENGTH.get(nxt, 2)
            continue
        out.append(i)
        i += 1
    return out
