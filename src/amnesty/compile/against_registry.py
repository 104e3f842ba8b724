"""Pass ``check_registry``: names a decree takes from a registry must exist in it.

Runs only when a registry connection is given (``amnesty check --db``). Choices:

* an offence code the catalogue does not have is an **error**: it can match no
  conviction, so the clause silently does nothing;
* a code repealed before the as-of date (``valid_to < as_of``), or not yet in
  force on it, is a **warning**: convictions under an old code still exist and a
  decree may well mean them, but the drafter should know;
* a facility or division id that the registry does not have is an **error**;
* a facility listed in ``[scope] facilities`` whose type ``[scope]
  facility_types`` leaves out is a **contradictory scope** error.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from amnesty.compile.scope import item_position
from amnesty.compile.unit import Unit, nearest
from amnesty.compile.vocabulary import tested_values
from amnesty.decree import ir


def check_registry(unit: Unit) -> None:
    if unit.conn is None:
        return
    as_of: dt.date | None = unit.meta.get("as_of")
    offences = _rows(unit.conn, "SELECT offence_code, valid_from, valid_to FROM offences")
    facilities = _rows(unit.conn, "SELECT facility_id, facility_type FROM facilities")
    divisions = {r[0] for r in _rows(unit.conn, "SELECT division_id FROM divisions")}
    codes = {r[0]: (r[1], r[2]) for r in offences}
    types = {r[0]: r[1] for r in facilities}
    for owner, fact, literal in _literals(unit):
        value = str(literal.value)
        if fact == "conviction.offence_code":
            _check_code(unit, owner, literal, value, codes, as_of)
        elif fact == "facility.id" and value not in types:
            _unknown(unit, owner, literal.pos, "facility", value, types)
    for i, fid in enumerate(unit.scope.facilities):
        where = item_position(unit, "facilities", i)
        if fid not in types:
            _unknown(unit, "scope", where, "facility", fid, types)
        elif unit.scope.facility_types and types[fid] not in unit.scope.facility_types:
            unit.error(
                "contradictory-scope",
                f"contradictory scope: facility {fid!r} is a {types[fid]}, "
                "which [scope] facility_types leaves out",
                where,
                f'add "{types[fid]}" to facility_types, or remove the facility',
            )
    for i, did in enumerate(unit.scope.divisions):
        if did not in divisions:
            _unknown(unit, "scope", item_position(unit, "divisions", i), "division", did, divisions)


def _rows(conn: Any, sql: str) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in conn.execute(sql).fetchall()]


def _literals(unit: Unit) -> Iterator[tuple[str, str, ir.Literal]]:
    for predicate in unit.predicates():
        if predicate.expr is not None:
            for fact, literal in tested_values(predicate.expr):
                yield predicate.owner, fact, literal


def _unknown(unit: Unit, owner: str, where: Any, what: str, value: str, known: Any) -> None:
    match = nearest(value, known)
    unit.error(
        "unknown-" + what.replace(" ", "-"),
        f"{owner}: the registry has no {what} {value!r}",
        where,
        f'did you mean "{match}"?' if match else f"list the {what} ids with amnesty registry show",
    )


def _check_code(
    unit: Unit,
    owner: str,
    literal: ir.Literal,
    code: str,
    codes: dict[str, tuple[dt.date, dt.date | None]],
    as_of: dt.date | None,
) -> None:
    if code not in codes:
        _unknown(unit, owner, literal.pos, "offence code", code, codes)
        return
    valid_from, valid_to = codes[code]
    if as_of is None:
        return
    if valid_to is not None and valid_to < as_of:
        unit.warn(
            "repealed-code",
            f"{owner}: offence code {code!r} was repealed on {valid_to.isoformat()}, before the "
            f"as-of date {as_of.isoformat()}",
            literal.pos,
            "it matches only convictions under the old code; check the decree means them",
        )
    elif valid_from > as_of:
        unit.warn(
            "code-not-in-force",
            f"{owner}: offence code {code!r} comes into force on {valid_from.isoformat()}, after "
            f"the as-of date {as_of.isoformat()}",
            literal.pos,
        )
