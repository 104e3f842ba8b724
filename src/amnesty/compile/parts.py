"""Pass ``read_parts``: a decree in parts, each with its own reference date.

Some acts speak of two occasions at once ("those who served half their term by the
anniversary, and those who reach it by the end of the year"). A ``[[part]]`` gives
one occasion its id, title, ``as_of`` and, optionally, its ``execution_window``; a
clause names the parts it belongs to with ``parts = [...]`` and, naming none,
belongs to every part. Each part is evaluated on its own, as the decree its clauses
make (:meth:`amnesty.decree.model.Decree.part`); the parts' dates are distinct, so a
stored run's as-of date says which part it evaluated.
"""

from __future__ import annotations

from typing import Any

from amnesty.compile.unit import Unit, did_you_mean
from amnesty.decree.model import Part

PART_KEYS = {
    "id": "text",
    "title": "text",
    "as_of": "date",
    "execution_window": "dates",
    "note": "text",
}
REQUIRED_PART = ("id", "as_of")


def read_parts(unit: Unit, check_table: Any) -> None:
    """Called by ``read_structure`` once the clauses are read (with its table checker)."""
    tables: list[dict[str, Any]] = unit.meta.get("part", [])
    dates: dict[Any, str] = {}
    for i, table in enumerate(tables):
        path = ("part", i)
        what = f"part {table['id']}" if isinstance(table.get("id"), str) else f"part #{i + 1}"
        good = check_table(unit, table, path, PART_KEYS, REQUIRED_PART, what)
        if "id" not in good or "as_of" not in good:
            continue
        window = good.get("execution_window")
        if window is not None and (len(window) != 2 or window[0] > window[1]):
            unit.error(
                "wrong-type",
                f"{what}: execution_window must be [first day, last day], the first not "
                "after the last",
                unit.at((*path, "execution_window")),
            )
            window = None
        if any(p.id == good["id"] for p in unit.parts):
            unit.error("duplicate-id", f"duplicate part id {good['id']!r}", unit.at((*path, "id")))
            continue
        if good["as_of"] in dates:
            unit.error(
                "duplicate-part-date",
                f"{what}: as_of {good['as_of']} is already part {dates[good['as_of']]}'s",
                unit.at((*path, "as_of")),
                "each part has its own reference date: a run's as-of date names its part",
            )
            continue
        dates[good["as_of"]] = good["id"]
        unit.parts.append(
            Part(
                id=good["id"],
                title=good.get("title", good["id"]),
                as_of=good["as_of"],
                execution_window=(window[0], window[1]) if window else None,
                pos=unit.syntax.locator.table(path),
            )
        )
    known = [p.id for p in unit.parts]
    for c in unit.clauses:
        for pid in c.parts:
            if pid not in known:
                unit.error(
                    "unknown-part",
                    f"clause {c.id}: parts names {pid!r}, which is no [[part]] of the decree",
                    unit.at((*c.path, "parts")),
                    did_you_mean(pid, known, '"') or f"parts: {', '.join(known) or 'none'}",
                )
    for part in unit.parts:
        mine = [c for c in unit.clauses if not c.parts or part.id in c.parts]
        if unit.clauses and not any(c.kind == "grant" for c in mine):
            unit.error(
                "no-grant",
                f"part {part.id} has no grant clause, so it can release no one",
                part.pos,
                f'add parts = ["{part.id}"] to a grant, or a grant that names no part',
            )
