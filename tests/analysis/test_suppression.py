"""Suppression against hand-made tables: small counts hidden, none recomputable."""

from __future__ import annotations

import numpy as np

from amnesty.analysis.suppression import Equation, report_equations, suppress


def _determined(equations: list[Equation], hidden: set[tuple[str, int, str]]) -> set:  # type: ignore[type-arg]
    """Independently of the module: a hidden cell is determined iff adding its unit
    row to the equations (restricted to hidden cells) does not raise the rank."""
    cells = sorted(hidden)
    idx = {c: i for i, c in enumerate(cells)}
    rows = []
    for eq in equations:
        v = np.zeros(len(cells))
        for c, k in eq.terms:
            if c in idx:
                v[idx[c]] += k
        rows.append(v)
    a = np.array(rows) if rows else np.zeros((0, len(cells)))
    rank = np.linalg.matrix_rank(a) if len(a) else 0
    out = set()
    for c in cells:
        unit = np.zeros(len(cells))
        unit[idx[c]] = 1
        if np.linalg.matrix_rank(np.vstack([a, unit])) == rank:
            out.add(c)
    return out


def _table(name: str, key: str, rows: list[list[int | str]]) -> dict[str, object]:
    cols = [key, "persons", "eligible", "review", "ineligible"]
    full = [[r[0], sum(r[1:]), *r[1:]] for r in rows]  # type: ignore[arg-type]
    return {"name": name, "title": name, "columns": cols, "rows": full}


def test_hand_made_table() -> None:
    by_province = _table(
        "by_province",
        "province",
        [["A", 120, 3, 40], ["B", 80, 15, 2], ["C", 200, 30, 60], ["D", 5, 1, 0]],
    )
    totals = {
        "name": "totals",
        "title": "totals",
        "columns": ["persons", "eligible", "review", "ineligible"],
        "rows": [[556, 405, 49, 102]],
    }
    tables = [totals, by_province]
    eqs = report_equations(tables)
    out, hidden = suppress(tables, eqs, threshold=10)
    rows = out[1]["rows"]
    # primary: 3, 2, 5, 1 and D's persons (6) are below 10
    assert rows[0][3] is None and rows[1][4] is None and rows[3][2] is None and rows[3][1] is None
    # zeros and large counts elsewhere stay
    assert rows[2] == ["C", 290, 200, 30, 60]
    # secondary: nothing hidden can be recomputed from what is published
    assert not _determined(eqs, hidden)
    # and more was hidden than the small counts alone
    assert len(hidden) > 5
    # every published cell is the true value
    for got, want in zip(out[1]["rows"], by_province["rows"], strict=True):  # type: ignore[arg-type]
        assert all(g is None or g == w for g, w in zip(got, want, strict=True))


def test_primary_only_would_leak() -> None:
    """The reason for secondary suppression: with only the small cell hidden, a row sum gives it."""
    t = _table("by_sex", "sex", [["F", 50, 4, 20], ["M", 500, 60, 90]])
    totals = {
        "name": "totals",
        "title": "totals",
        "columns": ["persons", "eligible", "review", "ineligible"],
        "rows": [[724, 550, 64, 110]],
    }
    eqs = report_equations([totals, t])
    assert _determined(eqs, {("by_sex", 0, "review")}) == {("by_sex", 0, "review")}
    _, hidden = suppress([totals, t], eqs, threshold=10)
    assert ("by_sex", 0, "review") in hidden and not _determined(eqs, hidden)


def test_random_tables_never_leak() -> None:
    rng = np.random.default_rng(12)
    for trial in range(15):
        n = int(rng.integers(2, 6))
        rows: list[list[int | str]] = [
            [f"R{i}", *(int(x) for x in rng.choice([0, 1, 3, 7, 12, 40, 90], size=3))]
            for i in range(n)
        ]
        t = _table("by_province", "province", rows)
        sums = [sum(int(r[c]) for r in t["rows"]) for c in range(1, 5)]  # type: ignore[union-attr, misc]
        totals = {
            "name": "totals",
            "title": "totals",
            "columns": ["persons", "eligible", "review", "ineligible"],
            "rows": [sums],
        }
        eqs = report_equations([totals, t])
        out, hidden = suppress([totals, t], eqs, threshold=10)
        assert not _determined(eqs, hidden), trial
        published = [v for r in out[1]["rows"] for v in r[1:]]  # type: ignore[index]
        assert all(v is None or v == 0 or v >= 10 for v in published), trial
