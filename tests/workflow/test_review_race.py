"""Two reviewers decide the same case at once: one wins, the other gets Conflict.

Two threads of one process on both databases (on PostgreSQL they race on the
unique key; on DuckDB the store serialises writers and the second sees the
first's decision). Nothing half-written: one decision record, one ok event.
"""

from __future__ import annotations

import threading

import pytest
from casework_world import World, build_world

from amnesty.errors import Conflict
from amnesty.workflow import review


@pytest.fixture
def world(backend_url: str) -> World:
    return build_world(backend_url)


def test_two_reviewers_at_once(world: World) -> None:
    start = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def decide(who: str, outcome: str) -> None:
        start.wait()
        try:
            review.decide(world.url, who, world.run_id, "P03", outcome, f"{who} read the file")
            outcomes[who] = "won"
        except Conflict as lost:
            outcomes[who] = str(lost)

    threads = [
        threading.Thread(target=decide, args=("rev1", "eligible")),
        threading.Thread(target=decide, args=("rev2", "ineligible")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(outcomes) == ["rev1", "rev2"]
    winners = [w for w, o in outcomes.items() if o == "won"]
    assert len(winners) == 1
    loser = "rev2" if winners == ["rev1"] else "rev1"
    assert "already decided" in outcomes[loser] and f"by {winners[0]} at" in outcomes[loser]
    assert len(review.case_history(world.url, world.run_id, "P03")) == 1
    ok = world.sql(
        "SELECT count(*) FROM audit_events WHERE action = 'review.decide' AND outcome = 'ok'"
    )
    refused = world.sql(
        "SELECT count(*) FROM audit_events WHERE action = 'review.decide' AND outcome = 'refused'"
    )
    assert (ok[0][0], refused[0][0]) == (1, 1)
