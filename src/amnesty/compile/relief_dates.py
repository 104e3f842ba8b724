"""A commutation's new sentence end, from the registry's rows and the clause's terms.

Pure date arithmetic, no database: the release (workflow/execution.py) feeds it the
convictions and commutation events it reads inside its own transaction, so the date it
writes comes from the signed decree and the registry, never from a stored value a user
could edit. The rules are docs/semantics.md, "Commutations"; the sentence end is the
engine's ``sentence.end`` (docs/engine.md, "Facts and dates").
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from fractions import Fraction
from typing import Any

from amnesty.compile.interpreter import shift_months
from amnesty.decree.model import CommutationTerms

# a month's remainder of days counts a month as 30 days, as fractions in calendar months
# do (docs/semantics.md, "Fractions in calendar months")
DAYS_PER_MONTH = 30


def sentence_end(
    convictions: Sequence[Mapping[str, Any]],
    commutations: Sequence[Mapping[str, Any]],
    as_of: dt.date,
) -> dt.date | None:
    """The person's ``sentence.end`` on ``as_of``; None when it is unknown or has none.

    The latest commutation with a new end date on or before ``as_of`` (by date, then
    event id) decides; else the latest end of the sentence's parts (a conviction alone,
    or an aggregate: its earliest start plus the sum of its terms), unknown as soon as
    one part's is (life, death, a start or a term not recorded).
    """
    commuted = [
        e for e in commutations if e.get("new_end_date") is not None and e["event_date"] <= as_of
    ]
    if commuted:
        latest = max(commuted, key=lambda e: (e["event_date"], e["event_id"]))
        return latest["new_end_date"]
    if not convictions:
        return None
    groups: dict[Any, list[Mapping[str, Any]]] = {}
    parts: list[list[Mapping[str, Any]]] = []
    for c in convictions:
        if c.get("aggregate_id") is None:
            parts.append([c])
        else:
            groups.setdefault(c["aggregate_id"], []).append(c)
    parts.extend(groups.values())
    ends = []
    for members in parts:
        starts = [m.get("start_date") for m in members]
        terms = [
            None if m["sentence_kind"] in ("life", "death") else m.get("term_months")
            for m in members
        ]
        if None in starts or None in terms:
            return None
        ends.append(shift_months(min(starts), sum(terms)))  # type: ignore[type-var,arg-type]
    return max(ends)


def remaining_months(as_of: dt.date, end: dt.date) -> tuple[int, int]:
    """The term left from ``as_of`` to ``end``: whole calendar months, then days."""
    months = (end.year - as_of.year) * 12 + end.month - as_of.month
    if shift_months(as_of, months) > end:
        months -= 1
    return months, (end - shift_months(as_of, months)).days


def commuted_end(end: dt.date | None, as_of: dt.date, terms: CommutationTerms) -> dt.date | None:
    """The new sentence end the cut in ``terms`` gives a sentence ending ``end``.

    None when ``end`` is None (life, death, or not recorded: nothing to cut from) or
    ``terms`` has no cut. A cut never lengthens the sentence and never ends it before
    ``as_of``: a reduction longer than what remains leaves nothing to serve, the
    sentence ends on the as-of date.
    """
    if end is None:
        return None
    if end <= as_of:
        return end  # already served: nothing remains to cut
    if terms.to_months is not None:
        return min(end, shift_months(as_of, terms.to_months))
    if terms.reduce_by_months is not None:
        return max(as_of, shift_months(end, -terms.reduce_by_months))
    if terms.fraction_of_remaining is not None:
        months, days = remaining_months(as_of, end)
        kept = (months + Fraction(days, DAYS_PER_MONTH)) * (
            1 - Fraction(terms.fraction_of_remaining)
        )
        whole = math.floor(kept)
        # days rounded up: the person serves the fraction's last part day in full
        rest = math.ceil((kept - whole) * DAYS_PER_MONTH)
        return min(end, shift_months(as_of, whole) + dt.timedelta(days=rest))
    return None
