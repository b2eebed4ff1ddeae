-- Reference from the delivery files: sector inflow and outflow per municipality and month, in DuckDB SQL.
--
-- Run by bench/reference_files.py, which first creates (see its docstring for what the Python front end does):
--   ref_files(file_id, partner_code, feed, source_file, path, read_path, period_label, period_start, period_end, version,
--             content_hash, received_at, readable, reject_reason, layout, encoding)
--             one row per delivery file found (hidden files and files outside partner folders left out; with
--             --flows-only, of the enrolment and municipal partners only the latest file that would load);
--             readable = passes the file-level checks (spreadsheet, header row, required columns, size).
--   emp_raw(path (= ref_files.read_path), employee_number, employment_number, bsn, birth_date, postcode, function, contract_type,
--           hours_per_week, is_apprenticeship, start_date, end_date, leaving_reason, programme,
--           is_blank, too_many_values)
--             every row below the header of every readable employment-spells file, as the cell text the
--             partner's header maps onto each canonical column (NULL where the file has no such header),
--             inserted file by file in row order (rowid = row order). Filled by the generated SQL
--             (read_csv for CSV, the converted cells for xlsx).
--   code_labels(partner_code, column_name, label_key, code)    config/partners/*.yaml values:, keys casefolded
--   ref_pc4(pc4_from, pc4_to, municipality_code)               config/reference/pc4_municipality.csv
--   ref_functions(function_code, is_care_function)             config/reference/functions.csv
--   ref_partners(partner_code, feed, location_municipality_code)  config/partners/*.yaml
-- (bench/reference_files_targets.sql continues from here with the enrolment and municipal rows and the targets.)
--
-- Rules (src/ingest/*, src/warehouse/ingest_feed.py, src/transforms/current_records.py, docs/domain.md):
--   deliveries  ordered by (period start, version, arrival = file mtime, file name); a file with the same
--               content (SHA-256) as an earlier file of the same partner and period is a duplicate; among the
--               readable non-duplicates of a partner and period the last one is in force (loaded), the others
--               are superseded (a _v2 replaces the whole period; a rejected _v2 leaves the original in force).
--   rows        a row is rejected when: a required value is empty (employee_number, bsn, birth_date, function,
--               contract_type, start_date); the BSN fails the 11-check (digits only, 7-8 digits left-padded to 9);
--               a date is not one of yyyy-mm-dd, dd-mm-yyyy, dd/mm/yyyy, dd.mm.yyyy (optionally with
--               hh:mm:ss) or an Excel serial 20000..80000; hours are not a number (decimal comma or point);
--               ja/nee is not one of the accepted words; a code has no label in the partner's mapping; the end
--               date is before the start date (as timestamps); the row has values beyond the header's width;
--               the schema: birth year outside 1900..2100, hours outside 0..60, version < 1; or, last, its record
--               key occurs in an earlier valid row of the same file.
--               An invalid postcode only loses the municipality (flagged, not rejected).
--   current     per (partner, record_key) the accepted row of the latest loaded delivery: period start, then
--               version, then row order. record_key = employee number, '-' employment number when given.
--   flows       as bench/reference.sql: care spell = current record with a care function, start <= cutoff,
--               end >= start (end > cutoff or empty = still employed); inflow = start S in
--               [observation_start, cutoff] with no care employment in [S - 1 year, S); outflow = end E in
--               [observation_start, cutoff] with no care employment in (E, E + 1 year]; municipality =
--               residence of the spell with the smallest (partner_code, record_key) starting/ending that day,
--               else that partner's location. observation_start = first day of the first loaded employment
--               period; cutoff = last day of the latest loaded period of any partner (any feed).
-- The person key is the normalised BSN (digits) and never leaves this process; outputs are counts.

-- --- parsers ----------------------------------------------------------------------------------------------

-- Python's str.strip(): every Unicode whitespace character (str.isspace) off both ends; the regular
-- expression only runs when a value starts or ends with something other than printable ASCII.
CREATE OR REPLACE TEMP MACRO py_space() AS
    '[\t\n\x0b\x0c\r\x1c-\x1f \x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}]';
CREATE OR REPLACE TEMP MACRO pystrip(s) AS
    CASE WHEN ascii(s) BETWEEN 33 AND 126 AND unicode(substr(s, -1)) BETWEEN 33 AND 126 THEN s
         ELSE regexp_replace(s, '^' || py_space() || '+|' || py_space() || '+$', '', 'g') END;

-- One date format as Python's strptime (pandas) reads it: %Y exactly four digits, day and month one or two.
CREATE OR REPLACE TEMP MACRO date_in(t, pattern, fmt) AS
    CASE WHEN regexp_full_match(t, pattern) THEN try_strptime(t, fmt) END;

-- ingest/parse.py parse_dates: the formats in order, then Excel serial day numbers (a fraction is the time of
-- day); the time of day is dropped (the fields are dates). NULL = not a date.
CREATE OR REPLACE TEMP MACRO parse_date(t) AS date_trunc('day', coalesce(
    date_in(t, '\d{4}-\d{1,2}-\d{1,2}', '%Y-%m-%d'),
    date_in(t, '\d{1,2}-\d{1,2}-\d{4}', '%d-%m-%Y'),
    date_in(t, '\d{1,2}/\d{1,2}/\d{4}', '%d/%m/%Y'),
    date_in(t, '\d{1,2}\.\d{1,2}\.\d{4}', '%d.%m.%Y'),
    date_in(t, '\d{4}-\d{1,2}-\d{1,2} \d{1,2}:\d{1,2}:\d{1,2}', '%Y-%m-%d %H:%M:%S'),
    date_in(t, '\d{1,2}-\d{1,2}-\d{4} \d{1,2}:\d{1,2}:\d{1,2}', '%d-%m-%Y %H:%M:%S'),
    date_in(t, '\d{4}-\d{1,2}-\d{1,2}T\d{1,2}:\d{1,2}:\d{1,2}', '%Y-%m-%dT%H:%M:%S'),
    date_in(t, '\d{4}-\d{1,2}-\d{1,2} \d{1,2}:\d{1,2}:\d{1,2}\.\d{1,6}', '%Y-%m-%d %H:%M:%S.%f'),
    date_in(t, '\d{4}-\d{1,2}-\d{1,2} \d{1,2}:\d{1,2}', '%Y-%m-%d %H:%M'),
    date_in(t, '\d{1,2}-\d{1,2}-\d{4} \d{1,2}:\d{1,2}', '%d-%m-%Y %H:%M'),
    date_in(t, '\d{1,2}/\d{1,2}/\d{4} \d{1,2}:\d{1,2}:\d{1,2}', '%d/%m/%Y %H:%M:%S'),
    date_in(t, '\d{1,2}/\d{1,2}/\d{4} \d{1,2}:\d{1,2}', '%d/%m/%Y %H:%M'),
    CASE WHEN NOT contains(t, '_') AND try_cast(t AS DOUBLE) BETWEEN 20000 AND 80000
         THEN TIMESTAMP '1899-12-30' + to_days(CAST(floor(try_cast(t AS DOUBLE)) AS INTEGER)) END));

-- ingest/parse.py parse_decimal (no declared separator): spaces dropped; with both ',' and '.', the last one is
-- the decimal separator and the other groups thousands; ',' alone is decimal.
-- (decimal_text(t) is computed once per value in ref_rows, then parse_decimal of it.)
CREATE OR REPLACE TEMP MACRO decimal_text(t) AS
    replace(CASE WHEN contains(t, ',') AND contains(t, '.')
                 THEN CASE WHEN strpos(reverse(t), ',') < strpos(reverse(t), '.') THEN replace(replace(t, ' ', ''), '.', '')
                           ELSE replace(replace(t, ' ', ''), ',', '') END
                 ELSE replace(t, ' ', '') END, ',', '.');
CREATE OR REPLACE TEMP MACRO parse_decimal(d) AS
    CASE WHEN NOT contains(d, '_') AND isfinite(try_cast(d AS DOUBLE)) THEN try_cast(d AS DOUBLE) END;

-- ingest/pseudonymise.py: digits only, left-padded to nine when seven or eight digits remain; the 11-check.
-- (the digits, regexp_replace(t, '[^0-9]', '', 'g'), are computed once per value in ref_rows.)
CREATE OR REPLACE TEMP MACRO bsn_padded(digits) AS
    CASE WHEN length(digits) IN (7, 8) THEN lpad(digits, 9, '0') ELSE digits END;
CREATE OR REPLACE TEMP MACRO digit(d, i) AS CAST(substr(d, i, 1) AS INTEGER);
CREATE OR REPLACE TEMP MACRO eleven_sum(d) AS
    9 * digit(d, 1) + 8 * digit(d, 2) + 7 * digit(d, 3) + 6 * digit(d, 4) + 5 * digit(d, 5)
    + 4 * digit(d, 6) + 3 * digit(d, 7) + 2 * digit(d, 8) - digit(d, 9);
-- (eleven_sum(d) of a nine-digit d is computed once per value in ref_rows: valid when divisible by 11 and not 0.)

-- Postcode: four digits, optionally two letters (any whitespace around and between, as Python's \s).
CREATE OR REPLACE TEMP MACRO postcode_pc4(t) AS try_cast(nullif(regexp_extract(t,
    '^' || py_space() || '*([0-9]{4})' || py_space() || '*([A-Za-z]{2})?' || py_space() || '*$', 1), '') AS INTEGER);

CREATE OR REPLACE TEMP MACRO yes_no(t) AS
    CASE WHEN lower(t) IN ('ja', 'j', 'yes', 'y', 'true', 'waar', '1', 'x') THEN true
         WHEN lower(t) IN ('nee', 'n', 'no', 'false', 'onwaar', '0') THEN false END;

-- --- 1. deliveries: duplicate, rejected, superseded or loaded ------------------------------------------------

CREATE OR REPLACE TEMP TABLE ref_deliveries AS
WITH ordered AS (           -- files without a period in their name are rejected before anything else
    SELECT *, row_number() OVER (ORDER BY period_start, version, received_at, source_file) AS seq
    FROM ref_files
), marked AS (
    SELECT *, period_label IS NOT NULL AND row_number() OVER (
                  PARTITION BY partner_code, period_label, content_hash ORDER BY seq) > 1 AS is_duplicate
    FROM ordered
), candidates AS (
    SELECT *, readable AND NOT is_duplicate AS is_candidate FROM marked
)
SELECT *,
       CASE WHEN period_label IS NULL THEN 'rejected'
            WHEN is_duplicate THEN 'duplicate'
            WHEN NOT readable THEN 'rejected'
            WHEN seq = max(seq) FILTER (WHERE is_candidate) OVER (PARTITION BY partner_code, period_label) THEN 'loaded'
            ELSE 'superseded' END AS status
FROM candidates;

CREATE OR REPLACE TEMP TABLE ref_window AS
SELECT
    coalesce(
        (SELECT min(d.period_start) FROM ref_deliveries d JOIN ref_partners p USING (partner_code)
          WHERE d.status = 'loaded' AND p.feed = 'employment_spells'),
        (SELECT min(period_start) FROM ref_deliveries WHERE status = 'loaded')) AS observation_start,
    (SELECT max(period_end) FROM ref_deliveries WHERE status = 'loaded') AS cutoff;

-- --- 2. rows: parse and validate every row of every readable, non-duplicate employment file ---------------------

CREATE OR REPLACE TEMP TABLE ref_pc4_lookup AS     -- ingest/reference.py pc4_lookup: one row per 4-digit postcode
SELECT unnest(range(pc4_from, pc4_to + 1)) AS pc4, municipality_code FROM ref_pc4;

CREATE OR REPLACE TEMP TABLE ref_rows AS
WITH stripped AS (           -- headers.py strips each mapped cell; '' is missing
    SELECT d.file_id, d.partner_code, d.period_start, d.version, d.status, r.rowid AS row_order, r.too_many_values,
           nullif(pystrip(r.employee_number), '') AS employee_number,
           nullif(pystrip(r.employment_number), '') AS employment_number,
           nullif(pystrip(r.bsn), '') AS bsn,
           nullif(pystrip(r.birth_date), '') AS birth_date,
           nullif(pystrip(r.postcode), '') AS postcode,
           nullif(pystrip(r.function), '') AS function,
           nullif(pystrip(r.contract_type), '') AS contract_type,
           nullif(pystrip(r.hours_per_week), '') AS hours_per_week,
           nullif(pystrip(r.is_apprenticeship), '') AS is_apprenticeship,
           nullif(pystrip(r.start_date), '') AS start_date,
           nullif(pystrip(r.end_date), '') AS end_date,
           nullif(pystrip(r.leaving_reason), '') AS leaving_reason,
           nullif(pystrip(r.programme), '') AS programme
    FROM emp_raw r
    JOIN ref_deliveries d ON d.read_path = r.path
    WHERE d.status IN ('loaded', 'superseded') AND NOT r.is_blank
), prepared AS (
    SELECT *, bsn_padded(regexp_replace(bsn, '[^0-9]', '', 'g')) AS person_key, decimal_text(hours_per_week) AS hours_text,
           postcode_pc4(postcode) AS pc4
    FROM stripped
), parsed AS (
    SELECT s.*,
           CASE WHEN length(s.person_key) = 9 THEN eleven_sum(s.person_key) END AS bsn_sum,
           parse_date(s.birth_date) AS birth_ts,
           parse_date(s.start_date) AS start_ts,
           parse_date(s.end_date) AS end_ts,
           parse_decimal(s.hours_text) AS hours,
           yes_no(s.is_apprenticeship) AS apprenticeship,
           CASE WHEN s.pc4 >= 1000                                                      -- else: flagged, no municipality
                THEN coalesce(pc.municipality_code, 'BUITEN_REGIO') END AS residence_municipality_code,
           fn.code AS function_code, ct.code AS contract_type_code,
           lr.code AS leaving_reason_code, pg.code AS programme_code,
           s.employee_number || CASE WHEN s.employment_number IS NULL THEN '' ELSE '-' || s.employment_number END AS record_key
    FROM prepared s
    LEFT JOIN ref_pc4_lookup pc ON pc.pc4 = s.pc4
    LEFT JOIN code_labels fn ON fn.partner_code = s.partner_code AND fn.column_name = 'function' AND fn.label_key = lower(s.function)
    LEFT JOIN code_labels ct ON ct.partner_code = s.partner_code AND ct.column_name = 'contract_type' AND ct.label_key = lower(s.contract_type)
    LEFT JOIN code_labels lr ON lr.partner_code = s.partner_code AND lr.column_name = 'leaving_reason' AND lr.label_key = lower(s.leaving_reason)
    LEFT JOIN code_labels pg ON pg.partner_code = s.partner_code AND pg.column_name = 'programme' AND pg.label_key = lower(s.programme)
), checked AS MATERIALIZED (  -- only what is needed further on; used twice
    SELECT p.file_id, p.partner_code, p.period_start, p.version, p.status, p.row_order, p.person_key, p.record_key,
           p.birth_ts, p.start_ts, p.end_ts, p.hours, p.function_code, p.residence_municipality_code,
           (   p.employee_number IS NULL OR p.bsn IS NULL OR p.birth_date IS NULL OR p.function IS NULL
            OR p.contract_type IS NULL OR p.start_date IS NULL                          -- ROW_MISSING_VALUE
            OR (p.bsn IS NOT NULL AND NOT coalesce(p.bsn_sum % 11 = 0 AND p.bsn_sum <> 0, false))  -- ROW_INVALID_BSN
            OR (p.birth_date IS NOT NULL AND p.birth_ts IS NULL)                        -- ROW_INVALID_DATE
            OR (p.start_date IS NOT NULL AND p.start_ts IS NULL)
            OR (p.end_date IS NOT NULL AND p.end_ts IS NULL)
            OR (p.hours_per_week IS NOT NULL AND p.hours IS NULL)                       -- ROW_INVALID_NUMBER
            OR (p.is_apprenticeship IS NOT NULL AND p.apprenticeship IS NULL)           -- ROW_INVALID_YES_NO
            OR (p.function IS NOT NULL AND p.function_code IS NULL)                     -- ROW_UNKNOWN_CODE
            OR (p.contract_type IS NOT NULL AND p.contract_type_code IS NULL)
            OR (p.leaving_reason IS NOT NULL AND p.leaving_reason_code IS NULL)
            OR (p.programme IS NOT NULL AND p.programme_code IS NULL)
            OR coalesce(p.end_ts < p.start_ts, false)                                   -- ROW_END_BEFORE_START
            OR p.too_many_values                                                        -- ROW_TOO_MANY_VALUES
           ) AS parse_rejected
    FROM parsed p
), valid AS (
    SELECT *, NOT parse_rejected
           AND year(birth_ts) BETWEEN 1900 AND 2100                                     -- schema: birth_year
           AND coalesce(hours BETWEEN 0 AND 60, true)                                   -- schema: hours_per_week
           AND version >= 1                                                             -- schema: delivery_version
           AS row_valid
    FROM checked
), first_valid AS (         -- ROW_DUPLICATE_KEY: the first valid row of a record key in a file stays, later ones are rejected
    SELECT file_id, record_key, min(row_order) AS first_row
    FROM valid WHERE row_valid
    GROUP BY file_id, record_key HAVING count(*) > 1
)
SELECT c.*,
       c.row_valid AND coalesce(c.row_order > f.first_row, false) AS duplicate_key,
       c.row_valid AND NOT coalesce(c.row_order > f.first_row, false) AS accepted
FROM valid c
LEFT JOIN first_valid f ON f.file_id = c.file_id AND f.record_key = c.record_key;

CREATE OR REPLACE TEMP VIEW ref_rows_all AS SELECT file_id, accepted FROM ref_rows;  -- per delivery, for the comparison

-- --- 3. current records: per partner and record key the row of the latest loaded delivery ------------------------

CREATE OR REPLACE TEMP TABLE ref_current AS
SELECT partner_code, record_key,
       arg_max(r, (period_start, version, row_order)) AS rec
FROM (SELECT partner_code, record_key, period_start, version, row_order,
             {'person_key': person_key, 'function_code': function_code, 'start_ts': start_ts, 'end_ts': end_ts,
              'residence_municipality_code': residence_municipality_code} AS r
      FROM ref_rows WHERE accepted AND status = 'loaded')
GROUP BY partner_code, record_key;

-- --- 4. care spells, inflow, outflow (the rules of bench/reference.sql) --------------------------------------------

CREATE OR REPLACE TEMP TABLE ref_spells AS
SELECT c.person_key, c.partner_code, c.record_key,
       CAST(c.start_ts AS DATE) AS start_date,
       CASE WHEN c.end_ts IS NULL OR CAST(c.end_ts AS DATE) > w.cutoff THEN NULL
            ELSE CAST(c.end_ts AS DATE) END AS end_date,              -- NULL = still employed at the cutoff
       coalesce(c.residence_municipality_code, p.location_municipality_code) AS municipality_code
FROM (SELECT partner_code, record_key, unnest(rec) FROM ref_current) c
JOIN ref_functions f ON f.function_code = c.function_code AND f.is_care_function
LEFT JOIN ref_partners p ON p.partner_code = c.partner_code
CROSS JOIN ref_window w
WHERE CAST(c.start_ts AS DATE) <= w.cutoff
  AND (c.end_ts IS NULL OR CAST(c.end_ts AS DATE) >= CAST(c.start_ts AS DATE));

-- inflow, outflow and the counts per cell: bench/reference_flows.sql (shared with reference.sql)
