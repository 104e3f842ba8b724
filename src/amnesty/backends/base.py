"""What every backend offers the engine: a dialect name, run a query, fetch Arrow.

A backend also lists the operations it cannot do (like ibis's ``UNSUPPORTED_OPS``),
so the engine can refuse a run with a clear message instead of failing inside
the database.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

import pyarrow as pa


@runtime_checkable
class Backend(Protocol):
    name: str
    dialect: str  # the SQLGlot dialect the compiled query is emitted in
    UNSUPPORTED: frozenset[str]

    def execute(self, sql: str) -> None: ...

    # ``params``: the values of the query's parameters ``$1``, ``$2``, ... (None: it has none)
    def fetch_arrow(self, sql: str, params: Sequence[Any] | None = None) -> pa.Table: ...
