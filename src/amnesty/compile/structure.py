"""Pass ``read_structure``: the decree's tables and keys, checked one by one.

Every key is known (a typo gets the nearest valid key), every value has the
type the format documents, and the clause kinds and reliefs hang together:
grants give a relief, nothing else does, a temporary release says until when,
clause ids are unique and at least one clause is a grant.
"""

from __future__ import annotations

import datetime as dt
from fractions import Fraction
from typing import Any, cast

from amnesty.compile.parts import read_parts
from amnesty.compile.unit import (
    ClauseDraft,
    Predicate,
    UndertakingDraft,
    Unit,
    did_you_mean,
)
from amnesty.decree.locate import Path
from amnesty.decree.model import DEFAULT_RELIEF_RANKING, CommutationTerms, Relief, Source

KINDS = ("grant", "exclude", "require", "refer")
RELIEFS: tuple[str, ...] = DEFAULT_RELIEF_RANKING
BASES = ("source", "assumption")

TOP_KEYS = {
    "id": "text",
    "title": "text",
    "jurisdiction": "text",
    "occasion": "text",
    "authority": "text",
    "signed": "date",
    "as_of": "date",
    "execution_window": "dates",
    "relief_ranking": "texts",
    "applied_reading": "text",
    "readings": "table",
    "scope": "table",
    "clause": "tables",
    "undertaking": "tables",
    "assertion": "tables",
    "sets": "table",
    "predicates": "table",
    "note": "text",
    "applied_by": "text",
    "bodies": "table",
    "part": "tables",
}
REQUIRED_TOP = ("id", "title", "jurisdiction", "as_of")
CLAUSE_KEYS = {
    "id": "text",
    "kind": "text",
    "predicate": "text",
    "readings": "table",
    "text": "text",
    "source": "text",
    "basis": "text",
    "note": "text",
    "relief": "text",
    "until": "date",
    "for_months": "int",
    "commutation": "table",
    "contested": "bool",
    "if_empty": "bool",
    "unless": "text",
    "grants": "texts",
    "applied_by": "text",
    "without_ground": "bool",
    "parts": "texts",
}
REQUIRED_CLAUSE = ("id", "kind", "text", "source")
UNDERTAKING_KEYS = {
    "id": "text",
    "text": "text",
    "who": "text",
    "source": "text",
    "basis": "text",
    "note": "text",
}
REQUIRED_UNDERTAKING = ("id", "text")
SCOPE_KEYS = {
    "facility_types": "texts",
    "facilities": "texts",
    "divisions": "texts",
    "authorities": "texts",
    "note": "text",
}
COMMUTATION_KEYS = {
    "fraction_of_remaining": "text",
    "to_months": "int",
    "reduce_by_months": "int",
    "death_to_life": "bool",
}

_TYPE_WORDS = {
    "text": "a quoted text",
    "texts": 'a list of quoted texts, e.g. ["a", "b"]',
    "date": "a TOML date such as 2015-10-08 (without quotes)",
    "dates": "a list of two dates, e.g. [2015-10-08, 2015-10-09]",
    "bool": "true or false",
    "int": "a whole number",
    "table": "a table",
    "tables": "an array of tables ([[...]])",
}


def _is(kind: str, value: Any) -> bool:
    if kind == "text":
        return isinstance(value, str)
    if kind == "texts":
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    if kind == "date":
        return isinstance(value, dt.date) and not isinstance(value, dt.datetime)
    if kind == "dates":
        return isinstance(value, list) and all(_is("date", v) for v in value)
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "table":
        return isinstance(value, dict)
    return isinstance(value, list) and all(isinstance(v, dict) for v in value)


def check_table(
    unit: Unit,
    table: dict[str, Any],
    path: Path,
    keys: dict[str, str],
    required: tuple[str, ...],
    what: str,
) -> dict[str, Any]:
    """The keys of ``table`` that are known and well typed; the rest reported."""
    good: dict[str, Any] = {}
    for key, value in table.items():
        if key not in keys:
            unit.error(
                "unknown-key",
                f"{what}: unknown key {key!r}",
                unit.syntax.key_at((*path, key)),
                did_you_mean(key, keys) or f"known keys: {', '.join(keys)}",
            )
            continue
        if not _is(keys[key], value):
            unit.error(
                "wrong-type",
                f"{what}: {key} must be {_TYPE_WORDS[keys[key]]}",
                unit.at((*path, key)),
            )
            continue
        good[key] = value
    for key in required:
        if key not in table:
            unit.error("missing-key", f"{what}: {key} is missing", unit.syntax.locator.table(path))
    return good


def read_structure(unit: Unit) -> None:
    data = unit.syntax.data
    meta = check_table(unit, data, (), TOP_KEYS, REQUIRED_TOP, "decree")
    unit.meta = meta
    _check_window(unit, meta)
    _read_readings(unit, meta)
    clauses = meta.get("clause", [])
    for i, table in enumerate(clauses):
        draft = _read_clause(unit, i, table)
        if draft is not None:
            unit.clauses.append(draft)
    for i, table in enumerate(meta.get("undertaking", [])):
        u = _read_undertaking(unit, i, table)
        if u is not None:
            unit.undertakings.append(u)
    _check_ids(unit)
    read_parts(unit, check_table)
    _check_scoped_excludes(unit)
    _check_bodies(unit, meta)
    _check_ranking(unit, meta)
    if "clause" in data and not any(c.kind == "grant" for c in unit.clauses):
        if not any(e.code in ("missing-key", "wrong-type", "unknown-kind") for e in unit.errors):
            unit.error(
                "no-grant",
                "the decree has no grant clause, so it can release no one",
                unit.syntax.locator.position(0),
                'add a [[clause]] with kind = "grant"',
            )
    elif "clause" not in data:
        unit.error(
            "no-grant",
            "the decree has no clauses, so it can release no one",
            unit.syntax.locator.position(0),
            'add a [[clause]] with kind = "grant"',
        )


def _check_scoped_excludes(unit: Unit) -> None:
    """``grants = [...]`` limits an exclude to those grants: each must be a grant here."""
    grants = [c.id for c in unit.clauses if c.kind == "grant"]
    for c in unit.clauses:
        if not c.grants:
            continue
        where = unit.at((*c.path, "grants"))
        if c.kind != "exclude":
            unit.error(
                "grants-on-non-exclude",
                f"clause {c.id}: grants limits an exclusion to some grants; a {c.kind} "
                "clause has none",
                unit.syntax.key_at((*c.path, "grants")),
            )
            continue
        for gid in c.grants:
            if gid not in grants:
                unit.error(
                    "unknown-grant",
                    f"clause {c.id}: {gid!r} is not a grant clause of this decree",
                    where,
                    did_you_mean(gid, grants, '"') or f"grants: {', '.join(grants)}",
                )


def _check_bodies(unit: Unit, meta: dict[str, Any]) -> None:
    """``[bodies]`` names who applies the decree; ``applied_by`` must name one of them,
    on the decree, a grant or a refer that reaches persons with no ground."""
    for name, description in meta.get("bodies", {}).items():
        if not isinstance(description, str):
            unit.error(
                "wrong-type",
                f"bodies: {name} must be a quoted description of the body",
                unit.at(("bodies", name)),
            )
            continue
        unit.bodies[name] = description

    def known(body: str, path: Path, what: str) -> bool:
        if body in unit.bodies:
            return True
        unit.error(
            "unknown-body",
            f"{what}: applied_by {body!r} is not one of the decree's [bodies]",
            unit.at((*path, "applied_by")),
            did_you_mean(body, unit.bodies, '"') or "name it under [bodies]",
        )
        return False

    if "applied_by" in meta and known(meta["applied_by"], (), "decree"):
        unit.applied_by = meta["applied_by"]
    for c in unit.clauses:
        if c.applied_by is None:
            continue
        if c.kind in ("exclude", "require") or (c.kind == "refer" and not c.without_ground):
            unit.error(
                "applied-by-on-clause",
                f"clause {c.id}: applied_by names who applies a ground; a {c.kind} clause "
                "gives none",
                unit.syntax.key_at((*c.path, "applied_by")),
                "put applied_by on the grants, on the decree, or on a refer with "
                "without_ground = true",
            )
            c.applied_by = None
        elif not known(c.applied_by, c.path, f"clause {c.id}"):
            c.applied_by = None


def _check_window(unit: Unit, meta: dict[str, Any]) -> None:
    window = meta.get("execution_window")
    if window is None:
        return
    if len(window) != 2 or window[0] > window[1]:
        unit.error(
            "wrong-type",
            "decree: execution_window must be [first day, last day], the first not after the last",
            unit.at(("execution_window",)),
        )
        meta.pop("execution_window")


def _read_readings(unit: Unit, meta: dict[str, Any]) -> None:
    readings = meta.get("readings", {})
    for name, description in readings.items():
        if not isinstance(description, str):
            unit.error(
                "wrong-type",
                f"readings: {name} must be a quoted description of the reading",
                unit.at(("readings", name)),
            )
            continue
        unit.readings[name] = description
    applied = meta.get("applied_reading")
    if applied is not None and applied not in unit.readings:
        unit.error(
            "unknown-reading",
            f"applied_reading {applied!r} is not one of the [readings]",
            unit.at(("applied_reading",)),
            did_you_mean(applied, unit.readings) or "name it under [readings]",
        )
    elif applied is None and unit.readings:
        unit.error(
            "missing-key",
            "decree: [readings] are listed but applied_reading does not say which one is applied",
            unit.syntax.locator.table(("readings",)),
        )
    unit.applied_reading = applied


def _source(unit: Unit, table: dict[str, Any], path: Path, what: str) -> Source:
    basis = table.get("basis", "source")
    if basis not in BASES:
        unit.error(
            "unknown-basis",
            f'{what}: basis must be "source" or "assumption", not {basis!r}',
            unit.at((*path, "basis")),
            did_you_mean(basis, BASES, '"'),
        )
        basis = "source"
    return Source(table.get("source", ""), basis, table.get("note", ""))


def _read_clause(unit: Unit, index: int, table: dict[str, Any]) -> ClauseDraft | None:
    path: Path = ("clause", index)
    what = f"clause {table['id']}" if isinstance(table.get("id"), str) else f"clause #{index + 1}"
    good = check_table(unit, table, path, CLAUSE_KEYS, REQUIRED_CLAUSE, what)
    kind = good.get("kind")
    if kind is not None and kind not in KINDS:
        unit.error(
            "unknown-kind",
            f"{what}: unknown kind {kind!r}; expected grant, exclude, require or refer",
            unit.at((*path, "kind")),
            did_you_mean(kind, KINDS, '"'),
        )
        return None
    if "id" not in good or kind is None:
        return None
    draft = ClauseDraft(
        index=index,
        id=good["id"],
        kind=kind,
        text=good.get("text", ""),
        source=_source(unit, good, path, what),
        predicate=None,
        contested=good.get("contested", False),
        if_empty=good.get("if_empty"),
        applied_by=good.get("applied_by"),
        without_ground=good.get("without_ground", False),
        parts=tuple(good.get("parts", ())),
    )
    if draft.without_ground and kind != "refer":
        unit.error(
            "without-ground-on-non-refer",
            f"{what}: without_ground lets a refer reach persons with no ground; a {kind} "
            "clause cannot",
            unit.syntax.key_at((*path, "without_ground")),
        )
    _read_predicates(unit, draft, good, what)
    _read_relief(unit, draft, good, what)
    if "grants" in good:
        draft.grants = tuple(good["grants"])
    if "unless" in good:
        if kind != "exclude":
            unit.error(
                "unless-on-non-exclude",
                f"{what}: unless is an exception to an exclusion; a {kind} clause has none",
                unit.syntax.key_at((*path, "unless")),
                "fold the condition into the predicate, or make the clause an exclude",
            )
        else:
            draft.unless = Predicate((*path, "unless"), good["unless"], f"{what} (unless)")
    return draft


def _read_predicates(unit: Unit, draft: ClauseDraft, good: dict[str, Any], what: str) -> None:
    path = draft.path
    readings = good.get("readings")
    if "predicate" in good and readings is not None:
        unit.error(
            "contested-predicate",
            f"{what}: give either predicate or [clause.readings], not both",
            unit.syntax.key_at((*path, "predicate")),
            "a contested clause states its predicate once per reading",
        )
    if readings is not None:
        if not draft.contested:
            unit.error(
                "contested-predicate",
                f"{what}: has readings but is not marked contested",
                unit.syntax.key_at((*path, "readings")),
                "add contested = true so that check and reports list it",
            )
        for name, text in readings.items():
            rpath = (*path, "readings", name)
            if not isinstance(text, str):
                unit.error(
                    "wrong-type", f"{what}: reading {name} must be a predicate text", unit.at(rpath)
                )
            elif name not in unit.readings:
                unit.error(
                    "unknown-reading",
                    f"{what}: reading {name!r} is not one of the decree's [readings]",
                    unit.syntax.key_at(rpath),
                    did_you_mean(name, unit.readings) or "name it under [readings]",
                )
            else:
                draft.readings[name] = Predicate(rpath, text, what, if_empty=draft.if_empty)
        if unit.applied_reading and unit.applied_reading not in readings:
            unit.error(
                "unknown-reading",
                f"{what}: has no predicate for the applied reading {unit.applied_reading!r}",
                unit.syntax.key_at((*path, "readings")),
            )
    elif draft.contested:
        unit.error(
            "contested-predicate",
            f"{what}: is contested but gives no [clause.readings]",
            unit.syntax.key_at((*path, "contested")),
            "give the predicate of each reading under [clause.readings]",
        )
    elif "predicate" in good:
        draft.predicate = Predicate(
            (*path, "predicate"), good["predicate"], what, if_empty=draft.if_empty
        )
    else:
        unit.error("missing-key", f"{what}: predicate is missing", unit.syntax.locator.table(path))


def _read_relief(unit: Unit, draft: ClauseDraft, good: dict[str, Any], what: str) -> None:
    path = draft.path
    relief = good.get("relief")
    if draft.kind == "refer" and draft.without_ground:
        # the relief the body may give a person the refer reaches with no ground
        if relief is not None and relief not in ("release", "conditional_release"):
            unit.error(
                "unknown-relief",
                f"{what}: a refer reaching persons with no ground gives release or "
                f"conditional_release, not {relief!r}",
                unit.at((*path, "relief")),
            )
        else:
            draft.relief = cast(Relief, relief or "release")
        good = {k: v for k, v in good.items() if k != "relief"}
    if draft.kind != "grant":
        for key in ("relief", "until", "for_months", "commutation"):
            if key in good:
                article = "an" if draft.kind == "exclude" else "a"
                unit.error(
                    "relief-on-non-grant",
                    f"{what}: {article} {draft.kind} clause gives no relief; remove {key}",
                    unit.syntax.key_at((*path, key)),
                    "only grant clauses give a relief",
                )
        return
    if relief is None:
        unit.error(
            "missing-relief",
            f"{what}: a grant must say what relief it gives",
            unit.syntax.locator.table(path),
            f"add relief = one of {', '.join(RELIEFS)}",
        )
        return
    if relief not in RELIEFS:
        unit.error(
            "unknown-relief",
            f"{what}: unknown relief {relief!r}; expected one of {', '.join(RELIEFS)}",
            unit.at((*path, "relief")),
            did_you_mean(relief, RELIEFS, '"'),
        )
        return
    draft.relief = cast(Relief, relief)
    until = good.get("until")
    for_months = good.get("for_months")
    if relief == "temporary_release" and until is None and for_months is None:
        unit.error(
            "missing-until",
            f"{what}: a temporary_release must say until when",
            unit.at((*path, "relief")),
            "add until = the return date, e.g. until = 2015-12-31, "
            "or for_months = N calendar months from the release",
        )
    elif relief == "temporary_release" and until is not None and for_months is not None:
        # Two return dates that could disagree: the official would have to pick one.
        unit.error(
            "until-and-for-months",
            f"{what}: a temporary_release says until or for_months, not both",
            unit.syntax.key_at((*path, "for_months")),
        )
    for key, value in (("until", until), ("for_months", for_months)):
        if relief != "temporary_release" and value is not None:
            unit.error(
                "until-without-temporary",
                f'{what}: {key} is only for relief = "temporary_release"',
                unit.syntax.key_at((*path, key)),
            )
    if for_months is not None and for_months < 1:
        unit.error(
            "wrong-type",
            f"{what}: for_months must be a whole number of months of at least 1",
            unit.at((*path, "for_months")),
        )
    draft.for_months = for_months
    draft.until = until
    _read_commutation(unit, draft, good, what)


def _read_commutation(unit: Unit, draft: ClauseDraft, good: dict[str, Any], what: str) -> None:
    path = draft.path
    terms = good.get("commutation")
    if draft.relief != "commutation":
        if terms is not None:
            unit.error(
                "commutation-without-relief",
                f'{what}: commutation terms are only for relief = "commutation"',
                unit.syntax.key_at((*path, "commutation")),
            )
        return
    if terms is None:
        unit.error(
            "missing-commutation",
            f"{what}: a commutation must say what it does to the sentence",
            unit.at((*path, "relief")),
            "add [clause.commutation] with fraction_of_remaining, to_months, "
            "reduce_by_months or death_to_life",
        )
        return
    tpath = (*path, "commutation")
    good_terms = check_table(unit, terms, tpath, COMMUTATION_KEYS, (), f"{what} commutation")
    fraction = good_terms.get("fraction_of_remaining")
    if fraction is not None:
        try:
            value = Fraction(fraction)
        except (ValueError, ZeroDivisionError):
            value = Fraction(-1)
        if not 0 < value < 1:
            unit.error(
                "wrong-type",
                f'{what}: fraction_of_remaining must be a fraction between 0 and 1 such as "1/2"',
                unit.at((*tpath, "fraction_of_remaining")),
            )
    for key in ("to_months", "reduce_by_months"):
        months = good_terms.get(key)
        if months is not None and months < (0 if key == "to_months" else 1):
            unit.error(
                "wrong-type",
                f"{what}: {key} must be a whole number of months"
                + (" of at least 1" if key == "reduce_by_months" else ", 0 or more"),
                unit.at((*tpath, key)),
            )
    cuts = [
        k for k in ("fraction_of_remaining", "to_months", "reduce_by_months") if k in good_terms
    ]
    if len(cuts) > 1:
        # Each cut alone gives one new end; two would need an order nobody wrote down.
        unit.error(
            "commutation-terms-conflict",
            f"{what}: a commutation cuts the sentence one way; it says {' and '.join(cuts)}",
            unit.syntax.key_at((*tpath, cuts[1])),
            "keep one of fraction_of_remaining, to_months, reduce_by_months",
        )
    if not good_terms:
        unit.error(
            "missing-commutation",
            f"{what}: the commutation terms are empty",
            unit.syntax.locator.table(tpath),
        )
    draft.commutation = CommutationTerms(
        fraction_of_remaining=fraction,
        to_months=good_terms.get("to_months"),
        reduce_by_months=good_terms.get("reduce_by_months"),
        death_to_life=good_terms.get("death_to_life", False),
    )


def _read_undertaking(unit: Unit, index: int, table: dict[str, Any]) -> UndertakingDraft | None:
    path: Path = ("undertaking", index)
    uid = table.get("id")
    what = f"undertaking {uid}" if isinstance(uid, str) else f"undertaking #{index + 1}"
    good = check_table(unit, table, path, UNDERTAKING_KEYS, REQUIRED_UNDERTAKING, what)
    if "id" not in good:
        return None
    who = good.get("who")
    return UndertakingDraft(
        index=index,
        id=good["id"],
        text=good.get("text", ""),
        who=Predicate((*path, "who"), who, what) if who is not None else None,
        source=_source(unit, good, path, what) if "source" in good else None,
    )


def _check_ids(unit: Unit) -> None:
    seen: dict[str, ClauseDraft] = {}
    for c in unit.clauses:
        where = unit.at((*c.path, "id"))
        if c.id == "scope":
            unit.error(
                "reserved-id",
                "clause id 'scope' is reserved for the decree's scope",
                where,
                "choose another id",
            )
        if c.id in seen:
            first = unit.at((*seen[c.id].path, "id"))
            unit.error(
                "duplicate-id",
                f"duplicate clause id {c.id!r}",
                where,
                f"first used at line {first.line}; clause ids must be unique",
            )
        else:
            seen[c.id] = c
    useen: set[str] = set()
    for u in unit.undertakings:
        if u.id in useen:
            unit.error(
                "duplicate-id", f"duplicate undertaking id {u.id!r}", unit.at((*u.path, "id"))
            )
        useen.add(u.id)


def _check_ranking(unit: Unit, meta: dict[str, Any]) -> None:
    ranking = meta.get("relief_ranking")
    if ranking is None:
        unit.meta["relief_ranking"] = DEFAULT_RELIEF_RANKING
        return
    path: Path = ("relief_ranking",)
    bad = [r for r in ranking if r not in RELIEFS]
    for r in bad:
        unit.error(
            "unknown-relief",
            f"relief_ranking: unknown relief {r!r}",
            unit.at(path),
            did_you_mean(r, RELIEFS, '"'),
        )
    if len(set(ranking)) != len(ranking):
        unit.error("duplicate-id", "relief_ranking lists a relief twice", unit.at(path))
    used = {c.relief for c in unit.clauses if c.relief}
    missing = sorted(used - set(ranking))
    if missing and not bad:
        unit.error(
            "unranked-relief",
            f"relief_ranking does not rank {', '.join(missing)}, which a grant gives",
            unit.at(path),
        )
    unit.meta["relief_ranking"] = tuple(r for r in ranking if r in RELIEFS)
