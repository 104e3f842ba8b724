"""The state the front-end passes share: one decree file on its way to a
:class:`~amnesty.decree.model.Decree`, and every problem found so far.

Passes never raise on a drafter's mistake; they record it here and carry on,
so that ``amnesty check`` reports all problems of a file in one go (the
collect-then-raise of sqlglot's ``ErrorLevel``).
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from amnesty.decree import ir
from amnesty.decree import syntax as s
from amnesty.decree.facts import FactDef
from amnesty.decree.locate import Path
from amnesty.decree.model import CommutationTerms, Part, Relief, Scope, Source
from amnesty.decree.parse import DecreeSyntax
from amnesty.errors import DecreeError, Position
from amnesty.registry.profiles import Profile


@dataclass(frozen=True)
class DecreeWarning:
    """A problem that does not stop the decree from running, but that a drafter should see."""

    message: str
    position: Position | None = None
    hint: str = ""
    code: str = ""

    def __str__(self) -> str:
        text = f"{self.position}: {self.message}" if self.position else self.message
        return f"{text} ({self.hint})" if self.hint else text


@dataclass
class Predicate:
    """One predicate text of the file (a clause's, a reading's, an undertaking's ``who``)."""

    path: Path  # where the text is in the TOML, for positions
    text: str
    owner: str  # "clause KP-G1", "undertaking U1": for messages
    tree: s.Node | None = None  # after parse_predicates (and resolve_names)
    expr: ir.Expr | None = None  # after check_types
    if_empty: bool | None = None  # the clause's value for "all of no convictions"
    uses: list[str] = field(default_factory=list)  # named sets and predicates it reads


# Syntax nodes copied from a named predicate or set into a clause keep offsets into
# their definition's text, lifted by ORIGIN_STRIDE times the definition's number (see
# Unit.origins), so every later error points at the definition, where the fix belongs.
ORIGIN_STRIDE = 1 << 32


@dataclass(frozen=True)
class Origin:
    """Where copied syntax nodes were written: a named predicate's text or a set's list."""

    path: Path
    text: str  # the predicate text; "" for a set


@dataclass
class ClauseDraft:
    """A clause as read from its ``[[clause]]`` table, before its predicate is compiled."""

    index: int
    id: str
    kind: str
    text: str
    source: Source
    predicate: Predicate | None  # None for a contested clause, which has readings instead
    readings: dict[str, Predicate] = field(default_factory=dict)
    relief: Relief | None = None
    until: dt.date | None = None
    for_months: int | None = None
    commutation: CommutationTerms | None = None
    contested: bool = False
    if_empty: bool | None = None
    unless: Predicate | None = None  # an exclude's exception: it bars only where this fails
    grants: tuple[str, ...] = ()  # an exclude limited to these grants (removes only them)
    applied_by: str | None = None  # the body that applies this ground ([bodies])
    without_ground: bool = False  # a refer that also reaches persons with no ground
    parts: tuple[str, ...] = ()  # the [[part]] ids it applies to; () = every part

    @property
    def path(self) -> Path:
        return ("clause", self.index)

    def predicates(self) -> list[Predicate]:
        return (
            ([self.predicate] if self.predicate else [])
            + list(self.readings.values())
            + ([self.unless] if self.unless else [])
        )


@dataclass
class UndertakingDraft:
    index: int
    id: str
    text: str
    who: Predicate | None
    source: Source | None

    @property
    def path(self) -> Path:
        return ("undertaking", self.index)


@dataclass
class Unit:
    """One decree file on its way through the passes."""

    syntax: DecreeSyntax
    profile: Profile
    facts: dict[str, FactDef]
    conn: Any = None  # a registry connection (DuckDB) for the registry checks, or None
    errors: list[DecreeError] = field(default_factory=list)
    warnings: list[DecreeWarning] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)  # checked metadata values
    scope: Scope = field(default_factory=Scope)
    clauses: list[ClauseDraft] = field(default_factory=list)
    undertakings: list[UndertakingDraft] = field(default_factory=list)
    readings: dict[str, str] = field(default_factory=dict)
    applied_reading: str | None = None
    bodies: dict[str, str] = field(default_factory=dict)  # [bodies]: id -> who it is
    applied_by: str | None = None  # the decree's body
    parts: list[Part] = field(default_factory=list)  # [[part]], checked
    # The decree's [sets] (name -> values as written, with their TOML path) and
    # [predicates] (name -> its text), and the origins of copied syntax (index + 1).
    sets: dict[str, tuple[list[Any], Path]] = field(default_factory=dict)
    definitions: dict[str, Predicate] = field(default_factory=dict)
    origins: list[Origin] = field(default_factory=list)

    # -- recording problems -------------------------------------------------------------
    def error(self, code: str, message: str, position: Position | None, hint: str = "") -> None:
        # A named predicate used by several clauses would repeat its own mistake once per
        # use, at the same place: say it once.
        if position is not None and any(
            e.code == code and e.position == position for e in self.errors
        ):
            return
        self.errors.append(DecreeError(message, position, hint, code=code))

    def warn(self, code: str, message: str, position: Position | None, hint: str = "") -> None:
        self.warnings.append(DecreeWarning(message, position, hint, code))

    # -- positions ----------------------------------------------------------------------
    def at(self, path: Path) -> Position:
        return self.syntax.at(path)

    def in_predicate(self, predicate: Predicate, node: s.Syntax) -> Position:
        """Where ``node`` of ``predicate``'s text is, in the decree file (or in the named
        predicate or set it was copied from)."""
        origin, start = self.origin_of(node)
        length = max(node.end - node.start, 1)
        if origin is None:
            return self.syntax.locator.inside(predicate.path, start, length)
        if not origin.text:
            return self.syntax.locator.value(origin.path)
        return self.syntax.locator.inside(origin.path, start, length)

    def origin_of(self, node: s.Syntax) -> tuple[Origin | None, int]:
        k, start = divmod(node.start, ORIGIN_STRIDE)
        return (self.origins[k - 1] if k else None), start

    def text_of(self, predicate: Predicate, node: s.Syntax) -> str:
        """The text ``node`` was written as."""
        origin, start = self.origin_of(node)
        text = predicate.text if origin is None else origin.text
        return text[start : start + node.end - node.start]

    def predicates(self) -> Iterable[Predicate]:
        for c in self.clauses:
            yield from c.predicates()
        for u in self.undertakings:
            if u.who is not None:
                yield u.who


def nearest(word: str, candidates: Iterable[str]) -> str | None:
    """The closest valid name to a misspelt one, if any is close enough."""
    pool = list(dict.fromkeys(candidates))
    found = difflib.get_close_matches(word, pool, n=1, cutoff=0.6)
    if not found:
        lowered = {c.lower(): c for c in pool}
        found = [lowered[m] for m in difflib.get_close_matches(word.lower(), lowered, n=1)]
    return found[0] if found else None


def did_you_mean(word: str, candidates: Iterable[str], quote: str = "") -> str:
    match = nearest(word, candidates)
    return f"did you mean {quote}{match}{quote}?" if match else ""
