"""What the imported registry holds: counts for ``amnesty registry show``."""

from __future__ import annotations

from typing import Any

from amnesty.errors import ConfigError
from amnesty.registry.schema import CUSTODY_IN, CUSTODY_OUT, TABLE_NAMES
from amnesty.registry.snapshot import current_snapshot
from amnesty.store.database import Database, DatabaseLike


def _quoted(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{v}'" for v in values)


# The persons held now: whose last custody status event (admission, return, release,
# death, temporary release) is not one that took them out. A person with no status
# event at all is on the registry's rolls and counts as held.
IN_CUSTODY = f"""
WITH status AS (
    SELECT person_id, event_type,
           row_number() OVER (PARTITION BY person_id ORDER BY event_date DESC, event_id DESC) AS n
    FROM events WHERE event_type IN ({_quoted(CUSTODY_IN + CUSTODY_OUT)})
)
SELECT p.person_id, p.facility_id FROM persons p
LEFT JOIN status s ON s.person_id = p.person_id AND s.n = 1
WHERE s.event_type IS NULL OR s.event_type NOT IN ({_quoted(CUSTODY_OUT)})
"""

BY_FACILITY = f"""
WITH held AS ({IN_CUSTODY})
SELECT f.facility_type, f.authority, count(DISTINCT f.facility_id) AS facilities,
       count(p.person_id) AS persons
FROM facilities f LEFT JOIN held p ON p.facility_id = f.facility_id
GROUP BY f.facility_type, f.authority
ORDER BY f.facility_type, f.authority
"""


def by_province(levels: tuple[str, ...]) -> str:
    """Each division's province-level ancestor (itself when it is one): walk up the
    parent chain, keep the ancestors at one of the profile's province ``levels`` (as
    the engine finds ``facility.province``)."""
    return f"""
WITH RECURSIVE held AS ({IN_CUSTODY}),
chain(start_id, division_id) AS (
    SELECT division_id, division_id FROM divisions
    UNION ALL
    SELECT c.start_id, d.parent_id
    FROM chain c JOIN divisions d ON d.division_id = c.division_id
    WHERE d.parent_id IS NOT NULL
),
province_of AS (
    SELECT c.start_id, min(d.division_id) AS province_id
    FROM chain c JOIN divisions d ON d.division_id = c.division_id
    WHERE d.level IN ({_quoted(levels)})
    GROUP BY c.start_id
)
SELECT pv.division_id AS province_id, pv.name_romanised AS province, pv.level,
       count(p.person_id) AS persons
FROM held p
LEFT JOIN facilities f ON f.facility_id = p.facility_id
LEFT JOIN province_of po ON po.start_id = f.division_id
LEFT JOIN divisions pv ON pv.division_id = po.province_id
GROUP BY pv.division_id, pv.name_romanised, pv.level
ORDER BY persons DESC, province_id NULLS LAST
"""


def registry_summary(db: DatabaseLike | None) -> dict[str, Any]:
    """Counts by table, by facility type and authority, by province, and the snapshot.

    A read: a DuckDB path with no file behind it is an error, never a new database.
    """
    with Database.open(db, create=False).raw() as conn:
        return summarise(conn)


def _rows(conn: Any, sql: str) -> list[dict[str, Any]]:
    cur = conn.execute(sql)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def summarise(conn: Any) -> dict[str, Any]:
    """The summary over an open DuckDB or psycopg connection."""
    snapshot = current_snapshot(conn)
    if snapshot is None:
        raise ConfigError(
            "no registry imported in this database yet; run amnesty registry import DIR"
        )
    tables = [
        {"table": name, "rows": int(_rows(conn, f"SELECT count(*) AS n FROM {name}")[0]["n"])}
        for name in TABLE_NAMES
    ]
    imported_at = snapshot.imported_at
    profile = snapshot.profile_object()
    return {
        "snapshot": {
            "snapshot_id": snapshot.snapshot_id,
            "content_hash": snapshot.content_hash,
            "profile": snapshot.profile,
            # The profile's content hash as recorded with the import (older snapshots:
            # the hash of the profile found by name now).
            "profile_hash": snapshot.profile_hash or profile.content_hash,
            "source": snapshot.source,
            "imported_at": imported_at.isoformat() if imported_at is not None else None,
        },
        "tables": tables,
        "by_facility": _rows(conn, BY_FACILITY),
        "by_province": _rows(conn, by_province(profile.province_levels)),
    }
