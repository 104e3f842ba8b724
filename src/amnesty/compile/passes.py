"""The front end of the decree compiler: named passes, in order.

Each pass is one module and one function ``pass(unit) -> None`` that reads and
extends the :class:`~amnesty.compile.unit.Unit` and records problems instead of
raising, so that a drafter sees every problem of a file at once. The SQL
lowering (``compile/sql``) starts where these end: from a checked
:class:`~amnesty.decree.model.Decree`.

    read_structure     tables and keys, clause kinds and reliefs, unique ids, a grant
    parse_predicates   predicate texts -> syntax trees (Lark), strictness refused if vague
    resolve_names      short and dotted names -> facts of the catalogue, quantifier scoping
    check_types        syntax -> typed IR
    check_vocabulary   values of closed vocabularies (categories, facility types ...)
    check_scope        the [scope] table and clauses that contradict it
    check_assertions   [[assertion]] properties (never/always) over person and determination
    check_registry     offence codes, facilities and divisions against a registry, if given
    build_decree       -> Decree (only when no error was found)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from amnesty.compile.against_registry import check_registry
from amnesty.compile.assertions import assertions, check_assertions
from amnesty.compile.build import build_decree
from amnesty.compile.definitions import expand_definitions, read_definitions
from amnesty.compile.resolve import parse_predicates, resolve_names
from amnesty.compile.scope import check_scope
from amnesty.compile.structure import read_structure
from amnesty.compile.typecheck import check_types
from amnesty.compile.unit import Unit, did_you_mean
from amnesty.compile.vocabulary import check_vocabulary
from amnesty.decree.facts import catalogue
from amnesty.decree.model import Decree
from amnesty.decree.parse import DecreeSyntax
from amnesty.errors import ConfigError
from amnesty.registry.profiles import (
    Profile,
    get_profile,
    jurisdiction_profile,
    looks_like_path,
    profile_names,
)

PASSES: tuple[Callable[[Unit], None], ...] = (
    read_structure,
    read_definitions,
    parse_predicates,
    expand_definitions,
    resolve_names,
    check_types,
    check_vocabulary,
    check_scope,
    check_assertions,
    check_registry,
)


def front_end(
    syntax: DecreeSyntax, profile: Profile | None = None, conn: Any = None
) -> tuple[Unit, Decree | None]:
    """Run every pass over a parsed decree file; the decree is None when an error was found."""
    unit = Unit(syntax=syntax, profile=_profile(syntax, profile), facts={}, conn=conn)
    unit.facts = catalogue(unit.profile)
    if profile is not None and _named_profile(syntax) not in (None, profile.name):
        unit.error(
            "wrong-jurisdiction",
            f"the decree is written for jurisdiction {syntax.data['jurisdiction']!r}, "
            f"but the registry profile is {profile.name!r}",
            syntax.at(("jurisdiction",)),
        )
    unknown = unknown_jurisdiction(syntax)
    if unknown is not None and profile is None:
        name, problem = unknown
        unit.error(
            "unknown-jurisdiction",
            f"jurisdiction {name!r}: {problem}",
            syntax.at(("jurisdiction",)),
            did_you_mean(name, profile_names(), '"'),
        )
    for step in PASSES:
        step(unit)
    decree = build_decree(unit)
    if decree is not None:
        decree = replace(decree, assertions=assertions(unit))
    return unit, decree


def _profile(syntax: DecreeSyntax, given: Profile | None) -> Profile:
    """The profile the decree names (``jurisdiction``), falling back to ``core``."""
    if given is not None:
        return given
    name = syntax.data.get("jurisdiction")
    if isinstance(name, str):
        try:
            return jurisdiction_profile(name, syntax.file)
        except ConfigError:
            pass
    return get_profile("core")


def _named_profile(syntax: DecreeSyntax) -> str | None:
    """The profile name the decree's jurisdiction stands for (a path stands for its file's)."""
    name = syntax.data.get("jurisdiction")
    if isinstance(name, str) and looks_like_path(name):
        try:
            return jurisdiction_profile(name, syntax.file).name
        except ConfigError:
            return None
    return name if isinstance(name, str) else None


def unknown_jurisdiction(syntax: DecreeSyntax) -> tuple[str, str] | None:
    """The decree's jurisdiction and why no profile was found for it, if none was.

    A shipped name, a profile file's path (relative to the decree), or the name of a
    ``NAME.profile.toml`` beside the decree, in ``AMNESTY_PROFILE_PATH`` or in the
    current folder; a profile file with errors is reported with its first problem.
    """
    name = syntax.data.get("jurisdiction")
    if not isinstance(name, str):
        return None
    try:
        jurisdiction_profile(name, syntax.file)
    except ConfigError as exc:
        return name, str(exc)
    return None
