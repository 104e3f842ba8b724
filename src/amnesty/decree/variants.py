"""Variants: small overlay files that change a decree without copying it.

A variant file is TOML, checked with ``file:line:column`` like a decree::

    id = "no-health-grounds"              # required: names the variant in a diff
    title = "What if only offences counted?"
    decree = "kp-2015-10-party-founding"  # optional: the decree it overlays (checked)
    remove = ["KP-G2", "KP-G3"]           # clause ids the variant drops
    applied_reading = "daily_nk"          # optional: another reading of a contested source
    relief_ranking = [...]                # optional: another ranking

    [scope]                               # optional: replaces the decree's scope
    facility_types = ["penitentiary"]

    [[clause]]                            # a new clause: the keys of a decree clause
    id = "KP-G6"
    kind = "grant"
    ...

    [[override]]                          # replaces keys of an existing clause
    clause = "KP-X1"
    predicate = 'authority = "MSS" and any convictions (category = "political")'

    [[replace]]                           # a parameter or a set inside a predicate
    clause = "RU-G1"                      # the clause whose predicate holds it
    text = "age >= 55"                    # written exactly once in that predicate
    with = "age >= 50"

The overlay is applied to the *parsed decree file* (:class:`DecreeSyntax`) before
the compiler's passes run, so a variant's clauses are checked exactly like the
decree's, and every error points at the file and line the drafter typed: a bad
predicate in an ``[[override]]`` is reported in the variant file, a clause the
variant leaves alone in the decree file. The decree language has no named
parameters yet, so ``[[replace]]`` edits the predicate's text: the replaced text
must occur exactly once, so that the edit cannot land somewhere unintended.

The variant's decree keeps the decree's id and undertakings; its content hash
is the hash of the decree's and the variant's bytes together.
"""

from __future__ import annotations

import copy
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from amnesty.decree.locate import Locator
from amnesty.decree.locate import Path as KeyPath
from amnesty.decree.model import Decree
from amnesty.decree.parse import DecreeSyntax, parse_text, read_file
from amnesty.errors import DecreeError, DecreeErrors, Position

TOP_KEYS = {
    "id": str,
    "title": str,
    "decree": str,
    "note": str,
    "remove": list,
    "applied_reading": str,
    "relief_ranking": list,
    "scope": dict,
    "clause": list,
    "override": list,
    "replace": list,
}
REPLACE_KEYS = {"clause": str, "text": str, "with": str, "note": str}
# As-of, id and undertakings stay the decree's: a variant is compared person by person
# with its decree in one pass, which needs one population (one as-of date).
NOT_OVERRIDABLE = {"id": "a clause keeps its id; remove it and add a new clause instead"}


@dataclass(frozen=True)
class Variant:
    """A variant file as read: its data and where each value sits."""

    id: str
    title: str
    syntax: DecreeSyntax  # the variant file itself (data, text, locator, hash)


@dataclass
class _Splice:
    """A ``[[replace]]`` edit of a predicate: where it sits and what it came from."""

    start: int  # offset in the edited text
    new_length: int
    old_length: int
    source: KeyPath  # the variant's ``with`` value


@dataclass
class _Origin:
    locator: Locator
    path: KeyPath
    splices: list[_Splice] = field(default_factory=list)


class OverlayLocator(Locator):
    """Positions of a decree with a variant laid over it.

    A path of the merged data is looked up where its value was written: in the
    variant file for the clauses and keys it added or replaced, in the decree
    file otherwise; inside a predicate edited by ``[[replace]]``, offsets after
    the edit are shifted back to the decree's text and offsets inside it point
    at the variant's ``with`` value.
    """

    def __init__(self, base: Locator, variant: Locator) -> None:
        self.__dict__.update(base.__dict__)
        self.base = base
        self.variant = variant
        self.origins: dict[KeyPath, _Origin] = {}

    def _origin(self, path: KeyPath) -> tuple[_Origin | None, KeyPath]:
        for n in range(len(path), -1, -1):
            origin = self.origins.get(path[:n])
            if origin is not None:
                return origin, origin.path + path[n:]
        return None, path

    def key(self, path: KeyPath) -> Position:
        origin, local = self._origin(path)
        return origin.locator.key(local) if origin else self.base.key(path)

    def value(self, path: KeyPath) -> Position:
        origin, local = self._origin(path)
        return origin.locator.value(local) if origin else self.base.value(path)

    def table(self, path: KeyPath) -> Position:
        origin, local = self._origin(path)
        return origin.locator.table(local) if origin else self.base.table(path)

    def inside(self, path: KeyPath, offset: int, length: int = 1) -> Position:
        origin, local = self._origin(path)
        if origin is None:
            return self.base.inside(path, offset, length)
        for splice in sorted(origin.splices, key=lambda s: s.start, reverse=True):
            if offset >= splice.start + splice.new_length:
                offset += splice.old_length - splice.new_length
            elif offset >= splice.start:
                return self.variant.inside(splice.source, offset - splice.start, length)
        return origin.locator.inside(local, offset, length)


def read_variant(path: str | Path) -> Variant:
    """Read and check a variant file's own structure (not yet against a decree)."""
    syntax = read_file(path)
    return _checked(syntax)


def variant_from_text(text: str, file: str = "<variant>") -> Variant:
    return _checked(parse_text(text, file))


def _checked(syntax: DecreeSyntax) -> Variant:
    errors: list[DecreeError] = []
    data = syntax.data

    def err(message: str, at: Position, hint: str = "") -> None:
        errors.append(DecreeError(message, at, hint, code="variant"))

    for key, value in data.items():
        want = TOP_KEYS.get(key)
        if want is None:
            err(
                f"variant: unknown key {key!r}",
                syntax.key_at((key,)),
                "known keys: " + ", ".join(TOP_KEYS),
            )
        elif not isinstance(value, want):
            err(f"variant: {key} has the wrong type", syntax.at((key,)))
    if not isinstance(data.get("id"), str):
        err("variant: id is missing", syntax.locator.position(0), 'add id = "a-short-name"')
    for i, item in enumerate(
        data.get("remove", []) if isinstance(data.get("remove"), list) else []
    ):
        if not isinstance(item, str):
            err(f"variant: remove[{i}] must be a clause id in quotes", syntax.at(("remove",)))
    for section in ("clause", "override", "replace"):
        items = data.get(section)
        if not isinstance(items, list):
            continue
        for i, table in enumerate(items):
            if not isinstance(table, dict):
                err(f"variant: {section} must be written [[{section}]]", syntax.at((section,)))
                continue
            if section in ("override", "replace") and not isinstance(table.get("clause"), str):
                err(
                    f'variant: [[{section}]] #{i + 1} must name its clause (clause = "ID")',
                    syntax.locator.table((section, i)),
                )
            if section == "replace":
                for key, value in table.items():
                    if key not in REPLACE_KEYS:
                        err(
                            f"variant: [[replace]] unknown key {key!r}",
                            syntax.key_at((section, i, key)),
                            "known keys: clause, text, with, note",
                        )
                    elif not isinstance(value, str):
                        err(f"variant: {key} must be a quoted text", syntax.at((section, i, key)))
                for key in ("text", "with"):
                    if key not in table:
                        err(
                            f"variant: [[replace]] #{i + 1}: {key} is missing",
                            syntax.locator.table((section, i)),
                        )
            if section == "override":
                for key in table:
                    if key in NOT_OVERRIDABLE:
                        err(
                            f"variant: [[override]] cannot change {key}",
                            syntax.key_at((section, i, key)),
                            NOT_OVERRIDABLE[key],
                        )
    if errors:
        raise DecreeErrors(errors)
    return Variant(data["id"], data.get("title", ""), syntax)


def apply_variant(decree: DecreeSyntax, variant: Variant) -> DecreeSyntax:
    """The decree file with the variant laid over it, ready for the compiler's passes.

    Raises :class:`DecreeErrors` (positioned in the variant file) when the variant
    names a clause the decree lacks, adds one it already has, or replaces text
    that is not written exactly once.
    """
    v = variant.syntax
    data = copy.deepcopy(decree.data)
    locator = OverlayLocator(decree.locator, v.locator)
    errors: list[DecreeError] = []

    def err(message: str, at: Position, hint: str = "") -> None:
        errors.append(DecreeError(message, at, hint, code="variant"))

    named = v.data.get("decree")
    if named is not None and named != data.get("id"):
        err(
            f"variant {variant.id!r} is written for decree {named!r}, not {data.get('id')!r}",
            v.at(("decree",)),
        )
    # Each clause of the merged data: its table, where it was written, and the keys
    # (or predicate edits) the variant located elsewhere.
    merged: list[tuple[dict[str, Any], _Origin, dict[str, _Origin]]] = [
        (c, _Origin(decree.locator, ("clause", i)), {})
        for i, c in enumerate(data.get("clause", []))
    ]

    def find(cid: str, section: str, i: int) -> tuple[dict[str, Any], dict[str, _Origin]] | None:
        for table, _, keys in merged:
            if table.get("id") == cid:
                return table, keys
        known = ", ".join(str(t.get("id")) for t, _, _ in merged)
        err(
            f"[[{section}]]: the decree has no clause {cid!r}",
            v.at((section, i, "clause")),
            f"the decree's clauses: {known}",
        )
        return None

    for key in ("applied_reading", "relief_ranking", "scope"):
        if key in v.data:
            data[key] = copy.deepcopy(v.data[key])
            locator.origins[(key,)] = _Origin(v.locator, (key,))
    for i, table in enumerate(v.data.get("override", [])):
        hit = find(table["clause"], "override", i)
        if hit is None:
            continue
        target, keys = hit
        for key, value in table.items():
            if key == "clause":
                continue
            target[key] = copy.deepcopy(value)
            if key == "predicate":  # a plain predicate replaces the contested readings
                target.pop("readings", None)
                target.pop("contested", None)
            keys[key] = _Origin(v.locator, ("override", i, key))
    for i, table in enumerate(v.data.get("replace", [])):
        hit = find(table["clause"], "replace", i)
        if hit is None:
            continue
        target, keys = hit
        text = target.get("predicate")
        if not isinstance(text, str):
            err(
                f"[[replace]]: clause {table['clause']!r} has no single predicate to edit",
                v.at(("replace", i, "clause")),
                "a contested clause is changed with [[override]] and new readings",
            )
            continue
        old, new = table["text"], table["with"]
        found = text.count(old)
        if found != 1:
            err(
                f"[[replace]]: {old!r} occurs {found} times in the predicate of clause "
                f"{table['clause']!r}; it must occur exactly once",
                v.at(("replace", i, "text")),
                f"the predicate is: {' '.join(text.split())}",
            )
            continue
        start = text.index(old)
        target["predicate"] = text[:start] + new + text[start + len(old) :]
        if "predicate" not in keys:
            index = next(n for n, (t, _, _) in enumerate(merged) if t is target)
            keys["predicate"] = _Origin(decree.locator, ("clause", index, "predicate"))
        keys["predicate"].splices.append(_Splice(start, len(new), len(old), ("replace", i, "with")))
    removed: set[str] = set()
    ids = {str(t.get("id")) for t, _, _ in merged}
    for cid in v.data.get("remove", []):
        if cid not in ids:
            err(
                f"remove: the decree has no clause {cid!r}",
                v.at(("remove",)),
                "the decree's clauses: " + ", ".join(sorted(ids)),
            )
        removed.add(cid)
    for i, table in enumerate(v.data.get("clause", [])):
        if table.get("id") in ids and table.get("id") not in removed:
            err(
                f"[[clause]] {table.get('id')!r} is already in the decree",
                v.at(("clause", i, "id")),
                "change it with [[override]], or remove it first",
            )
            continue
        merged.append((copy.deepcopy(table), _Origin(v.locator, ("clause", i)), {}))
    if errors:
        raise DecreeErrors(errors)
    kept = [m for m in merged if m[0].get("id") not in removed]
    data["clause"] = [table for table, _, _ in kept]
    for n, (_, origin, keys) in enumerate(kept):
        locator.origins[("clause", n)] = origin
        for key, key_origin in keys.items():
            locator.origins[("clause", n, key)] = key_origin
    digest = hashlib.sha256((decree.content_hash + v.content_hash).encode()).hexdigest()
    return DecreeSyntax(decree.file, decree.text, data, locator, digest)


def load_variant(decree_path: str | Path, variant: Variant | str | Path) -> Decree:
    """The decree at ``decree_path`` with ``variant`` applied, compiled and checked."""
    from amnesty.compile.passes import front_end

    v = variant if isinstance(variant, Variant) else read_variant(variant)
    unit, decree = front_end(apply_variant(read_file(decree_path), v))
    if decree is None:
        raise DecreeErrors(unit.errors)
    return decree
