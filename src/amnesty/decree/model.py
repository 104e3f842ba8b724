"""A decree as amnesty understands it: metadata, clauses and undertakings, with
every predicate already resolved and type-checked into :mod:`amnesty.decree.ir`."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from typing import Literal as L

from amnesty.decree.ir import Expr
from amnesty.errors import ConfigError, Position

ClauseKind = L["grant", "exclude", "require", "refer"]
Relief = L["release", "conditional_release", "temporary_release", "commutation"]
DEFAULT_RELIEF_RANKING: tuple[Relief, ...] = (
    "release",
    "conditional_release",
    "temporary_release",
    "commutation",
)


@dataclass(frozen=True)
class Source:
    """Where a clause comes from, and whether it rests on the source or an assumption."""

    citation: str  # e.g. "S-KP1", "Resolution 6576-6 GD, para 2(a)"
    basis: L["source", "assumption"] = "source"
    note: str = ""


@dataclass(frozen=True)
class CommutationTerms:
    """What a commutation grant does to the sentence."""

    fraction_of_remaining: str | None = None  # e.g. "1/2": the remaining term cut by it
    to_months: int | None = None  # the remaining term cut to this many months
    reduce_by_months: int | None = None  # the remaining term cut by this many months
    death_to_life: bool = False


@dataclass(frozen=True)
class Clause:
    id: str
    kind: ClauseKind
    predicate: Expr
    text: str  # the legal text, verbatim or as reported
    source: Source
    relief: Relief | None = None  # grants only
    until: dt.date | None = None  # temporary_release: the return date
    # temporary_release: the return as calendar months from the release date instead
    for_months: int | None = None
    commutation: CommutationTerms | None = None
    contested: bool = False
    if_empty: bool | None = None  # the clause's stated value for "all of no convictions"
    pos: Position | None = field(default=None, compare=False)
    # The decree's named sets and predicates the clause uses (already expanded in
    # ``predicate``): explanations show them by name.
    uses: tuple[str, ...] = ()
    applied_by: str | None = None  # the body that applies this ground (a [bodies] id)
    without_ground: bool = False  # a refer that also reaches persons with no ground
    parts: tuple[str, ...] = ()  # the [[part]] ids it applies to; () = every part


@dataclass(frozen=True)
class Undertaking:
    id: str
    text: str
    who: Expr | None  # None: everyone released must sign
    pos: Position | None = field(default=None, compare=False)
    source: Source | None = None  # where the condition comes from (added by the front end)


@dataclass(frozen=True)
class Assertion:
    """A property the decree must have for every possible person (``amnesty prove``).

    ``never``: no person in the population makes the predicate true; ``always``: none
    makes it false. An unknown value is not a violation (write ``known(...)`` to ask
    for more). The predicate speaks of the person's facts and of the determination
    (``outcome``, ``relief``, ``excluded``, ``clause("ID")`` ...), see docs/assurance.md.
    """

    id: str
    kind: L["never", "always"]
    predicate: Expr
    text: str = ""
    pos: Position | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Scope:
    """Which facilities the decree covers; persons outside are ineligible with
    blocking clause ``scope``. Empty tuples mean "no restriction on this axis"."""

    facility_types: tuple[str, ...] = ()
    facilities: tuple[str, ...] = ()
    divisions: tuple[str, ...] = ()  # any ancestor division of the facility
    authorities: tuple[str, ...] = ()  # the person's custody authority
    predicate: Expr | None = None  # the scope as one IR expression (derived)


@dataclass(frozen=True)
class Part:
    """One occasion of a decree that has several (``[[part]]``): its own reference date and
    execution window; clauses that name it (``parts = [...]``), and those that name no
    part, apply to it (docs/decrees.md, "Parts with their own reference date")."""

    id: str
    title: str
    as_of: dt.date
    execution_window: tuple[dt.date, dt.date] | None = None
    pos: Position | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Decree:
    id: str
    title: str
    jurisdiction: str  # the registry profile it is written for
    occasion: str
    authority: str  # issuing authority
    signed: dt.date | None
    as_of: dt.date  # the reference date for ages and time served
    execution_window: tuple[dt.date, dt.date] | None
    scope: Scope
    clauses: tuple[Clause, ...]
    undertakings: tuple[Undertaking, ...]
    relief_ranking: tuple[Relief, ...] = DEFAULT_RELIEF_RANKING
    readings: dict[str, str] = field(default_factory=dict)  # reading name -> description
    applied_reading: str | None = None
    source_path: str = ""
    content_hash: str = ""  # sha256 of the file bytes
    assertions: tuple[Assertion, ...] = ()  # what `amnesty prove` proves (never evaluated)
    applied_by: str | None = None  # the body that applies the decree (a [bodies] id)
    bodies: dict[str, str] = field(default_factory=dict)  # [bodies]: id -> who it is
    parts: tuple[Part, ...] = ()  # [[part]]: occasions, each evaluated on its own
    part_id: str | None = None  # set on the decree one part gives (:meth:`part`)

    @property
    def names_bodies(self) -> bool:
        """Whether determinations carry ``applied_by`` (docs/semantics.md)."""
        return bool(self.bodies)

    @property
    def reaches_without_ground(self) -> bool:
        return any(c.without_ground for c in self.clauses)

    def part(self, part_id: str) -> Decree:
        """The decree as one of its parts: that part's reference date and window, its
        clauses and those that name no part. What the engine evaluates; a decree with
        parts is never evaluated whole."""
        found = next((p for p in self.parts if p.id == part_id), None)
        if found is None:
            have = ", ".join(p.id for p in self.parts) or "none"
            raise ConfigError(f"decree {self.id} has no part {part_id!r} (its parts: {have})")
        return replace(
            self,
            as_of=found.as_of,
            execution_window=found.execution_window or self.execution_window,
            clauses=tuple(c for c in self.clauses if not c.parts or part_id in c.parts),
            parts=(),
            part_id=part_id,
        )

    def evaluated_on(self, as_of: dt.date | None) -> Decree:
        """What is evaluated on ``as_of``: the decree itself when it has no parts, else
        the part whose reference date ``as_of`` is (the parts' dates are distinct, so a
        stored run's as-of date names its part). A decree with parts is never evaluated
        whole: with no date, or a date no part has, this is an error."""
        if not self.parts:
            return self
        found = next((p for p in self.parts if p.as_of == as_of), None)
        if found is None:
            have = ", ".join(f"{p.id} (as_of {p.as_of})" for p in self.parts)
            raise ConfigError(
                f"decree {self.id} is in parts, each evaluated on its own: {have}; "
                "choose one with --part ID"
            )
        return self.part(found.id)

    def clause(self, clause_id: str) -> Clause:
        for c in self.clauses:
            if c.id == clause_id:
                return c
        raise KeyError(clause_id)
