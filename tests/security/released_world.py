"""A world in which one roster was executed: the starting point of every audit attack."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from casework_world import IN_WINDOW, World, build_world

from amnesty.store.db import DatabaseURL
from amnesty.workflow.releases import execute_roster, record_undertaking
from amnesty.workflow.rosters import approve_roster, prepare_roster

RELEASED = ["P01", "P02", "P06", "P07"]  # F1's eligible persons in the casework world


@dataclass
class Released:
    world: World
    roster_id: int

    @property
    def url(self) -> DatabaseURL:
        return self.world.url


def released_world(url: str | DatabaseURL) -> Released:
    world = build_world(url)
    roster = prepare_roster(world.url, "off1", world.run_id, "F1")
    approve_roster(world.url, "appr1", roster.roster_id)
    record_undertaking(
        world.url, "off1", world.run_id, "P01", "pledge", signed_on=IN_WINDOW, witness="Kim"
    )
    report = execute_roster(world.url, "off1", roster.roster_id, release_date=IN_WINDOW)
    assert sorted(report.released) == RELEASED, report
    return Released(world, roster.roster_id)


def key_file(folder: Path) -> Path:
    return folder / "audit.key"
