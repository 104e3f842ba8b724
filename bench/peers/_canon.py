"""The canonical determinations every peer is checked against amnesty with.

A peer keeps the columns it computes: the floor all nine of amnesty's, the rule
engines outcome, grounds and blocking. ``bench/run.py`` compares every column a
peer has with amnesty's (list columns as sets, ``unknown`` exactly).
"""

from __future__ import annotations

import pyarrow as pa

STRINGS = pa.list_(pa.string())
COLUMNS = (
    "person_id",
    "facility_id",
    "outcome",
    "relief",
    "grounds",
    "blocking",
    "referred",
    "unknown",
    "undertakings",
)


def from_arrow(table: pa.Table) -> pa.Table:
    """The amnesty-shaped columns a result has, list columns as lists of strings."""
    cols = [c for c in COLUMNS if c in table.column_names]
    out = table.select(cols)
    fields = []
    for f in out.schema:
        if f.name in ("grounds", "blocking", "referred", "undertakings"):
            fields.append(pa.field(f.name, STRINGS))
        elif f.name == "unknown":
            fields.append(
                pa.field(
                    f.name,
                    pa.list_(pa.struct([("clause", pa.string()), ("missing", STRINGS)])),
                )
            )
        else:
            fields.append(pa.field(f.name, pa.string()))
    return out.cast(pa.schema(fields))


def from_rows(
    person_ids: list[str],
    outcomes: list[str],
    grounds: list[list[str]] | None = None,
    blocking: list[list[str]] | None = None,
) -> pa.Table:
    data: dict[str, list] = {"person_id": person_ids, "outcome": outcomes}
    if grounds is not None:
        data["grounds"] = grounds
    if blocking is not None:
        data["blocking"] = blocking
    return from_arrow(pa.table(data))
