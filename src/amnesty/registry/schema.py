"""The registry schema: one declaration that the generator, the importer, the
decree compiler and ``docs/registry.md`` all read.

Core tables are the same for every jurisdiction; a :class:`~amnesty.registry.profiles.Profile`
appends typed attributes to ``persons`` and ``convictions``.

"Unknown" and "recorded as absent" differ: a null in a column marked ``nullable``
means the fact is unknown (a missing health assessment is not "healthy"); the
absence of an event row (no repatriation) means the fact is false.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

# Logical types; each backend maps them to its own.
VARCHAR = "VARCHAR"
INTEGER = "INTEGER"
BOOLEAN = "BOOLEAN"
DATE = "DATE"
DOUBLE = "DOUBLE"
TYPES = (VARCHAR, INTEGER, BOOLEAN, DATE, DOUBLE)


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    doc: str
    nullable: bool = True
    values: tuple[str, ...] | None = None  # closed vocabulary, checked on import
    references: tuple[str, str] | None = None  # (table, column) foreign key
    min_value: int | None = None  # inclusive lower bound for INTEGER columns
    unknown: str = ""  # what a null means here, for the docs
    # An extract written before the column existed may leave it out: it reads as all
    # null, which the column's ``unknown`` must give a safe meaning.
    optional: bool = False

    def __post_init__(self) -> None:
        if self.type not in TYPES:
            raise ValueError(f"column {self.name}: unknown type {self.type}")


@dataclass(frozen=True)
class Check:
    """A rule across columns of one row, written as a SQL condition that must hold.

    ``column`` is the column a violation is reported on: the value that is most
    likely wrong, or that the fix belongs in (a term sentence without
    ``term_months`` is reported on ``term_months``, not on ``sentence_kind``).
    """

    name: str
    sql: str  # true for a valid row; null counts as valid
    doc: str
    column: str  # where a violation is reported; must be a column of the table


@dataclass(frozen=True)
class Table:
    name: str
    doc: str
    columns: tuple[Column, ...]
    key: str
    checks: tuple[Check, ...] = field(default=())

    def __post_init__(self) -> None:
        names = {c.name for c in self.columns}
        if self.key not in names:
            raise ValueError(f"table {self.name}: key {self.key} is not a column")
        for check in self.checks:
            if check.column not in names:
                raise ValueError(
                    f"table {self.name}: check {check.name} reports on {check.column}, "
                    "which is not a column"
                )

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"{self.name} has no column {name}")

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def with_columns(self, extra: Iterable[Column]) -> Table:
        return replace(self, columns=self.columns + tuple(extra))


DIVISION_LEVELS = (
    "country",
    "province",
    "special_city",
    "city",
    "county",
    "district",
    "federal_subject",
)
FACILITY_TYPES = (
    "penitentiary",  # kyohwaso: long-term re-education camp
    "detention_centre",
    "labour_training_centre",
    "political_prison_camp",  # kwanliso
    "colony",
    "juvenile_colony",
    "pre_trial_detention",  # SIZO
    "probation_inspectorate",  # non-custodial sentences are served under one
)
SEXES = ("M", "F")
BIRTH_PRECISIONS = ("day", "month", "year")
OFFENCE_CATEGORIES = (
    "theft",
    "violent_crime",
    "drug_trafficking",
    "political",
    "illegal_border_crossing",
    "economic",
    "murder",
    "terrorism",
    "extremism",
    "kidnapping",
    "fraud",
    "bribery",
    "crime_against_minors",
    "traffic",
    "other",
)
GRAVITIES = ("small", "medium", "grave", "especially_grave")
INTENTS = ("intentional", "negligent")
SENTENCE_KINDS = ("term", "life", "death", "suspended", "deferred", "non_custodial")
SEVERITIES = ("none", "mild", "moderate", "severe", "terminal")
EVENT_TYPES = (
    "admission",
    "transfer",
    "release",
    "commutation",
    "repatriation",
    "defection_attempt",
    "pardon",
    "death",
    "temporary_release",
    "return",
)

# --- shared domain constants: every module that asks these questions reads them here ---

# The status events that put a person into custody or take them out of it; the last
# one of these (by date, then event id) says where the person stands. A pardon is not
# one of them: it is history (a prior amnesty) that decrees may ask about, and a
# pardoned person still on the registry's custody rolls is still held.
CUSTODY_IN = ("admission", "return")
CUSTODY_OUT = ("release", "death", "temporary_release")
# Events that move a person between facilities without changing custody.
CUSTODY_MOVES = ("transfer",)
CUSTODY_EVENTS = CUSTODY_IN + CUSTODY_OUT + CUSTODY_MOVES
# The division levels that count as a "province" in summaries and in decrees
# (a kp-2015 province or special city, a ru-2015 federal subject).
PROVINCE_LEVELS = ("province", "special_city", "federal_subject")

DIVISIONS = Table(
    "divisions",
    "Administrative hierarchy: country, province or special city, city or county.",
    (
        Column("division_id", VARCHAR, "Stable identifier.", nullable=False),
        Column(
            "parent_id",
            VARCHAR,
            "The division this one belongs to; null for the country.",
            references=("divisions", "division_id"),
        ),
        Column("level", VARCHAR, "Place in the hierarchy.", nullable=False, values=DIVISION_LEVELS),
        Column("name", VARCHAR, "Name in the registry's own script.", nullable=False),
        Column("name_romanised", VARCHAR, "Name in Latin script.", nullable=False),
        Column(
            "name_is_real",
            BOOLEAN,
            "True for a real public name, false for a generated one.",
            nullable=False,
        ),
    ),
    key="division_id",
)

FACILITIES = Table(
    "facilities",
    "Places where sentences are served, each run by an authority.",
    (
        Column("facility_id", VARCHAR, "Stable identifier.", nullable=False),
        Column("name", VARCHAR, "Name in the registry's own script.", nullable=False),
        Column("name_romanised", VARCHAR, "Name in Latin script.", nullable=False),
        Column(
            "facility_type", VARCHAR, "Kind of facility.", nullable=False, values=FACILITY_TYPES
        ),
        Column(
            "authority",
            VARCHAR,
            "Ministry or service that runs it (profile vocabulary).",
            nullable=False,
        ),
        Column(
            "division_id",
            VARCHAR,
            "Division it lies in.",
            nullable=False,
            references=("divisions", "division_id"),
        ),
    ),
    key="facility_id",
)

OFFENCES = Table(
    "offences",
    "The offence catalogue. Codes are repealed, never deleted: valid_to closes them.",
    (
        Column("offence_code", VARCHAR, "Code as the criminal code numbers it.", nullable=False),
        Column("title", VARCHAR, "Title in the registry's own script.", nullable=False),
        Column("title_romanised", VARCHAR, "Title in Latin script or English.", nullable=False),
        Column(
            "category",
            VARCHAR,
            "Category decrees speak of.",
            nullable=False,
            values=OFFENCE_CATEGORIES,
        ),
        Column(
            "gravity",
            VARCHAR,
            "Gravity class.",
            values=GRAVITIES,
            unknown="the code has no gravity class recorded",
        ),
        Column(
            "intent",
            VARCHAR,
            "Intentional or negligent.",
            values=INTENTS,
            unknown="the catalogue does not say",
        ),
        Column("valid_from", DATE, "First day the code is in force.", nullable=False),
        Column(
            "valid_to",
            DATE,
            "Last day the code is in force; null while in force.",
            unknown="never: null means still in force",
        ),
    ),
    key="offence_code",
    checks=(
        Check(
            "valid_range",
            "valid_to IS NULL OR valid_to >= valid_from",
            "valid_to is not before valid_from",
            column="valid_to",
        ),
    ),
)

PERSONS = Table(
    "persons",
    "Everyone the registry has ever held or supervised.",
    (
        Column("person_id", VARCHAR, "Stable identifier.", nullable=False),
        Column("name", VARCHAR, "Full name in the registry's own script.", nullable=False),
        Column("name_romanised", VARCHAR, "Full name in Latin script.", nullable=False),
        Column("sex", VARCHAR, "M or F.", values=SEXES, unknown="not recorded"),
        Column(
            "birth_date",
            DATE,
            "First possible day of birth; with birth_precision month or year only the "
            "month or the year is known.",
            unknown="birth date not recorded",
        ),
        Column(
            "birth_precision",
            VARCHAR,
            "How much of birth_date is known.",
            values=BIRTH_PRECISIONS,
            unknown="only with a null birth_date",
        ),
        Column("citizenship", VARCHAR, "ISO 3166-1 alpha-3 country code.", unknown="not recorded"),
        Column(
            "facility_id",
            VARCHAR,
            "Facility holding or supervising the person now.",
            references=("facilities", "facility_id"),
            unknown="not recorded",
        ),
        Column(
            "custody_authority",
            VARCHAR,
            "Authority the person is held under; may differ from the facility's.",
            unknown="not recorded",
        ),
    ),
    key="person_id",
    checks=(
        Check(
            "precision_with_date",
            "(birth_date IS NULL) = (birth_precision IS NULL)",
            "birth_precision is given exactly when birth_date is",
            column="birth_precision",
        ),
    ),
)

CONVICTIONS = Table(
    "convictions",
    "Sentences. Several convictions of one person run concurrently unless they share "
    "an aggregate_id.",
    (
        Column("conviction_id", VARCHAR, "Stable identifier.", nullable=False),
        Column(
            "person_id",
            VARCHAR,
            "The convicted person.",
            nullable=False,
            references=("persons", "person_id"),
        ),
        Column(
            "offence_code",
            VARCHAR,
            "Offence from the catalogue.",
            nullable=False,
            references=("offences", "offence_code"),
        ),
        Column(
            "offence_date",
            DATE,
            "When the offence was committed: its first possible day; with "
            "offence_date_precision month or year only the month or the year is known.",
            unknown="not recorded",
        ),
        Column(
            "offence_date_precision",
            VARCHAR,
            "How much of offence_date is known.",
            optional=True,
            values=BIRTH_PRECISIONS,
            unknown="the day is known (extracts older than revision 0014)",
        ),
        Column(
            "sentence_kind", VARCHAR, "Kind of sentence.", nullable=False, values=SENTENCE_KINDS
        ),
        Column(
            "term_months",
            INTEGER,
            "Length of a term, suspended or non-custodial sentence.",
            min_value=1,
            unknown="not recorded (ignored for life and death sentences)",
        ),
        Column(
            "start_date",
            DATE,
            "First day of the sentence: its first possible day; with start_precision "
            "month or year only the month or the year is known.",
            unknown="not recorded",
        ),
        Column(
            "start_precision",
            VARCHAR,
            "How much of start_date is known.",
            optional=True,
            values=BIRTH_PRECISIONS,
            unknown="the day is known (extracts older than revision 0014)",
        ),
        Column(
            "aggregate_id",
            VARCHAR,
            "Convictions sharing it form one aggregate sentence.",
            unknown="the conviction stands alone",
        ),
    ),
    key="conviction_id",
    checks=(
        Check(
            "offence_before_start",
            # A start known only to its month or year may fall after the offence's
            # first possible day; only a start known to the day is compared.
            # (coalesce: a null precision is a day, and a null would pass the check)
            "offence_date IS NULL OR start_date IS NULL OR coalesce(start_precision, 'day') "
            "IN ('month', 'year') OR offence_date <= start_date",
            "the offence is not after the sentence starts",
            column="offence_date",
        ),
        Check(
            "offence_precision_with_date",
            "offence_date_precision IS NULL OR offence_date IS NOT NULL",
            "offence_date_precision is given only with an offence_date",
            column="offence_date_precision",
        ),
        Check(
            "start_precision_with_date",
            "start_precision IS NULL OR start_date IS NOT NULL",
            "start_precision is given only with a start_date",
            column="start_precision",
        ),
    ),
)

HEALTH = Table(
    "health_assessments",
    "Medical assessments. Sensitive: read only by roles that need them. A person with no "
    "assessment has unknown health, not good health.",
    (
        Column("assessment_id", VARCHAR, "Stable identifier.", nullable=False),
        Column(
            "person_id",
            VARCHAR,
            "The person assessed.",
            nullable=False,
            references=("persons", "person_id"),
        ),
        Column("assessed_on", DATE, "Date of the assessment.", nullable=False),
        Column(
            "severity", VARCHAR, "Severity of illness.", values=SEVERITIES, unknown="not assessed"
        ),
        Column("able_to_work", BOOLEAN, "Fit for labour.", unknown="not assessed"),
    ),
    key="assessment_id",
)

EVENTS = Table(
    "events",
    "Custody history. The registry's state at any date follows from these.",
    (
        Column("event_id", VARCHAR, "Stable identifier.", nullable=False),
        Column(
            "person_id",
            VARCHAR,
            "Whom it concerns.",
            nullable=False,
            references=("persons", "person_id"),
        ),
        Column("event_type", VARCHAR, "What happened.", nullable=False, values=EVENT_TYPES),
        Column("event_date", DATE, "When.", nullable=False),
        Column(
            "facility_id",
            VARCHAR,
            "Facility admitted to or transferred to.",
            references=("facilities", "facility_id"),
        ),
        Column("country", VARCHAR, "For repatriation: the country returned from (alpha-3)."),
        Column("decree_id", VARCHAR, "For release, pardon, commutation: the decree."),
        Column("run_id", VARCHAR, "For release or commutation: the run that decided it."),
        Column(
            "new_sentence_kind", VARCHAR, "For commutation: the new kind.", values=SENTENCE_KINDS
        ),
        Column("new_end_date", DATE, "For commutation or temporary release: the new end date."),
        Column("note", VARCHAR, "Free text."),
    ),
    key="event_id",
)

CORE_TABLES: tuple[Table, ...] = (
    DIVISIONS,
    FACILITIES,
    OFFENCES,
    PERSONS,
    CONVICTIONS,
    HEALTH,
    EVENTS,
)
"""In dependency order: a table only references tables before it (or itself)."""

TABLE_NAMES = tuple(t.name for t in CORE_TABLES)

# --- the same tables declared with SQLAlchemy ---------------------------------------
#
# The store's Alembic revision 0010 creates the core tables and ``registry_snapshots``
# (written out there, as revisions are; ``tests/registry/test_registry_tables.py``
# holds the migrated database to these declarations). A profile's attribute columns
# are not in any revision: the import adds (or drops) them from :func:`sqlalchemy_column`
# in its own write transaction (``docs/registry.md``, "Tables and migrations").
# SQLAlchemy is imported only when these are called, so a command that never
# touches the database does not pay for it.

SNAPSHOTS_TABLE = "registry_snapshots"


def sqlalchemy_type(logical: str) -> Any:
    """The SQLAlchemy type of a logical column type; the same on DuckDB and PostgreSQL
    (``TEXT`` is DuckDB's ``VARCHAR``)."""
    import sqlalchemy as sa

    types: dict[str, Any] = {
        VARCHAR: sa.Text(),
        INTEGER: sa.Integer(),
        BOOLEAN: sa.Boolean(),
        DATE: sa.Date(),
        DOUBLE: sa.Double(),
    }
    return types[logical]


def sqlalchemy_column(column: Column) -> Any:
    import sqlalchemy as sa

    return sa.Column(column.name, sqlalchemy_type(column.type), nullable=column.nullable)


def sqlalchemy_table(table: Table, metadata: Any) -> Any:
    """``table`` as a SQLAlchemy ``Table`` of ``metadata``.

    The key is declared on PostgreSQL only. Foreign keys are not declared: the import
    checks them before writing, and declaring them would force a load order and slow a
    bulk replace. On DuckDB the key is not declared either: the import has checked it
    is unique, DuckDB's plans for the engine's joins do not use the index, and building
    it cost more than writing the rows (at 1M persons, 17.6 s against 6.7 s for
    convictions).
    """
    import sqlalchemy as sa

    return sa.Table(
        table.name,
        metadata,
        *(sqlalchemy_column(c) for c in table.columns),
        sa.PrimaryKeyConstraint(table.key, name=f"{table.name}_pkey").ddl_if(dialect="postgresql"),
    )


def snapshots_table(metadata: Any) -> Any:
    """``registry_snapshots``: one row per import or per batch of rows amnesty added."""
    import sqlalchemy as sa
    from sqlalchemy.dialects import postgresql

    json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
    return sa.Table(
        SNAPSHOTS_TABLE,
        metadata,
        sa.Column("snapshot_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("content_hash", sa.Text, nullable=False),
        sa.Column("profile", sa.Text, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("row_counts", json, nullable=False),
        sa.Column("is_current", sa.Boolean, nullable=False),
        sa.Column("parent_id", sa.Integer),
        sa.Column("kind", sa.Text, server_default="import"),
        sa.Column("added_table", sa.Text),
        sa.Column("added_rows", json),
        # The recipe that made content_hash; null on rows recorded before it existed.
        sa.Column("hash_version", sa.Text),
        # The profile the registry was imported under: its content hash and its
        # normalised document as TOML (revision 0010; null on older rows).
        sa.Column("profile_hash", sa.Text),
        sa.Column("profile_document", sa.Text),
    )


def registry_metadata(tables: Iterable[Table] = CORE_TABLES) -> Any:
    """A SQLAlchemy ``MetaData`` with ``tables`` (a profile's, or the core ones) and
    ``registry_snapshots``."""
    import sqlalchemy as sa

    metadata = sa.MetaData()
    for t in tables:
        sqlalchemy_table(t, metadata)
    snapshots_table(metadata)
    return metadata
