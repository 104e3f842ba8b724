"""Where a bulk load is staged, and how its tables reach the target database.

The registry import validates an extract in DuckDB, whichever database it goes
to, then copies the validated tables into the target inside one write
transaction of the :class:`~amnesty.store.database.Database` handle:

* DuckDB target: staging is an in-memory database attached to the target's own
  DuckDB instance (the one the handle's connections share), under a name of its
  own; the copy is one ``INSERT ... SELECT`` per table inside that instance. A
  separate DuckDB could not attach the file while the handle holds it open, and
  streaming through Arrow between two instances was measured at about 1.4x the
  CPU of the in-instance copy.
* PostgreSQL target: staging is a private in-memory DuckDB; rows travel as Arrow
  record batches rendered to CSV by PyArrow into ``COPY ... FROM STDIN`` on the
  handle's connection (in PostgreSQL's CSV an unquoted empty field is null and a
  quoted ``""`` the empty string, which is how PyArrow writes them).

Only this module knows which; the importer asks it.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from amnesty.store.db import connect_duckdb

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from amnesty.store.database import Database

BATCH_ROWS = 100_000


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class Staging:
    """A DuckDB connection to stage in (``conn``) and the way to the target."""

    def __init__(self, db: Database, conn: Any, catalog: str | None) -> None:
        self.db = db
        self.conn = conn
        self._catalog = catalog  # the attached staging database (DuckDB target)

    def load(
        self,
        connection: Connection,
        table: str,
        columns: Sequence[str],
        relation: str,
        order: str = "",
    ) -> None:
        """Append the rows of staged ``relation`` to the target's ``table`` (the named
        ``columns`` of both), inside ``connection``'s transaction."""
        cols = ", ".join(_quote(c) for c in columns)
        if self._catalog is not None:
            connection.exec_driver_sql(
                f"INSERT INTO {table} ({cols}) SELECT {cols} FROM {self._catalog}.{relation} "
                f"{order}"
            )
            return
        from pyarrow import csv

        options = csv.WriteOptions(include_header=False)
        reader = (
            self.conn.cursor()
            .sql(f"SELECT {cols} FROM {relation} {order}")
            .to_arrow_reader(BATCH_ROWS)
        )
        pg: Any = connection.connection.driver_connection
        with (
            pg.cursor() as cur,
            cur.copy(f"COPY {table} ({cols}) FROM STDIN (FORMAT csv)") as copy,
        ):
            for batch in reader:
                buffer = io.BytesIO()
                csv.write_csv(batch, buffer, options)
                copy.write(buffer.getvalue())

    def analyze(self, tables: Sequence[str]) -> None:
        """After the load committed: fresh statistics where the planner needs them.

        PostgreSQL plans a national registry badly on a few thousand guessed rows; DuckDB
        keeps its statistics as it writes.
        """
        if self._catalog is not None:
            return
        with self.db.engine.begin() as connection:
            for table in tables:
                connection.exec_driver_sql(f"ANALYZE {table}")


class _InCatalog:
    """A DuckDB connection whose default database is the staging one, and whose
    cursors (new connections of the same instance) start there too."""

    def __init__(self, conn: Any, catalog: str) -> None:
        self._conn = conn
        self._catalog = catalog
        conn.execute(f"USE {catalog}")

    def cursor(self) -> _InCatalog:
        return _InCatalog(self._conn.cursor(), self._catalog)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)


@contextmanager
def staging_area(db: Database) -> Iterator[Staging]:
    """A fresh staging area for one load into ``db``, dropped at the end."""
    import duckdb

    if not db.url.is_duckdb:
        private = duckdb.connect(":memory:")
        try:
            yield Staging(db, private, None)
        finally:
            private.close()
        return
    instance = connect_duckdb(db.url)
    catalog = f"amnesty_staging_{uuid.uuid4().hex[:16]}"
    instance.execute(f"ATTACH ':memory:' AS {catalog}")
    conn = _InCatalog(instance.cursor(), catalog)
    try:
        yield Staging(db, conn, catalog)
    finally:
        conn.close()
        try:
            instance.execute(f"DETACH DATABASE IF EXISTS {catalog}")
        finally:
            instance.close()
