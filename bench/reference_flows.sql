-- Sector inflow and outflow per municipality and month from ref_spells and ref_window, in DuckDB SQL.
-- Shared by both references: bench/reference.sql (from the pipeline's staging table) and
-- bench/reference_files.sql (from the delivery files) each build
--   ref_window(observation_start, cutoff) and
--   ref_spells(person_key, partner_code, record_key, start_date, end_date, municipality_code)
-- (end_date NULL = still employed at the cutoff), then run this. Rules: the header of reference.sql.

CREATE OR REPLACE TEMP TABLE ref_inflow AS
SELECT person_key, start_date AS event_date,
       arg_min(municipality_code, (partner_code, record_key)) AS municipality_code
FROM ref_spells s, ref_window w
WHERE s.start_date BETWEEN w.observation_start AND w.cutoff
  AND NOT EXISTS (
      SELECT 1 FROM ref_spells o
      WHERE o.person_key = s.person_key
        AND o.start_date < s.start_date                                           -- employs a day before S
        AND coalesce(o.end_date, DATE '9999-12-31') >= CAST(s.start_date - INTERVAL 1 YEAR AS DATE))
GROUP BY person_key, start_date;

CREATE OR REPLACE TEMP TABLE ref_outflow AS
SELECT person_key, end_date AS event_date,
       arg_min(municipality_code, (partner_code, record_key)) AS municipality_code
FROM ref_spells s, ref_window w
WHERE s.end_date IS NOT NULL AND s.end_date BETWEEN w.observation_start AND w.cutoff
  AND NOT EXISTS (
      SELECT 1 FROM ref_spells o
      WHERE o.person_key = s.person_key
        AND coalesce(o.end_date, DATE '9999-12-31') > s.end_date                  -- employs a day after E
        AND o.start_date <= CAST(s.end_date + INTERVAL 1 YEAR AS DATE))           -- ... up to E + 1 year
GROUP BY person_key, end_date;

CREATE OR REPLACE TEMP TABLE ref_counts AS
SELECT 'inflow' AS measure, municipality_code, CAST(date_trunc('month', event_date) AS DATE) AS event_month,
       count(DISTINCT person_key) AS persons
FROM ref_inflow GROUP BY ALL
UNION ALL
SELECT 'outflow', municipality_code, CAST(date_trunc('month', event_date) AS DATE), count(DISTINCT person_key)
FROM ref_outflow GROUP BY ALL;
