"""kp-2015: a synthetic DPRK registry shaped like the founding case (October 2015).

Who is where:

- most persons serve terms for common crimes under the Ministry of People's
  Security (MPS) in the 12 penitentiaries or in a city/county centre;
- political prisoners sit in the Ministry of State Security (MSS) camps, with
  political convictions (or none recorded);
- Kaechon internment camp No. 14 (``KP-CAMP-14``) also holds a minority of MPS
  common-crime prisoners: the report's contradiction that docs/semantics.md
  ("Contested readings") makes decrees face.

Dates are shaped around the two 2015 rounds (1 August and 8 October): most
persons are under sentence on both days, some sentences ended in between or
before.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from amnesty.registry.generators import kp_places
from amnesty.registry.generators.common import (
    Columns,
    EventLog,
    IntArray,
    Offence,
    chance,
    day,
    expand,
    first_of_month,
    first_of_year,
    group_min,
    ids,
    offence_catalogue,
    pick,
    quota,
    rng_for,
    take,
    to_arrow,
    uniform_days,
    with_nulls,
    years_before,
)
from amnesty.registry.generators.history import health_table
from amnesty.registry.generators.names import korean_names
from amnesty.registry.profiles import Profile

ROUND_1 = day("2015-08-01")
ROUND_2 = day("2015-10-08")
LAST_START = day("2015-09-30")  # every sentence starts before October 2015
CODE_2004 = day("2004-04-29")  # the revised Criminal Code; the 1999 codes end the day before

# The catalogue is package data: catalogues/kp-2015-offences.csv, one row per code.
# Article numbers are illustrative, not the DPRK Criminal Code's own.
OFFENCES: tuple[Offence, ...] = offence_catalogue("kp-2015")
REPEALED_THEFT, REPEALED_POLITICAL = "CC1999-89", "CC1999-44"

COMMON_CRIME_MIX = {
    "theft": 32,
    "violent_crime": 18,
    "drug_trafficking": 14,
    "illegal_border_crossing": 14,
    "economic": 12,
    "other": 10,
}
POLITICAL_MIX = {"political": 85, "illegal_border_crossing": 10, "economic": 5}
# Term in months drawn uniformly from these ranges, by category.
TERM_MONTHS = {
    "political": (120, 300),
    "theft": (6, 72),
    "violent_crime": (24, 180),
    "drug_trafficking": (36, 180),
    "illegal_border_crossing": (6, 60),
    "economic": (12, 96),
    "other": (3, 36),
}
LIFE_SHARE = {"political": 0.25, "violent_crime": 0.02, "drug_trafficking": 0.01}
REPATRIATION_COUNTRIES = {"CHN": 80, "VNM": 10, "LAO": 5, "MNG": 5}
DECREE_2012 = "KP-2012-AMNESTY"


def offences_table(profile: Profile) -> pa.Table:
    cols = Columns()
    for i, name in enumerate(profile.table("offences").column_names):
        raw = [row[i] for row in OFFENCES]
        cols[name] = (
            [None if v is None else day(v) for v in raw] if name.startswith("valid") else raw
        )
    return to_arrow(profile.table("offences"), cols, len(OFFENCES))


def build(profile: Profile, n: int, seed: int) -> dict[str, pa.Table]:
    divisions = kp_places.divisions_table()
    facilities = kp_places.facilities_table()
    fac_ids: list[str] = facilities.column("facility_id").to_pylist()
    fac_types: list[str] = facilities.column("facility_type").to_pylist()
    pens = np.array([i for i, t in enumerate(fac_types) if t == "penitentiary"])
    locals_ = np.array([i for i, t in enumerate(fac_types) if t.endswith("centre")])
    camps = {fid: i for i, fid in enumerate(fac_ids) if fid.startswith("KP-CAMP-")}

    # --- persons --------------------------------------------------------------
    rng = rng_for(seed, "kp.persons")
    kind = quota(
        rng, n, {"camp_political": 18.0, "camp14_common": 1.5, "penitentiary": 52.0, "local": 28.5}
    )
    facility = np.empty(n, dtype=np.int64)
    is_camp = kind == "camp_political"
    camp_pick = pick(
        rng, n, {"KP-CAMP-14": 35, "KP-CAMP-15": 30, "KP-CAMP-16": 20, "KP-CAMP-25": 15}
    )
    facility[is_camp] = np.array([camps[c] for c in camp_pick[is_camp]], dtype=np.int64)
    facility[kind == "camp14_common"] = camps[kp_places.KAECHON_14]
    facility[kind == "penitentiary"] = rng.choice(pens, size=int((kind == "penitentiary").sum()))
    facility[kind == "local"] = rng.choice(locals_, size=int((kind == "local").sum()))
    authority = np.where(is_camp, "MSS", "MPS")

    sex = quota(rng, n, {"M": 84.8, "F": 15.0, "": 0.2})
    age = np.minimum(17 + rng.gamma(3.0, 6.0, size=n), 75.0)
    birth = years_before(ROUND_2, age) - rng.integers(0, 365, size=n)
    precision = quota(rng, n, {"day": 90, "month": 5, "year": 3, "": 2})
    birth = np.where(precision == "month", first_of_month(birth), birth)
    birth = np.where(precision == "year", first_of_year(birth), birth)
    citizenship = quota(rng, n, {"PRK": 97.5, "CHN": 1.5, "": 1.0})
    name, name_latin = korean_names(rng_for(seed, "kp.names"), sex == "F")
    person_ids = ids("KP-P-", n)

    # --- who has which history ------------------------------------------------
    rng = rng_for(seed, "kp.history")
    no_conviction = quota(rng, n, {"none": 1.0, "some": 99.0}) == "none"
    mps_common = ~is_camp & ~no_conviction
    repatriated = _choose(rng, np.flatnonzero(mps_common), 0.04)
    defector = _choose(rng, np.flatnonzero(~no_conviction), 0.03)
    counts = np.where(no_conviction, 0, pick(rng, n, {1: 20, 2: 30, 3: 30, 4: 20}).astype(np.int64))

    convictions, owner, start = _convictions(
        profile, seed, n, counts, kind, birth, repatriated, defector, person_ids
    )
    admission = group_min(owner, start, n, empty=-1)
    admission = np.where(
        admission < 0, uniform_days(rng, day("2015-01-01"), day("2015-09-20"), n), admission
    )

    persons = Columns()
    persons["person_id"] = person_ids
    persons["name"] = name
    persons["name_romanised"] = name_latin
    persons["sex"] = with_nulls(sex, sex == "")
    persons["birth_date"] = with_nulls(birth, precision == "")
    persons["birth_precision"] = with_nulls(precision, precision == "")
    persons["citizenship"] = with_nulls(citizenship, citizenship == "")
    persons["facility_id"] = take(fac_ids, facility)
    persons["custody_authority"] = pa.array(authority)

    events = _events(
        profile,
        seed,
        person_ids,
        facility,
        fac_ids,
        locals_,
        camps,
        admission,
        repatriated,
        defector,
        is_camp,
    )
    return {
        "divisions": divisions,
        "facilities": facilities,
        "offences": offences_table(profile),
        "persons": to_arrow(profile.table("persons"), persons, n),
        "convictions": convictions,
        "health_assessments": health_table(
            profile,
            rng_for(seed, "kp.health"),
            person_ids,
            admission,
            frail=is_camp,
            last_day=LAST_START,
            id_prefix="KP-H-",
        ),
        "events": events,
    }


def _choose(rng: np.random.Generator, pool: IntArray, share: float) -> IntArray:
    """About ``share`` of ``pool`` (at least one), without repeats, sorted."""
    k = min(len(pool), max(1, round(share * len(pool))))
    return np.sort(rng.choice(pool, size=k, replace=False)) if k else pool[:0]


def _convictions(
    profile: Profile,
    seed: int,
    n: int,
    counts: IntArray,
    kind: np.ndarray,
    birth: IntArray,
    repatriated: IntArray,
    defector: IntArray,
    person_ids: pa.Array,
) -> tuple[pa.Table, IntArray, IntArray]:
    rng = rng_for(seed, "kp.convictions")
    owner, rank = expand(counts)
    m = len(owner)
    political_person = kind[owner] == "camp_political"
    category = np.where(
        political_person, pick(rng, m, POLITICAL_MIX), pick(rng, m, COMMON_CRIME_MIX)
    ).astype(object)
    first = rank == 0
    category[first & political_person] = "political"
    border_first = first & np.isin(owner, np.concatenate([repatriated, defector]))
    category[border_first & ~political_person] = "illegal_border_crossing"

    # Term, life or death.
    lo = np.array([TERM_MONTHS[c][0] for c in category])
    hi = np.array([TERM_MONTHS[c][1] for c in category])
    months = lo + np.floor(rng.random(m) * (hi - lo + 1)).astype(np.int64)
    local = kind[owner] == "local"
    months = np.where(local, rng.integers(1, 13, size=m), months)  # labour training is short
    life_p = np.array([LIFE_SHARE.get(c, 0.0) for c in category])
    sentence = np.where(~local & (rng.random(m) < life_p), "life", "term").astype(object)
    grave = np.isin(category, ["violent_crime", "political"]) & ~local
    death_rows = _choose(rng, np.flatnonzero(grave), 0.001) if m >= 500 else owner[:0]
    sentence[death_rows] = "death"

    # When: the person's main conviction is mostly running in October 2015, other
    # convictions are partly an earlier record that has ended.
    term_days = np.rint(months * 30.44).astype(np.int64)
    state = np.where(
        first,
        pick(rng, m, {"running": 93, "ended_between": 4, "ended_before": 3}),
        pick(rng, m, {"running": 60, "ended_between": 0.001, "ended_before": 40}),
    )
    running_start = ROUND_2 - uniform_days(rng, 8, np.maximum(term_days - 1, 8), m)
    between_end = uniform_days(rng, ROUND_1, ROUND_2 - 1, m)
    before_end = ROUND_1 - uniform_days(rng, 1, 3650, m)
    start = np.where(
        state == "running",
        running_start,
        np.where(state == "ended_between", between_end, before_end) - term_days,
    )
    open_ended = sentence != "term"
    start = np.where(open_ended, ROUND_2 - uniform_days(rng, 30, 7300, m), start)
    # Current codes date from 2004: an earlier start is redrawn into the years after
    # (older cases are the repealed-code ones below), and nobody starts before 15.
    floor = np.maximum(day("2005-07-01"), birth[owner] + 5479)
    start = np.where(start < floor, uniform_days(rng, floor, floor + 3650, m), start)
    start = np.minimum(start, LAST_START)
    offence_date = start - uniform_days(rng, 20, 300, m)

    # The code: by category; pre-2004 offences keep a repealed 1999 code.
    code = _codes_for(rng, category)
    old = _old_convictions(rng, first, category, kind[owner], m)
    old_political = old[category[old] == "political"]
    code[old] = REPEALED_THEFT
    code[old_political] = REPEALED_POLITICAL
    offence_date[old] = uniform_days(rng, day("1999-09-01"), day("2004-03-31"), len(old))
    start[old] = offence_date[old] + uniform_days(rng, 30, 200, len(old))
    months[old] = rng.integers(180, 301, size=len(old))
    sentence[old] = np.where(category[old] == "political", "life", "term")

    aggregated = chance(rng, n, 0.1) & (counts > 1)
    cols = Columns()
    cols["conviction_id"] = ids("KP-C-", m, width=8)
    cols["person_id"] = person_ids.take(pa.array(owner))
    cols["offence_code"] = pa.array(code.astype(str))
    cols["offence_date"] = with_nulls(offence_date, chance(rng, m, 0.03))
    cols["sentence_kind"] = pa.array(sentence.astype(str))
    cols["term_months"] = with_nulls(months, sentence != "term")
    cols["start_date"] = start
    # Every generated date is known to the day: a null precision says so.
    cols["offence_date_precision"] = pa.nulls(m, pa.string())
    cols["start_precision"] = pa.nulls(m, pa.string())
    cols["aggregate_id"] = with_nulls(
        pa.compute.binary_join_element_wise("AGG-", cols.values["person_id"], ""),
        ~aggregated[owner],
    )
    return to_arrow(profile.table("convictions"), cols, m), owner, start


def _codes_for(rng: np.random.Generator, category: np.ndarray) -> np.ndarray:
    code = np.empty(len(category), dtype=object)
    for cat in np.unique(category):
        pool = [c[0] for c in OFFENCES if c[3] == cat and c[7] is None]
        rows = np.flatnonzero(category == cat)
        code[rows] = np.array(pool, dtype=object)[rng.integers(0, len(pool), size=len(rows))]
    return code


def _old_convictions(
    rng: np.random.Generator, first: np.ndarray, category: np.ndarray, kind: np.ndarray, m: int
) -> IntArray:
    """Main convictions from before the 2004 revision, still running: long thefts in the
    penitentiaries and political life terms in the camps."""
    thefts = np.flatnonzero(first & (category == "theft") & (kind == "penitentiary"))
    political = np.flatnonzero(first & (category == "political"))
    picked = [_choose(rng, pool, 0.006) for pool in (thefts, political) if len(pool)]
    return np.sort(np.concatenate(picked)) if picked else np.zeros(0, dtype=np.int64)


def _events(
    profile: Profile,
    seed: int,
    person_ids: pa.Array,
    facility: IntArray,
    fac_ids: list[str],
    locals_: IntArray,
    camps: dict[str, int],
    admission: IntArray,
    repatriated: IntArray,
    defector: IntArray,
    is_camp: np.ndarray,
) -> pa.Table:
    rng = rng_for(seed, "kp.events")
    n = len(facility)
    log = EventLog(
        fac_ids,
        countries=list(REPATRIATION_COUNTRIES),
        decrees=[DECREE_2012],
        notes=["2012 amnesty, in effect 1 February 2012", "sentence served before 2012"],
    )
    everyone = np.arange(n, dtype=np.int64)

    # Some came through another place first: a local centre, or another MSS camp.
    movable = np.flatnonzero(admission < day("2015-06-01"))
    moved = _choose(rng, movable, 0.08) if len(movable) else movable
    camp_list = np.array(sorted(camps.values()))
    previous = np.where(
        is_camp[moved],
        camp_list[(np.searchsorted(camp_list, facility[moved]) + 1) % len(camp_list)],
        locals_[rng.integers(0, len(locals_), size=len(moved))],
    )
    first_facility = facility.copy()
    first_facility[moved] = previous
    log.add("admission", everyone, admission, facility=first_facility)
    moved_on = admission[moved] + uniform_days(
        rng, 10, np.minimum(365, day("2015-09-30") - admission[moved]), len(moved)
    )
    log.add("transfer", moved, moved_on, facility=facility[moved])

    # Sent back from abroad, or caught trying to leave, shortly before admission.
    countries = quota(rng, len(repatriated), REPATRIATION_COUNTRIES)
    country_code = np.array([list(REPATRIATION_COUNTRIES).index(c) for c in countries])
    log.add(
        "repatriation",
        repatriated,
        admission[repatriated] - uniform_days(rng, 3, 90, len(repatriated)),
        country=country_code.astype(np.int64),
    )
    log.add(
        "defection_attempt", defector, admission[defector] - uniform_days(rng, 1, 60, len(defector))
    )

    # An earlier stay that ended with the 2012 amnesty.
    pool = np.flatnonzero(admission >= day("2012-06-01"))
    pardoned = _choose(rng, pool, 0.005) if len(pool) else pool
    earlier = uniform_days(rng, day("2008-01-01"), day("2011-12-31"), len(pardoned))
    log.add(
        "admission",
        pardoned,
        earlier,
        facility=locals_[rng.integers(0, len(locals_), size=len(pardoned))],
        note=1,
    )
    log.add("pardon", pardoned, np.full(len(pardoned), day("2012-02-01")), decree=0, note=0)

    dead = _choose(rng, everyone, 0.004)
    died_on = uniform_days(
        rng, np.maximum(admission[dead] + 1, day("2014-01-01")), day("2015-09-30"), len(dead)
    )
    log.add("death", dead, died_on)

    cols, rows = log.columns(person_ids, "KP-E-")
    return to_arrow(profile.table("events"), cols, rows)
