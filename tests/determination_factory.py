"""Small engine-shaped determinations for store and audit tests.

A module of its own (not conftest.py): several conftest modules exist in this
suite, and ``from conftest import ...`` would pick whichever was loaded last.
"""

from __future__ import annotations

import pyarrow as pa

from amnesty.store.determinations import DETERMINATION_SCHEMA


def make_determinations(persons: int = 6, flip: str | None = None) -> pa.Table:
    """A small engine-shaped determinations table; ``flip`` makes that person ineligible."""
    rows = []
    for i in range(persons):
        pid = f"P{i:04d}"
        review = i % 3 == 0
        rows.append(
            {
                "person_id": pid,
                "facility_id": f"F{i % 2}",
                "outcome": "ineligible" if pid == flip else ("review" if review else "eligible"),
                "relief": None if pid == flip else "release",
                "grounds": [] if review else ["theft-first-offence"],
                "blocking": ["mss-custody"] if pid == flip else [],
                "referred": [],
                "unknown": [{"clause": "health", "missing": ["health.severity"]}] if review else [],
                "undertakings": ["pledge-no-reoffence"] if i % 2 else [],
            }
        )
    return pa.Table.from_pylist(rows, schema=DETERMINATION_SCHEMA)
