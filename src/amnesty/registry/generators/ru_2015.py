"""ru-2015: a synthetic Russian registry around the Victory-day amnesty (24 April 2015).

Federal subjects carry their ISO 3166-2:RU codes as division ids (``RU-CU``);
each has numbered colonies (``RU-CU-IK-3``), maybe a juvenile colony
(``RU-CU-VK-1``), SIZO (``RU-CU-SIZO-1``) and one probation inspectorate
(``RU-CU-UII``), all under FSIN. Facility numbers are illustrative.

Persons: colony and juvenile-colony inmates serving terms, convicts and pre-trial
detainees (no conviction) in SIZO, and a large share serving suspended, deferred
or non-custodial sentences under a probation inspectorate; the profile's
attributes (veterans, pregnancy, disability, illness, recidivism ...) are filled
with plausible shares and some unknowns.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

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
from amnesty.registry.generators.names import russian_names
from amnesty.registry.profiles import Profile

AS_OF = day("2015-04-24")

# (ISO code, name, romanised, weight, colonies, juvenile colonies, SIZO)
SUBJECTS: tuple[tuple[str, str, str, float, int, int, int], ...] = (
    ("RU-MOW", "Москва", "Moscow", 12, 1, 0, 4),
    ("RU-SPE", "Санкт-Петербург", "Saint Petersburg", 5, 3, 0, 3),
    ("RU-MOS", "Московская область", "Moscow Oblast", 7, 6, 1, 4),
    ("RU-CU", "Чувашская Республика", "Chuvash Republic", 1.2, 5, 1, 2),
    ("RU-TA", "Республика Татарстан", "Republic of Tatarstan", 3, 7, 1, 5),
    ("RU-KEM", "Кемеровская область", "Kemerovo Oblast", 3, 12, 1, 4),
    ("RU-SVE", "Свердловская область", "Sverdlovsk Oblast", 4, 10, 1, 6),
    ("RU-KDA", "Краснодарский край", "Krasnodar Krai", 4, 8, 1, 5),
    ("RU-NVS", "Новосибирская область", "Novosibirsk Oblast", 2.5, 7, 0, 3),
    ("RU-OMS", "Омская область", "Omsk Oblast", 1.8, 7, 0, 3),
    ("RU-PER", "Пермский край", "Perm Krai", 2.5, 12, 1, 5),
    ("RU-BA", "Республика Башкортостан", "Republic of Bashkortostan", 3, 9, 1, 5),
    ("RU-ROS", "Ростовская область", "Rostov Oblast", 3, 9, 0, 5),
    ("RU-CHE", "Челябинская область", "Chelyabinsk Oblast", 3, 10, 1, 4),
    ("RU-IRK", "Иркутская область", "Irkutsk Oblast", 2.5, 12, 1, 6),
    ("RU-KYA", "Красноярский край", "Krasnoyarsk Krai", 2.8, 14, 1, 6),
    ("RU-NIZ", "Нижегородская область", "Nizhny Novgorod Oblast", 2.5, 8, 0, 3),
    ("RU-SAM", "Самарская область", "Samara Oblast", 2.3, 7, 0, 4),
    ("RU-PRI", "Приморский край", "Primorsky Krai", 2, 8, 1, 4),
    ("RU-KO", "Республика Коми", "Komi Republic", 1.5, 12, 0, 2),
    ("RU-VLA", "Владимирская область", "Vladimir Oblast", 1.4, 7, 0, 3),
    ("RU-MO", "Республика Мордовия", "Republic of Mordovia", 1.5, 14, 0, 1),
    ("RU-TVE", "Тверская область", "Tver Oblast", 1.2, 7, 0, 2),
    ("RU-KHA", "Хабаровский край", "Khabarovsk Krai", 1.5, 8, 1, 3),
)

# Criminal Code articles, package data: catalogues/ru-2015-offences.csv, one row per code.
OFFENCES: tuple[Offence, ...] = offence_catalogue("ru-2015")
REPEALED_SMUGGLING = "188-1"

CUSTODIAL_MIX = {
    "theft": 30,
    "drug_trafficking": 22,
    "violent_crime": 16,
    "murder": 9,
    "fraud": 6,
    "other": 6,
    "traffic": 3,
    "bribery": 1.5,
    "crime_against_minors": 2,
    "kidnapping": 0.7,
    "extremism": 0.5,
    "terrorism": 0.3,
    "economic": 1,
}
PROBATION_MIX = {
    "theft": 40,
    "drug_trafficking": 12,
    "violent_crime": 10,
    "fraud": 8,
    "traffic": 10,
    "other": 12,
    "economic": 3,
    "bribery": 2,
    "crime_against_minors": 2,
    "extremism": 1,
}
TERM_BY_GRAVITY = {
    "small": (3, 36),
    "medium": (12, 60),
    "grave": (36, 120),
    "especially_grave": (96, 240),
}
AMNESTIES = (("RU-2010-AMNESTY", "2010-04-22"), ("RU-2013-AMNESTY", "2013-12-18"))


def _places() -> tuple[pa.Table, list[tuple[str, str, str, str, str, str]], list[float]]:
    divisions: list[tuple[str, str | None, str, str, str, bool]] = [
        ("RU", None, "country", "Российская Федерация", "Russian Federation", True)
    ]
    facilities: list[tuple[str, str, str, str, str, str]] = []
    weights: list[float] = []
    for code, name, latin, weight, colonies, juvenile, sizo in SUBJECTS:
        divisions.append((code, "RU", "federal_subject", name, latin, True))
        kinds = [("IK", "ИК", "colony", k) for k in range(1, colonies + 1)]
        kinds += [("VK", "ВК", "juvenile_colony", k) for k in range(1, juvenile + 1)]
        kinds += [("SIZO", "СИЗО", "pre_trial_detention", k) for k in range(1, sizo + 1)]
        for tag, cyr, ftype, k in kinds:
            facilities.append(
                (
                    f"{code}-{tag}-{k}",
                    f"{cyr}-{k} ({name})",
                    f"{tag}-{k} ({latin})",
                    ftype,
                    "FSIN",
                    code,
                )
            )
            weights.append(
                weight
                / {"colony": colonies, "juvenile_colony": juvenile, "pre_trial_detention": sizo}[
                    ftype
                ]
            )
        facilities.append(
            (
                f"{code}-UII",
                f"Уголовно-исполнительная инспекция ({name})",
                f"Criminal executive inspectorate ({latin})",
                "probation_inspectorate",
                "FSIN",
                code,
            )
        )
        weights.append(weight)
    from amnesty.registry.schema import DIVISIONS

    cols = Columns()
    for i, col in enumerate(DIVISIONS.column_names):
        cols[col] = [row[i] for row in divisions]
    return to_arrow(DIVISIONS, cols, len(divisions)), facilities, weights


def build(profile: Profile, n: int, seed: int) -> dict[str, pa.Table]:
    divisions, fac_rows, fac_weights = _places()
    fac_ids = [f[0] for f in fac_rows]
    fac_type = np.array([f[3] for f in fac_rows])
    weights = np.array(fac_weights)

    rng = rng_for(seed, "ru.persons")
    kind = quota(
        rng,
        n,
        {"colony": 44, "juvenile": 1.5, "sizo_convicted": 5, "sizo_pretrial": 6.5, "probation": 43},
    )
    wanted = {
        "colony": "colony",
        "juvenile": "juvenile_colony",
        "sizo_convicted": "pre_trial_detention",
        "sizo_pretrial": "pre_trial_detention",
        "probation": "probation_inspectorate",
    }
    facility = np.empty(n, dtype=np.int64)
    for k, ftype in wanted.items():
        rows = np.flatnonzero(kind == k)
        pool = np.flatnonzero(fac_type == ftype)
        p = weights[pool] / weights[pool].sum()
        facility[rows] = rng.choice(pool, size=len(rows), p=p)

    female = rng.random(n) < np.where(kind == "probation", 0.18, 0.07)
    minor_on_probation = (kind == "probation") & chance(rng, n, 0.01)
    young = (kind == "juvenile") | minor_on_probation
    age = np.where(young, 14.2 + rng.random(n) * 3.7, np.minimum(18 + rng.gamma(2.5, 8.0, n), 85))
    birth = years_before(AS_OF, age) - rng.integers(0, 300, size=n)
    precision = quota(rng, n, {"day": 97, "month": 1, "year": 1, "": 1})
    birth = np.where(precision == "month", first_of_month(birth), birth)
    birth = np.where(precision == "year", first_of_year(birth), birth)
    citizenship = quota(
        rng,
        n,
        {
            "RUS": 94.5,
            "UZB": 1.5,
            "TJK": 1.2,
            "UKR": 1,
            "KAZ": 0.5,
            "AZE": 0.4,
            "ARM": 0.3,
            "KGZ": 0.3,
            "": 0.3,
        },
    )
    name, latin = russian_names(rng_for(seed, "ru.names"), female)
    person_ids = ids("RU-P-", n)

    rng = rng_for(seed, "ru.history")
    counts = np.where(
        kind == "sizo_pretrial", 0, pick(rng, n, {1: 65, 2: 25, 3: 10}).astype(np.int64)
    )
    convictions, owner, start, within_10y = _convictions(
        profile, seed, kind, counts, birth, person_ids
    )
    admission = group_min(owner, start, n, empty=-1)
    admission = np.where(admission < 0, AS_OF - uniform_days(rng, 5, 400, n), admission)

    persons = Columns()
    persons["person_id"] = person_ids
    persons["name"], persons["name_romanised"] = name, latin
    persons["sex"] = pa.array(np.where(female, "F", "M"))
    persons["birth_date"] = with_nulls(birth, precision == "")
    persons["birth_precision"] = with_nulls(precision, precision == "")
    persons["citizenship"] = with_nulls(citizenship, citizenship == "")
    persons["facility_id"] = take(fac_ids, facility)
    persons["custody_authority"] = pa.array(np.full(n, "FSIN"))
    attrs = _attributes(rng, n, kind, female, young, age, counts)
    for key, value in attrs.items():
        persons[key] = value
    frail = np.asarray(attrs["tuberculosis"].fill_null(False)) | (
        np.asarray(attrs["cancer_stage"].fill_null(0)) >= 3
    )
    return {
        "divisions": divisions,
        "facilities": _facilities_table(profile, fac_rows),
        "offences": _offences_table(profile),
        "persons": to_arrow(profile.table("persons"), persons, n),
        "convictions": convictions,
        "health_assessments": health_table(
            profile,
            rng_for(seed, "ru.health"),
            person_ids,
            admission,
            frail=frail,
            last_day=AS_OF - 1,
            id_prefix="RU-H-",
            assessed_share=0.6,
        ),
        "events": _events(
            profile, seed, person_ids, kind, facility, fac_ids, fac_type, admission, within_10y
        ),
    }


def _facilities_table(
    profile: Profile, rows: list[tuple[str, str, str, str, str, str]]
) -> pa.Table:
    cols = Columns()
    for i, col in enumerate(profile.table("facilities").column_names):
        cols[col] = [r[i] for r in rows]
    return to_arrow(profile.table("facilities"), cols, len(rows))


def _offences_table(profile: Profile) -> pa.Table:
    cols = Columns()
    for i, col in enumerate(profile.table("offences").column_names):
        raw = [row[i] for row in OFFENCES]
        cols[col] = [None if v is None else day(v) for v in raw] if col.startswith("valid") else raw
    return to_arrow(profile.table("offences"), cols, len(OFFENCES))


def _convictions(
    profile: Profile,
    seed: int,
    kind: np.ndarray,
    counts: IntArray,
    birth: IntArray,
    person_ids: pa.Array,
) -> tuple[pa.Table, IntArray, IntArray, np.ndarray]:
    """Rank 0 is the current sentence; higher ranks are an earlier, served record."""
    rng = rng_for(seed, "ru.convictions")
    owner, rank = expand(counts)
    m = len(owner)
    current = rank == 0
    on_probation = kind[owner] == "probation"
    category = np.where(
        on_probation & current, pick(rng, m, PROBATION_MIX), pick(rng, m, CUSTODIAL_MIX)
    )
    code = np.empty(m, dtype=object)
    for cat in np.unique(category):
        pool = [o[0] for o in OFFENCES if o[3] == cat and o[7] is None]
        rows = np.flatnonzero(category == cat)
        code[rows] = np.array(pool, dtype=object)[rng.integers(0, len(pool), size=len(rows))]
    smuggling = _some(rng, np.flatnonzero(current & (kind[owner] == "colony")), 0.003)
    code[smuggling] = REPEALED_SMUGGLING
    gravity = {o[0]: o[4] for o in OFFENCES if o[4] is not None}
    lo = np.array([TERM_BY_GRAVITY[gravity[c]][0] for c in code])
    hi = np.array([TERM_BY_GRAVITY[gravity[c]][1] for c in code])
    months = lo + np.floor(rng.random(m) * (hi - lo + 1)).astype(np.int64)
    months = np.where(on_probation & current, rng.integers(6, 49, size=m), months)
    months = np.where(kind[owner] == "juvenile", np.minimum(months, 72), months)
    sentence = np.where(
        on_probation & current,
        pick(rng, m, {"suspended": 55, "deferred": 5, "non_custodial": 40}),
        "term",
    ).astype(object)
    lifers = _some(
        rng,
        np.flatnonzero(
            current & np.isin(code, ["105-1", "205-1", "228.1-4"]) & (kind[owner] == "colony")
        ),
        0.05,
    )
    sentence[lifers] = "life"

    term_days = np.rint(months * 30.44).astype(np.int64)
    running = AS_OF - uniform_days(rng, 8, np.maximum(term_days - 1, 8), m)
    sizo = kind[owner] == "sizo_convicted"
    start = np.where(sizo, AS_OF - uniform_days(rng, 10, 120, m), running)
    ended = ~current | (chance(rng, m, 0.03) & ~on_probation & ~sizo)
    start = np.where(ended, AS_OF - uniform_days(rng, 60, 5000, m) - term_days, start)
    start = np.where(sentence == "life", AS_OF - uniform_days(rng, 365, 6000, m), start)
    start[smuggling] = uniform_days(rng, day("2010-06-01"), day("2011-10-01"), len(smuggling))
    months[smuggling] = rng.integers(48, 61, size=len(smuggling))
    start = np.clip(start, birth[owner] + 5300, AS_OF - 1)
    offence_date = start - uniform_days(rng, 20, 300, m)
    offence_date[smuggling] = start[smuggling] - uniform_days(rng, 20, 150, len(smuggling))
    # The code must be in force on the offence date (the importer's offence_in_force):
    # an old record is moved to the code's first month, the offence no earlier than it.
    valid_from = {o[0]: day(o[6]) for o in OFFENCES}
    in_force = np.array([valid_from[c] for c in code], dtype=np.int64)
    start = np.maximum(start, in_force + 30)
    offence_date = np.maximum(offence_date, in_force)

    only_one = counts[owner] == 1
    first = np.where(current, only_one, rank == counts[owner] - 1)
    has_record = ~only_one & current
    in_custody = has_record & chance(rng, m, 0.08)
    within_10y = has_record & chance(rng, m, 0.06) & (offence_date > day("2010-05-01"))
    cols = Columns()
    cols["conviction_id"] = ids("RU-C-", m, width=8)
    cols["person_id"] = person_ids.take(pa.array(owner))
    cols["offence_code"] = pa.array(code.astype(str))
    cols["offence_date"] = with_nulls(offence_date, chance(rng, m, 0.02))
    cols["sentence_kind"] = pa.array(sentence.astype(str))
    cols["term_months"] = with_nulls(months, sentence == "life")
    cols["start_date"] = start
    # Every generated date is known to the day: a null precision says so.
    cols["offence_date_precision"] = pa.nulls(m, pa.string())
    cols["start_precision"] = pa.nulls(m, pa.string())
    cols["aggregate_id"] = pa.nulls(m, pa.string())
    cols["first_conviction"] = with_nulls(first, chance(rng, m, 0.03))
    cols["committed_in_custody"] = with_nulls(in_custody, chance(rng, m, 0.03))
    cols["within_10y_of_amnesty"] = with_nulls(within_10y, chance(rng, m, 0.03))
    amnestied = np.zeros(len(counts), dtype=bool)
    amnestied[owner[within_10y]] = True
    return to_arrow(profile.table("convictions"), cols, m), owner, start, amnestied


def _some(rng: np.random.Generator, pool: IntArray, share: float) -> IntArray:
    k = min(len(pool), max(1, round(share * len(pool))))
    return np.sort(rng.choice(pool, size=k, replace=False)) if k else pool[:0]


def _attributes(
    rng: np.random.Generator,
    n: int,
    kind: np.ndarray,
    female: np.ndarray,
    young: np.ndarray,
    age: np.ndarray,
    counts: IntArray,
) -> dict[str, pa.Array]:
    """The profile's person attributes: mostly recorded, a few percent unknown."""
    adult_man = ~female & ~young

    def flag(p: np.ndarray | float, unknown: float = 0.04) -> pa.Array:
        return with_nulls(rng.random(n) < p, chance(rng, n, unknown))

    def level(weights: dict[int, float], unknown: float) -> pa.Array:
        return with_nulls(pick(rng, n, weights).astype(np.int64), chance(rng, n, unknown))

    custodial = kind != "probation"
    return {
        "veteran": flag(np.where(adult_man, 0.04, 0.002)),
        "counter_terrorism_service": flag(np.where(adult_man, 0.008, 0.0)),
        "chernobyl": flag(np.where(adult_man & (age > 45), 0.01, 0.0)),
        "pregnant": flag(np.where(female & ~young & (age < 45), 0.08, 0.0)),
        "minor_children": with_nulls(
            np.where(young, 0, rng.poisson(np.where(female, 0.9, 0.6))), chance(rng, n, 0.08)
        ),
        "single_parent": flag(np.where(young, 0.0, np.where(female, 0.2, 0.02)), 0.06),
        "disability_group": level({0: 93.5, 1: 0.5, 2: 2, 3: 4}, 0.06),
        "tuberculosis": flag(np.where(custodial, 0.04, 0.01), 0.05),
        "cancer_stage": level({0: 98.6, 1: 0.4, 2: 0.4, 3: 0.3, 4: 0.3}, 0.06),
        "regime_violator": flag(np.where(custodial, 0.08, 0.005)),
        "dangerous_recidivist": flag(np.where(counts >= 2, 0.06, 0.0), 0.03),
    }


def _events(
    profile: Profile,
    seed: int,
    person_ids: pa.Array,
    kind: np.ndarray,
    facility: IntArray,
    fac_ids: list[str],
    fac_type: np.ndarray,
    admission: IntArray,
    amnestied: np.ndarray,
) -> pa.Table:
    rng = rng_for(seed, "ru.events")
    n = len(kind)
    log = EventLog(
        fac_ids, decrees=[a for a, _ in AMNESTIES], notes=["registered with the inspectorate"]
    )
    everyone = np.arange(n, dtype=np.int64)
    # Most inmates came to the colony from a SIZO of their region, held before trial.
    sizos = np.flatnonzero(fac_type == "pre_trial_detention")
    inmates = np.flatnonzero(np.isin(kind, ["colony", "juvenile"]))
    via_sizo = inmates[chance(rng, len(inmates), 0.6)]
    first_place = facility.copy()
    first_place[via_sizo] = sizos[rng.integers(0, len(sizos), size=len(via_sizo))]
    arrived = admission.copy()
    arrived[via_sizo] = admission[via_sizo] - uniform_days(rng, 30, 300, len(via_sizo))
    probation = kind == "probation"
    log.add(
        "admission", everyone[~probation], arrived[~probation], facility=first_place[~probation]
    )
    log.add(
        "admission", everyone[probation], arrived[probation], facility=facility[probation], note=0
    )
    moved_on = np.minimum(admission[via_sizo] + uniform_days(rng, 10, 60, len(via_sizo)), AS_OF - 1)
    log.add("transfer", via_sizo, moved_on, facility=facility[via_sizo])
    # The earlier amnesty that the within-10-years exclusion looks back to.
    pardoned = np.flatnonzero(amnestied)
    which = (admission[pardoned] > day(AMNESTIES[1][1]) + 200).astype(np.int64)
    when = np.array([day(d) for _, d in AMNESTIES])[which]
    log.add("pardon", pardoned[which == 0], when[which == 0], decree=0)
    log.add("pardon", pardoned[which == 1], when[which == 1], decree=1)
    dead = _some(rng, np.flatnonzero(~probation), 0.002)
    log.add(
        "death",
        dead,
        uniform_days(rng, np.maximum(admission[dead] + 1, day("2014-06-01")), AS_OF - 1, len(dead)),
    )
    cols, rows = log.columns(person_ids, "RU-E-")
    return to_arrow(profile.table("events"), cols, rows)
