"""Pass ``check_vocabulary``: values compared with a closed vocabulary must be in it.

``category in {"thfet"}`` would silently match no one; so would
``facility.type = "kyohwaso"`` (the registry says ``penitentiary``). Each such
value is an error naming the nearest valid value, with the local words a
drafter may reach for (kyohwaso, kwanliso, SIZO) mapped to the registry's.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from amnesty.compile.unit import Unit, nearest
from amnesty.decree import ir
from amnesty.registry.profiles import Profile

# Words from the sources for the registry's own values.
SYNONYMS: dict[str, str] = {
    "kyohwaso": "penitentiary",
    "kyohwaso (re-education camp)": "penitentiary",
    "re-education camp": "penitentiary",
    "kwanliso": "political_prison_camp",
    "internment camp": "political_prison_camp",
    "rodong danryeondae": "labour_training_centre",
    "labour training camp": "labour_training_centre",
    "labor_training_centre": "labour_training_centre",
    "jipkyulso": "detention_centre",
    "sizo": "pre_trial_detention",
    "prison": "penitentiary",
    "drugs": "drug_trafficking",
    "drug": "drug_trafficking",
    "violence": "violent_crime",
    "defection": "illegal_border_crossing",
    "border_crossing": "illegal_border_crossing",
    "negligence": "negligent",
}
_ALPHA3 = re.compile(r"^[A-Z]{3}$")
_COUNTRY_FACTS = ("person.citizenship", "event.country")


def vocabulary(fact: str, unit: Unit) -> tuple[str, ...] | None:
    """The closed set of values ``fact`` takes, if it has one."""
    if fact == "conviction.category":
        return unit.profile.offence_categories
    if fact == "facility.type":
        return unit.profile.facility_types
    if fact in ("person.authority", "facility.authority"):
        return _authorities(unit.profile)
    defined = unit.facts.get(fact)
    return defined.values if defined is not None else None


def _authorities(profile: Profile) -> tuple[str, ...] | None:
    return profile.authorities or None


def check_vocabulary(unit: Unit) -> None:
    for predicate in unit.predicates():
        if predicate.expr is None:
            continue
        for fact, literal in tested_values(predicate.expr):
            check_value(unit, predicate.owner, fact, literal)


def check_value(unit: Unit, owner: str, fact: str, literal: ir.Literal) -> bool:
    """Report ``literal`` if ``fact`` never takes it; True when it is fine."""
    value = literal.value
    if not isinstance(value, str):
        return True
    if fact in _COUNTRY_FACTS and not _ALPHA3.match(value):
        unit.error(
            "unknown-value",
            f'{owner}: "{value}" is not a country code; {fact} holds ISO 3166-1 alpha-3 codes',
            literal.pos,
            'e.g. "CHN" for China, "VNM" for Viet Nam',
        )
        return False
    values = vocabulary(fact, unit)
    if values is None or value in values:
        return True
    suggestion = SYNONYMS.get(value.lower())
    if suggestion not in values:
        suggestion = nearest(value, values)
    unit.error(
        "unknown-value",
        f'{owner}: unknown {fact} "{value}"; expected one of {", ".join(values)}',
        literal.pos,
        f'did you mean "{suggestion}"?' if suggestion else "",
    )
    return False


def tested_values(expr: ir.Expr) -> Iterator[tuple[str, ir.Literal]]:
    """Every (fact, literal) pair the predicate compares for equality or membership."""
    for node in walk(expr):
        if isinstance(node, ir.Compare) and node.op in ("=", "!="):
            if isinstance(node.left, ir.Fact) and isinstance(node.right, ir.Literal):
                yield node.left.name, node.right
            elif isinstance(node.right, ir.Fact) and isinstance(node.left, ir.Literal):
                yield node.right.name, node.left
        elif isinstance(node, ir.InSet) and isinstance(node.operand, ir.Fact):
            for v in node.values:
                yield node.operand.name, v


def walk(expr: ir.Expr) -> Iterator[ir.Expr]:
    """Every node of an IR tree, parents first."""
    yield expr
    children: tuple[ir.Expr, ...] = ()
    if isinstance(expr, (ir.Not, ir.IsKnown)):
        children = (expr.operand,)
    elif isinstance(expr, (ir.And, ir.Or, ir.Extreme)):
        children = expr.operands
    elif isinstance(expr, ir.Compare):
        children = (expr.left, expr.right)
    elif isinstance(expr, ir.InSet):
        children = (expr.operand, *expr.values)
    elif isinstance(expr, (ir.Quantifier, ir.Count)):
        children = (expr.condition,)
    elif isinstance(expr, ir.Between):
        children = (expr.start, expr.end)
    elif isinstance(expr, ir.Scaled):
        children = (expr.operand,)
    elif isinstance(expr, ir.CalendarFraction):
        children = (expr.months,)
    elif isinstance(expr, ir.Shift):
        children = (expr.date, expr.duration)
    elif isinstance(expr, ir.Contested):
        children = tuple(e for _, e in expr.readings)
    for child in children:
        yield from walk(child)
