"""The floor: the October 2015 decree written by hand as one DuckDB query.

What a careful engineer would write for exactly these rules with DuckDB's own
idioms (``arg_max`` for the latest event, integer codes for three-valued
quantifiers, one pass per table), producing the SAME nine columns amnesty does,
explanations included: grounds, blocking, referred, unknown with the missing
facts, undertakings. The bench checks it equals amnesty's output row for row, so
the ratio amnesty/floor is the price of compiling the decree rather than
hand-writing it.

The rules (``decrees/kp-2015-10-party-founding.toml``, SEMANTICS.md):

* population: latest custody-status event (admission, return / release, death,
  temporary release) on or before the as-of date is an admission or a return, and
  the sentence (latest conviction end, or a commutation's new end date) has not
  ended by then;
* KP-S1 require: not a political prison camp, or Kaechon No. 14;
* KP-G1 grant: any conviction for theft, violent crime, drug trafficking;
* KP-G2 grant: unable to work; KP-G3 grant: severe or terminal illness
  (latest assessment on or before the as-of date);
* KP-G4 grant, contested: repatriated from China or Vietnam (UPI) against also
  Laos and Mongolia (Daily NK): unknown where the readings differ;
* KP-G5 grant: a defection attempt, or a conviction for illegal border crossing;
* KP-X1 exclude: held by the MSS; KP-X2 exclude: any political conviction;
* scope: penitentiary, labour training centre, detention centre, political camp;
* undertakings KP-U1 (everyone not ineligible), KP-U2 (Kaechon No. 14, or unknown).

Three-valued codes: 2 true, 1 unknown, 0 false; ``any`` is the MAX over items.
"""

from __future__ import annotations

import datetime as dt

AS_OF = dt.date(2015, 10, 8)

FLOOR_SQL = """
WITH
conv AS (
    SELECT
        c.person_id,
        count(*) AS n,
        max(c.served_end) AS last_end,
        bool_or(c.sentence_kind IN ('life', 'death') OR c.term_months IS NULL) AS open_ended,
        max(CASE WHEN o.category IS NULL THEN 1
                 WHEN o.category IN ('theft', 'violent_crime', 'drug_trafficking') THEN 2
                 ELSE 0 END) AS g1,
        max(CASE WHEN o.category IS NULL THEN 1
                 WHEN o.category = 'illegal_border_crossing' THEN 2 ELSE 0 END) AS g5c,
        max(CASE WHEN o.category IS NULL THEN 1
                 WHEN o.category = 'political' THEN 2 ELSE 0 END) AS x2,
        bool_or(o.category IS NULL) AS category_null
    FROM (
        -- convictions of one aggregate are served one after another (docs/semantics.md)
        SELECT *, CASE WHEN aggregate_id IS NULL THEN start_date + to_months(term_months)
                       ELSE min(start_date) OVER w
                            + to_months(CAST(sum(term_months) OVER w AS INTEGER)) END AS served_end
        FROM convictions
        WINDOW w AS (PARTITION BY person_id, aggregate_id)
    ) AS c
    LEFT JOIN offences AS o ON o.offence_code = c.offence_code
    GROUP BY c.person_id
),
ev AS (
    SELECT
        person_id,
        arg_max(event_type, (event_date, event_id)) FILTER (
            WHERE event_type IN ('admission', 'return', 'release', 'death', 'temporary_release')
        ) AS status,
        arg_max(new_end_date, (event_date, event_id)) FILTER (
            WHERE event_type = 'commutation' AND new_end_date IS NOT NULL
        ) AS new_end,
        max(CASE WHEN event_type <> 'repatriation' THEN 0
                 WHEN country IS NULL THEN 1
                 WHEN country IN ('CHN', 'VNM') THEN 2 ELSE 0 END) AS g4_upi,
        max(CASE WHEN event_type <> 'repatriation' THEN 0
                 WHEN country IS NULL THEN 1
                 WHEN country IN ('CHN', 'VNM', 'LAO', 'MNG') THEN 2 ELSE 0 END) AS g4_dnk,
        bool_or(event_type = 'defection_attempt') AS g5e,
        bool_or(country IS NULL) AS country_null
    FROM events
    WHERE event_date <= DATE '{as_of}'
    GROUP BY person_id
),
health AS (
    SELECT
        person_id,
        arg_max({{'severity': severity, 'able': able_to_work}}, (assessed_on, assessment_id)) AS h
    FROM health_assessments
    WHERE assessed_on <= DATE '{as_of}'
    GROUP BY person_id
),
pop AS (
    SELECT
        p.person_id,
        p.facility_id,
        p.custody_authority AS authority,
        f.facility_type,
        conv.n,
        conv.g1, conv.g5c, conv.x2, conv.category_null,
        ev.g4_upi, ev.g4_dnk, ev.g5e, ev.country_null,
        health.h.severity AS severity,
        health.h.able AS able
    FROM persons AS p
    JOIN ev ON ev.person_id = p.person_id
    LEFT JOIN conv ON conv.person_id = p.person_id
    LEFT JOIN health ON health.person_id = p.person_id
    LEFT JOIN facilities AS f ON f.facility_id = p.facility_id
    WHERE ev.status IN ('admission', 'return')
      AND NOT coalesce(
          CASE WHEN conv.n IS NULL THEN NULL
               ELSE coalesce(ev.new_end, CASE WHEN conv.open_ended THEN NULL
                                              ELSE conv.last_end END) END
          <= DATE '{as_of}',
          false)
),
clauses AS (
    SELECT
        person_id,
        facility_id,
        -- three-valued clause values (NULL = unknown)
        (facility_type <> 'political_prison_camp' OR facility_id = 'KP-CAMP-14') AS s1,
        CASE coalesce(g1, 0) WHEN 2 THEN true WHEN 1 THEN NULL ELSE false END AS g1,
        NOT able AS g2,
        severity IN ('severe', 'terminal') AS g3,
        CASE WHEN coalesce(g4_upi, 0) IS DISTINCT FROM coalesce(g4_dnk, 0) THEN NULL
             ELSE CASE coalesce(g4_upi, 0) WHEN 2 THEN true WHEN 1 THEN NULL ELSE false END
        END AS g4,
        coalesce(g5e, false)
            OR CASE coalesce(g5c, 0) WHEN 2 THEN true WHEN 1 THEN NULL ELSE false END AS g5,
        authority = 'MSS' AS x1,
        CASE coalesce(x2, 0) WHEN 2 THEN true WHEN 1 THEN NULL ELSE false END AS x2,
        facility_type IN ('penitentiary', 'labour_training_centre', 'detention_centre',
                          'political_prison_camp') AS scope,
        -- what an unknown clause was missing
        facility_type IS NULL AS no_type,
        facility_id IS NULL AS no_facility,
        coalesce(category_null, false) AS no_category,
        coalesce(country_null, false) AS no_country,
        coalesce(g4_upi, 0) IS DISTINCT FROM coalesce(g4_dnk, 0) AS contested,
        able IS NULL AS no_able,
        severity IS NULL AS no_severity,
        authority IS NULL AS no_authority
    FROM pop
),
decided AS (
    SELECT
        *,
        CASE
            WHEN x1 IS TRUE OR x2 IS TRUE OR s1 IS FALSE OR scope IS FALSE THEN 'ineligible'
            WHEN g1 IS FALSE AND g2 IS FALSE AND g3 IS FALSE AND g4 IS FALSE AND g5 IS FALSE
                THEN 'ineligible'
            WHEN x1 IS NULL OR x2 IS NULL OR s1 IS NULL OR scope IS NULL
                OR NOT (g1 IS TRUE OR g2 IS TRUE OR g3 IS TRUE OR g4 IS TRUE OR g5 IS TRUE)
                THEN 'review'
            ELSE 'eligible'
        END AS outcome
    FROM clauses
)
SELECT
    person_id,
    facility_id,
    outcome,
    CASE WHEN outcome <> 'ineligible' THEN 'release' END AS relief,
    list_filter([CASE WHEN g1 IS TRUE THEN 'KP-G1' END, CASE WHEN g2 IS TRUE THEN 'KP-G2' END,
                 CASE WHEN g3 IS TRUE THEN 'KP-G3' END, CASE WHEN g4 IS TRUE THEN 'KP-G4' END,
                 CASE WHEN g5 IS TRUE THEN 'KP-G5' END], lambda x: x IS NOT NULL) AS grounds,
    list_filter([CASE WHEN s1 IS FALSE THEN 'KP-S1' END, CASE WHEN x1 IS TRUE THEN 'KP-X1' END,
                 CASE WHEN x2 IS TRUE THEN 'KP-X2' END, CASE WHEN scope IS FALSE THEN 'scope' END],
                lambda x: x IS NOT NULL) AS blocking,
    []::VARCHAR[] AS referred,
    list_filter([
        CASE WHEN s1 IS NULL THEN {{'clause': 'KP-S1', 'missing': list_filter(
            [CASE WHEN no_type THEN 'facility.type' END,
             CASE WHEN no_facility THEN 'facility.id' END],
            lambda x: x IS NOT NULL)}} END,
        CASE WHEN g1 IS NULL THEN {{'clause': 'KP-G1', 'missing': list_filter(
            [CASE WHEN no_category THEN 'conviction.category' END], lambda x: x IS NOT NULL)}} END,
        CASE WHEN g2 IS NULL THEN {{'clause': 'KP-G2', 'missing': list_filter(
            [CASE WHEN no_able THEN 'health.able_to_work' END], lambda x: x IS NOT NULL)}} END,
        CASE WHEN g3 IS NULL THEN {{'clause': 'KP-G3', 'missing': list_filter(
            [CASE WHEN no_severity THEN 'health.severity' END], lambda x: x IS NOT NULL)}} END,
        CASE WHEN g4 IS NULL THEN {{'clause': 'KP-G4', 'missing': list_filter(
            [CASE WHEN contested THEN 'contested' END,
             CASE WHEN no_country THEN 'event.country' END],
            lambda x: x IS NOT NULL)}} END,
        CASE WHEN g5 IS NULL THEN {{'clause': 'KP-G5', 'missing': list_filter(
            [CASE WHEN no_category THEN 'conviction.category' END], lambda x: x IS NOT NULL)}} END,
        CASE WHEN x1 IS NULL THEN {{'clause': 'KP-X1', 'missing': list_filter(
            [CASE WHEN no_authority THEN 'person.authority' END], lambda x: x IS NOT NULL)}} END,
        CASE WHEN x2 IS NULL THEN {{'clause': 'KP-X2', 'missing': list_filter(
            [CASE WHEN no_category THEN 'conviction.category' END], lambda x: x IS NOT NULL)}} END,
        CASE WHEN scope IS NULL THEN {{'clause': 'scope', 'missing': list_filter(
            [CASE WHEN no_type THEN 'facility.type' END], lambda x: x IS NOT NULL)}} END
    ], lambda x: x IS NOT NULL) AS unknown,
    CASE WHEN outcome = 'ineligible' THEN []::VARCHAR[]
         WHEN facility_id = 'KP-CAMP-14' OR facility_id IS NULL THEN ['KP-U1', 'KP-U2']
         ELSE ['KP-U1'] END AS undertakings
FROM decided
"""


def floor_sql(as_of: dt.date = AS_OF) -> str:
    return FLOOR_SQL.format(as_of=as_of.isoformat())
