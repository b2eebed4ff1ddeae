-- Reference: sector inflow and outflow per municipality and month, in DuckDB SQL alone.
--
-- SIMPLIFICATION (stated plainly): this reference does NOT read the partners' delivery files. Reading
-- them with DuckDB's read_csv is hard for the cp1252 files, the partner-specific delimiters and header
-- eras, and the xlsx deliveries. It starts from the pipeline's own staging table stg_employment_spells
-- (the validated, pseudonymised rows of every delivery in force), plus delivery_log (the data window),
-- dim_function (which functions are care functions) and dim_partner (employer location, for persons
-- without a residence). So it checks the pipeline's current-records and statistics logic (pandas)
-- against an independent SQL formulation; it does NOT check reading, header mapping, parsing,
-- validation or pseudonymisation, and its timing excludes all of ingest.
--
-- Rules (docs/statistics_spec.md, "Definitions" and "Rules where the definitions leave room"):
--   current record  = per (partner_code, record_key) the row of the latest delivery: period start, then
--                     delivery_version, then source_row_number.
--   care spell      = current record whose function_code is a care function; ignored when start is
--                     missing, start > cutoff, or end < start. End NULL or > cutoff = still employed.
--   one year        = d - INTERVAL 1 YEAR / d + INTERVAL 1 YEAR (DuckDB clips 29 Feb to 28 Feb, checked).
--   inflow          = person, start S with observation_start <= S <= cutoff and no care spell of the
--                     person employing on any day in [S - 1 year, S).
--   outflow         = person, end E with observation_start <= E <= cutoff and no care spell of the
--                     person employing on any day in (E, E + 1 year].
--   municipality    = residence_municipality_code of the spell starting (ending) that day with the
--                     smallest (partner_code, record_key), else that partner's location.
--   observation_start = first day of the first loaded period of a care employer (dim_partner.feed =
--                     employment_spells); cutoff = last day of the latest loaded period of any partner.
-- Result: ref_counts(measure, municipality_code, event_month, persons) with persons = distinct persons.

CREATE OR REPLACE TEMP MACRO period_start(p) AS
    CASE WHEN p LIKE '%Q%'
         THEN make_date(CAST(substr(p, 1, 4) AS INTEGER), CAST(substr(p, 7, 1) AS INTEGER) * 3 - 2, 1)
         ELSE make_date(CAST(substr(p, 1, 4) AS INTEGER), CAST(substr(p, 6, 2) AS INTEGER), 1) END;

CREATE OR REPLACE TEMP MACRO period_end(p) AS
    CAST(period_start(p) + CASE WHEN p LIKE '%Q%' THEN INTERVAL 3 MONTH ELSE INTERVAL 1 MONTH END
         - INTERVAL 1 DAY AS DATE);

CREATE OR REPLACE TEMP TABLE ref_window AS
SELECT
    (SELECT min(period_start(l.delivery_period)) FROM delivery_log l
      JOIN dim_partner p USING (partner_code)
      WHERE l.delivery_status = 'loaded' AND l.delivery_period IS NOT NULL AND p.feed = 'employment_spells')
        AS observation_start,
    (SELECT max(period_end(delivery_period)) FROM delivery_log
      WHERE delivery_status = 'loaded' AND delivery_period IS NOT NULL) AS cutoff;

CREATE OR REPLACE TEMP TABLE ref_current AS
SELECT * EXCLUDE (rn) FROM (
    SELECT s.*, row_number() OVER (
        PARTITION BY partner_code, record_key
        ORDER BY period_start(delivery_period) DESC, delivery_version DESC, source_row_number DESC) AS rn
    FROM stg_employment_spells s)
WHERE rn = 1;

CREATE OR REPLACE TEMP TABLE ref_spells AS
SELECT c.person_id AS person_key, c.partner_code, c.record_key,
       CAST(c.start_date AS DATE) AS start_date,
       CASE WHEN c.end_date IS NULL OR CAST(c.end_date AS DATE) > w.cutoff THEN NULL
            ELSE CAST(c.end_date AS DATE) END AS end_date,            -- NULL = still employed at the cutoff
       coalesce(c.residence_municipality_code, p.location_municipality_code) AS municipality_code
FROM ref_current c
JOIN dim_function f ON f.function_code = c.function_code AND f.is_care_function
LEFT JOIN dim_partner p ON p.partner_code = c.partner_code
CROSS JOIN ref_window w
WHERE c.person_id IS NOT NULL AND c.start_date IS NOT NULL AND CAST(c.start_date AS DATE) <= w.cutoff
  AND (c.end_date IS NULL OR CAST(c.end_date AS DATE) >= CAST(c.start_date AS DATE));

-- inflow, outflow and the counts per cell: bench/reference_flows.sql (shared with reference_files.sql)
