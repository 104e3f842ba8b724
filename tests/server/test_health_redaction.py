"""Determination rows do not tell a caller who may not read health data of a health referral.

P03 of the served world is referred on ``r-health`` (``health.severity = "severe"``).
A reviewer sees the clause id; an analyst and a facility officer see the outcome
and ``(health)`` in its place, in the list, the export and the web page, and a
filter on that clause is refused rather than listing whom it holds for.
"""

from __future__ import annotations

from serving import Served

from amnesty.server.api.common import HEALTH_REDACTED


def _p03(s: Served, user: str) -> dict[str, object]:
    page = s.call(user, "GET", f"/api/runs/{s.world.run_id}/determinations?limit=1000")
    assert page.status_code == 200, page.text
    rows = {r["person_id"]: r for r in page.json()["items"]}
    return rows["P03"]


def test_a_health_referral_is_redacted_for_those_who_may_not_read_it(shared_duck: Served) -> None:
    s = shared_duck
    run = s.world.run_id
    assert _p03(s, "rev1")["referred"] == ["r-health"]
    for user in ("analyst", "off1"):
        row = _p03(s, user)
        assert row["outcome"] == "review" and row["referred"] == [HEALTH_REDACTED], user
        exported = s.call(user, "GET", f"/api/runs/{run}/determinations/export?format=csv")
        assert exported.status_code == 200 and "P03" in exported.text
        assert "r-health" not in exported.text and HEALTH_REDACTED in exported.text
        refused = s.call(user, "GET", f"/api/runs/{run}/determinations?ground=r-health")
        assert refused.status_code == 403 and "r-health" not in refused.text
        shown = s.call(user, "GET", f"/determinations?run={run}")
        assert shown.status_code == 200 and "P03" in shown.text
        assert "r-health" not in shown.text
        assert s.call(user, "GET", f"/determinations?run={run}&ground=r-health").status_code == 403
    exported = s.call("rev1", "GET", f"/api/runs/{run}/determinations/export?format=csv")
    assert "r-health" in exported.text
    assert "r-health" in s.call("rev1", "GET", f"/determinations?run={run}").text
