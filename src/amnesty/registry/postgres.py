"""Copy a validated registry from the staging DuckDB to PostgreSQL in one transaction.

Rows travel as Arrow record batches rendered to CSV by PyArrow and streamed into
``COPY ... FROM STDIN``: no Python loop over rows. In PostgreSQL's CSV format an
unquoted empty field is null and a quoted ``""`` is the empty string, which is how
PyArrow writes them, so null and empty stay apart.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

from amnesty.errors import ConfigError
from amnesty.registry.schema import Table
from amnesty.registry.snapshot import table_ddl
from amnesty.registry.sources import quote_ident
from amnesty.store.db import DatabaseURL

if TYPE_CHECKING:
    from amnesty.registry.importer import _Kept, _Write

BATCH_ROWS = 100_000


def connect(url: DatabaseURL) -> Any:
    import psycopg

    target = url.target.replace("postgresql+psycopg://", "postgresql://", 1)
    try:
        # Autocommit, so that ``transaction()`` below is a real BEGIN ... COMMIT
        # rather than a savepoint inside an implicit transaction that close() discards.
        return psycopg.connect(target, autocommit=True)
    except psycopg.Error as exc:
        raise ConfigError(f"cannot connect to {url}: {str(exc).splitlines()[0]}") from exc


def replace_registry(
    pg: Any,
    staging: Any,
    tables: tuple[Table, ...],
    write: _Write,
    step: Any,
) -> int:
    """Replace every registry table, record the snapshot(s): one transaction."""
    by_name = {t.name: t for t in tables}

    def append(k: _Kept) -> None:
        _copy(pg, staging, by_name[k.table], f"kept_{k.table}", "ORDER BY __order")

    with pg.transaction():
        write.begin(pg, "")
        for t in tables:
            pg.execute(f"DROP TABLE IF EXISTS {t.name}")
            pg.execute(table_ddl(t, "postgres"))
            _copy(pg, staging, t, f"clean_{t.name}")
            if t.key != "person_id" and any(c.name == "person_id" for c in t.columns):
                # One person's rows (an explanation, a person page) by index, not by a
                # scan of the table: 330 ms -> 10 ms per query at 100k persons (#11).
                pg.execute(f"CREATE INDEX {t.name}_by_person ON {t.name} (person_id)")
            step(f"writing {t.name}")
        snapshot_id = write.finish(pg, "", append)
    # Fresh tables have no statistics: without them the planner guesses a few
    # thousand rows and picks plans that are slow at a national registry's size.
    for t in tables:
        pg.execute(f"ANALYZE {t.name}")
    return snapshot_id


def _copy(pg: Any, staging: Any, table: Table, relation: str, order: str = "") -> None:
    """Stream ``relation`` of the staging DuckDB into PostgreSQL's ``table`` by COPY."""
    from pyarrow import csv

    options = csv.WriteOptions(include_header=False)
    cols = ", ".join(quote_ident(c.name) for c in table.columns)
    reader = (
        staging.cursor().sql(f"SELECT {cols} FROM {relation} {order}").to_arrow_reader(BATCH_ROWS)
    )
    with (
        pg.cursor() as cur,
        cur.copy(f"COPY {table.name} ({cols}) FROM STDIN (FORMAT csv)") as copy,
    ):
        for batch in reader:
            buffer = io.BytesIO()
            csv.write_csv(batch, buffer, options)
            copy.write(buffer.getvalue())
