"""Pass ``check_scope``: the decree's ``[scope]`` and the clauses that speak of it.

The scope restricts on up to four axes (facility types, facility ids, divisions,
the person's custody authority); each non-empty axis must hold, so a person is
in scope when *every* listed axis admits them.

A scope is **contradictory** when it, or a clause, asks for something the scope
itself leaves out:

* a listed facility whose type the scope's facility types exclude (needs a
  registry to know the facility's type; see ``check_registry``);
* a grant or require clause whose predicate has, as a top-level conjunct, a test
  ``facility.type``/``facility.id``/``person.authority`` ``= v`` or ``in {...}``
  where every value lies outside the scope's list for that axis: such a clause
  can never hold for anyone in scope. That is an error for a grant or a require
  (it is dead law) and a warning for an exclude or a refer (it is only redundant).
"""

from __future__ import annotations

from typing import Any

from amnesty.compile.structure import SCOPE_KEYS, check_table
from amnesty.compile.unit import ClauseDraft, Unit
from amnesty.compile.vocabulary import check_value
from amnesty.decree import ir
from amnesty.decree.model import Scope

_AXES = {
    "facility.type": ("facility_types", "facility type"),
    "facility.id": ("facilities", "facility"),
    "person.authority": ("authorities", "custody authority"),
}
_SCOPE_FACTS = {"facility_types": "facility.type", "authorities": "person.authority"}


def check_scope(unit: Unit) -> None:
    table = unit.meta.get("scope", {})
    good: dict[str, Any] = check_table(unit, table, ("scope",), SCOPE_KEYS, (), "scope")
    for key, fact in _SCOPE_FACTS.items():
        for i, value in enumerate(good.get(key, [])):
            literal = ir.Literal(value=value, type="string", pos=item_position(unit, key, i))
            check_value(unit, "scope", fact, literal)
    unit.scope = Scope(
        facility_types=tuple(good.get("facility_types", ())),
        facilities=tuple(good.get("facilities", ())),
        divisions=tuple(good.get("divisions", ())),
        authorities=tuple(good.get("authorities", ())),
    )
    for clause in unit.clauses:
        _check_clause(unit, clause)


def item_position(unit: Unit, key: str, index: int) -> Any:
    """Where the ``index``-th string of the scope list ``key`` is written."""
    loc = unit.syntax.locator
    span = loc.values.get(("scope", key))
    if span is None:
        return loc.table(("scope",))
    offset = span.value_offset
    for _ in range(index + 1):
        found = loc.text.find('"', offset + 1) if _ else loc.text.find('"', offset)
        if found < 0:
            return loc.value(("scope", key))
        start = found
        offset = loc.text.find('"', start + 1) + 1
    return loc.position(start, offset - start)


def _check_clause(unit: Unit, clause: ClauseDraft) -> None:
    if clause.predicate is None or clause.predicate.expr is None:
        return
    expr = clause.predicate.expr
    conjuncts = expr.operands if isinstance(expr, ir.And) else (expr,)
    for conjunct in conjuncts:
        tested = _axis_test(conjunct)
        if tested is None:
            continue
        fact, values = tested
        key, word = _AXES[fact]
        allowed: tuple[str, ...] = getattr(unit.scope, key)
        if not allowed or any(v in allowed for v in values):
            continue
        listed = ", ".join(repr(v) for v in values)
        message = (
            f"contradictory scope: clause {clause.id} applies only to {word} {listed}, "
            f"which [scope] {key} leaves out"
        )
        hint = f"add it to [scope] {key}, or remove the condition"
        if clause.kind in ("grant", "require"):
            unit.error("contradictory-scope", message, conjunct.pos, hint)
        else:
            unit.warn(
                "contradictory-scope", message + "; the clause is redundant", conjunct.pos, hint
            )


def _axis_test(expr: ir.Expr) -> tuple[str, tuple[str, ...]] | None:
    if isinstance(expr, ir.Compare) and expr.op == "=":
        if isinstance(expr.left, ir.Fact) and isinstance(expr.right, ir.Literal):
            fact, literal = expr.left.name, expr.right
        elif isinstance(expr.right, ir.Fact) and isinstance(expr.left, ir.Literal):
            fact, literal = expr.right.name, expr.left
        else:
            return None
        return (fact, (str(literal.value),)) if fact in _AXES else None
    if (
        isinstance(expr, ir.InSet)
        and isinstance(expr.operand, ir.Fact)
        and expr.operand.name in _AXES
    ):
        return expr.operand.name, tuple(str(v.value) for v in expr.values)
    return None


def scope_predicate(scope: Scope) -> ir.Expr | None:
    """The scope as one IR condition (None when it restricts nothing).

    Divisions match the facility's own division or its province, the two
    levels the fact catalogue knows.
    """

    def member(fact: str, values: tuple[str, ...]) -> ir.Expr:
        return ir.InSet(
            operand=ir.Fact(name=fact, type="string"),
            values=tuple(ir.Literal(value=v, type="string") for v in values),
        )

    parts: list[ir.Expr] = []
    if scope.facility_types:
        parts.append(member("facility.type", scope.facility_types))
    if scope.facilities:
        parts.append(member("facility.id", scope.facilities))
    if scope.divisions:
        parts.append(
            ir.Or(
                operands=(
                    member("facility.division", scope.divisions),
                    member("facility.province", scope.divisions),
                )
            )
        )
    if scope.authorities:
        parts.append(member("person.authority", scope.authorities))
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else ir.And(operands=tuple(parts))
