"""The release re-check refuses a person whose determination carries a body
(`applied_by`, #10) until that body's decision is recorded."""

from __future__ import annotations

import datetime as dt

from amnesty.workflow.recheck import body_reasons
from amnesty.workflow.review import ReviewRecord

AT = dt.datetime(2019, 1, 2, tzinfo=dt.UTC)


def record(kind: str = "decide", outcome: str | None = "eligible") -> ReviewRecord:
    return ReviewRecord("run-1", "P1", 1, kind, outcome, "the council decided", "rev", AT)


def test_no_body_needs_no_decision() -> None:
    assert body_reasons({"outcome": "eligible", "applied_by": None}, None, "P1") == []
    assert body_reasons({"outcome": "eligible"}, None, "P1") == []


def test_a_body_without_its_decision_is_refused() -> None:
    [why] = body_reasons({"outcome": "eligible", "applied_by": "court"}, None, "P1")
    assert why == (
        "person P1 is decided by the decree's rule but applied by court: "
        "court's decision must be recorded before release"
    )


def test_a_reopened_or_ineligible_decision_does_not_count() -> None:
    today = {"outcome": "review", "applied_by": "council"}
    assert body_reasons(today, record("reopen", None), "P1")
    assert body_reasons(today, record("decide", "ineligible"), "P1")


def test_the_recorded_decision_lets_the_release_go_ahead() -> None:
    assert body_reasons({"outcome": "review", "applied_by": "council"}, record(), "P1") == []
