"""Pass ``build_decree``: the checked drafts -> a :class:`~amnesty.decree.model.Decree`.

Runs only when no earlier pass found an error, so every predicate is typed IR.
A contested clause becomes an :class:`~amnesty.decree.ir.Contested` node holding
every reading it gives, the applied one named.
"""

from __future__ import annotations

from dataclasses import replace

from amnesty.compile.scope import scope_predicate
from amnesty.compile.unit import ClauseDraft, Unit
from amnesty.decree import ir
from amnesty.decree.model import Clause, ClauseKind, Decree, Undertaking


def build_decree(unit: Unit) -> Decree | None:
    if unit.errors:
        return None
    meta = unit.meta
    window = meta.get("execution_window")
    return Decree(
        id=meta["id"],
        title=meta["title"],
        jurisdiction=meta["jurisdiction"],
        occasion=meta.get("occasion", ""),
        authority=meta.get("authority", ""),
        signed=meta.get("signed"),
        as_of=meta["as_of"],
        execution_window=(window[0], window[1]) if window else None,
        scope=replace(unit.scope, predicate=scope_predicate(unit.scope)),
        clauses=_scoped(unit, [_clause(unit, c) for c in unit.clauses]),
        undertakings=tuple(
            Undertaking(
                id=u.id,
                text=u.text,
                who=u.who.expr if u.who is not None else None,
                source=u.source,
                pos=unit.syntax.locator.table(u.path),
            )
            for u in unit.undertakings
        ),
        relief_ranking=meta["relief_ranking"],
        readings=dict(unit.readings),
        applied_reading=unit.applied_reading,
        applied_by=unit.applied_by,
        bodies=dict(unit.bodies),
        parts=tuple(unit.parts),
        source_path=unit.syntax.file,
        content_hash=unit.syntax.content_hash,
    )


def _scoped(unit: Unit, clauses: list[Clause]) -> tuple[Clause, ...]:
    """Fold each exclusion limited to some grants (``grants = [...]``) into those grants.

    Such an exclusion removes only the grants it names (docs/semantics.md): each of them
    holds where its own predicate holds and the exclusion does not (``G and not X``, in
    three values), and the exclusion is no clause of its own, so it bars no one else and
    never sends anyone to review by itself. The grant records it in ``uses``.
    """
    scoped = {d.id: d.grants for d in unit.clauses if d.grants}
    if not scoped:
        return tuple(clauses)
    by_id = {c.id: c for c in clauses}
    out = []
    for c in clauses:
        if c.id in scoped:
            continue
        limits = [by_id[x] for x, gids in scoped.items() if c.id in gids]
        if limits:
            c = replace(
                c,
                predicate=ir.And(
                    operands=(
                        c.predicate,
                        *(ir.Not(operand=x.predicate, pos=x.pos) for x in limits),
                    ),
                    pos=c.pos,
                ),
                uses=(*c.uses, *(x.id for x in limits)),
            )
        out.append(c)
    return tuple(out)


def _clause(unit: Unit, draft: ClauseDraft) -> Clause:
    predicate: ir.Expr
    if draft.readings:
        readings = tuple((name, p.expr) for name, p in draft.readings.items() if p.expr is not None)
        predicate = ir.Contested(
            applied=unit.applied_reading or readings[0][0],
            readings=readings,
            pos=unit.syntax.locator.key((*draft.path, "readings")),
        )
    else:
        assert draft.predicate is not None and draft.predicate.expr is not None
        predicate = draft.predicate.expr
    if draft.unless is not None and draft.unless.expr is not None:
        # `exclude P unless U` bars where P holds and U does not: P and not U, in three
        # values (P true, U unknown: the exclusion is unknown, so the case is reviewed).
        at = unit.syntax.locator.key((*draft.path, "unless"))
        predicate = ir.And(operands=(predicate, ir.Not(operand=draft.unless.expr, pos=at)), pos=at)
    kind: ClauseKind = draft.kind  # type: ignore[assignment]
    return Clause(
        id=draft.id,
        kind=kind,
        predicate=predicate,
        text=draft.text,
        source=draft.source,
        relief=draft.relief,
        until=draft.until,
        for_months=draft.for_months,
        commutation=draft.commutation,
        contested=draft.contested,
        if_empty=draft.if_empty,
        pos=unit.syntax.locator.table(draft.path),
        uses=tuple(dict.fromkeys(n for p in draft.predicates() for n in p.uses)),
        applied_by=draft.applied_by,
        without_ground=draft.without_ground,
        parts=draft.parts,
    )
