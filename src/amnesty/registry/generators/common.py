"""Vectorised building blocks shared by the profile generators.

Everything here works on whole columns at once (numpy arrays, pyarrow arrays):
the generator must produce a million persons in seconds, so nothing loops over rows
in Python. Dates are carried as ``int32`` days since 1970-01-01 (numpy's
``datetime64[D]`` epoch, the same as Arrow's ``date32``), which makes date
arithmetic plain integer arithmetic.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from amnesty.registry.schema import BOOLEAN, DATE, DOUBLE, EVENT_TYPES, INTEGER, VARCHAR, Table

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
ColumnValue: TypeAlias = pa.Array | pa.ChunkedArray | npt.NDArray[Any] | Sequence[Any]

ARROW_TYPES: dict[str, pa.DataType] = {
    VARCHAR: pa.string(),
    INTEGER: pa.int32(),
    BOOLEAN: pa.bool_(),
    DATE: pa.date32(),
    DOUBLE: pa.float64(),
}

_EPOCH = dt.date(1970, 1, 1)
DAYS_PER_MONTH = 30.436875  # mean Gregorian month; only used to shape distributions


def day(value: str | dt.date) -> int:
    """Days since 1970-01-01 for an ISO date (or a date)."""
    d = dt.date.fromisoformat(value) if isinstance(value, str) else value
    return (d - _EPOCH).days


def to_date(days: int) -> dt.date:
    return _EPOCH + dt.timedelta(days=int(days))


def rng_for(seed: int, stream: str) -> np.random.Generator:
    """An independent random stream per purpose, so that a change to how one table is
    drawn never shifts the draws of another (and so the other files stay byte-identical)."""
    tag = [ord(ch) for ch in stream]
    return np.random.default_rng([seed, *tag])


def quota(
    rng: np.random.Generator, n: int, shares: Mapping[str, float], at_least_one: bool = True
) -> npt.NDArray[np.str_]:
    """``n`` labels in exactly the given shares (rounded), shuffled.

    Exact counts rather than independent draws, so that even a small registry has
    every kind of person the tests and decrees look for (``at_least_one`` for any
    share above zero when ``n`` allows).
    """
    labels = list(shares)
    weights = np.array([shares[k] for k in labels], dtype=float)
    counts = np.floor(weights / weights.sum() * n).astype(np.int64)
    if at_least_one and n >= len(labels):
        counts = np.where((weights > 0) & (counts == 0), 1, counts)
    # Give the remainder (or take the excess) from the largest group.
    counts[int(np.argmax(counts))] += n - int(counts.sum())
    out = np.repeat(np.array(labels), counts)
    rng.shuffle(out)
    return out


def pick(rng: np.random.Generator, n: int, weights: Mapping[Any, float]) -> npt.NDArray[Any]:
    """``n`` independent draws from a weighted vocabulary."""
    keys = list(weights)
    p = np.array([weights[k] for k in keys], dtype=float)
    idx = rng.choice(len(keys), size=n, p=p / p.sum())
    return np.array(keys, dtype=object if not isinstance(keys[0], str) else None)[idx]


def chance(rng: np.random.Generator, n: int, p: float) -> BoolArray:
    return rng.random(n) < p


def ids(prefix: str, n: int, width: int = 7, start: int = 1) -> pa.Array:
    """``prefix`` + zero-padded sequence numbers, built in Arrow's C++ kernels."""
    width = max(width, len(str(start + n - 1)))
    numbers = pa.array(np.arange(start, start + n, dtype=np.int64)).cast(pa.string())
    padded = pc.utf8_lpad(numbers, width=width, padding="0")
    return pc.binary_join_element_wise(prefix, padded, "")


def take(values: Sequence[str], index: npt.NDArray[np.integer[Any]]) -> pa.Array:
    """``values[index]`` as an Arrow string array (the vocabulary is small, the index long)."""
    return pa.array(list(values), type=pa.string()).take(pa.array(index))


def join(*parts: pa.Array | str, sep: str = "") -> pa.Array:
    """Row-wise string concatenation of Arrow arrays (and constants)."""
    return pc.binary_join_element_wise(*parts, sep)


def with_nulls(values: ColumnValue, null_mask: BoolArray) -> pa.Array:
    """The same values with nulls where ``null_mask`` is true."""
    arr = values if isinstance(values, pa.Array) else pa.array(values)
    return pc.if_else(pa.array(null_mask), pa.nulls(len(arr), arr.type), arr)


def add_months(days: IntArray, months: IntArray) -> IntArray:
    """Approximate end of a term: good enough to shape who is under sentence when; the
    engine derives the exact calendar end itself."""
    return (days + np.rint(months * DAYS_PER_MONTH)).astype(np.int64)


def group_min(keys: IntArray, values: IntArray, n_groups: int, empty: int) -> IntArray:
    """Minimum of ``values`` per group ``keys`` (0..n_groups-1); ``empty`` for groups
    without rows."""
    out = np.full(n_groups, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(out, keys, values)
    return np.where(out == np.iinfo(np.int64).max, empty, out)


def first_of_month(days: IntArray) -> IntArray:
    months = days.astype("datetime64[D]").astype("datetime64[M]")
    return months.astype("datetime64[D]").astype(np.int64)


def first_of_year(days: IntArray) -> IntArray:
    years = days.astype("datetime64[D]").astype("datetime64[Y]")
    return years.astype("datetime64[D]").astype(np.int64)


def years_before(reference: int, years: npt.NDArray[np.floating[Any]]) -> IntArray:
    return (reference - np.rint(years * 365.2425)).astype(np.int64)


@dataclass
class Columns:
    """Column values for one table, by name, before they meet the schema."""

    values: dict[str, ColumnValue] = field(default_factory=dict)

    def __setitem__(self, name: str, value: ColumnValue) -> None:
        self.values[name] = value


def to_arrow(table: Table, columns: Columns, n_rows: int) -> pa.Table:
    """The table exactly as the schema declares it: every column, in order, typed.

    Dates arrive as int day numbers (with nulls) and are reinterpreted as date32;
    a column the generator forgot, or one the schema does not know, is a bug here
    rather than a surprise at import.
    """
    unknown = set(columns.values) - set(table.column_names)
    if unknown:
        raise ValueError(f"{table.name}: generator made unknown columns {sorted(unknown)}")
    arrays = []
    for col in table.columns:
        if col.name not in columns.values:
            raise ValueError(f"{table.name}: generator left out column {col.name}")
        arrays.append(_typed(columns.values[col.name], col.type, n_rows, table.name, col.name))
    schema = pa.schema([pa.field(c.name, ARROW_TYPES[c.type]) for c in table.columns])
    return pa.Table.from_arrays(arrays, schema=schema)


def _typed(value: ColumnValue, logical: str, n_rows: int, table: str, name: str) -> pa.Array:
    target = ARROW_TYPES[logical]
    if isinstance(value, pa.ChunkedArray):
        value = value.combine_chunks()
    if not isinstance(value, pa.Array):
        value = pa.array(value)
    if len(value) != n_rows:
        raise ValueError(f"{table}.{name}: {len(value)} values for {n_rows} rows")
    if logical == DATE and pa.types.is_integer(value.type):
        return value.cast(pa.int32()).view(pa.date32())
    if pa.types.is_null(value.type):
        return pa.nulls(n_rows, target)
    return value.cast(target)


ProgressFn = Callable[[str], None]


def expand(counts: IntArray) -> tuple[IntArray, IntArray]:
    """Rows for ``counts[i]`` children of each parent ``i``: (parent index, rank within
    the parent, 0-based)."""
    owner = np.repeat(np.arange(len(counts), dtype=np.int64), counts)
    offsets = np.cumsum(counts) - counts
    rank = np.arange(len(owner), dtype=np.int64) - np.repeat(offsets, counts)
    return owner, rank


def uniform_days(
    rng: np.random.Generator, low: IntArray | int, high: IntArray | int, n: int
) -> IntArray:
    """A day drawn uniformly from [low, high] (inclusive), element-wise."""
    lo = np.asarray(low, dtype=np.int64)
    hi = np.maximum(np.asarray(high, dtype=np.int64), lo)
    return (lo + np.floor(rng.random(n) * (hi - lo + 1))).astype(np.int64)


@dataclass
class EventLog:
    """Custody events gathered kind by kind, then sorted per person by date.

    Vocabulary-valued columns are carried as small integer codes into a list (-1 is
    null) and turned into strings once, at the end.
    """

    facility_ids: Sequence[str]
    countries: Sequence[str] = ()
    decrees: Sequence[str] = ()
    notes: Sequence[str] = ()
    _parts: list[dict[str, IntArray]] = field(default_factory=list)

    def add(
        self,
        kind: str,
        person: IntArray,
        date: IntArray,
        *,
        facility: IntArray | None = None,
        country: IntArray | None = None,
        decree: int = -1,
        note: int = -1,
    ) -> None:
        n = len(person)
        none = np.full(n, -1, dtype=np.int64)
        self._parts.append(
            {
                "person": person.astype(np.int64),
                "kind": np.full(n, EVENT_TYPES.index(kind), dtype=np.int64),
                "date": date.astype(np.int64),
                "facility": none if facility is None else facility.astype(np.int64),
                "country": none if country is None else country.astype(np.int64),
                "decree": np.full(n, decree, dtype=np.int64),
                "note": np.full(n, note, dtype=np.int64),
            }
        )

    def columns(self, person_ids: pa.Array, id_prefix: str) -> tuple[Columns, int]:
        merged = {k: np.concatenate([p[k] for p in self._parts]) for k in self._parts[0]}
        # Per person, by date; same-day events in vocabulary order (admission first).
        order = np.lexsort((merged["kind"], merged["date"], merged["person"]))
        m = {k: v[order] for k, v in merged.items()}
        n = len(order)
        cols = Columns()
        cols["event_id"] = ids(id_prefix, n, width=8)
        cols["person_id"] = person_ids.take(pa.array(m["person"]))
        cols["event_type"] = take(EVENT_TYPES, m["kind"])
        cols["event_date"] = m["date"]
        cols["facility_id"] = _coded(self.facility_ids, m["facility"])
        cols["country"] = _coded(self.countries, m["country"])
        cols["decree_id"] = _coded(self.decrees, m["decree"])
        cols["run_id"] = pa.nulls(n, pa.string())
        cols["new_sentence_kind"] = pa.nulls(n, pa.string())
        cols["new_end_date"] = pa.nulls(n, pa.date32())
        cols["note"] = _coded(self.notes, m["note"])
        return cols, n


def _coded(vocabulary: Sequence[str], codes: IntArray) -> pa.Array:
    if not len(vocabulary):
        return pa.nulls(len(codes), pa.string())
    values = take(vocabulary, np.maximum(codes, 0))
    return with_nulls(values, codes < 0)


Offence = tuple[str, str, str, str, str | None, str | None, str, str | None]
"""(code, title, English title, category, gravity, intent, valid_from, valid_to)."""


def offence_catalogue(profile: str) -> tuple[Offence, ...]:
    """A profile's offence catalogue, from ``catalogues/<profile>-offences.csv``.

    Package data rather than code: one row per code, columns as the ``offences``
    table's; an empty field is null (no catalogue value is an empty string).
    """
    import csv
    import io
    from importlib import resources

    text = (
        resources.files("amnesty.registry.generators")
        .joinpath("catalogues", f"{profile}-offences.csv")
        .read_text(encoding="utf-8")
    )
    rows = list(csv.reader(io.StringIO(text)))
    out: list[Offence] = []
    for r in rows[1:]:
        code, title, title_en, category, gravity, intent, valid_from, valid_to = r
        out.append(
            (
                code,
                title,
                title_en,
                category,
                gravity or None,
                intent or None,
                valid_from,
                valid_to or None,
            )
        )
    return tuple(out)
