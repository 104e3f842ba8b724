WITH places AS (
  SELECT
    f.facility_id,
    f.facility_type AS facility_type,
    f.authority AS authority,
    f.division_id AS division_id,
    d0.division_id AS anc0,
    d1.division_id AS anc1,
    d2.division_id AS anc2,
    d3.division_id AS anc3,
    d4.division_id AS anc4,
    CASE
      WHEN d0.level IN ('province', 'special_city', 'federal_subject')
      THEN d0.division_id
      WHEN d1.level IN ('province', 'special_city', 'federal_subject')
      THEN d1.division_id
      WHEN d2.level IN ('province', 'special_city', 'federal_subject')
      THEN d2.division_id
      WHEN d3.level IN ('province', 'special_city', 'federal_subject')
      THEN d3.division_id
      WHEN d4.level IN ('province', 'special_city', 'federal_subject')
      THEN d4.division_id
    END AS province
  FROM facilities AS f
  LEFT JOIN divisions AS d0
    ON d0.division_id = f.division_id
  LEFT JOIN divisions AS d1
    ON d1.division_id = d0.parent_id
  LEFT JOIN divisions AS d2
    ON d2.division_id = d1.parent_id
  LEFT JOIN divisions AS d3
    ON d3.division_id = d2.parent_id
  LEFT JOIN divisions AS d4
    ON d4.division_id = d3.parent_id
), conv_rows AS (
  SELECT
    c.person_id,
    c.conviction_id AS conviction__id,
    c.offence_code AS conviction__offence_code,
    o.category AS conviction__category,
    o.gravity AS conviction__gravity,
    o.intent AS conviction__intent,
    COALESCE(
      o.valid_from <= CAST('2015-10-08' AS DATE)
      AND (
        o.valid_to IS NULL OR o.valid_to >= CAST('2015-10-08' AS DATE)
      ),
      FALSE
    ) AS conviction__code_in_force,
    CASE
      WHEN COALESCE(c.offence_date_precision, 'day') <> 'day'
      THEN CAST(NULL AS DATE)
      ELSE c.offence_date
    END AS conviction__offence_date,
    c.sentence_kind AS conviction__kind,
    CASE WHEN c.sentence_kind IN ('life', 'death') THEN NULL ELSE c.term_months END AS conviction__term_months,
    CASE
      WHEN COALESCE(c.start_precision, 'day') <> 'day'
      THEN CAST(NULL AS DATE)
      ELSE c.start_date
    END AS conviction__start,
    CASE
      WHEN CASE WHEN c.sentence_kind IN ('life', 'death') THEN NULL ELSE c.term_months END IS NULL
      THEN NULL
      ELSE ADD_MONTHS(
        CASE
          WHEN COALESCE(c.start_precision, 'day') <> 'day'
          THEN CAST(NULL AS DATE)
          ELSE c.start_date
        END,
        CASE WHEN c.sentence_kind IN ('life', 'death') THEN NULL ELSE c.term_months END
      )
    END AS conviction__end,
    CASE
      WHEN c.aggregate_id IS NULL
      THEN CASE
        WHEN CASE WHEN c.sentence_kind IN ('life', 'death') THEN NULL ELSE c.term_months END IS NULL
        THEN NULL
        ELSE ADD_MONTHS(
          CASE
            WHEN COALESCE(c.start_precision, 'day') <> 'day'
            THEN CAST(NULL AS DATE)
            ELSE c.start_date
          END,
          CASE WHEN c.sentence_kind IN ('life', 'death') THEN NULL ELSE c.term_months END
        )
      END
      ELSE CASE
        WHEN SUM(
          CASE
            WHEN CASE WHEN c.sentence_kind IN ('life', 'death') THEN NULL ELSE c.term_months END IS NULL
            OR CASE
              WHEN COALESCE(c.start_precision, 'day') <> 'day'
              THEN CAST(NULL AS DATE)
              ELSE c.start_date
            END IS NULL
            THEN 1
            ELSE 0
          END
        ) OVER (PARTITION BY c.person_id, c.aggregate_id) > 0
        THEN NULL
        ELSE ADD_MONTHS(
          MIN(
            CASE
              WHEN COALESCE(c.start_precision, 'day') <> 'day'
              THEN CAST(NULL AS DATE)
              ELSE c.start_date
            END
          ) OVER (PARTITION BY c.person_id, c.aggregate_id),
          CAST(SUM(CASE WHEN c.sentence_kind IN ('life', 'death') THEN NULL ELSE c.term_months END) OVER (PARTITION BY c.person_id, c.aggregate_id) AS INT)
        )
      END
    END AS counted_end
  FROM convictions AS c
  LEFT JOIN offences AS o
    ON o.offence_code = c.offence_code
), conv_agg AS (
  SELECT
    person_id,
    COUNT(*) AS conv_n,
    CASE
      WHEN MAX(CASE WHEN conviction__start IS NULL THEN 1 ELSE 0 END) = 1
      THEN NULL
      ELSE MIN(conviction__start)
    END AS conv_start,
    MAX(counted_end) AS conv_end,
    MAX(CASE WHEN counted_end IS NULL THEN 1 ELSE 0 END) AS conv_end_null,
    SUM(conviction__term_months) AS conv_months,
    MAX(CASE WHEN conviction__term_months IS NULL THEN 1 ELSE 0 END) AS conv_months_null,
    MAX(CASE WHEN conviction__kind = 'life' THEN 1 ELSE 0 END) AS conv_life,
    MAX(CASE WHEN conviction__kind = 'death' THEN 1 ELSE 0 END) AS conv_death,
    MAX(
      CASE
        WHEN conviction__category IN ('theft')
        THEN 2
        WHEN NOT (
          conviction__category IN ('theft')
        )
        THEN 0
        ELSE 1
      END
    ) AS cq1_0,
    MAX(CASE WHEN conviction__category IS NULL THEN 1 ELSE 0 END) AS cq1_1
  FROM conv_rows
  GROUP BY
    person_id
), status AS (
  SELECT
    person_id,
    event_type,
    event_date,
    decree_id,
    run_id
  FROM (
    SELECT
      person_id,
      event_type,
      event_date,
      decree_id,
      run_id,
      ROW_NUMBER() OVER (PARTITION BY person_id ORDER BY event_date DESC, event_id DESC) AS rn
    FROM events
    WHERE
      event_date <= CAST('2015-10-08' AS DATE)
      AND event_type IN ('admission', 'return', 'release', 'death', 'temporary_release')
  ) AS latest
  WHERE
    rn = 1
), commuted AS (
  SELECT
    person_id,
    new_end_date
  FROM (
    SELECT
      person_id,
      new_end_date,
      ROW_NUMBER() OVER (PARTITION BY person_id ORDER BY event_date DESC, event_id DESC) AS rn
    FROM events
    WHERE
      event_date <= CAST('2015-10-08' AS DATE)
      AND (
        event_type = 'commutation' AND NOT new_end_date IS NULL
      )
  ) AS latest
  WHERE
    rn = 1
), people AS (
  SELECT
    p.person_id AS person_id,
    p.person_id AS person__id,
    p.sex AS person__sex,
    p.citizenship AS person__citizenship,
    p.custody_authority AS person__authority,
    p.facility_id AS facility__id,
    pl.facility_type AS facility__type,
    pl.authority AS facility__authority,
    pl.division_id AS facility__division,
    pl.province AS facility__province,
    2015 - CAST(YEAR(
      CASE
        WHEN p.birth_precision = 'month'
        THEN DATE_ADD(
          ADD_MONTHS(MAKE_DATE(CAST(YEAR(p.birth_date) AS INT), CAST(MONTH(p.birth_date) AS INT), 1), 1),
          -1
        )
        WHEN p.birth_precision = 'year'
        THEN MAKE_DATE(CAST(YEAR(p.birth_date) AS INT), 12, 31)
        ELSE p.birth_date
      END
    ) AS INT) - CASE
      WHEN CASE
        WHEN CAST(MONTH(
          CASE
            WHEN p.birth_precision = 'month'
            THEN DATE_ADD(
              ADD_MONTHS(MAKE_DATE(CAST(YEAR(p.birth_date) AS INT), CAST(MONTH(p.birth_date) AS INT), 1), 1),
              -1
            )
            WHEN p.birth_precision = 'year'
            THEN MAKE_DATE(CAST(YEAR(p.birth_date) AS INT), 12, 31)
            ELSE p.birth_date
          END
        ) AS INT) * 100 + CAST(DAY(
          CASE
            WHEN p.birth_precision = 'month'
            THEN DATE_ADD(
              ADD_MONTHS(MAKE_DATE(CAST(YEAR(p.birth_date) AS INT), CAST(MONTH(p.birth_date) AS INT), 1), 1),
              -1
            )
            WHEN p.birth_precision = 'year'
            THEN MAKE_DATE(CAST(YEAR(p.birth_date) AS INT), 12, 31)
            ELSE p.birth_date
          END
        ) AS INT) = 229
        THEN 228
        ELSE CAST(MONTH(
          CASE
            WHEN p.birth_precision = 'month'
            THEN DATE_ADD(
              ADD_MONTHS(MAKE_DATE(CAST(YEAR(p.birth_date) AS INT), CAST(MONTH(p.birth_date) AS INT), 1), 1),
              -1
            )
            WHEN p.birth_precision = 'year'
            THEN MAKE_DATE(CAST(YEAR(p.birth_date) AS INT), 12, 31)
            ELSE p.birth_date
          END
        ) AS INT) * 100 + CAST(DAY(
          CASE
            WHEN p.birth_precision = 'month'
            THEN DATE_ADD(
              ADD_MONTHS(MAKE_DATE(CAST(YEAR(p.birth_date) AS INT), CAST(MONTH(p.birth_date) AS INT), 1), 1),
              -1
            )
            WHEN p.birth_precision = 'year'
            THEN MAKE_DATE(CAST(YEAR(p.birth_date) AS INT), 12, 31)
            ELSE p.birth_date
          END
        ) AS INT)
      END > 1008
      THEN 1
      ELSE 0
    END AS person__age_lo,
    2015 - CAST(YEAR(
      CASE
        WHEN p.birth_precision = 'month'
        THEN MAKE_DATE(CAST(YEAR(p.birth_date) AS INT), CAST(MONTH(p.birth_date) AS INT), 1)
        WHEN p.birth_precision = 'year'
        THEN MAKE_DATE(CAST(YEAR(p.birth_date) AS INT), 1, 1)
        ELSE p.birth_date
      END
    ) AS INT) - CASE
      WHEN CASE
        WHEN CAST(MONTH(
          CASE
            WHEN p.birth_precision = 'month'
            THEN MAKE_DATE(CAST(YEAR(p.birth_date) AS INT), CAST(MONTH(p.birth_date) AS INT), 1)
            WHEN p.birth_precision = 'year'
            THEN MAKE_DATE(CAST(YEAR(p.birth_date) AS INT), 1, 1)
            ELSE p.birth_date
          END
        ) AS INT) * 100 + CAST(DAY(
          CASE
            WHEN p.birth_precision = 'month'
            THEN MAKE_DATE(CAST(YEAR(p.birth_date) AS INT), CAST(MONTH(p.birth_date) AS INT), 1)
            WHEN p.birth_precision = 'year'
            THEN MAKE_DATE(CAST(YEAR(p.birth_date) AS INT), 1, 1)
            ELSE p.birth_date
          END
        ) AS INT) = 229
        THEN 228
        ELSE CAST(MONTH(
          CASE
            WHEN p.birth_precision = 'month'
            THEN MAKE_DATE(CAST(YEAR(p.birth_date) AS INT), CAST(MONTH(p.birth_date) AS INT), 1)
            WHEN p.birth_precision = 'year'
            THEN MAKE_DATE(CAST(YEAR(p.birth_date) AS INT), 1, 1)
            ELSE p.birth_date
          END
        ) AS INT) * 100 + CAST(DAY(
          CASE
            WHEN p.birth_precision = 'month'
            THEN MAKE_DATE(CAST(YEAR(p.birth_date) AS INT), CAST(MONTH(p.birth_date) AS INT), 1)
            WHEN p.birth_precision = 'year'
            THEN MAKE_DATE(CAST(YEAR(p.birth_date) AS INT), 1, 1)
            ELSE p.birth_date
          END
        ) AS INT)
      END > 1008
      THEN 1
      ELSE 0
    END AS person__age_hi,
    CASE
      WHEN 2015 - CAST(YEAR(
        CASE
          WHEN p.birth_precision = 'month'
          THEN DATE_ADD(
            ADD_MONTHS(MAKE_DATE(CAST(YEAR(p.birth_date) AS INT), CAST(MONTH(p.birth_date) AS INT), 1), 1),
            -1
          )
          WHEN p.birth_precision = 'year'
          THEN MAKE_DATE(CAST(YEAR(p.birth_date) AS INT), 12, 31)
          ELSE p.birth_date
        END
      ) AS INT) - CASE
        WHEN CASE
          WHEN CAST(MONTH(
            CASE
              WHEN p.birth_precision = 'month'
              THEN DATE_ADD(
                ADD_MONTHS(MAKE_DATE(CAST(YEAR(p.birth_date) AS INT), CAST(MONTH(p.birth_date) AS INT), 1), 1),
                -1
              )
              WHEN p.birth_precision = 'year'
              THEN MAKE_DATE(CAST(YEAR(p.birth_date) AS INT), 12, 31)
              ELSE p.birth_date
            END
          ) AS INT) * 100 + CAST(DAY(
            CASE
              WHEN p.birth_precision = 'month'
              THEN DATE_ADD(
                ADD_MONTHS(MAKE_DATE(CAST(YEAR(p.birth_date) AS INT), CAST(MONTH(p.birth_date) AS INT), 1), 1),
                -1
              )
              WHEN p.birth_precision = 'year'
              THEN MAKE_DATE(CAST(YEAR(p.birth_date) AS INT), 12, 31)
              ELSE p.birth_date
            END
          ) AS INT) = 229
          THEN 228
          ELSE CAST(MONTH(
            CASE
              WHEN p.birth_precision = 'month'
              THEN DATE_ADD(
                ADD_MONTHS(MAKE_DATE(CAST(YEAR(p.birth_date) AS INT), CAST(MONTH(p.birth_date) AS INT), 1), 1),
                -1
              )
              WHEN p.birth_precision = 'year'
              THEN MAKE_DATE(CAST(YEAR(p.birth_date) AS INT), 12, 31)
              ELSE p.birth_date
            END
          ) AS INT) * 100 + CAST(DAY(
            CASE
              WHEN p.birth_precision = 'month'
              THEN DATE_ADD(
                ADD_MONTHS(MAKE_DATE(CAST(YEAR(p.birth_date) AS INT), CAST(MONTH(p.birth_date) AS INT), 1), 1),
                -1
              )
              WHEN p.birth_precision = 'year'
              THEN MAKE_DATE(CAST(YEAR(p.birth_date) AS INT), 12, 31)
              ELSE p.birth_date
            END
          ) AS INT)
        END > 1008
        THEN 1
        ELSE 0
      END = 2015 - CAST(YEAR(
        CASE
          WHEN p.birth_precision = 'month'
          THEN MAKE_DATE(CAST(YEAR(p.birth_date) AS INT), CAST(MONTH(p.birth_date) AS INT), 1)
          WHEN p.birth_precision = 'year'
          THEN MAKE_DATE(CAST(YEAR(p.birth_date) AS INT), 1, 1)
          ELSE p.birth_date
        END
      ) AS INT) - CASE
        WHEN CASE
          WHEN CAST(MONTH(
            CASE
              WHEN p.birth_precision = 'month'
              THEN MAKE_DATE(CAST(YEAR(p.birth_date) AS INT), CAST(MONTH(p.birth_date) AS INT), 1)
              WHEN p.birth_precision = 'year'
              THEN MAKE_DATE(CAST(YEAR(p.birth_date) AS INT), 1, 1)
              ELSE p.birth_date
            END
          ) AS INT) * 100 + CAST(DAY(
            CASE
              WHEN p.birth_precision = 'month'
              THEN MAKE_DATE(CAST(YEAR(p.birth_date) AS INT), CAST(MONTH(p.birth_date) AS INT), 1)
              WHEN p.birth_precision = 'year'
              THEN MAKE_DATE(CAST(YEAR(p.birth_date) AS INT), 1, 1)
              ELSE p.birth_date
            END
          ) AS INT) = 229
          THEN 228
          ELSE CAST(MONTH(
            CASE
              WHEN p.birth_precision = 'month'
              THEN MAKE_DATE(CAST(YEAR(p.birth_date) AS INT), CAST(MONTH(p.birth_date) AS INT), 1)
              WHEN p.birth_precision = 'year'
              THEN MAKE_DATE(CAST(YEAR(p.birth_date) AS INT), 1, 1)
              ELSE p.birth_date
            END
          ) AS INT) * 100 + CAST(DAY(
            CASE
              WHEN p.birth_precision = 'month'
              THEN MAKE_DATE(CAST(YEAR(p.birth_date) AS INT), CAST(MONTH(p.birth_date) AS INT), 1)
              WHEN p.birth_precision = 'year'
              THEN MAKE_DATE(CAST(YEAR(p.birth_date) AS INT), 1, 1)
              ELSE p.birth_date
            END
          ) AS INT)
        END > 1008
        THEN 1
        ELSE 0
      END
      THEN 2015 - CAST(YEAR(
        CASE
          WHEN p.birth_precision = 'month'
          THEN DATE_ADD(
            ADD_MONTHS(MAKE_DATE(CAST(YEAR(p.birth_date) AS INT), CAST(MONTH(p.birth_date) AS INT), 1), 1),
            -1
          )
          WHEN p.birth_precision = 'year'
          THEN MAKE_DATE(CAST(YEAR(p.birth_date) AS INT), 12, 31)
          ELSE p.birth_date
        END
      ) AS INT) - CASE
        WHEN CASE
          WHEN CAST(MONTH(
            CASE
              WHEN p.birth_precision = 'month'
              THEN DATE_ADD(
                ADD_MONTHS(MAKE_DATE(CAST(YEAR(p.birth_date) AS INT), CAST(MONTH(p.birth_date) AS INT), 1), 1),
                -1
              )
              WHEN p.birth_precision = 'year'
              THEN MAKE_DATE(CAST(YEAR(p.birth_date) AS INT), 12, 31)
              ELSE p.birth_date
            END
          ) AS INT) * 100 + CAST(DAY(
            CASE
              WHEN p.birth_precision = 'month'
              THEN DATE_ADD(
                ADD_MONTHS(MAKE_DATE(CAST(YEAR(p.birth_date) AS INT), CAST(MONTH(p.birth_date) AS INT), 1), 1),
                -1
              )
              WHEN p.birth_precision = 'year'
              THEN MAKE_DATE(CAST(YEAR(p.birth_date) AS INT), 12, 31)
              ELSE p.birth_date
            END
          ) AS INT) = 229
          THEN 228
          ELSE CAST(MONTH(
            CASE
              WHEN p.birth_precision = 'month'
              THEN DATE_ADD(
                ADD_MONTHS(MAKE_DATE(CAST(YEAR(p.birth_date) AS INT), CAST(MONTH(p.birth_date) AS INT), 1), 1),
                -1
              )
              WHEN p.birth_precision = 'year'
              THEN MAKE_DATE(CAST(YEAR(p.birth_date) AS INT), 12, 31)
              ELSE p.birth_date
            END
          ) AS INT) * 100 + CAST(DAY(
            CASE
              WHEN p.birth_precision = 'month'
              THEN DATE_ADD(
                ADD_MONTHS(MAKE_DATE(CAST(YEAR(p.birth_date) AS INT), CAST(MONTH(p.birth_date) AS INT), 1), 1),
                -1
              )
              WHEN p.birth_precision = 'year'
              THEN MAKE_DATE(CAST(YEAR(p.birth_date) AS INT), 12, 31)
              ELSE p.birth_date
            END
          ) AS INT)
        END > 1008
        THEN 1
        ELSE 0
      END
    END AS person__age,
    CASE
      WHEN p.birth_precision IN ('month', 'year')
      THEN CAST(NULL AS DATE)
      ELSE p.birth_date
    END AS person__birth_date,
    COALESCE(ca.conv_n, 0) AS sentence__count,
    ca.conv_start AS sentence__start,
    CASE
      WHEN ca.conv_n IS NULL
      THEN NULL
      ELSE COALESCE(cm.new_end_date, CASE WHEN ca.conv_end_null = 1 THEN NULL ELSE ca.conv_end END)
    END AS sentence__end,
    CASE
      WHEN ca.conv_n IS NULL
      THEN NULL
      WHEN ca.conv_months_null = 1
      THEN NULL
      ELSE ca.conv_months
    END AS sentence__total_months,
    COALESCE(ca.conv_life = 1, FALSE) AS sentence__life,
    COALESCE(ca.conv_death = 1, FALSE) AS sentence__death,
    COALESCE(ca.conv_n, 0) AS conv_n,
    CASE
      WHEN st.event_type IS NULL
      THEN 'not yet admitted'
      WHEN st.event_type = 'death'
      THEN 'died'
      WHEN st.event_type = 'release'
      THEN 'released'
      WHEN st.event_type = 'temporary_release'
      THEN 'temporarily released'
      WHEN CASE
        WHEN ca.conv_n IS NULL
        THEN NULL
        ELSE COALESCE(cm.new_end_date, CASE WHEN ca.conv_end_null = 1 THEN NULL ELSE ca.conv_end END)
      END <= CAST('2015-10-08' AS DATE)
      THEN 'sentence ended'
    END AS left_out,
    CASE WHEN st.event_type IN ('release', 'temporary_release') THEN st.decree_id END AS release_decree,
    CASE WHEN st.event_type IN ('release', 'temporary_release') THEN st.run_id END AS release_run,
    pl.anc0 AS facility__anc0,
    pl.anc1 AS facility__anc1,
    pl.anc2 AS facility__anc2,
    pl.anc3 AS facility__anc3,
    pl.anc4 AS facility__anc4,
    ca.cq1_0 AS cq1_0,
    ca.cq1_1 AS cq1_1
  FROM persons AS p
  LEFT JOIN places AS pl
    ON pl.facility_id = p.facility_id
  LEFT JOIN conv_agg AS ca
    ON ca.person_id = p.person_id
  LEFT JOIN status AS st
    ON st.person_id = p.person_id
  LEFT JOIN commuted AS cm
    ON cm.person_id = p.person_id
), clauses AS (
  SELECT
    pe.person_id AS person_id,
    pe.facility__id AS facility_id,
    CASE WHEN cq1_0 = 2 THEN TRUE WHEN cq1_0 = 1 THEN NULL ELSE FALSE END AS v0,
    CASE
      WHEN person__age_lo >= 55 AND person__age_hi >= 55
      THEN TRUE
      WHEN NOT (
        person__age_lo >= 55
      ) AND NOT (
        person__age_hi >= 55
      )
      THEN FALSE
    END AS v1,
    person__authority = 'MSS' AS v2,
    cq1_1 = 1 AS m0,
    person__age IS NULL AS m1,
    person__authority IS NULL AS m2
  FROM people AS pe
  WHERE
    pe.left_out IS NULL
), decided AS (
  SELECT
    person_id,
    facility_id,
    CASE
      WHEN (
        COALESCE(v2, FALSE)
      ) OR FALSE
      THEN 'ineligible'
      WHEN NOT (
        COALESCE(v0, TRUE) OR COALESCE(v1, TRUE)
      )
      THEN 'ineligible'
      WHEN (
        v2 IS NULL
      )
      OR NOT (
        COALESCE(v0, FALSE) OR COALESCE(v1, FALSE)
      )
      OR FALSE
      OR COALESCE(
        CASE WHEN COALESCE(v0, TRUE) THEN 0 WHEN COALESCE(v1, TRUE) THEN 1 END < CASE WHEN COALESCE(v0, FALSE) THEN 0 WHEN COALESCE(v1, FALSE) THEN 1 END,
        FALSE
      )
      THEN 'review'
      ELSE 'eligible'
    END AS outcome,
    CASE
      WHEN COALESCE(v0, FALSE)
      THEN 'release'
      WHEN COALESCE(v1, FALSE)
      THEN 'conditional_release'
    END AS relief_true,
    CASE
      WHEN COALESCE(v0, TRUE)
      THEN 'release'
      WHEN COALESCE(v1, TRUE)
      THEN 'conditional_release'
    END AS relief_possible,
    FILTER(
      ARRAY(
        CASE
          WHEN v0 IS NULL
          THEN NAMED_STRUCT(
            'clause',
            'g-theft',
            'missing',
            FILTER(ARRAY(CASE WHEN m0 THEN 'conviction.category' END), x -> NOT x IS NULL)
          )
        END,
        CASE
          WHEN v1 IS NULL
          THEN NAMED_STRUCT(
            'clause',
            'g-age',
            'missing',
            FILTER(ARRAY(CASE WHEN m1 THEN 'person.age' END), x -> NOT x IS NULL)
          )
        END,
        CASE
          WHEN v2 IS NULL
          THEN NAMED_STRUCT(
            'clause',
            'x-mss',
            'missing',
            FILTER(ARRAY(CASE WHEN m2 THEN 'person.authority' END), x -> NOT x IS NULL)
          )
        END
      ),
      x -> NOT x IS NULL
    ) AS unknown,
    v0,
    v1,
    v2
  FROM clauses
)
SELECT
  person_id,
  facility_id,
  outcome,
  CASE
    WHEN outcome = 'eligible'
    THEN relief_true
    WHEN outcome = 'review'
    THEN relief_possible
  END AS relief,
  FILTER(
    ARRAY(
      CASE WHEN COALESCE(v0, FALSE) THEN 'g-theft' END,
      CASE WHEN COALESCE(v1, FALSE) THEN 'g-age' END
    ),
    x -> NOT x IS NULL
  ) AS grounds,
  FILTER(ARRAY(CASE WHEN COALESCE(v2, FALSE) THEN 'x-mss' END), x -> NOT x IS NULL) AS blocking,
  CAST(ARRAY() AS ARRAY<STRING>) AS referred,
  unknown,
  CASE
    WHEN outcome = 'ineligible'
    THEN CAST(ARRAY() AS ARRAY<STRING>)
    ELSE CAST(ARRAY() AS ARRAY<STRING>)
  END AS undertakings
FROM decided
