"""Decrees: the file format, the predicate language, and checking a decree.

    load(path, profile=None) -> Decree        raises DecreeErrors with every problem
    load_text(text, path="<string>") -> Decree
    check(path, conn=None) -> CheckReport     errors and warnings, never raises on a bad decree

The compile passes that turn a file into a :class:`Decree` live in
:mod:`amnesty.compile.passes`; they are imported when called, so that the
model and IR here stay importable by the compiler itself.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from amnesty.decree.model import Clause, Decree, Scope, Undertaking
from amnesty.errors import DecreeErrors

if TYPE_CHECKING:
    from amnesty.decree.checking import CheckReport
    from amnesty.registry.profiles import Profile

__all__ = ["Clause", "Decree", "Scope", "Undertaking", "check", "load", "load_text"]


def load(path: str | Path, profile: Profile | None = None) -> Decree:
    """Read, check and compile a decree file; raise :class:`DecreeErrors` with all problems."""
    from amnesty.decree.parse import read_file

    return _compile(read_file(path), profile)


def load_text(text: str, path: str = "<string>", profile: Profile | None = None) -> Decree:
    """As :func:`load`, from text (tests, the web editor)."""
    from amnesty.decree.parse import parse_text

    return _compile(parse_text(text, path), profile)


def check(path: str | Path, conn: Any = None) -> CheckReport:
    """Every error and warning of a decree file; with ``conn``, also against that registry."""
    from amnesty.decree.checking import check_path

    return check_path(path, conn)


def _compile(syntax: Any, profile: Profile | None) -> Decree:
    from amnesty.compile.passes import front_end

    unit, decree = front_end(syntax, profile=profile)
    if decree is None:
        raise DecreeErrors(unit.errors)
    return decree
