"""The registry facts analysis groups by: where a person is held, who they are, what for.

Read with plain SQL that every backend runs, then grouped locally in DuckDB
over Arrow, so the same figures come from a DuckDB file or a PostgreSQL server.
"""

from __future__ import annotations

import pyarrow as pa

from amnesty.backends.base import Backend
from amnesty.registry.profiles import Profile

PLACES_SCHEMA = pa.schema(
    [
        ("facility_id", pa.string()),
        ("facility", pa.string()),
        ("facility_type", pa.string()),
        ("authority", pa.string()),
        ("division", pa.string()),
        ("province", pa.string()),
    ]
)


def places(backend: Backend, profile: Profile) -> pa.Table:
    """One row per facility: its name, type, authority, division and province (names).

    The province is the nearest ancestor at one of ``profile``'s province levels, as
    the engine finds ``facility.province`` (a ru-2015 federal subject, a kp-2015
    province or special city)."""
    levels = set(profile.province_levels)
    divisions = backend.fetch_arrow(
        "SELECT division_id, parent_id, level, name_romanised FROM divisions"
    ).to_pylist()
    by_id = {d["division_id"]: d for d in divisions}

    def province(division_id: str | None) -> str | None:
        seen = 0
        while division_id is not None and division_id in by_id and seen < 16:
            d = by_id[division_id]
            if d["level"] in levels:
                return str(d["name_romanised"])
            division_id, seen = d["parent_id"], seen + 1
        return None

    rows = backend.fetch_arrow(
        "SELECT facility_id, name_romanised, facility_type, authority, division_id FROM facilities"
    ).to_pylist()
    return pa.Table.from_pylist(
        [
            {
                "facility_id": r["facility_id"],
                "facility": r["name_romanised"],
                "facility_type": r["facility_type"],
                "authority": r["authority"],
                "division": by_id.get(r["division_id"], {}).get("name_romanised"),
                "province": province(r["division_id"]),
            }
            for r in rows
        ],
        schema=PLACES_SCHEMA,
    )


def persons(backend: Backend) -> pa.Table:
    """person_id, sex, birth_date, birth_precision (for age bands and sex)."""
    return backend.fetch_arrow(
        "SELECT person_id, sex, birth_date, birth_precision FROM persons"
    ).cast(
        pa.schema(
            [
                ("person_id", pa.string()),
                ("sex", pa.string()),
                ("birth_date", pa.date32()),
                ("birth_precision", pa.string()),
            ]
        )
    )


def categories(backend: Backend) -> pa.Table:
    """person_id, category: each offence category a person has a conviction in."""
    return backend.fetch_arrow(
        "SELECT DISTINCT c.person_id, o.category FROM convictions AS c "
        "JOIN offences AS o ON o.offence_code = c.offence_code"
    ).cast(pa.schema([("person_id", pa.string()), ("category", pa.string())]))
