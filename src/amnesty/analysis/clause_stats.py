"""Clause statistics of a run: what each clause did to whom.

For every clause of the decree (and ``scope``): how many persons it held for
(a grant or exclude true, a require false, a refer true or unknown), how many
it was unknown for, and how many it *decided*:

* a grant decided the eligible persons whose relief it gave (the best-ranked
  true grant, file order on ties, as step 8 of docs/semantics.md picks it);
* an exclude or require decided the ineligible persons it blocks;
* a refer decided the persons in review it referred.

A clause that decided nobody is listed as such; a grant is *shadowed* when it
held for someone and every person it held for was blocked by an exclude or a
require.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from amnesty.backends.duckdb import scratch
from amnesty.decree.model import Decree


def clause_stats(determinations: pa.Table, decree: Decree) -> dict[str, Any]:
    ranking = list(decree.relief_ranking)
    grants = [c for c in decree.clauses if c.kind == "grant"]

    def rank(relief: str | None) -> int:
        return ranking.index(relief) if relief in ranking else len(ranking)

    # the grant that gave an eligible person's relief: first by ranking, then file order
    order = sorted(range(len(grants)), key=lambda i: (rank(grants[i].relief or "release"), i))
    deciding_grant = " ".join(
        f"WHEN list_contains(grounds, '{grants[i].id}') THEN '{grants[i].id}'" for i in order
    )
    con = scratch()
    try:
        con.register(
            "d", determinations.select(["outcome", "grounds", "blocking", "referred", "unknown"])
        )
        held = dict(
            con.sql(
                """SELECT c, count(*) FROM (
                     SELECT unnest(list_concat(grounds, blocking, referred)) AS c FROM d)
                   GROUP BY c"""
            ).fetchall()
        )
        unknown = dict(
            con.sql(
                "SELECT u.clause, count(*) FROM (SELECT unnest(unknown) AS u FROM d) GROUP BY 1"
            ).fetchall()
        )
        decided: dict[str, int] = {}
        if deciding_grant:
            decided.update(
                con.sql(
                    f"""SELECT CASE {deciding_grant} END AS g, count(*) FROM d
                        WHERE outcome = 'eligible' GROUP BY g"""
                ).fetchall()
            )
        for kind_list, outcome in (("blocking", "ineligible"), ("referred", "review")):
            for cid, n in con.sql(
                f"""SELECT c, count(*) FROM (SELECT unnest({kind_list}) AS c FROM d
                    WHERE outcome = '{outcome}') GROUP BY c"""
            ).fetchall():
                decided[cid] = decided.get(cid, 0) + n
        blocked_holders = dict(
            con.sql(
                """SELECT g, count(*) FROM (SELECT unnest(grounds) AS g FROM d
                   WHERE len(blocking) > 0) GROUP BY g"""
            ).fetchall()
        )
    finally:
        con.close()
    ids = [c.id for c in decree.clauses]
    kinds = {c.id: c.kind for c in decree.clauses}
    if "scope" in held or decree.scope.predicate is not None:
        ids.append("scope")
        kinds["scope"] = "require"
    rows = []
    for cid in ids:
        holds = int(held.get(cid, 0))
        rows.append(
            {
                "clause": cid,
                "kind": kinds[cid],
                "held_for": holds,
                "unknown_for": int(unknown.get(cid, 0)),
                "decided": int(decided.get(cid) or 0),
                "shadowed": kinds[cid] == "grant"
                and holds > 0
                and int(blocked_holders.get(cid, 0)) == holds,
            }
        )
    return {
        "clauses": rows,
        "decided_nobody": [r["clause"] for r in rows if r["decided"] == 0],
        "shadowed_grants": [r["clause"] for r in rows if r["shadowed"]],
    }
