"""A temporary release given as a period returns that many calendar months after it; a
commutation's new end is the one its decree gives the sentence (#10)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import sqlalchemy as sa
from casework_world import AS_OF, DECREE_TOML, IN_WINDOW, build_world, decree_text

from amnesty.audit.verify import verify
from amnesty.decree import load_text
from amnesty.errors import IllegalTransition
from amnesty.explanation import explain
from amnesty.store.database import as_database
from amnesty.store.engine import get_engine
from amnesty.workflow.batches import execute_roster
from amnesty.workflow.certificate_store import certificate_data
from amnesty.workflow.execution import Sentence, sentence_change
from amnesty.workflow.releases import execute_release
from amnesty.workflow.rosters import approve_roster, prepare_roster

FOR_FOUR_MONTHS = DECREE_TOML.replace(
    'relief = "release"\n', 'relief = "temporary_release"\nfor_months = 4\n', 1
)


def test_the_return_date_is_computed_from_the_release_date(backend_url: str) -> None:
    world = build_world(backend_url, template=FOR_FOUR_MONTHS, relief="temporary_release")
    roster = prepare_roster(world.url, "off1", world.run_id, "F1")
    approve_roster(world.url, "appr1", roster.roster_id)
    execute_release(world.url, "off1", world.run_id, "P02", release_date=IN_WINDOW)
    with get_engine(world.url).connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT event_type, new_end_date FROM events "
                "WHERE person_id = 'P02' AND run_id = :run"
            ),
            {"run": world.run_id},
        ).all()
    # released on IN_WINDOW, 2015-10-08, for four calendar months: back on 2016-02-08
    assert [(t, str(d)) for t, d in rows] == [("temporary_release", "2016-02-08")]


HALF_REMAINING = DECREE_TOML.replace(
    'relief = "release"\n',
    'relief = "commutation"\ncommutation = {{ fraction_of_remaining = "1/2" }}\n',
    1,
)


def _commutation_world(backend_url: str) -> Any:
    world = build_world(backend_url, template=HALF_REMAINING, relief="commutation")
    roster = prepare_roster(world.url, "off1", world.run_id, "F1")
    approve_roster(world.url, "appr1", roster.roster_id)
    return world


def _events_of(world: Any, person: str) -> list[tuple[str, str]]:
    rows = world.sql(
        "SELECT event_type, new_end_date FROM events WHERE person_id = :p AND run_id = :run",
        p=person,
        run=world.run_id,
    )
    return [(t, str(e)) for t, e in rows]


def test_a_commutation_carries_the_new_end_the_decree_gives(backend_url: str) -> None:
    world = _commutation_world(backend_url)
    execute_release(world.url, "off1", world.run_id, "P02", release_date=IN_WINDOW)
    # 60 months from 2012-03-01 end on 2017-03-01; on the as-of date 2015-10-01 17 months
    # remain, half of them kept: 8 months and 15 days, to 2016-06-16
    assert _events_of(world, "P02") == [("commutation", "2016-06-16")]
    # the official may give the same date
    execute_release(
        world.url, "off1", world.run_id, "P06", release_date=IN_WINDOW,
        new_end_date=dt.date(2016, 6, 16),
    )  # fmt: skip
    assert _events_of(world, "P06") == [("commutation", "2016-06-16")]
    # the certificate prints the event's date, and the audit trail replays it
    release_id = world.sql("SELECT release_id FROM releases WHERE person_id = 'P02'")[0][0]
    with get_engine(world.url).connect() as conn:
        assert certificate_data(conn, release_id).new_end_date == "2016-06-16"
    assert verify(world.url).ok


def test_explain_shows_the_new_end_the_release_will_write(backend_url: str) -> None:
    world = build_world(backend_url, template=HALF_REMAINING, relief="commutation")
    with as_database(world.url).raw() as raw:
        told = explain(world.decree, raw, "P02", as_of=AS_OF)
        assert told.why == (
            "eligible for commutation on g-common; new sentence end 2016-06-16 (from 2017-03-01)"
        )
        # a person decided otherwise is told nothing of a new end
        assert "new sentence end" not in explain(world.decree, raw, "P04", as_of=AS_OF).why


def test_a_new_end_date_other_than_the_decrees_is_refused(backend_url: str) -> None:
    world = _commutation_world(backend_url)
    with pytest.raises(IllegalTransition, match=r"2016-06-01 differs .* 2016-06-16"):
        execute_release(
            world.url, "off1", world.run_id, "P02", release_date=IN_WINDOW,
            new_end_date=dt.date(2016, 6, 1),
        )  # fmt: skip
    assert _events_of(world, "P02") == []
    assert world.sql("SELECT count(*) FROM releases")[0][0] == 0
    # the refusal is audited, naming both dates, and the trail still holds
    refused = world.sql(
        "SELECT reason FROM audit_events WHERE entity_id = :e AND outcome = 'refused'",
        e=f"{world.run_id}:P02",
    )
    assert len(refused) == 1 and "2016-06-16" in refused[0][0]
    assert verify(world.url).ok


def test_an_unknown_sentence_end_needs_the_officials_date(backend_url: str) -> None:
    world = _commutation_world(backend_url)
    world.change(
        "convictions",
        # the term not recorded (an unrecorded start would stop the release outright:
        # the conviction might have begun after the as-of date)
        "UPDATE convictions SET term_months = NULL WHERE conviction_id = 'C-P02'",
        key="C-P02",
    )
    with as_database(world.url).raw() as raw:
        why = explain(world.decree, raw, "P02", as_of=AS_OF).why
    assert why.endswith(
        "new sentence end not computable (sentence end unknown): given at the release"
    )
    with pytest.raises(IllegalTransition, match=r"sentence end unknown .* --new-end-date"):
        execute_release(world.url, "off1", world.run_id, "P02", release_date=IN_WINDOW)
    assert _events_of(world, "P02") == []
    assert world.sql("SELECT count(*) FROM releases")[0][0] == 0
    execute_release(
        world.url, "off1", world.run_id, "P02", release_date=IN_WINDOW,
        new_end_date=dt.date(2016, 5, 1),
    )  # fmt: skip
    assert _events_of(world, "P02") == [("commutation", "2016-05-01")]


def _commuting(terms: str) -> Any:
    template = DECREE_TOML.replace(
        'relief = "release"\n', f'relief = "commutation"\ncommutation = {{{{ {terms} }}}}\n', 1
    )
    return load_text(decree_text(template=template), path="kp.toml")


def test_death_to_life_commutes_only_a_death_sentence() -> None:
    decree = _commuting("death_to_life = true")
    death = Sentence(end=None, death=True)
    assert sentence_change(
        decree, ("g-common",), "commutation", None, sentence=death, as_of=AS_OF
    ) == (None, None, "life")
    # a term sentence under a clause that only commutes death: nothing to change, refused
    # rather than recorded as a life sentence
    term = Sentence(end=dt.date(2017, 3, 1), death=False)
    with pytest.raises(IllegalTransition, match="no death sentence"):
        sentence_change(decree, ("g-common",), "commutation", None, sentence=term, as_of=AS_OF)
    # with a cut as well, the term sentence is cut and keeps its kind
    both = _commuting("death_to_life = true, reduce_by_months = 6")
    assert sentence_change(
        both, ("g-common",), "commutation", None, sentence=term, as_of=AS_OF
    ) == (None, dt.date(2016, 9, 1), None)


def test_a_roster_of_commutations_is_released_each_with_their_own_end(backend_url: str) -> None:
    world = build_world(backend_url, template=HALF_REMAINING, relief="commutation")
    world.change(  # P07's sentence is longer: 72 months, ending 2018-03-01
        "convictions",
        "UPDATE convictions SET term_months = 72 WHERE conviction_id = 'C-P07'",
        key="C-P07",
    )
    world.change(
        "convictions",
        "UPDATE convictions SET term_months = NULL WHERE conviction_id = 'C-P06'",
        key="C-P06",
    )
    roster = prepare_roster(world.url, "off1", world.run_id, "F1")
    approve_roster(world.url, "appr1", roster.roster_id)
    report = execute_roster(world.url, "off1", roster.roster_id, release_date=IN_WINDOW)
    assert sorted(report.released) == ["P02", "P07"]
    assert [(p, "sentence end unknown" in why) for p, why in report.stopped] == [("P06", True)]
    assert _events_of(world, "P02") == [("commutation", "2016-06-16")]
    # 29 months left on 2015-10-01, half kept: 14 months 15 days, to 2016-12-16
    assert _events_of(world, "P07") == [("commutation", "2016-12-16")]
    assert _events_of(world, "P06") == []


def test_a_commutation_recorded_after_the_as_of_date_is_not_undone(backend_url: str) -> None:
    world = _commutation_world(backend_url)
    # another decree shortened P02's sentence to 2016-01-01 after this run's as-of date:
    # this run's 2016-06-16 would lengthen it again
    world.change(
        "events",
        "INSERT INTO events (event_id, person_id, event_type, event_date, new_end_date) "
        "VALUES ('E-other', 'P02', 'commutation', DATE '2015-10-05', DATE '2016-01-01')",
        key="E-other",
    )
    with pytest.raises(IllegalTransition, match="commuted after the run's as-of date"):
        execute_release(world.url, "off1", world.run_id, "P02", release_date=IN_WINDOW)
    assert _events_of(world, "P02") == []
