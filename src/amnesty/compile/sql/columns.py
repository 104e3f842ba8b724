"""Where each fact of :mod:`amnesty.decree.facts` lives in the compiled query.

Person facts are columns of the ``people`` CTE, conviction facts columns of
``conv_rows``, event facts columns of ``event_rows``; a fact ``a.b`` is the
column ``a__b``. Duration facts are not columns: they are spans between two
date columns (see :mod:`amnesty.compile.sql.lower`).
"""

from __future__ import annotations

from sqlglot import exp

# Duration facts as (start fact, end fact); "as_of" is the run's as-of date.
DURATION_FACTS: dict[str, tuple[str, str]] = {
    "sentence.served": ("sentence.start", "as_of"),
    "sentence.remaining": ("as_of", "sentence.end"),
    "sentence.term": ("sentence.start", "sentence.end"),
    "conviction.served": ("conviction.start", "as_of"),
    "conviction.remaining": ("as_of", "conviction.end"),
    "conviction.term": ("conviction.start", "conviction.end"),
}

AGE = "person.age"


def column_name(fact: str) -> str:
    return fact.replace(".", "__")


def col(fact: str) -> exp.Column:
    return exp.column(column_name(fact))


def collection_of(fact: str) -> str | None:
    """``convictions`` or ``events`` for item facts, None for person facts."""
    if fact.startswith("conviction."):
        return "convictions"
    if fact.startswith("event."):
        return "events"
    return None


def is_null(fact: str) -> exp.Expr:
    """True where the fact is unknown, in the context that holds its columns."""
    if fact in DURATION_FACTS:
        parts = [col(f) for f in DURATION_FACTS[fact] if f != "as_of"]
        conds: list[exp.Expr] = [exp.Is(this=p, expression=exp.Null()) for p in parts]
        return exp.or_(*conds) if len(conds) > 1 else conds[0]
    return exp.Is(this=col(fact), expression=exp.Null())
