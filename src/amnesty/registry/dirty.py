"""Fault injection: damage a generated registry on purpose, and say exactly where.

``amnesty registry generate --dirty RATE`` passes the clean tables through
:func:`inject`, which returns damaged copies plus one :class:`Fault` per damaged
cell. The importer's tests read ``dirty_manifest.json`` and assert that each
fault is reported at its table, row and column.

Each fault lands in its own row (rows are reserved per table), and faults are
placed so that one never causes another: duplicated ids are never referenced,
the invalid validity range sits on an extra catalogue row no conviction uses,
and events that date an admission are left intact because
``birth_after_admission`` is measured against them.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from amnesty.registry.generators.common import IntArray, rng_for, to_date
from amnesty.registry.profiles import Profile

FAULT_CLASSES: dict[str, str] = {
    "missing_required": "a column declared not nullable holds a null",
    "not_in_vocabulary": "a value outside the column's closed vocabulary",
    "below_minimum": "an INTEGER below the column's min_value (a negative term)",
    "dangling_reference": "a foreign key naming a row that does not exist "
    "(person, facility or division)",
    "unknown_offence_code": "convictions.offence_code not in the offence catalogue",
    "duplicate_key": "a key value repeating the previous row's (the later row is listed)",
    "offence_after_start": "check offence_before_start: offence_date after start_date",
    "precision_without_date": "check precision_with_date: a birth_date without birth_precision",
    "invalid_validity_range": "check valid_range: an offence code with valid_to before valid_from",
    "repealed_code_used": "a conviction under a repealed code with offence_date after its valid_to",
    "birth_after_admission": "a person's birth_date after their first admission event",
}


@dataclass(frozen=True)
class Fault:
    fault: str  # a key of FAULT_CLASSES
    table: str
    row: int  # 1-based data row in the written Parquet file
    column: str
    value: Any  # the value written (None for a null), JSON-ready

    def as_json(self) -> dict[str, Any]:
        value = self.value.isoformat() if isinstance(self.value, dt.date) else self.value
        return {
            "fault": self.fault,
            "table": self.table,
            "row": self.row,
            "column": self.column,
            "value": value,
        }


def inject(
    profile: Profile, tables: dict[str, pa.Table], rate: float, seed: int
) -> tuple[dict[str, pa.Table], list[Fault]]:
    """Damaged copies of ``tables`` and the list of faults, in FAULT_CLASSES order.

    About ``rate`` x persons faults in all, spread evenly over the classes, and at
    least one of each class whatever the size.
    """
    d = _Damage(tables, rate, seed)
    d.run()
    return d.finish(), d.faults


class _Damage:
    def __init__(self, tables: dict[str, pa.Table], rate: float, seed: int) -> None:
        self.tables = dict(tables)
        self.rng = rng_for(seed, "dirty")
        persons = tables["persons"].num_rows
        self.per_class = max(1, round(rate * persons / len(FAULT_CLASSES)))
        self.used = {name: np.zeros(t.num_rows, dtype=bool) for name, t in tables.items()}
        self.cells: dict[tuple[str, str], dict[int, Any]] = defaultdict(dict)
        self.appended: list[dict[str, Any]] = []
        self.faults: list[Fault] = []

    # --- helpers ---------------------------------------------------------------
    def col(self, table: str, column: str) -> np.ndarray:
        return np.asarray(self.tables[table].column(column).to_numpy(zero_copy_only=False))

    def claim(self, table: str, candidates: IntArray, k: int) -> IntArray:
        """Up to ``k`` rows of ``candidates`` no other fault uses, now reserved."""
        free = candidates[~self.used[table][candidates]]
        picked = np.sort(self.rng.choice(free, size=min(k, len(free)), replace=False))
        self.used[table][picked] = True
        return picked

    def put(
        self, fault: str, table: str, column: str, rows: IntArray, values: Callable[[int], Any]
    ) -> None:
        for r in rows.tolist():
            value = values(r)
            self.cells[(table, column)][r] = value
            self.faults.append(Fault(fault, table, r + 1, column, value))

    def split(self, sites: int) -> list[int]:
        """How many faults of a class go to each of its sites: one each, the rest first."""
        counts = [1] * sites
        counts[0] += max(0, self.per_class - sites)
        return counts

    def rows(self, table: str) -> IntArray:
        return np.arange(self.tables[table].num_rows, dtype=np.int64)

    # --- the classes --------------------------------------------------------------
    def run(self) -> None:
        conv = self.tables["convictions"]
        kind = self.col("convictions", "sentence_kind")
        term_rows = np.flatnonzero(kind == "term")
        not_admission = np.flatnonzero(self.col("events", "event_type") != "admission")
        offences = self.tables["offences"]
        codes = set(offences.column("offence_code").to_pylist())
        valid_to = dict(
            zip(
                offences.column("offence_code").to_pylist(),
                offences.column("valid_to").to_pylist(),
                strict=True,
            )
        )
        repealed = {c: v for c, v in valid_to.items() if v is not None}

        k = self.split(4)
        self.put(
            "missing_required",
            "persons",
            "name",
            self.claim("persons", self.rows("persons"), k[0]),
            lambda r: None,
        )
        self.put(
            "missing_required",
            "convictions",
            "sentence_kind",
            self.claim("convictions", self.rows("convictions"), k[1]),
            lambda r: None,
        )
        self.put(
            "missing_required",
            "events",
            "event_date",
            self.claim("events", not_admission, k[2]),
            lambda r: None,
        )
        self.put(
            "missing_required",
            "facilities",
            "division_id",
            self.claim("facilities", self.rows("facilities"), k[3]),
            lambda r: None,
        )

        k = self.split(3)
        self.put(
            "not_in_vocabulary",
            "persons",
            "sex",
            self.claim("persons", self.rows("persons"), k[0]),
            lambda r: "X",
        )
        self.put(
            "not_in_vocabulary",
            "convictions",
            "sentence_kind",
            self.claim("convictions", term_rows, k[1]),
            lambda r: "prison",
        )
        self.put(
            "not_in_vocabulary",
            "events",
            "event_type",
            self.claim("events", not_admission, k[2]),
            lambda r: "escape",
        )

        months = self.col("convictions", "term_months")
        self.put(
            "below_minimum",
            "convictions",
            "term_months",
            self.claim("convictions", term_rows, self.per_class),
            lambda r: -int(months[r]),
        )

        n_persons = self.tables["persons"].num_rows
        person_prefix = str(self.tables["persons"].column("person_id")[0])[:5]
        k = self.split(3)
        self.put(
            "dangling_reference",
            "convictions",
            "person_id",
            self.claim("convictions", self.rows("convictions"), k[0]),
            lambda r: f"{person_prefix}{n_persons + 1 + r:07d}",
        )
        self.put(
            "dangling_reference",
            "persons",
            "facility_id",
            self.claim("persons", self.rows("persons"), k[1]),
            lambda r: f"{person_prefix[:2]}-GONE-{r + 1}",
        )
        self.put(
            "dangling_reference",
            "facilities",
            "division_id",
            self.claim("facilities", self.rows("facilities"), k[2]),
            lambda r: f"{person_prefix[:2]}-99",
        )

        self.put(
            "unknown_offence_code",
            "convictions",
            "offence_code",
            self.claim("convictions", self.rows("convictions"), self.per_class),
            lambda r: "999-9" if "999-9" not in codes else "999-99",
        )

        k = self.split(3)
        for i, (table, key) in enumerate(
            (
                ("convictions", "conviction_id"),
                ("events", "event_id"),
                ("health_assessments", "assessment_id"),
            )
        ):
            n = self.tables[table].num_rows
            odd = np.arange(1, n, 2, dtype=np.int64)
            odd = odd[~self.used[table][odd] & ~self.used[table][odd - 1]]
            picked = self.claim(table, odd, k[i])
            self.used[table][picked - 1] = True
            keys: list[str] = self.tables[table].column(key).to_pylist()
            self.put("duplicate_key", table, key, picked, _previous_of(keys))

        offence_date = conv.column("offence_date")
        start = conv.column("start_date")
        dated = pc.and_(pc.is_valid(offence_date), pc.is_valid(start)).to_numpy(
            zero_copy_only=False
        )
        current = ~np.isin(self.col("convictions", "offence_code"), list(repealed))
        start_py = self.col("convictions", "start_date")
        self.put(
            "offence_after_start",
            "convictions",
            "offence_date",
            self.claim("convictions", np.flatnonzero(dated & current), self.per_class),
            lambda r: _as_date(start_py[r]) + dt.timedelta(days=30),
        )

        birth = self.col("persons", "birth_date")
        known_birth = np.flatnonzero(pc.is_valid(self.tables["persons"].column("birth_date")))
        self.put(
            "precision_without_date",
            "persons",
            "birth_precision",
            self.claim("persons", known_birth, self.per_class),
            lambda r: None,
        )

        self._validity_range(offences)
        if repealed:
            code, ends = sorted(repealed.items())[0]
            offence_days = self.col("convictions", "offence_date")
            later = np.flatnonzero(dated & current & (offence_days > np.datetime64(ends)))
            self.put(
                "repealed_code_used",
                "convictions",
                "offence_code",
                self.claim("convictions", later, self.per_class),
                lambda r: code,
            )

        admitted = self._first_admission()
        has_both = np.flatnonzero(~np.isnat(birth.astype("datetime64[D]")) & (admitted >= 0))
        self.put(
            "birth_after_admission",
            "persons",
            "birth_date",
            self.claim("persons", has_both, self.per_class),
            lambda r: to_date(int(admitted[r]) + 100),
        )

    def _validity_range(self, offences: pa.Table) -> None:
        """Extra catalogue rows, never used by a conviction, so no conviction inherits
        the broken range."""
        n = offences.num_rows
        for i in range(min(self.per_class, 3)):
            code = f"BROKEN-{i + 1}"
            row: dict[str, Any] = {c: None for c in offences.column_names}
            row.update(
                offence_code=code,
                title=code,
                title_romanised=code,
                category="other",
                valid_from=dt.date(2010, 1, 1),
                valid_to=dt.date(2009, 12, 31),
            )
            self.appended.append(row)
            self.faults.append(
                Fault("invalid_validity_range", "offences", n + i + 1, "valid_to", row["valid_to"])
            )

    def _first_admission(self) -> IntArray:
        """Per person row, the day of their earliest admission event, -1 if none."""
        events = self.tables["events"]
        admissions = events.filter(pc.equal(events.column("event_type"), "admission"))
        first = admissions.group_by("person_id").aggregate([("event_date", "min")])
        where = pc.index_in(self.tables["persons"].column("person_id"), first.column("person_id"))
        days = first.column("event_date_min").cast(pa.int32()).to_numpy(zero_copy_only=False)
        idx = where.to_numpy(zero_copy_only=False)
        found = ~np.isnan(idx.astype(float))
        out = np.full(len(idx), -1, dtype=np.int64)
        out[found] = days[idx[found].astype(np.int64)]
        return out

    def finish(self) -> dict[str, pa.Table]:
        out = dict(self.tables)
        for (table, column), cells in self.cells.items():
            t = out[table]
            rows = np.array(sorted(cells), dtype=np.int64)
            mask = np.zeros(t.num_rows, dtype=bool)
            mask[rows] = True
            i = t.schema.get_field_index(column)
            arr = t.column(i).combine_chunks()
            replacement = pa.array([cells[r] for r in rows.tolist()], type=arr.type)
            out[table] = t.set_column(
                i, t.schema.field(i), pc.replace_with_mask(arr, pa.array(mask), replacement)
            )
        if self.appended:
            extra = pa.Table.from_pylist(self.appended, schema=out["offences"].schema)
            out["offences"] = pa.concat_tables([out["offences"], extra])
        return out


def _as_date(value: Any) -> dt.date:
    if isinstance(value, dt.date):
        return value
    return to_date(int(np.datetime64(value, "D").astype(np.int64)))


def _previous_of(keys: list[str]) -> Callable[[int], Any]:
    return lambda r: keys[r - 1]
