"""The dialect layer: the few constructs the compiled query needs that SQL
dialects spell differently (date arithmetic, arrays, structs).

Every other node of the query is plain SQLGlot and rendered by SQLGlot for the
target. A new engine (Spark) needs only a subclass here plus a backend adapter.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlglot import exp

DATE = exp.DataType.build("DATE")


def lit(value: int | str) -> exp.Expr:
    return exp.Literal.number(value) if isinstance(value, int) else exp.Literal.string(value)


def _as_int(days: exp.Expr) -> exp.Expr:
    """``days`` cast to INT unless it is an integer literal (or its negation)."""
    if isinstance(days, exp.Literal) or (
        isinstance(days, exp.Neg) and isinstance(days.this, exp.Literal)
    ):
        return days
    return exp.Cast(this=days, to=exp.DataType.build("INT"))


class SqlDialect:
    """DuckDB is the reference; subclasses override what differs."""

    name = "duckdb"
    # Operations this dialect lacks; the compiler refuses a decree needing them.
    UNSUPPORTED: frozenset[str] = frozenset()

    def add_days(self, date: exp.Expr, days: exp.Expr) -> exp.Expr:
        # DuckDB and PostgreSQL: DATE + INTEGER is a DATE (not DATE + BIGINT).
        return exp.Add(this=date, expression=_as_int(days))

    def add_months(self, date: exp.Expr, months: exp.Expr) -> exp.Expr:
        # Month ends clamp (31 Jan + 1 month = 28/29 Feb) in every target dialect.
        interval = exp.Interval(this=exp.Literal.string("1"), unit=exp.var("MONTH"))
        product = exp.Mul(this=exp.paren(months, copy=False), expression=interval)
        return exp.Cast(this=exp.Add(this=date, expression=product), to=DATE)

    def days_between(self, start: exp.Expr, end: exp.Expr) -> exp.Expr:
        """Whole days from start to end (negative when end is earlier)."""
        return exp.paren(exp.Sub(this=end, expression=start), copy=False)

    def make_date(self, y: exp.Expr, m: exp.Expr, d: exp.Expr) -> exp.Expr:
        return exp.Anonymous(this="MAKE_DATE", expressions=[y, m, d])

    def date_literal(self, iso: str) -> exp.Expr:
        return exp.Cast(this=exp.Literal.string(iso), to=DATE)

    def int_div(self, a: exp.Expr, b: exp.Expr) -> exp.Expr:
        """Integer division; only ever called with non-negative operands, where
        truncating and flooring division agree. Both operands are parenthesised:
        DuckDB's ``//`` and Spark's ``DIV`` bind tighter than ``+``, so an
        unparenthesised ``n + 1 // 2`` would divide only the 1."""
        divisor = b if isinstance(b, exp.Literal) else exp.paren(b)
        return exp.IntDiv(this=exp.paren(a), expression=divisor)

    def string_list(self, items: Sequence[exp.Expr]) -> exp.Expr:
        """The non-null items, in order, as a list of strings."""
        if not items:
            return exp.Cast(this=exp.Array(expressions=[]), to=exp.DataType.build("VARCHAR[]"))
        x = exp.to_identifier("x")
        return exp.Anonymous(
            this="LIST_FILTER",
            expressions=[
                exp.Array(expressions=list(items)),
                exp.Lambda(
                    this=exp.Not(this=exp.Is(this=exp.column(x), expression=exp.Null())),
                    expressions=[x],
                ),
            ],
        )

    def unknown_entry(self, clause_id: str, missing: exp.Expr) -> exp.Expr:
        """One element of the ``unknown`` column: {clause, missing}."""
        return exp.Struct(
            expressions=[
                exp.PropertyEQ(this=exp.to_identifier("clause"), expression=lit(clause_id)),
                exp.PropertyEQ(this=exp.to_identifier("missing"), expression=missing),
            ]
        )

    def unknown_list(self, entries: Sequence[exp.Expr]) -> exp.Expr:
        if not entries:
            return exp.Cast(
                this=exp.Array(expressions=[]),
                to=exp.DataType.build(
                    "STRUCT(clause VARCHAR, missing VARCHAR[])[]", dialect="duckdb"
                ),
            )
        return self.string_list(entries)

    # Whether list-valued output columns arrive as JSON text to be decoded.
    lists_as_json = False

    def in_bound_list(self, column: exp.Expr) -> exp.Expr:
        """``column`` is one of the strings of the query's one parameter, ``$1``, a list
        bound when the query runs: DuckDB and PostgreSQL both spell it ``= ANY($1)``.

        The cast gives an empty list (bound without an element type) its type.
        """
        ids = exp.Cast(
            this=exp.Parameter(this=exp.Literal.number(1)), to=exp.DataType.build("VARCHAR[]")
        )
        return exp.EQ(this=column, expression=exp.Any(this=exp.paren(ids, copy=False)))


class DuckDBDialect(SqlDialect):
    name = "duckdb"


class PostgresDialect(SqlDialect):
    name = "postgres"

    def make_date(self, y: exp.Expr, m: exp.Expr, d: exp.Expr) -> exp.Expr:
        return exp.Anonymous(this="MAKE_DATE", expressions=[y, m, d])

    def string_list(self, items: Sequence[exp.Expr]) -> exp.Expr:
        # array_remove drops the NULLs the CASE WHENs leave.
        arr = (
            exp.Array(expressions=list(items))
            if items
            else exp.Cast(
                this=exp.Array(expressions=[]), to=exp.DataType.build("TEXT[]", dialect="postgres")
            )
        )
        if not items:
            return arr
        return exp.Anonymous(this="ARRAY_REMOVE", expressions=[arr, exp.Null()])

    def unknown_entry(self, clause_id: str, missing: exp.Expr) -> exp.Expr:
        # PostgreSQL has no anonymous structs: one JSON object per entry.
        return exp.Anonymous(
            this="JSONB_BUILD_OBJECT",
            expressions=[
                lit("clause"),
                lit(clause_id),
                lit("missing"),
                exp.Anonymous(this="TO_JSONB", expressions=[missing]),
            ],
        )

    def unknown_list(self, entries: Sequence[exp.Expr]) -> exp.Expr:
        if not entries:
            return exp.Cast(this=lit("[]"), to=exp.DataType.build("JSONB", dialect="postgres"))
        # jsonb_strip_nulls does not drop array elements; build the array from the
        # non-null entries instead.
        inner = exp.Anonymous(
            this="ARRAY_REMOVE",
            expressions=[exp.Array(expressions=list(entries)), exp.Null()],
        )
        return exp.Anonymous(this="TO_JSONB", expressions=[inner])

    lists_as_json = True


class SparkDialect(SqlDialect):
    name = "spark"

    def in_bound_list(self, column: exp.Expr) -> exp.Expr:
        from amnesty.errors import EngineError

        # The Spark backend runs SQL text as it is: it binds no parameters.
        raise EngineError("the spark backend cannot take the persons as a query parameter")

    def add_days(self, date: exp.Expr, days: exp.Expr) -> exp.Expr:
        # DATE_ADD takes an INT; Spark's DIV (the rounded fractions) yields a BIGINT.
        return exp.Anonymous(this="DATE_ADD", expressions=[date, _as_int(days)])

    def add_months(self, date: exp.Expr, months: exp.Expr) -> exp.Expr:
        return exp.Anonymous(this="ADD_MONTHS", expressions=[date, months])

    def days_between(self, start: exp.Expr, end: exp.Expr) -> exp.Expr:
        return exp.Anonymous(this="DATEDIFF", expressions=[end, start])

    def string_list(self, items: Sequence[exp.Expr]) -> exp.Expr:
        if not items:
            return exp.Cast(
                this=exp.Array(expressions=[]),
                to=exp.DataType.build("ARRAY<STRING>", dialect="spark"),
            )
        x = exp.to_identifier("x")
        return exp.Anonymous(
            this="FILTER",
            expressions=[
                exp.Anonymous(this="ARRAY", expressions=list(items)),
                exp.Lambda(
                    this=exp.Not(this=exp.Is(this=exp.column(x), expression=exp.Null())),
                    expressions=[x],
                ),
            ],
        )

    def unknown_entry(self, clause_id: str, missing: exp.Expr) -> exp.Expr:
        return exp.Anonymous(
            this="NAMED_STRUCT",
            expressions=[lit("clause"), lit(clause_id), lit("missing"), missing],
        )

    def unknown_list(self, entries: Sequence[exp.Expr]) -> exp.Expr:
        if not entries:
            return exp.Cast(
                this=exp.Array(expressions=[]),
                to=exp.DataType.build(
                    "ARRAY<STRUCT<clause: STRING, missing: ARRAY<STRING>>>", dialect="spark"
                ),
            )
        return self.string_list(entries)


DIALECTS: dict[str, type[SqlDialect]] = {
    "duckdb": DuckDBDialect,
    "postgres": PostgresDialect,
    "spark": SparkDialect,
}


def get_dialect(name: str) -> SqlDialect:
    return DIALECTS[name]()
