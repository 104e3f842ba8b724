"""The operational tables, declared once for DuckDB and PostgreSQL.

These declarations are what the code reads and writes through; the database
itself is built by the Alembic revisions in ``amnesty/store/migrations``, which
must describe the same tables (``tests/store/test_migrations.py`` holds them
together). List-like values (grounds, roles, before/after) are stored as
canonical JSON text, not native arrays, so that both databases store and hash
exactly the same bytes.

Timestamps are UTC. They are stored as naive ``TIMESTAMP`` holding UTC and come
back as aware datetimes (:class:`UTCDateTime`), because DuckDB's
``TIMESTAMPTZ`` depends on a session time zone and needs pytz to come back.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

metadata = sa.MetaData()


class UTCDateTime(sa.types.TypeDecorator[dt.datetime]):
    """An aware UTC datetime in Python, a plain UTC ``TIMESTAMP`` in the database."""

    impl = sa.DateTime(timezone=False)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: pass an aware UTC datetime")
        return value.astimezone(dt.UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def _id_sequence(table: str) -> sa.Sequence:
    # Both databases have sequences; DuckDB has no SERIAL/IDENTITY that SQLAlchemy drives.
    return sa.Sequence(f"{table}_id_seq", metadata=metadata)


users = sa.Table(
    "users",
    metadata,
    sa.Column("user_id", sa.BigInteger, _id_sequence("users"), primary_key=True),
    sa.Column("name", sa.Text, nullable=False, unique=True),
    sa.Column("roles", sa.Text, nullable=False),  # JSON list of role names
    sa.Column("facilities", sa.Text, nullable=False),  # JSON list of facility ids; [] = all
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("created_by", sa.Text),
)

credentials = sa.Table(
    "credentials",
    metadata,
    sa.Column("credential_id", sa.Text, primary_key=True),
    sa.Column("user_name", sa.Text, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),  # password | token
    sa.Column("secret_hash", sa.Text, nullable=False),  # argon2 (password), sha256 (token)
    sa.Column("label", sa.Text),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("created_by", sa.Text, nullable=False),
    sa.Column("revoked_at", UTCDateTime),
    sa.Column("revoked_by", sa.Text),
    sa.Column("expires_at", UTCDateTime),  # tokens only (revision 0005)
    sa.CheckConstraint("kind IN ('password', 'token')", name="credentials_kind"),
)
"""A user's password (at most one standing) and personal API tokens, never in clear."""

decrees = sa.Table(
    "decrees",
    metadata,
    sa.Column("decree_id", sa.Text, primary_key=True),
    sa.Column("content_hash", sa.Text, nullable=False),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),  # draft | signed
    sa.Column("signed_by", sa.Text),
    sa.Column("signed_at", UTCDateTime),
    sa.Column("source_text", sa.Text, nullable=False),
    sa.Column("registered_by", sa.Text, nullable=False),
    sa.Column("registered_at", UTCDateTime, nullable=False),
    sa.CheckConstraint("status IN ('draft', 'signed')", name="decrees_status"),
)

runs = sa.Table(
    "runs",
    metadata,
    sa.Column("run_id", sa.Text, primary_key=True),
    sa.Column("decree_id", sa.Text, sa.ForeignKey("decrees.decree_id"), nullable=False),
    sa.Column("decree_hash", sa.Text, nullable=False),
    sa.Column("snapshot_hash", sa.Text, nullable=False),
    sa.Column("engine", sa.Text, nullable=False),  # duckdb | postgres | spark
    sa.Column("engine_version", sa.Text, nullable=False),
    sa.Column("as_of", sa.Date, nullable=False),
    sa.Column("started_at", UTCDateTime, nullable=False),
    sa.Column("finished_at", UTCDateTime, nullable=False),
    sa.Column("counts", sa.Text, nullable=False),  # JSON object
    sa.Column("row_count", sa.BigInteger, nullable=False),
    sa.Column("determinations_digest", sa.Text, nullable=False),
    sa.Column("reproduces_run_id", sa.Text),
    sa.Column("recorded_by", sa.Text, nullable=False),
    sa.Column("recorded_at", UTCDateTime, nullable=False),
)

determinations = sa.Table(
    "determinations",
    metadata,
    sa.Column("run_id", sa.Text, primary_key=True),
    sa.Column("person_id", sa.Text, primary_key=True),
    sa.Column("facility_id", sa.Text),
    sa.Column("outcome", sa.Text, nullable=False),
    sa.Column("relief", sa.Text),
    # canonical JSON text (see amnesty.audit.chain.canonical_json)
    sa.Column("grounds", sa.Text, nullable=False),
    sa.Column("blocking", sa.Text, nullable=False),
    sa.Column("referred", sa.Text, nullable=False),
    sa.Column("unknown", sa.Text, nullable=False),
    sa.Column("undertakings", sa.Text, nullable=False),
    # sha256 of the row's digest line, first 16 hex digits: lets audit verify name
    # the person whose row was edited when the run digest no longer matches
    sa.Column("row_hash", sa.Text, nullable=False),
)

# --- case work: sketched here, completed (by a new revision) with review/rosters/releases ---

review_decisions = sa.Table(
    "review_decisions",
    metadata,
    sa.Column("decision_id", sa.BigInteger, _id_sequence("review_decisions"), primary_key=True),
    sa.Column("run_id", sa.Text, sa.ForeignKey("runs.run_id"), nullable=False),
    sa.Column("person_id", sa.Text, nullable=False),
    # 1 for the first decision; a reopening and each later decision take the next number,
    # so two reviewers deciding the same case at once collide on the unique key.
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),  # decide | reopen
    sa.Column("outcome", sa.Text),  # eligible | ineligible (null for reopen)
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("decided_by", sa.Text, nullable=False),
    sa.Column("decided_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("run_id", "person_id", "version", name="review_decisions_one_per_version"),
)

rosters = sa.Table(
    "rosters",
    metadata,
    sa.Column("roster_id", sa.BigInteger, _id_sequence("rosters"), primary_key=True),
    sa.Column("run_id", sa.Text, sa.ForeignKey("runs.run_id"), nullable=False),
    sa.Column("facility_id", sa.Text, nullable=False),
    sa.Column("generation", sa.Integer, nullable=False),  # a withdrawn roster is re-prepared
    sa.Column("status", sa.Text, nullable=False),  # prepared | approved | withdrawn
    sa.Column("prepared_by", sa.Text, nullable=False),
    sa.Column("prepared_at", UTCDateTime, nullable=False),
    sa.Column("approved_by", sa.Text),
    sa.Column("approved_at", UTCDateTime),
    sa.Column("withdrawn_by", sa.Text),
    sa.Column("withdrawn_at", UTCDateTime),
    sa.Column("withdraw_reason", sa.Text),
    sa.UniqueConstraint("run_id", "facility_id", "generation", name="rosters_one_per_generation"),
    sa.CheckConstraint(
        "approved_by IS NULL OR approved_by <> prepared_by", name="rosters_four_eyes"
    ),
)

roster_entries = sa.Table(
    "roster_entries",
    metadata,
    sa.Column("roster_id", sa.BigInteger, sa.ForeignKey("rosters.roster_id"), primary_key=True),
    sa.Column("person_id", sa.Text, primary_key=True),
    sa.Column("relief", sa.Text, nullable=False),
)

undertaking_records = sa.Table(
    "undertaking_records",
    metadata,
    sa.Column("record_id", sa.BigInteger, _id_sequence("undertaking_records"), primary_key=True),
    sa.Column("run_id", sa.Text, sa.ForeignKey("runs.run_id"), nullable=False),
    sa.Column("person_id", sa.Text, nullable=False),
    sa.Column("undertaking_id", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),  # signed | refused
    sa.Column("signed_on", sa.Date),
    sa.Column("witness", sa.Text),
    sa.Column("recorded_by", sa.Text, nullable=False),
    sa.Column("recorded_at", UTCDateTime, nullable=False),
)

releases = sa.Table(
    "releases",
    metadata,
    sa.Column("release_id", sa.BigInteger, _id_sequence("releases"), primary_key=True),
    sa.Column("run_id", sa.Text, sa.ForeignKey("runs.run_id"), nullable=False),
    sa.Column("person_id", sa.Text, nullable=False),
    sa.Column("roster_id", sa.BigInteger, sa.ForeignKey("rosters.roster_id"), nullable=False),
    sa.Column("facility_id", sa.Text, nullable=False),
    sa.Column("relief", sa.Text, nullable=False),
    sa.Column("release_date", sa.Date, nullable=False),
    sa.Column("return_date", sa.Date),  # temporary release
    sa.Column("override_reason", sa.Text),  # outside the execution window
    sa.Column("certificate_no", sa.Text, unique=True),
    sa.Column("executed_by", sa.Text, nullable=False),
    sa.Column("executed_at", UTCDateTime, nullable=False),
    # the event that began the custody this release ends: the person's latest admission
    # or return event id, "initial" when none is recorded (revision 0002)
    sa.Column("custody_episode", sa.Text),
    # the keys that make a double release impossible, whatever retries happen: once per
    # run, and once per custody episode whichever run or decree releases
    sa.UniqueConstraint("run_id", "person_id", name="releases_once_per_run"),
    sa.Index("releases_once_per_custody", "person_id", "custody_episode", unique=True),
)

release_revocations = sa.Table(
    "release_revocations",
    metadata,
    sa.Column("release_id", sa.BigInteger, sa.ForeignKey("releases.release_id"), primary_key=True),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("revoked_by", sa.Text, nullable=False),
    sa.Column("revoked_at", UTCDateTime, nullable=False),
)

certificates = sa.Table(
    "certificates",
    metadata,
    sa.Column("certificate_no", sa.Text, primary_key=True),
    sa.Column("release_id", sa.BigInteger, sa.ForeignKey("releases.release_id"), unique=True),
    sa.Column("issued_by", sa.Text, nullable=False),
    sa.Column("issued_at", UTCDateTime, nullable=False),
    sa.Column("path", sa.Text),
    sa.Column("sha256", sa.Text),
)

# --- the audit chain ---

audit_events = sa.Table(
    "audit_events",
    metadata,
    sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("occurred_at", UTCDateTime, nullable=False),
    sa.Column("actor", sa.Text, nullable=False),
    sa.Column("action", sa.Text, nullable=False),
    sa.Column("entity_kind", sa.Text, nullable=False),
    sa.Column("entity_id", sa.Text, nullable=False),
    sa.Column("before", sa.Text),  # canonical JSON or null
    sa.Column("after", sa.Text),
    sa.Column("outcome", sa.Text, nullable=False),  # ok | refused
    sa.Column("reason", sa.Text),
    sa.Column("prev_hash", sa.Text, nullable=False),
    sa.Column("hash", sa.Text, nullable=False, unique=True),
)

audit_checkpoints = sa.Table(
    "audit_checkpoints",
    metadata,
    sa.Column("checkpoint_id", sa.BigInteger, _id_sequence("audit_checkpoints"), primary_key=True),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("hash", sa.Text, nullable=False),
    sa.Column("signed_at", UTCDateTime, nullable=False),
    sa.Column("signed_by", sa.Text, nullable=False),
    sa.Column("public_key", sa.Text, nullable=False),  # raw Ed25519 key, hex
    sa.Column("signature", sa.Text, nullable=False),  # hex
)
