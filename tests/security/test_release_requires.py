"""What a release requires, checked inside its transaction (#9).

Before, one row inserted into ``roster_entries`` released a person the run had
found ineligible: the release trusted the roster. Now the roster's entries must
still be those whose digest its approval recorded, and the decree must still be
signed at the hash the run evaluated, as it stands when the lock is held.
"""

from __future__ import annotations

import pytest
from released_world import IN_WINDOW, World, build_world

from amnesty.audit.verify import verify
from amnesty.errors import AmnestyError
from amnesty.workflow.batches import execute_roster
from amnesty.workflow.releases import record_undertaking
from amnesty.workflow.rosters import approve_roster, prepare_roster


@pytest.fixture
def approved(backend_url: str) -> tuple[World, int]:
    world = build_world(backend_url)
    roster = prepare_roster(world.url, "off1", world.run_id, "F1")
    approve_roster(world.url, "appr1", roster.roster_id)
    record_undertaking(
        world.url, "off1", world.run_id, "P01", "pledge", signed_on=IN_WINDOW, witness="Kim"
    )
    return world, roster.roster_id


def _released(world: World) -> list[str]:
    return sorted(r[0] for r in world.sql("SELECT person_id FROM releases"))


def test_a_row_inserted_into_an_approved_roster_releases_nobody(
    approved: tuple[World, int],
) -> None:
    world, roster_id = approved
    # P04 is at F1 and the run found them ineligible; an intruder adds them
    found = world.sql(
        "SELECT outcome FROM determinations WHERE run_id = :r AND person_id = 'P04'",
        r=world.run_id,
    )
    assert [f[0] for f in found] == ["ineligible"]
    world.sql(
        "INSERT INTO roster_entries (roster_id, person_id, relief) VALUES (:r, 'P04', 'release')",
        r=roster_id,
    )
    report = execute_roster(world.url, "off1", roster_id, release_date=IN_WINDOW)
    assert report.released == []
    reasons = {person: why for person, why in report.stopped}
    assert set(reasons) == {"P01", "P02", "P04", "P06", "P07"}, report  # stopped inside the lock
    assert all("digest recorded at its approval" in why for why in reasons.values())
    assert _released(world) == []
    assert not verify(world.url).ok  # and the auditor is told about the row


def test_a_decree_unsigned_behind_amnesty_releases_nobody(approved: tuple[World, int]) -> None:
    world, roster_id = approved
    world.sql("UPDATE decrees SET status = 'draft', signed_by = NULL, signed_at = NULL")
    with pytest.raises(AmnestyError, match="signed"):
        execute_roster(world.url, "off1", roster_id, release_date=IN_WINDOW)
    assert _released(world) == []
