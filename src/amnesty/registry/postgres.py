"""Copy a validated registry from the staging DuckDB to PostgreSQL in one transaction.

Rows travel as Arrow record batches rendered to CSV by PyArrow and streamed into
``COPY ... FROM STDIN``: no Python loop over rows. In PostgreSQL's CSV format an
unquoted empty field is null and a quoted ``""`` is the empty string, which is how
PyArrow writes them, so null and empty stay apart.
"""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from amnesty.errors import ConfigError
from amnesty.registry.schema import Table
from amnesty.registry.snapshot import ContentHash, record_snapshot, table_ddl
from amnesty.registry.sources import quote_ident
from amnesty.store.db import DatabaseURL

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
    digest: ContentHash,
    profile: str,
    source: str,
    stamp: dt.datetime,
    step: Any,
) -> int:
    from pyarrow import csv

    options = csv.WriteOptions(include_header=False)
    with pg.transaction():
        for t in tables:
            pg.execute(f"DROP TABLE IF EXISTS {t.name}")
            pg.execute(table_ddl(t, "postgres"))
            cols = ", ".join(quote_ident(c.name) for c in t.columns)
            reader = (
                staging.cursor()
                .sql(f"SELECT {cols} FROM clean_{t.name}")
                .to_arrow_reader(BATCH_ROWS)
            )
            with (
                pg.cursor() as cur,
                cur.copy(f"COPY {t.name} ({cols}) FROM STDIN (FORMAT csv)") as copy,
            ):
                for batch in reader:
                    buffer = io.BytesIO()
                    csv.write_csv(batch, buffer, options)
                    copy.write(buffer.getvalue())
            step(f"writing {t.name}")
        return record_snapshot(
            pg, "", digest, profile, source, stamp, placeholder="%s", dialect="postgres"
        )
