"""Tables every profile fills the same way: health assessments."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from amnesty.registry.generators.common import (
    BoolArray,
    Columns,
    IntArray,
    chance,
    expand,
    ids,
    pick,
    to_arrow,
    uniform_days,
    with_nulls,
)
from amnesty.registry.profiles import Profile

_SEVERITY = {"none": 40, "mild": 27, "moderate": 17, "severe": 9, "terminal": 2, "": 5}
_SEVERITY_FRAIL = {"none": 20, "mild": 25, "moderate": 25, "severe": 20, "terminal": 5, "": 5}
_FIT_FOR_WORK = {
    "none": 0.95,
    "mild": 0.85,
    "moderate": 0.5,
    "severe": 0.1,
    "terminal": 0.0,
    "": 0.6,
}


def health_table(
    profile: Profile,
    rng: np.random.Generator,
    person_ids: pa.Array,
    admission: IntArray,
    frail: BoolArray,
    last_day: int,
    id_prefix: str,
    assessed_share: float = 0.9,
) -> pa.Table:
    """Most persons assessed once, some several times on different days, some never
    (their health is unknown, not good). ``frail`` persons are sicker."""
    n = len(admission)
    assessed = chance(rng, n, assessed_share)
    counts = np.where(assessed, pick(rng, n, {1: 75, 2: 18, 3: 7}).astype(np.int64), 0)
    owner, rank = expand(counts)
    m = len(owner)
    first_possible = np.minimum(np.maximum(admission[owner], last_day - 1000), last_day - 10)
    # Later assessments come later: spread each person's dates over disjoint slices.
    span = np.maximum((last_day - first_possible) // 3, 1)
    assessed_on = first_possible + rank * span + uniform_days(rng, 0, span - 1, m)
    severity = np.where(frail[owner], pick(rng, m, _SEVERITY_FRAIL), pick(rng, m, _SEVERITY))
    fit_p = np.array([_FIT_FOR_WORK[s] for s in severity])
    able = rng.random(m) < fit_p
    cols = Columns()
    cols["assessment_id"] = ids(id_prefix, m, width=8)
    cols["person_id"] = person_ids.take(pa.array(owner))
    cols["assessed_on"] = np.minimum(assessed_on, last_day)
    cols["severity"] = with_nulls(severity.astype(str), severity == "")
    cols["able_to_work"] = with_nulls(able, chance(rng, m, 0.05))
    return to_arrow(profile.table("health_assessments"), cols, m)
