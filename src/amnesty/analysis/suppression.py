"""Small-count suppression for published tables, primary and secondary.

*Primary*: a count from 1 to ``threshold - 1`` (default 10) is suppressed:
published as ``None`` (shown ``<suppressed>``), so that no small group of
persons can be singled out. Zeros are published: they single out nobody.

*Secondary*: the published tables are tied together by sums, and a reader can
solve them. Every sum the report makes visible is written down as a linear
equation over the cells (:func:`report_equations`): a row's ``persons`` is the
sum of its outcomes; the rows of a table that splits the whole population add
up to the totals; divisions add up to their province; facilities add up to
their type and to their authority. A suppressed cell is *recomputable* when
the equations, with every published cell known, determine it: exactly when
its unit vector lies in the row space of the equations restricted to the
suppressed cells (:func:`recomputable`). While one is, the smallest
non-zero published cell sharing an equation with it is suppressed too; when
no published cell is left to hide, the whole table is withheld (all its cells
suppressed, and marked ``withheld``).

A share published beside a suppressed count would give it away, so it is
withheld wherever a count it is computed from is.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

DEFAULT_THRESHOLD = 10
OUTCOMES = ("eligible", "review", "ineligible")
# tables whose rows split the whole population (each person in exactly one row)
PARTITIONS = (
    "by_province",
    "by_division",
    "by_facility_type",
    "by_authority",
    "by_facility",
    "by_age_band",
    "by_sex",
)
SHARES = {"share_eligible": ("eligible", "persons"), "share": ("on_health_grounds", "persons")}

Cell = tuple[str, int, str]  # table name, row index, column


@dataclass(frozen=True)
class Equation:
    """sum(coefficient * cell) = constant; the constant is a published total."""

    terms: tuple[tuple[Cell, int], ...]
    constant: int


def count_columns(table: dict[str, Any]) -> list[str]:
    cols = table["columns"]
    return [
        c
        for i, c in enumerate(cols)
        if c not in SHARES
        and all(isinstance(r[i], int) and not isinstance(r[i], bool) for r in table["rows"])
        and table["rows"]
    ]


def report_equations(tables: Sequence[dict[str, Any]]) -> list[Equation]:
    """Every sum a reader can form from the report's tables (see the module docstring)."""
    by_name = {t["name"]: t for t in tables}
    eqs: list[Equation] = []
    totals = by_name.get("totals")
    total_row = dict(zip(totals["columns"], totals["rows"][0], strict=True)) if totals else {}
    for t in tables:
        cols = t["columns"]
        if t["name"] == "totals" or "persons" not in cols:
            continue
        if all(o in cols for o in OUTCOMES):
            for r in range(len(t["rows"])):
                eqs.append(
                    Equation(((_c(t, r, "persons"), 1), *((_c(t, r, o), -1) for o in OUTCOMES)), 0)
                )
        if t["name"] in PARTITIONS:
            for col in ("persons", *OUTCOMES):
                if col in cols and col in total_row:
                    terms = tuple((_c(t, r, col), 1) for r in range(len(t["rows"])))
                    eqs.append(Equation(terms, int(total_row[col])))
    eqs += _nesting(by_name, "by_division", "province", "by_province", "province")
    eqs += _nesting(by_name, "by_facility", "facility_type", "by_facility_type", "facility_type")
    eqs += _nesting(by_name, "by_facility", "authority", "by_authority", "authority")
    return eqs


def _c(t: dict[str, Any], r: int, col: str) -> Cell:
    return (t["name"], r, col)


def _nesting(
    by_name: dict[str, dict[str, Any]], inner: str, key: str, outer: str, outer_key: str
) -> list[Equation]:
    """The rows of ``inner`` with the same ``key`` add up to that row of ``outer``."""
    if inner not in by_name or outer not in by_name:
        return []
    a, b = by_name[inner], by_name[outer]
    ka, kb = a["columns"].index(key), b["columns"].index(outer_key)
    eqs = []
    for rb, row in enumerate(b["rows"]):
        members = [ra for ra, ar in enumerate(a["rows"]) if ar[ka] == row[kb]]
        for col in ("persons", *OUTCOMES):
            if col in a["columns"] and col in b["columns"]:
                terms = tuple((_c(a, ra, col), 1) for ra in members)
                eqs.append(Equation((*terms, ((outer, rb, col), -1)), 0))
    return eqs


def recomputable(equations: Iterable[Equation], suppressed: set[Cell]) -> set[Cell]:
    """The suppressed cells that the equations determine once published cells are known."""
    eqs = [eq for eq in equations if any(c in suppressed for c, _ in eq.terms)]
    cells = sorted({c for eq in eqs for c, _ in eq.terms if c in suppressed})
    if not cells:
        return set()
    index = {c: i for i, c in enumerate(cells)}
    matrix = np.zeros((len(eqs), len(cells)))
    for row, eq in enumerate(eqs):
        for cell, coef in eq.terms:
            if cell in index:
                matrix[row, index[cell]] += coef
    # e_i lies in the row space iff its projection on an orthonormal basis of that
    # space (the right singular vectors of the non-zero singular values) has length 1
    _, sv, vt = np.linalg.svd(matrix, full_matrices=False)
    basis = vt[sv > 1e-9 * max(1.0, float(sv.max()))]
    reach = (basis**2).sum(axis=0)
    return {cells[i] for i in np.flatnonzero(reach > 1 - 1e-7)}


def suppress(
    tables: Sequence[dict[str, Any]],
    equations: Sequence[Equation],
    threshold: int = DEFAULT_THRESHOLD,
) -> tuple[list[dict[str, Any]], set[Cell]]:
    """The tables with small counts (and what would reveal them) set to None."""
    values: dict[Cell, int] = {}
    for t in tables:
        if t["name"] == "totals":
            continue  # the totals are published: they are the margins
        for col in count_columns(t):
            i = t["columns"].index(col)
            for r, row in enumerate(t["rows"]):
                values[(t["name"], r, col)] = row[i]
    suppressed = {c for c, v in values.items() if 0 < v < threshold}
    withheld: set[str] = set()  # tables no suppression pattern protects: not published

    def hidden() -> set[Cell]:
        return suppressed | {c for c in values if c[0] in withheld}

    def partner(cell: Cell, pool: Sequence[Equation]) -> Cell | None:
        """The smallest published cell (non-zero first) sharing an equation with ``cell``."""
        now = hidden()
        candidates = [
            other
            for eq in pool
            if any(c == cell for c, _ in eq.terms)
            for other, _ in eq.terms
            if other in values and other not in now
        ]
        nonzero = [c for c in candidates if values[c] > 0] or candidates
        return min(nonzero, key=lambda c: (values[c], c)) if nonzero else None

    while True:
        # cheap first: a sum with exactly one hidden cell gives it away directly
        changed = True
        while changed:
            changed = False
            now = hidden()
            for eq in equations:
                inside = [c for c, _ in eq.terms if c in now and c[0] not in withheld]
                if len(inside) == 1:
                    other = partner(inside[0], [eq])
                    if other is not None:
                        suppressed.add(other)
                        changed = True
                        now = hidden()
        # then exact: any cell the equations together determine
        exposed = sorted(c for c in recomputable(equations, hidden()) if c[0] not in withheld)
        if not exposed:
            break
        # hide a partner of every exposed cell at once: far fewer rank tests
        for cell in exposed:
            other = partner(cell, equations)
            if other is None:  # pinned by the published totals alone
                withheld.add(cell[0])
            else:
                suppressed.add(other)
    suppressed |= {c for c in values if c[0] in withheld}
    out = copy.deepcopy(list(tables))
    for t in out:
        if t["name"] in withheld:
            t["withheld"] = "no suppression pattern protects its small counts from the totals"
        cols = t["columns"]
        for r, row in enumerate(t["rows"]):
            for col in cols:
                if (t["name"], r, col) in suppressed:
                    row[cols.index(col)] = None
            for share, (num, den) in SHARES.items():
                if share in cols and (
                    (t["name"], r, num) in suppressed or (t["name"], r, den) in suppressed
                ):
                    row[cols.index(share)] = None
    return out, suppressed


def suppress_report(
    tables: Sequence[dict[str, Any]], threshold: int = DEFAULT_THRESHOLD
) -> list[dict[str, Any]]:
    out, _ = suppress(tables, report_equations(tables), threshold)
    return out
