"""OpenFisca-core, vectorised: the rules as OpenFisca variables with numpy formulas.

The model: the prisoner is a group entity whose members are ``item``s, one per
conviction, per event and per health assessment, plus one placeholder item per
prisoner (OpenFisca's group reductions need every group to have a member). Item
variables hold the registry's columns (nulls as sentinels: '' for text, -1 for
numbers); every quantifier is a group reduction (``max`` over integer codes 2 true /
1 unknown / 0 false, as SEMANTICS.md's three-valued ``any``); the latest event or
assessment is found by ranking items by (date, id) with numpy and projecting the
group's maximum back onto its members.

Untimed: reading Parquet and building the simulation (entities, membership, input
variables). Timed: calculating ``outcome`` and the clause variables for every
prisoner, then the population mask and the grounds and blocking lists (from
per-person bit masks, one lookup per distinct combination). OpenFisca computes no
``unknown`` explanations here: it is checked on outcome, grounds and blocking.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from common import Size

from peers import _canon
from peers._record import AS_OF, GRANTS, OFFENCE_GROUNDS, SCOPE_TYPES

DAY = "2015-10-08"
AS_OF_DAYS = (np.datetime64(AS_OF.isoformat(), "D") - np.datetime64("1970-01-01", "D")).astype(int)
STATUS = ("admission", "return", "release", "death", "temporary_release")
BLOCKS = ("KP-S1", "KP-X1", "KP-X2", "scope")
CATALOGUE: dict[str, np.ndarray] = {}  # offence codes (sorted) and their categories


def _system() -> Any:
    from openfisca_core.entities import build_entity
    from openfisca_core.periods import DAY as PERIOD_DAY
    from openfisca_core.taxbenefitsystems import TaxBenefitSystem
    from openfisca_core.variables import Variable

    item_entity = build_entity(
        key="item", plural="items", label="A conviction, event or assessment", is_person=True
    )
    prisoner_entity = build_entity(
        key="prisoner",
        plural="prisoners",
        label="A person in the registry",
        roles=[{"key": "item", "plural": "items", "label": "item"}],
    )
    variables: list[type] = []

    def var(name: str, entity: Any, vtype: type, formula: Any = None, default: Any = None) -> None:
        attrs: dict[str, Any] = {
            "value_type": vtype,
            "entity": entity,
            "definition_period": PERIOD_DAY,
            "label": name,
        }
        if default is not None:
            attrs["default_value"] = default
        if formula is not None:
            attrs["formula"] = formula
        variables.append(type(name, (Variable,), attrs))

    for name, vtype, default in (
        ("kind", int, 0),  # 0 placeholder, 1 conviction, 2 event, 3 health assessment
        ("code", str, ""),
        ("sentence_kind", str, ""),
        ("term_months", int, -1),
        ("start", int, 0),
        ("ev_type", str, ""),
        ("ev_date", int, 0),
        ("item_id", str, ""),
        ("agg", str, ""),  # conviction's (person, aggregate_id), '' when not aggregated
        ("country", str, ""),
        ("new_end", int, -1),
        ("severity", str, ""),
        ("able", int, -1),
    ):
        var(name, item_entity, vtype, default=default)
    for name in ("facility_type", "facility_id", "authority"):
        var(name, prisoner_entity, str, default="")

    def category(items: Any, period: Any) -> Any:
        codes = items("code", period)
        known, cats = CATALOGUE["codes"], CATALOGUE["categories"]
        pos = np.clip(np.searchsorted(known, codes), 0, len(known) - 1)
        found = (known[pos] == codes) & (items("kind", period) == 1)
        return np.where(found, cats[pos], "")

    def rank(items: Any, period: Any) -> Any:
        """Order of every dated item by (date, id): the latest has the highest rank."""
        kind = items("kind", period)
        date = np.where(kind == 2, items("ev_date", period), items("start", period))
        order = np.lexsort((items("item_id", period), date))
        out = np.empty(len(order), dtype=np.int64)
        out[order] = np.arange(len(order))
        return out

    def on_or_before(items: Any, period: Any) -> Any:
        return items("start", period) <= AS_OF_DAYS  # start holds event/assessment dates too

    def conv_end(items: Any, period: Any) -> Any:
        """Each conviction's end; the convictions of one aggregate are served one after
        another (docs/semantics.md): from the group's earliest start for the sum of its
        terms, so every member carries the group's end."""
        start_day = items("start", period)
        months = items("term_months", period)
        agg = items("agg", period)
        grouped = np.flatnonzero((items("kind", period) == 1) & (agg != ""))
        if grouped.size:
            _, group = np.unique(agg[grouped], return_inverse=True)
            first = np.full(group.max() + 1, np.iinfo(np.int64).max, dtype=np.int64)
            total = np.zeros(group.max() + 1, dtype=np.int64)
            np.minimum.at(first, group, start_day[grouped])
            np.add.at(total, group, np.maximum(months[grouped], 0))
            start_day = start_day.copy()
            months = months.copy()
            start_day[grouped] = first[group]
            months[grouped] = total[group]
        start = start_day.astype("datetime64[D]")
        m = start.astype("datetime64[M]")
        target = m + np.maximum(months, 0).astype("timedelta64[M]")
        last = ((target + 1).astype("datetime64[D]") - 1).astype(int)
        day = (start - m.astype("datetime64[D]")).astype(int)
        return np.minimum(target.astype("datetime64[D]").astype(int) + day, last)

    def code3(cond: Any, unknown: Any, applies: Any) -> Any:
        return np.where(applies, np.where(unknown, 1, np.where(cond, 2, 0)), 0)

    def conv_codes(items: Any, period: Any, values: tuple[str, ...]) -> Any:
        cat = items("category", period)
        is_conv = items("kind", period) == 1
        return code3(np.isin(cat, values), cat == "", is_conv)

    var("category", item_entity, str, category)
    var("rank", item_entity, int, rank)
    var("dated", item_entity, bool, on_or_before)
    var("conv_end_day", item_entity, int, conv_end)

    def latest(p: Any, period: Any, mask_name: str) -> Any:
        """Per item: it is its prisoner's latest item among those ``mask_name`` selects."""
        mask = p.members(mask_name, period)
        key = np.where(mask, p.members("rank", period), -1)
        best = p.project(p.max(key))
        return mask & (key == best)

    def status_item(items: Any, period: Any) -> Any:
        return (
            (items("kind", period) == 2)
            & items("dated", period)
            & np.isin(items("ev_type", period), STATUS)
        )

    def commutation_item(items: Any, period: Any) -> Any:
        return (
            (items("kind", period) == 2)
            & items("dated", period)
            & (items("ev_type", period) == "commutation")
            & (items("new_end", period) >= 0)
        )

    def health_item(items: Any, period: Any) -> Any:
        return (items("kind", period) == 3) & items("dated", period)

    var("is_status", item_entity, bool, status_item)
    var("is_commutation", item_entity, bool, commutation_item)
    var("is_health", item_entity, bool, health_item)

    def in_population(p: Any, period: Any) -> Any:
        st = latest(p, period, "is_status")
        in_custody = p.any(st & np.isin(p.members("ev_type", period), ("admission", "return")))
        kind = p.members("kind", period)
        is_conv = kind == 1
        n = p.sum(is_conv)
        open_ended = p.any(
            is_conv
            & (
                np.isin(p.members("sentence_kind", period), ("life", "death"))
                | (p.members("term_months", period) < 0)
            )
        )
        last_end = p.max(np.where(is_conv, p.members("conv_end_day", period), -(10**9)))
        cm = latest(p, period, "is_commutation")
        new_end = p.max(np.where(cm, p.members("new_end", period), -1))
        end = np.where(new_end >= 0, new_end, np.where(open_ended, -1, last_end))
        ended = (n > 0) & (end >= 0) & (end <= AS_OF_DAYS)
        return in_custody & ~ended

    def health(p: Any, period: Any) -> Any:
        """Latest assessment: severity code (-1 none/unknown, 0 other, 1 severe/terminal)
        * 3 + able code (0 unknown, 1 able, 2 unable)."""
        h = latest(p, period, "is_health")
        sev = p.members("severity", period)
        sev_code = np.where(sev == "", -1, np.isin(sev, ("severe", "terminal")).astype(int))
        able = p.members("able", period)
        able_code = np.where(able < 0, 0, np.where(able == 1, 1, 2))
        has = p.any(h)
        s = p.max(np.where(h, sev_code, -2))
        a = p.max(np.where(h, able_code, -1))
        return np.where(has, (s + 1) * 3 + a, -1)

    def g1(p: Any, period: Any) -> Any:
        return p.max(conv_codes(p.members, period, OFFENCE_GROUNDS))

    def g2(p: Any, period: Any) -> Any:  # unable to work
        h = p("health_code", period)
        a = np.where(h < 0, 0, h % 3)
        return np.where(a == 0, 1, np.where(a == 2, 2, 0))

    def g3(p: Any, period: Any) -> Any:  # severe or terminal
        h = p("health_code", period)
        s = np.where(h < 0, 0, h // 3)  # 0 unknown, 1 other, 2 severe/terminal
        return np.where(s == 0, 1, np.where(s == 2, 2, 0))

    def repatriated(p: Any, period: Any, countries: tuple[str, ...]) -> Any:
        ev = (p.members("kind", period) == 2) & p.members("dated", period)
        rep = ev & (p.members("ev_type", period) == "repatriation")
        country = p.members("country", period)
        return p.max(code3(np.isin(country, countries), country == "", rep))

    def g4(p: Any, period: Any) -> Any:
        upi = repatriated(p, period, ("CHN", "VNM"))
        dnk = repatriated(p, period, ("CHN", "VNM", "LAO", "MNG"))
        return np.where(upi == dnk, upi, 1)

    def g5(p: Any, period: Any) -> Any:
        ev = (p.members("kind", period) == 2) & p.members("dated", period)
        defect = p.any(ev & (p.members("ev_type", period) == "defection_attempt"))
        border = p.max(conv_codes(p.members, period, ("illegal_border_crossing",)))
        return np.where(defect, 2, border)

    def x1(p: Any, period: Any) -> Any:
        a = p("authority", period)
        return np.where(a == "", 1, np.where(a == "MSS", 2, 0))

    def x2(p: Any, period: Any) -> Any:
        return p.max(conv_codes(p.members, period, ("political",)))

    def s1(p: Any, period: Any) -> Any:
        ftype, fid = p("facility_type", period), p("facility_id", period)
        a = np.where(ftype == "", 1, np.where(ftype != "political_prison_camp", 2, 0))
        b = np.where(fid == "", 1, np.where(fid == "KP-CAMP-14", 2, 0))
        return np.maximum(a, b)  # three-valued OR is the maximum of the codes

    def scope(p: Any, period: Any) -> Any:
        ftype = p("facility_type", period)
        return np.where(ftype == "", 1, np.where(np.isin(ftype, SCOPE_TYPES), 2, 0))

    def outcome(p: Any, period: Any) -> Any:
        g = [p(f"g{i}", period) for i in range(1, 6)]
        guards_true = (p("x1", period) == 2) | (p("x2", period) == 2)
        guards_false = (p("s1", period) == 0) | (p("scope", period) == 0)
        guard_unknown = (
            (p("x1", period) == 1)
            | (p("x2", period) == 1)
            | (p("s1", period) == 1)
            | (p("scope", period) == 1)
        )
        no_ground = np.logical_and.reduce([x == 0 for x in g])
        some_true = np.logical_or.reduce([x == 2 for x in g])
        return np.where(
            guards_true | guards_false | no_ground,
            0,  # ineligible
            np.where(guard_unknown | ~some_true, 1, 2),  # review, eligible
        )

    var("in_population", prisoner_entity, bool, in_population)
    var("health_code", prisoner_entity, int, health)
    for name, f in (
        ("g1", g1),
        ("g2", g2),
        ("g3", g3),
        ("g4", g4),
        ("g5", g5),
        ("x1", x1),
        ("x2", x2),
        ("s1", s1),
        ("scope", scope),
        ("outcome", outcome),
    ):
        var(name, prisoner_entity, int, f)

    system = TaxBenefitSystem([item_entity, prisoner_entity])
    for v in variables:
        system.add_variable(v)
    return system


@dataclass
class State:
    simulation: Any
    person_ids: np.ndarray


def _days(arr: pa.ChunkedArray, null: int) -> np.ndarray:
    return pc.fill_null(arr.cast(pa.int32()), null).to_numpy().astype(np.int64)


def _text(arr: pa.ChunkedArray) -> np.ndarray:
    return pc.fill_null(arr, "").to_numpy(zero_copy_only=False).astype(object)


def prepare(size: Size, options: dict[str, str]) -> State:
    from openfisca_core.simulations import SimulationBuilder

    def read(t: str) -> pa.Table:
        return pq.read_table(size.parquet / f"{t}.parquet")

    persons, conv, events, health = (
        read("persons"),
        read("convictions"),
        read("events"),
        read("health_assessments"),
    )
    offences = read("offences").sort_by("offence_code")
    CATALOGUE["codes"] = offences.column("offence_code").to_numpy(zero_copy_only=False).astype(str)
    CATALOGUE["categories"] = (
        offences.column("category").to_numpy(zero_copy_only=False).astype(object)
    )
    facilities = read("facilities")
    ftype_of = dict(
        zip(
            facilities.column("facility_id").to_pylist(),
            facilities.column("facility_type").to_pylist(),
            strict=True,
        )
    )

    pids = persons.column("person_id").to_numpy(zero_copy_only=False).astype(object)
    n = len(pids)
    index = {p: i for i, p in enumerate(pids)}

    def members(t: pa.Table) -> np.ndarray:
        return np.fromiter((index[p] for p in t.column("person_id").to_pylist()), np.int64)

    nc, ne, nh = conv.num_rows, events.num_rows, health.num_rows
    group = np.concatenate([np.arange(n), members(conv), members(events), members(health)])
    kind = np.concatenate([np.zeros(n), np.ones(nc), np.full(ne, 2), np.full(nh, 3)]).astype(int)
    blank = np.full(n, "", dtype=object)

    minus = np.full(n, -1, dtype=np.int64)
    zero = np.zeros(n, dtype=np.int64)
    inputs = {
        "kind": kind,
        "code": np.concatenate(
            [blank, _text(conv.column("offence_code")), np.full(ne + nh, "", dtype=object)]
        ),
        "sentence_kind": np.concatenate(
            [blank, _text(conv.column("sentence_kind")), np.full(ne + nh, "", dtype=object)]
        ),
        "term_months": np.concatenate(
            [minus, _days(conv.column("term_months"), -1), np.full(ne + nh, -1)]
        ),
        # one date column per item: conviction start, event date, assessment date
        "start": np.concatenate(
            [
                zero,
                _days(conv.column("start_date"), 0),
                _days(events.column("event_date"), 0),
                _days(health.column("assessed_on"), 0),
            ]
        ),
        "ev_date": np.concatenate(
            [zero, np.zeros(nc, np.int64), _days(events.column("event_date"), 0), np.zeros(nh)]
        ),
        "ev_type": np.concatenate(
            [
                blank,
                np.full(nc, "", dtype=object),
                _text(events.column("event_type")),
                np.full(nh, "", dtype=object),
            ]
        ),
        "agg": np.concatenate(
            [
                blank,
                np.array(
                    [
                        "" if a is None else f"{p}\x1f{a}"
                        for p, a in zip(
                            conv.column("person_id").to_pylist(),
                            conv.column("aggregate_id").to_pylist(),
                            strict=True,
                        )
                    ],
                    dtype=object,
                ),
                np.full(ne + nh, "", dtype=object),
            ]
        ),
        "item_id": np.concatenate(
            [
                blank,
                _text(conv.column("conviction_id")),
                _text(events.column("event_id")),
                _text(health.column("assessment_id")),
            ]
        ),
        "country": np.concatenate(
            [
                blank,
                np.full(nc, "", dtype=object),
                _text(events.column("country")),
                np.full(nh, "", dtype=object),
            ]
        ),
        "new_end": np.concatenate(
            [minus, np.full(nc, -1), _days(events.column("new_end_date"), -1), np.full(nh, -1)]
        ),
        "severity": np.concatenate(
            [blank, np.full(nc + ne, "", dtype=object), _text(health.column("severity"))]
        ),
        "able": np.concatenate(
            [
                minus,
                np.full(nc + ne, -1),
                pc.fill_null(health.column("able_to_work").cast(pa.int8()), -1)
                .to_numpy()
                .astype(np.int64),
            ]
        ),
    }
    fids = persons.column("facility_id").to_pylist()
    prisoner_inputs = {
        "facility_id": np.array([f or "" for f in fids], dtype=object),
        "facility_type": np.array(
            [(ftype_of.get(f) or "") if f else "" for f in fids], dtype=object
        ),
        "authority": _text(persons.column("custody_authority")),
    }

    system = _system()
    builder = SimulationBuilder()
    builder.create_entities(system)
    builder.declare_person_entity("item", np.arange(len(group)).astype(str))
    prisoners = builder.declare_entity("prisoner", pids.astype(str))
    builder.join_with_persons(prisoners, pids[group].astype(str), np.full(len(group), "item"))
    simulation = builder.build(system)
    for name, values in {**inputs, **prisoner_inputs}.items():
        simulation.set_input(name, DAY, values)
    return State(simulation, pids)


def run(state: State) -> tuple[np.ndarray, ...]:
    sim = state.simulation
    outcome = sim.calculate("outcome", DAY)
    in_pop = sim.calculate("in_population", DAY)
    grants = [sim.calculate(f"g{i}", DAY) == 2 for i in range(1, 6)]
    blocks = [
        sim.calculate("s1", DAY) == 0,
        sim.calculate("x1", DAY) == 2,
        sim.calculate("x2", DAY) == 2,
        sim.calculate("scope", DAY) == 0,
    ]
    idx = np.flatnonzero(in_pop)
    grant_bits = sum((g[idx].astype(np.int64) << i) for i, g in enumerate(grants))
    block_bits = sum((b[idx].astype(np.int64) << i) for i, b in enumerate(blocks))
    grounds = _lists(grant_bits, GRANTS)
    blocking = _lists(block_bits, BLOCKS)
    names = np.array(["ineligible", "review", "eligible"], dtype=object)
    return state.person_ids[idx], names[outcome[idx]], grounds, blocking


def _lists(bits: np.ndarray, labels: tuple[str, ...]) -> list[list[str]]:
    """Bit masks to lists of labels: one Python list per distinct mask, shared."""
    distinct, inverse = np.unique(bits, return_inverse=True)
    table = [[lab for i, lab in enumerate(labels) if (int(d) >> i) & 1] for d in distinct]
    return [table[i] for i in inverse]


def outcomes(state: State, result: tuple[np.ndarray, ...]) -> pa.Table:
    pids, outcome, grounds, blocking = result
    return _canon.from_rows(list(pids), list(outcome), grounds, blocking)
