-- Reference from the delivery files, part 2: target attainment (fct_target_attainment), in DuckDB SQL.
--
-- Runs after bench/reference_files.sql (macros, ref_deliveries, ref_window, ref_current) when the enrolment and
-- municipal files were read too: enr_raw and mun_raw as emp_raw there; ref_targets_csv (config/reference/targets.csv),
-- ref_regions (municipalities.csv).
--
-- Rows (src/ingest/feeds.py, process.py), as for the employment spells:
--   enrolments   required enrolment_number, start_date, outcome, and a BSN or an onderwijsnummer (birth date,
--                crebo, level and learning path may be empty: no statistic needs them on every row); a present BSN must pass the 11-check, a present onderwijsnummer
--                (digits only, no padding) must start with 10 and have weighted sum mod 11 = 5; the person is the
--                BSN when valid, else the onderwijsnummer (never linked to the other feeds); mbo_level a whole
--                number; actual and planned end not before the start; schema (where present): mbo_level 1..4,
--                crebo five digits, birth year 1900..2100.
--   municipal    required trajectory_number, bsn, target_group, benefit_type, programme, referral_date;
--                placement_end_date not before placement_date, trajectory_end_date not before referral_date.
-- Targets (src/transforms/targets.py, read generically from targets.csv):
--   events       employment_spells/start = start of any current care spell; enrolments/start = start of any
--                current enrolment; municipal_participants/start = placement_date, /placement_end =
--                placement_end_date of a current trajectory.
--   a person counts for a target with the first event that lies in [window_start, window_end], on or before the
--   cutoff, whose municipality (residence, else the partner's location) lies in the target's region (BUITEN_REGIO
--   never does); enrolment filters (mbo levels, learning path) apply to enrolment events, placement filters (kind,
--   results) and the municipal filters (programme, target group, benefit type) to the event's own trajectory;
--   other events need (when the target requires a municipal record, or names a municipal filter) a BSN person with
--   a trajectory matching all municipal filters on one record.
--   attainment per target as of every month end from the window start's month, the last one replaced by
--   min(cutoff, window_end) (only the cutoff when the window starts after it), with the spec's arithmetic.

-- --- rows of the enrolment files -------------------------------------------------------------------------------------

CREATE OR REPLACE TEMP TABLE ref_enrolment_rows AS
WITH stripped AS (
    SELECT d.file_id, d.partner_code, d.period_start, d.version, d.status, r.rowid AS row_order, r.too_many_values,
           nullif(pystrip(r.enrolment_number), '') AS enrolment_number,
           nullif(pystrip(r.bsn), '') AS bsn,
           nullif(pystrip(r.onderwijsnummer), '') AS onderwijsnummer,
           nullif(pystrip(r.birth_date), '') AS birth_date,
           nullif(pystrip(r.postcode), '') AS postcode,
           nullif(pystrip(r.programme), '') AS programme,
           nullif(pystrip(r.crebo_code), '') AS crebo_code,
           nullif(pystrip(r.mbo_level), '') AS mbo_level,
           nullif(pystrip(r.learning_path), '') AS learning_path,
           nullif(pystrip(r.start_date), '') AS start_date,
           nullif(pystrip(r.planned_end_date), '') AS planned_end_date,
           nullif(pystrip(r.actual_end_date), '') AS actual_end_date,
           nullif(pystrip(r.outcome), '') AS outcome,
           nullif(pystrip(r.leaving_reason), '') AS leaving_reason,
           nullif(pystrip(r.has_work_placement_agreement), '') AS has_work_placement_agreement
    FROM enr_raw r
    JOIN ref_deliveries d ON d.read_path = r.path
    WHERE d.status IN ('loaded', 'superseded') AND NOT r.is_blank
), prepared AS (
    SELECT *, bsn_padded(regexp_replace(bsn, '[^0-9]', '', 'g')) AS bsn_digits,
           regexp_replace(onderwijsnummer, '[^0-9]', '', 'g') AS onr_digits,
           decimal_text(mbo_level) AS level_text, postcode_pc4(postcode) AS pc4
    FROM stripped
), parsed AS (
    SELECT s.*,
           CASE WHEN length(s.bsn_digits) = 9 THEN eleven_sum(s.bsn_digits) END AS bsn_sum,
           CASE WHEN length(s.onr_digits) = 9 AND starts_with(s.onr_digits, '10') THEN eleven_sum(s.onr_digits) END AS onr_sum,
           parse_date(s.birth_date) AS birth_ts,
           parse_date(s.start_date) AS start_ts,
           parse_date(s.planned_end_date) AS planned_ts,
           parse_date(s.actual_end_date) AS actual_ts,
           parse_decimal(s.level_text) AS level_number,
           yes_no(s.has_work_placement_agreement) AS work_placement_agreement,
           CASE WHEN s.pc4 >= 1000 THEN coalesce(pc.municipality_code, 'BUITEN_REGIO') END AS residence_municipality_code,
           pg.code AS programme_code, lp.code AS learning_path_code, oc.code AS outcome_code, lr.code AS leaving_reason_code
    FROM prepared s
    LEFT JOIN ref_pc4_lookup pc ON pc.pc4 = s.pc4
    LEFT JOIN code_labels pg ON pg.partner_code = s.partner_code AND pg.column_name = 'programme' AND pg.label_key = lower(s.programme)
    LEFT JOIN code_labels lp ON lp.partner_code = s.partner_code AND lp.column_name = 'learning_path' AND lp.label_key = lower(s.learning_path)
    LEFT JOIN code_labels oc ON oc.partner_code = s.partner_code AND oc.column_name = 'outcome' AND oc.label_key = lower(s.outcome)
    LEFT JOIN code_labels lr ON lr.partner_code = s.partner_code AND lr.column_name = 'leaving_reason' AND lr.label_key = lower(s.leaving_reason)
), checked AS MATERIALIZED (
    SELECT p.file_id, p.partner_code, p.period_start, p.version, p.status, p.row_order, p.birth_ts, p.start_ts,
           p.enrolment_number AS record_key, p.crebo_code, p.learning_path_code, p.residence_municipality_code,
           CAST(round(p.level_number) AS BIGINT) AS mbo_level,
           CASE WHEN p.bsn_sum % 11 = 0 AND p.bsn_sum <> 0 THEN p.bsn_digits
                WHEN p.onr_sum % 11 = 5 THEN 'onr:' || p.onr_digits END AS person_key,
           CASE WHEN p.bsn_sum % 11 = 0 AND p.bsn_sum <> 0 THEN 'bsn'
                WHEN p.onr_sum % 11 = 5 THEN 'onderwijsnummer' END AS person_id_kind,
           (   p.enrolment_number IS NULL OR p.start_date IS NULL OR p.outcome IS NULL                  -- ROW_MISSING_VALUE
            OR (p.bsn IS NULL AND p.onderwijsnummer IS NULL)
            OR (p.bsn IS NOT NULL AND NOT coalesce(p.bsn_sum % 11 = 0 AND p.bsn_sum <> 0, false))   -- ROW_INVALID_BSN
            OR (p.onderwijsnummer IS NOT NULL AND NOT coalesce(p.onr_sum % 11 = 5, false))          -- ROW_INVALID_ONDERWIJSNUMMER
            OR (p.birth_date IS NOT NULL AND p.birth_ts IS NULL)                                     -- ROW_INVALID_DATE
            OR (p.start_date IS NOT NULL AND p.start_ts IS NULL)
            OR (p.planned_end_date IS NOT NULL AND p.planned_ts IS NULL)
            OR (p.actual_end_date IS NOT NULL AND p.actual_ts IS NULL)
            OR (p.mbo_level IS NOT NULL AND (p.level_number IS NULL OR p.level_number <> round(p.level_number)))  -- ROW_INVALID_NUMBER
            OR (p.has_work_placement_agreement IS NOT NULL AND p.work_placement_agreement IS NULL)   -- ROW_INVALID_YES_NO
            OR (p.programme IS NOT NULL AND p.programme_code IS NULL)                                -- ROW_UNKNOWN_CODE
            OR (p.learning_path IS NOT NULL AND p.learning_path_code IS NULL)
            OR (p.outcome IS NOT NULL AND p.outcome_code IS NULL)
            OR (p.leaving_reason IS NOT NULL AND p.leaving_reason_code IS NULL)
            OR coalesce(p.actual_ts < p.start_ts, false) OR coalesce(p.planned_ts < p.start_ts, false)  -- ROW_END_BEFORE_START
            OR p.too_many_values                                                                     -- ROW_TOO_MANY_VALUES
           ) AS parse_rejected
    FROM parsed p
), valid AS (
    SELECT *, NOT parse_rejected                                                             -- schema:
           AND coalesce(year(birth_ts) BETWEEN 1900 AND 2100, true) AND coalesce(mbo_level BETWEEN 1 AND 4, true)
           AND coalesce(regexp_full_match(crebo_code, '[0-9]{5}'), true) AND version >= 1 AS row_valid
    FROM checked
), first_valid AS (
    SELECT file_id, record_key, min(row_order) AS first_row
    FROM valid WHERE row_valid
    GROUP BY file_id, record_key HAVING count(*) > 1
)
SELECT c.*,
       c.row_valid AND NOT coalesce(c.row_order > f.first_row, false) AS accepted               -- ROW_DUPLICATE_KEY
FROM valid c
LEFT JOIN first_valid f ON f.file_id = c.file_id AND f.record_key = c.record_key;

-- --- rows of the municipal files --------------------------------------------------------------------------------------

CREATE OR REPLACE TEMP TABLE ref_municipal_rows AS
WITH stripped AS (
    SELECT d.file_id, d.partner_code, d.period_start, d.version, d.status, r.rowid AS row_order, r.too_many_values,
           nullif(pystrip(r.trajectory_number), '') AS trajectory_number,
           nullif(pystrip(r.bsn), '') AS bsn,
           nullif(pystrip(r.birth_date), '') AS birth_date,
           nullif(pystrip(r.postcode), '') AS postcode,
           nullif(pystrip(r.target_group), '') AS target_group,
           nullif(pystrip(r.benefit_type), '') AS benefit_type,
           nullif(pystrip(r.programme), '') AS programme,
           nullif(pystrip(r.referral_date), '') AS referral_date,
           nullif(pystrip(r.placement_date), '') AS placement_date,
           nullif(pystrip(r.placement_kind), '') AS placement_kind,
           nullif(pystrip(r.placement_end_date), '') AS placement_end_date,
           nullif(pystrip(r.placement_result), '') AS placement_result,
           nullif(pystrip(r.trajectory_end_date), '') AS trajectory_end_date,
           nullif(pystrip(r.trajectory_result), '') AS trajectory_result,
           nullif(pystrip(r.benefit_end_date), '') AS benefit_end_date,
           nullif(pystrip(r.benefit_end_reason), '') AS benefit_end_reason,
           nullif(pystrip(r.civic_integration_required), '') AS civic_integration_required
    FROM mun_raw r
    JOIN ref_deliveries d ON d.read_path = r.path
    WHERE d.status IN ('loaded', 'superseded') AND NOT r.is_blank
), prepared AS (
    SELECT *, bsn_padded(regexp_replace(bsn, '[^0-9]', '', 'g')) AS bsn_digits, postcode_pc4(postcode) AS pc4
    FROM stripped
), parsed AS (
    SELECT s.*,
           CASE WHEN length(s.bsn_digits) = 9 THEN eleven_sum(s.bsn_digits) END AS bsn_sum,
           parse_date(s.birth_date) AS birth_ts,
           parse_date(s.referral_date) AS referral_ts,
           parse_date(s.placement_date) AS placement_ts,
           parse_date(s.placement_end_date) AS placement_end_ts,
           parse_date(s.trajectory_end_date) AS trajectory_end_ts,
           parse_date(s.benefit_end_date) AS benefit_end_ts,
           yes_no(s.civic_integration_required) AS civic_integration,
           CASE WHEN s.pc4 >= 1000 THEN coalesce(pc.municipality_code, 'BUITEN_REGIO') END AS residence_municipality_code,
           tg.code AS target_group_code, bt.code AS benefit_type_code, pg.code AS programme_code,
           pk.code AS placement_kind_code, pr.code AS placement_result_code, br.code AS benefit_end_reason_code,
           tr.code AS trajectory_result_code
    FROM prepared s
    LEFT JOIN ref_pc4_lookup pc ON pc.pc4 = s.pc4
    LEFT JOIN code_labels tg ON tg.partner_code = s.partner_code AND tg.column_name = 'target_group' AND tg.label_key = lower(s.target_group)
    LEFT JOIN code_labels bt ON bt.partner_code = s.partner_code AND bt.column_name = 'benefit_type' AND bt.label_key = lower(s.benefit_type)
    LEFT JOIN code_labels pg ON pg.partner_code = s.partner_code AND pg.column_name = 'programme' AND pg.label_key = lower(s.programme)
    LEFT JOIN code_labels pk ON pk.partner_code = s.partner_code AND pk.column_name = 'placement_kind' AND pk.label_key = lower(s.placement_kind)
    LEFT JOIN code_labels pr ON pr.partner_code = s.partner_code AND pr.column_name = 'placement_result' AND pr.label_key = lower(s.placement_result)
    LEFT JOIN code_labels br ON br.partner_code = s.partner_code AND br.column_name = 'benefit_end_reason' AND br.label_key = lower(s.benefit_end_reason)
    LEFT JOIN code_labels tr ON tr.partner_code = s.partner_code AND tr.column_name = 'trajectory_result' AND tr.label_key = lower(s.trajectory_result)
), checked AS MATERIALIZED (
    SELECT p.file_id, p.partner_code, p.period_start, p.version, p.status, p.row_order, p.birth_ts,
           p.trajectory_number AS record_key, p.bsn_digits AS person_key, 'bsn' AS person_id_kind,
           p.target_group_code, p.benefit_type_code, p.programme_code, p.placement_kind_code, p.placement_result_code,
           p.placement_ts, p.placement_end_ts, p.residence_municipality_code,
           (   p.trajectory_number IS NULL OR p.bsn IS NULL OR p.target_group IS NULL
            OR p.benefit_type IS NULL OR p.programme IS NULL OR p.referral_date IS NULL              -- ROW_MISSING_VALUE
            OR (p.bsn IS NOT NULL AND NOT coalesce(p.bsn_sum % 11 = 0 AND p.bsn_sum <> 0, false))   -- ROW_INVALID_BSN
            OR (p.birth_date IS NOT NULL AND p.birth_ts IS NULL)                                     -- ROW_INVALID_DATE
            OR (p.referral_date IS NOT NULL AND p.referral_ts IS NULL)
            OR (p.placement_date IS NOT NULL AND p.placement_ts IS NULL)
            OR (p.placement_end_date IS NOT NULL AND p.placement_end_ts IS NULL)
            OR (p.trajectory_end_date IS NOT NULL AND p.trajectory_end_ts IS NULL)
            OR (p.benefit_end_date IS NOT NULL AND p.benefit_end_ts IS NULL)
            OR (p.civic_integration_required IS NOT NULL AND p.civic_integration IS NULL)            -- ROW_INVALID_YES_NO
            OR (p.target_group IS NOT NULL AND p.target_group_code IS NULL)                          -- ROW_UNKNOWN_CODE
            OR (p.benefit_type IS NOT NULL AND p.benefit_type_code IS NULL)
            OR (p.programme IS NOT NULL AND p.programme_code IS NULL)
            OR (p.placement_kind IS NOT NULL AND p.placement_kind_code IS NULL)
            OR (p.placement_result IS NOT NULL AND p.placement_result_code IS NULL)
            OR (p.benefit_end_reason IS NOT NULL AND p.benefit_end_reason_code IS NULL)
            OR (p.trajectory_result IS NOT NULL AND p.trajectory_result_code IS NULL)
            OR coalesce(p.placement_end_ts < p.placement_ts, false)                                  -- ROW_END_BEFORE_START
            OR coalesce(p.trajectory_end_ts < p.referral_ts, false)
            OR p.too_many_values                                                                     -- ROW_TOO_MANY_VALUES
           ) AS parse_rejected
    FROM parsed p
), valid AS (
    SELECT *, NOT parse_rejected                                                             -- schema:
           AND coalesce(year(birth_ts) BETWEEN 1900 AND 2100, true) AND version >= 1 AS row_valid
    FROM checked
), first_valid AS (
    SELECT file_id, record_key, min(row_order) AS first_row
    FROM valid WHERE row_valid
    GROUP BY file_id, record_key HAVING count(*) > 1
)
SELECT c.*,
       c.row_valid AND NOT coalesce(c.row_order > f.first_row, false) AS accepted               -- ROW_DUPLICATE_KEY
FROM valid c
LEFT JOIN first_valid f ON f.file_id = c.file_id AND f.record_key = c.record_key;

-- --- current records -----------------------------------------------------------------------------------------------------

CREATE OR REPLACE TEMP TABLE ref_enrolments AS
SELECT partner_code, record_key, unnest(arg_max(r, (period_start, version, row_order)))
FROM (SELECT partner_code, record_key, period_start, version, row_order,
             {'person_key': person_key, 'person_id_kind': person_id_kind, 'start_date': CAST(start_ts AS DATE),
              'mbo_level': mbo_level, 'learning_path_code': learning_path_code,
              'residence_municipality_code': residence_municipality_code} AS r
      FROM ref_enrolment_rows WHERE accepted AND status = 'loaded')
GROUP BY partner_code, record_key;

CREATE OR REPLACE TEMP TABLE ref_trajectories AS
SELECT partner_code, record_key, unnest(arg_max(r, (period_start, version, row_order)))
FROM (SELECT partner_code, record_key, period_start, version, row_order,
             {'person_key': person_key, 'person_id_kind': person_id_kind, 'target_group_code': target_group_code,
              'benefit_type_code': benefit_type_code, 'programme_code': programme_code,
              'placement_kind_code': placement_kind_code, 'placement_result_code': placement_result_code,
              'placement_date': CAST(placement_ts AS DATE), 'placement_end_date': CAST(placement_end_ts AS DATE),
              'residence_municipality_code': residence_municipality_code} AS r
      FROM ref_municipal_rows WHERE accepted AND status = 'loaded')
GROUP BY partner_code, record_key;

-- --- targets -----------------------------------------------------------------------------------------------------------------

CREATE OR REPLACE TEMP MACRO blank_to_null(s) AS nullif(trim(s), '');
CREATE OR REPLACE TEMP MACRO split_list(s) AS
    list_filter(list_transform(string_split(coalesce(s, ''), '|'), x -> trim(x)), x -> x <> '');

CREATE OR REPLACE TEMP TABLE ref_targets AS
SELECT trim(target_code) AS target_code,
       CAST(trim(window_start) AS DATE) AS window_start, CAST(trim(window_end) AS DATE) AS window_end,
       CAST(blank_to_null(target_number) AS BIGINT) AS target_number,
       blank_to_null(region_code) AS region_code,
       split_list(criterion_feed) AS feeds, trim(criterion_event) AS event,
       blank_to_null(criterion_programme_code) AS programme_code,
       blank_to_null(criterion_target_group_code) AS target_group_code,
       blank_to_null(criterion_benefit_type_code) AS benefit_type_code,
       lower(coalesce(trim(criterion_requires_municipal_record), '')) IN ('true', 'ja', '1')
           OR blank_to_null(criterion_programme_code) IS NOT NULL OR blank_to_null(criterion_target_group_code) IS NOT NULL
           OR blank_to_null(criterion_benefit_type_code) IS NOT NULL AS needs_record,
       split_list(criterion_mbo_levels) AS mbo_levels,
       blank_to_null(criterion_learning_path_code) AS learning_path_code,
       blank_to_null(criterion_placement_kind_code) AS placement_kind_code,
       split_list(criterion_placement_results) AS placement_results
FROM ref_targets_csv;

-- Every event a target can count, with the region of its municipality (residence, else the partner's location).
CREATE OR REPLACE TEMP TABLE ref_target_events AS
WITH events AS (
    SELECT 'employment_spells' AS feed, 'start' AS event, c.partner_code, c.record_key, c.rec.person_key AS person_key,
           'bsn' AS person_id_kind, CAST(c.rec.start_ts AS DATE) AS event_date, c.rec.residence_municipality_code AS residence,
           NULL::BIGINT AS mbo_level, NULL AS learning_path_code, NULL AS placement_kind_code, NULL AS placement_result_code,
           NULL AS programme_code, NULL AS target_group_code, NULL AS benefit_type_code
    FROM ref_current c JOIN ref_functions f ON f.function_code = c.rec.function_code AND f.is_care_function
    UNION ALL
    SELECT 'enrolments', 'start', partner_code, record_key, person_key, person_id_kind, start_date, residence_municipality_code,
           mbo_level, learning_path_code, NULL, NULL, NULL, NULL, NULL
    FROM ref_enrolments
    UNION ALL
    SELECT 'municipal_participants', e.event, partner_code, record_key, person_key, person_id_kind,
           CASE e.event WHEN 'start' THEN placement_date ELSE placement_end_date END, residence_municipality_code,
           NULL, NULL, placement_kind_code, placement_result_code, programme_code, target_group_code, benefit_type_code
    FROM ref_trajectories, (VALUES ('start'), ('placement_end')) e(event)
)
SELECT e.*, CASE WHEN e.municipality_code = 'BUITEN_REGIO' THEN 'BUITEN_REGIO' ELSE g.labour_market_region_code END AS region_code
FROM (SELECT ev.*, coalesce(ev.residence, p.location_municipality_code) AS municipality_code
      FROM events ev LEFT JOIN ref_partners p USING (partner_code)) e
LEFT JOIN ref_regions g ON g.municipality_code = e.municipality_code
WHERE e.event_date IS NOT NULL;

CREATE OR REPLACE TEMP TABLE ref_target_persons AS
SELECT t.target_code, e.person_key, min(e.event_date) AS first_qualifying_date
FROM ref_targets t
JOIN ref_target_events e ON list_contains(t.feeds, e.feed) AND e.event = t.event
CROSS JOIN ref_window w
WHERE e.event_date BETWEEN t.window_start AND t.window_end AND e.event_date <= w.cutoff
  AND e.person_key IS NOT NULL
  AND (t.region_code IS NULL OR (e.region_code = t.region_code AND e.region_code <> 'BUITEN_REGIO'))
  AND (e.feed <> 'enrolments' OR (
          (len(t.mbo_levels) = 0 OR list_contains(t.mbo_levels, CAST(e.mbo_level AS VARCHAR)))
          AND (t.learning_path_code IS NULL OR e.learning_path_code = t.learning_path_code)))
  AND CASE WHEN e.feed = 'municipal_participants' THEN
               (t.placement_kind_code IS NULL OR e.placement_kind_code = t.placement_kind_code)
           AND (len(t.placement_results) = 0 OR list_contains(t.placement_results, e.placement_result_code))
           AND (t.programme_code IS NULL OR e.programme_code = t.programme_code)       -- filters on the event's own record
           AND (t.target_group_code IS NULL OR e.target_group_code = t.target_group_code)
           AND (t.benefit_type_code IS NULL OR e.benefit_type_code = t.benefit_type_code)
       WHEN t.needs_record THEN
           e.person_id_kind = 'bsn' AND EXISTS (
               SELECT 1 FROM ref_trajectories m
               WHERE m.person_key = e.person_key AND m.person_id_kind = 'bsn'
                 AND (t.programme_code IS NULL OR m.programme_code = t.programme_code)
                 AND (t.target_group_code IS NULL OR m.target_group_code = t.target_group_code)
                 AND (t.benefit_type_code IS NULL OR m.benefit_type_code = t.benefit_type_code))
       ELSE true END
GROUP BY t.target_code, e.person_key;

-- Attainment as of every month end of the window up to min(cutoff, window_end) (statistics_spec.md "Attainment arithmetic").
CREATE OR REPLACE TEMP TABLE ref_attainment AS
WITH t AS (
    SELECT t.*, w.cutoff, least(w.cutoff, t.window_end) AS last_day_counted,
           datediff('day', t.window_start, t.window_end) + 1 AS window_days
    FROM ref_targets t, ref_window w
), as_of AS (
    SELECT target_code, CASE WHEN m = date_trunc('month', last_day_counted) THEN last_day_counted
                             ELSE CAST(last_day(m) AS DATE) END AS as_of_date
    FROM t, unnest(generate_series(CAST(date_trunc('month', window_start) AS DATE),
                                   CAST(date_trunc('month', last_day_counted) AS DATE), INTERVAL 1 MONTH)) g(m)
    WHERE window_start <= cutoff
    UNION ALL
    SELECT target_code, cutoff FROM t WHERE window_start > cutoff
), counted AS (
    SELECT t.*, a.as_of_date,
           (SELECT count(*) FROM ref_target_persons p
             WHERE p.target_code = t.target_code AND p.first_qualifying_date <= a.as_of_date) AS achieved,
           (SELECT count(*) FROM ref_target_persons p
             WHERE p.target_code = t.target_code AND p.first_qualifying_date <= a.as_of_date
               AND p.first_qualifying_date >= CAST(date_trunc('month', a.as_of_date) - INTERVAL 5 MONTH AS DATE)) AS recent,
           greatest(least(datediff('day', t.window_start, least(a.as_of_date, t.window_end)) + 1, t.window_days), 0) AS elapsed_days,
           greatest(datediff('month', date_trunc('month', a.as_of_date), date_trunc('month', t.window_end)), 0) AS remaining_months
    FROM t JOIN as_of a USING (target_code)
)
SELECT target_code, as_of_date,
       as_of_date = max(as_of_date) OVER (PARTITION BY target_code) AS is_latest,
       window_start, window_end, target_number, achieved,
       achieved / target_number AS share_attained,
       elapsed_days / window_days AS elapsed_share,
       target_number * elapsed_days / window_days AS expected_to_date,
       CASE WHEN target_number IS NULL THEN NULL
            WHEN as_of_date < window_start THEN 'not_started'
            WHEN achieved >= target_number THEN 'achieved'
            WHEN achieved * window_days * 100 >= 95 * target_number * elapsed_days THEN 'on_track'
            WHEN achieved * window_days * 100 >= 60 * target_number * elapsed_days THEN 'needs_acceleration'
            ELSE 'off_track' END AS status,
       recent / 6 AS run_rate,
       remaining_months,
       achieved + recent / 6 * remaining_months AS forecast,
       CASE WHEN target_number IS NULL THEN NULL
            WHEN achieved >= target_number THEN 0.0
            WHEN remaining_months > 0 THEN (target_number - achieved) / remaining_months END AS required_monthly_rate
FROM counted;

-- Rows per delivery of every feed read (for the comparison with delivery_log).
CREATE OR REPLACE TEMP VIEW ref_rows_all AS
SELECT file_id, accepted FROM ref_rows
UNION ALL SELECT file_id, accepted FROM ref_enrolment_rows
UNION ALL SELECT file_id, accepted FROM ref_municipal_rows;
