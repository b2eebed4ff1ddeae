"""Every column of the warehouse, defined once: its type, description and constraints.

A column with the same name means the same thing in every table. Tables (schemas/tables.py) pick
fields by name and say whether a value is required there.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Logical types and their pandas dtypes; SQL types are in schemas/ddl.py.
PANDAS_DTYPES = {
    "string": "str",
    "int": "Int64",
    "float": "float64",
    "bool": "boolean",
    "date": "datetime64[us]",
    "timestamp": "datetime64[us]",
}


@dataclass(frozen=True)
class Field:
    name: str
    type: str
    description: str
    code_list: str | None = None  # reference code list whose codes are the only valid values
    min: float | None = None
    max: float | None = None
    pattern: str | None = None  # full-match regular expression for strings
    unit: str | None = None

    def __post_init__(self) -> None:
        if self.type not in PANDAS_DTYPES:
            raise ValueError(f"field {self.name}: unknown type {self.type!r}")


_F = Field
_FIELD_LIST = [
    # --- lineage: on every staging row -------------------------------------------------------
    _F(
        "delivery_id",
        "string",
        "Identifier of the delivery file the row came from: partner, period, version and the first 12 hex digits "
        "of its SHA-256 content hash.",
    ),
    _F("partner_code", "string", "Partner that delivered the data (see dim_partner).", code_list="partners"),
    _F(
        "delivery_period",
        "string",
        "Period the delivery covers, from its file name: YYYY-MM for monthly, YYYY-Qn for quarterly deliveries.",
        pattern=r"\d{4}-(0[1-9]|1[0-2]|Q[1-4])",
    ),
    _F(
        "delivery_version",
        "int",
        "Version of the delivery for its partner and period: 1 for the original, 2 for a corrected re-send (_v2), "
        "and so on.",
        min=1,
    ),
    _F("source_file", "string", "File name of the delivery as received, relative to the partner's landing folder."),
    _F(
        "content_hash",
        "string",
        "SHA-256 of the delivery file's bytes (hex). Identical files are loaded once. For an entry that is never "
        "read (a link, a hidden file, a file over the size limit): a SHA-256 of what the listing shows (name, size, "
        "modification time), so it is logged once.",
        pattern=r"[0-9a-f]{64}",
    ),
    _F(
        "source_row_number",
        "int",
        "Row number in the delivery file as a spreadsheet user counts it (the header row of a plain CSV is row 1).",
        min=1,
    ),
    _F("received_at", "timestamp", "When the file landed (its modification time in the landing zone), UTC."),
    # --- persons --------------------------------------------------------------------------------
    _F(
        "person_id",
        "string",
        "Keyed pseudonym of the person: HMAC-SHA256 of the BSN (or onderwijsnummer) under the secret "
        "pseudonymisation key, hex. The same person has the same person_id in every feed.",
        pattern=r"[0-9a-f]{64}",
    ),
    _F(
        "person_id_kind",
        "string",
        "What the pseudonym was made from: bsn, or onderwijsnummer (students without a BSN; these cannot be "
        "linked to the other feeds).",
        code_list="person_id_kinds",
    ),
    _F("birth_year", "int", "Year of birth. The full birth date is dropped at ingestion.", min=1900, max=2100),
    _F(
        "residence_municipality_code",
        "string",
        "CBS code of the municipality of residence, derived from the 4-digit postcode at ingestion; BUITEN_REGIO "
        "for a postcode outside Haaglanden; empty when the partner gave no postcode. The postcode itself is "
        "dropped.",
        code_list="residence_municipalities",
    ),
    _F(
        "record_key",
        "string",
        "The partner's own key of the record: employee number and employment number joined by '-', enrolment "
        "number or trajectory number. Per partner and record key the latest accepted row wins.",
    ),
    # --- employment ------------------------------------------------------------------------------
    _F(
        "function_code",
        "string",
        "Canonical function of the employment spell (see dim_function), mapped from the partner's own code.",
        code_list="functions",
    ),
    _F(
        "contract_type_code",
        "string",
        "Canonical contract type: vast, tijdelijk, oproep (on-call / zero hours), bbl (apprenticeship contract).",
        code_list="contract_types",
    ),
    _F("hours_per_week", "float", "Contract hours a week.", min=0, max=60, unit="hours/week"),
    _F("is_apprenticeship", "bool", "The partner marks the employee as a BBL learner (ja/nee)."),
    _F("start_date", "date", "First day of the spell, enrolment or trajectory (inclusive)."),
    _F("end_date", "date", "Last day of the employment spell (inclusive); empty while ongoing."),
    _F(
        "leaving_reason_code",
        "string",
        "Canonical reason for leaving; empty when not (yet) given, 'onbekend' when the partner says it is unknown.",
        code_list="leaving_reasons",
    ),
    _F(
        "programme_code",
        "string",
        "Programme the person takes part in or was hired or enrolled through (see dim_programme).",
        code_list="programmes",
    ),
    # --- enrolments -------------------------------------------------------------------------------
    _F("crebo_code", "string", "Qualification code (crebo) of the mbo programme, five digits.", pattern=r"\d{5}"),
    _F("mbo_level", "int", "mbo level of the qualification, 1 to 4.", min=1, max=4),
    _F(
        "learning_path_code",
        "string",
        "Learning path: BBL (work and learn) or BOL (school-based).",
        code_list="learning_paths",
    ),
    _F("planned_end_date", "date", "Planned end of the enrolment."),
    _F("actual_end_date", "date", "Actual end of the enrolment (inclusive); empty while ongoing."),
    _F(
        "enrolment_leaving_reason_code",
        "string",
        "Canonical reason for leaving an enrolment (diploma, werk_gevonden, verkeerde_studiekeuze, ...), apart from "
        "the reasons for leaving a job; empty when not given, 'onbekend' when the partner says it is unknown.",
        code_list="enrolment_leaving_reasons",
    ),
    _F(
        "enrolment_outcome_code",
        "string",
        "Outcome of the enrolment: lopend (ongoing), diploma, uitval (dropped out), overig.",
        code_list="enrolment_outcomes",
    ),
    _F(
        "bbl_employer_name",
        "string",
        "Name of the employer of a BBL learner, as the training provider wrote it (an organisation, not a person).",
    ),
    _F("has_work_placement_agreement", "bool", "A work-placement agreement (praktijkovereenkomst) is signed (ja/nee)."),
    # --- municipal participants -------------------------------------------------------------------
    _F(
        "target_group_code",
        "string",
        "Target group of the participant (see dim_target_group).",
        code_list="target_groups",
    ),
    _F(
        "benefit_type_code",
        "string",
        "Benefit the participant receives: participatiewet (bijstand), ww, wajong, geen, onbekend.",
        code_list="benefit_types",
    ),
    _F("referral_date", "date", "Date the participant was referred to (registered in) the programme."),
    _F("placement_date", "date", "Start of the placement (work-experience place, job or training)."),
    _F(
        "placement_kind_code",
        "string",
        "Kind of placement: wep (work-experience place), baan (paid job), opleiding (training).",
        code_list="placement_kinds",
    ),
    _F("placement_end_date", "date", "End of the placement (inclusive); the trajectory may go on after it."),
    _F(
        "placement_result_code",
        "string",
        "Result of the placement: werkfit, werk (into work), opleiding (started training), uitval, overig, onbekend.",
        code_list="placement_results",
    ),
    _F(
        "trajectory_end_date",
        "date",
        "Last day of the participant's trajectory in the programme (inclusive), apart from the end of its placement.",
    ),
    _F(
        "trajectory_result_code",
        "string",
        "Result of the trajectory as a whole: werk, opleiding, werkfit, uitval, verhuizing, overig, onbekend.",
        code_list="trajectory_results",
    ),
    _F("benefit_end_date", "date", "Last day of the benefit."),
    _F("benefit_end_reason_code", "string", "Why the benefit ended.", code_list="benefit_end_reasons"),
    _F(
        "civic_integration_required",
        "bool",
        "The participant is obliged to complete civic integration (inburgeringsplichtig, ja/nee).",
    ),
    # --- reference ---------------------------------------------------------------------------------
    _F(
        "municipality_code",
        "string",
        "CBS municipality code (GMnnnn); in statistics BUITEN_REGIO for people living outside Haaglanden.",
        code_list="residence_municipalities",
    ),
    _F("municipality_name", "string", "Municipality name as CBS spells it."),
    _F("labour_market_region_code", "string", "Labour-market region (arbeidsmarktregio) the municipality belongs to."),
    _F("labour_market_region_name", "string", "Name of the labour-market region."),
    _F("pc4_from", "int", "First 4-digit postcode of a range (inclusive).", min=1000, max=9999),
    _F("pc4_to", "int", "Last 4-digit postcode of a range (inclusive).", min=1000, max=9999),
    _F("programme_name", "string", "Name of the programme."),
    _F("owner", "string", "Who runs the programme."),
    _F("description", "string", "Description."),
    _F("function_name", "string", "Name of the function."),
    _F(
        "is_care_function",
        "bool",
        "The function is care work (zorg & welzijn); a spell in it counts for sector inflow and outflow.",
    ),
    _F("partner_name", "string", "Name of the partner organisation."),
    _F(
        "partner_kind",
        "string",
        "Kind of partner: employer, training_provider or municipality.",
        code_list="partner_kinds",
    ),
    _F(
        "feed",
        "string",
        "Canonical feed the partner delivers: employment_spells, enrolments or municipal_participants.",
        code_list="feeds",
    ),
    _F(
        "location_municipality_code",
        "string",
        "CBS code of the partner's location; the municipality of an event when the person's residence is unknown.",
        pattern=r"GM\d{4}",
    ),
    _F("delivery_cadence", "string", "How often the partner delivers: monthly or quarterly.", code_list="cadences"),
    _F("target_group_name", "string", "Name of the target group."),
    _F("code_list", "string", "Name of a code list (contract_types, leaving_reasons, ...)."),
    _F("code", "string", "A canonical code."),
    _F("code_name", "string", "What the code means."),
    _F("target_code", "string", "Identifier of a programme target."),
    _F("target_name", "string", "Name of the target."),
    _F("window_start", "date", "First day of the target's window (inclusive)."),
    _F("window_end", "date", "Last day of the target's window (inclusive)."),
    _F(
        "target_number",
        "int",
        "Number of distinct persons the target aims at; empty for a target without a number (count only).",
        min=1,
    ),
    _F(
        "region_code",
        "string",
        "Labour-market region code (AMR_HAAGLANDEN); BUITEN_REGIO for an event of someone living outside the "
        "region. For a target: the region it applies to.",
    ),
    _F("criterion_feed", "string", "Feed(s) whose events qualify, separated by |."),
    _F("criterion_event", "string", "Event that qualifies: start (of a spell or enrolment) or placement_end."),
    _F(
        "criterion_requires_municipal_record",
        "bool",
        "The person must have a municipal record (trajectory) matching the criterion's programme, target group "
        "and benefit type filters (all filters on one record; no filter: any record).",
    ),
    _F(
        "criterion_programme_code",
        "string",
        "The person must be a municipal participant of this programme (empty: any municipal participant where the "
        "target requires one).",
    ),
    _F("criterion_target_group_code", "string", "The person must be a municipal participant of this target group."),
    _F("criterion_benefit_type_code", "string", "The person must have a municipal record with this benefit type."),
    _F("criterion_mbo_levels", "string", "Qualifying mbo levels of the enrolment, separated by |."),
    _F("criterion_learning_path_code", "string", "Qualifying learning path of the enrolment."),
    _F("criterion_placement_kind_code", "string", "Qualifying placement kind."),
    _F("criterion_placement_results", "string", "Qualifying placement results, separated by |."),
    _F(
        "window_assumed",
        "bool",
        "The window is an assumption (not stated in the source documents) and can be changed in "
        "config/reference/targets.csv.",
    ),
    _F("notes", "string", "The success criterion in words."),
    # --- statistics: events ------------------------------------------------------------------------
    _F(
        "event_date",
        "date",
        "Date of the event: the first day of a spell or route for a start or inflow, the last day for an end or "
        "outflow.",
    ),
    _F("event_month", "date", "First day of the event's month (month grain)."),
    _F("event_quarter", "string", "Quarter of the event, YYYY-Qn.", pattern=r"\d{4}-Q[1-4]"),
    _F("event_year", "int", "Year of the event."),
    _F(
        "inflow_kind",
        "string",
        "Kind of sector inflow, as AZW splits it: herintreder (re-entrant: a care spell before, none in the year "
        "before), zij_instromer (side-entrant: never a care spell before, 25 or older), overig (never before, "
        "under 25: mostly from education).",
        code_list="inflow_kinds",
    ),
    _F(
        "lookback_complete",
        "bool",
        "False for inflows in the first year of data: the year before the start is not fully observed, so some "
        "may be re-entries or internal moves.",
    ),
    _F(
        "is_provisional",
        "bool",
        "Outflow whose year after the end date is not over at the cut-off: the person may still come back within "
        "the year.",
    ),
    _F(
        "municipality_source",
        "string",
        "Where the event's municipality comes from: residence (the person's postcode) or partner_location (no "
        "postcode known: the employer's, trainer's or municipality's location).",
        code_list="municipality_sources",
    ),
    _F(
        "age",
        "int",
        "Age at the event: the event's year minus the birth year (only the birth year is kept).",
        min=0,
        max=120,
    ),
    _F("age_band", "string", "Age band at the event: <25, 25-34, 35-44, 45-54, 55+.", code_list="age_bands"),
    _F(
        "from_partner_code",
        "string",
        "Employer of the person's last care-employment day before the switch.",
        code_list="partners",
    ),
    _F("to_partner_code", "string", "Employer of the spell that starts at the switch.", code_list="partners"),
    # --- statistics: retention -----------------------------------------------------------------------
    _F("inflow_date", "date", "Date of the sector inflow that makes the person a cohort member."),
    _F("cohort_month", "date", "First day of the month of the inflow cohort."),
    _F("cohort_quarter", "string", "Quarter of the cohort month, YYYY-Qn.", pattern=r"\d{4}-Q[1-4]"),
    _F("cohort_year", "int", "Year of the cohort month."),
    _F("check_date_6m", "date", "Inflow date plus 6 months (same day of the month, clipped to the month's last day)."),
    _F(
        "retained_6m",
        "bool",
        "In care employment on the check date at +6 months (empty while the check date lies after the cut-off).",
    ),
    _F("check_date_12m", "date", "Inflow date plus 12 months (29 February becomes 28 February)."),
    _F(
        "retained_12m",
        "bool",
        "In care employment on the check date at +12 months; someone who left and came back counts as retained.",
    ),
    _F("check_date_24m", "date", "Inflow date plus 24 months."),
    _F("retained_24m", "bool", "In care employment on the check date at +24 months."),
    _F("check_date_36m", "date", "Inflow date plus 36 months."),
    _F("retained_36m", "bool", "In care employment on the check date at +36 months."),
    _F(
        "horizon_months",
        "int",
        "Months after the inflow at which retention is checked: 6, 12, 24 or 36.",
        min=6,
        max=36,
    ),
    _F("cohort_persons", "int", "Persons in the inflow cohort.", min=0),
    _F(
        "retained_persons",
        "int",
        "Cohort members in care employment on their check date. Empty when the cohort is not yet reportable at "
        "this horizon (not every member's check date has passed) or when suppressed.",
        min=0,
    ),
    _F("retained_share", "float", "retained_persons / cohort_persons.", min=0, max=1),
    # --- statistics: programme flows -----------------------------------------------------------------
    _F(
        "route_kind",
        "string",
        "Kind of programme route: enrolment (training), wep (work-experience place), baan (job placement), "
        "opleiding (training placement), job (care employment hired through a programme).",
        code_list="route_kinds",
    ),
    _F("source_feed", "string", "Feed the route comes from.", code_list="feeds"),
    _F("event_type", "string", "start or end of the route.", code_list="event_types"),
    _F(
        "outcome",
        "string",
        "Outcome of a route end: diploma, dropout, into_work, other; empty for starts. In pub_programme_flows "
        "'total' for starts and the ends' total row.",
        code_list="outcomes",
    ),
    _F(
        "outcome_detail",
        "string",
        "The partner's canonical code behind the outcome (enrolment outcome, placement result, or leaving reason).",
    ),
    # --- statistics: targets -------------------------------------------------------------------------
    _F(
        "first_qualifying_date",
        "date",
        "The first date inside the window on which the person met the target's success criterion.",
    ),
    _F("qualifying_feed", "string", "Feed of the qualifying event.", code_list="feeds"),
    _F(
        "as_of_date",
        "date",
        "The date the attainment figures are computed as of: a month end for the progress line, min(cut-off, "
        "window end) for the latest row.",
    ),
    _F(
        "is_latest",
        "bool",
        "The row as of the data's cut-off (or the window end, once closed): the current attainment.",
    ),
    _F(
        "achieved",
        "int",
        "Distinct persons who met the success criterion inside the window up to the as-of date (a person counts once).",
        min=0,
    ),
    _F("share_attained", "float", "achieved / target_number.", min=0),
    _F(
        "elapsed_share",
        "float",
        "Days from the window start to the as-of date (inclusive) over the window's days.",
        min=0,
        max=1,
    ),
    _F(
        "expected_to_date",
        "float",
        "target_number x elapsed_share: where a straight line to the target would be now.",
        min=0,
    ),
    _F(
        "status",
        "string",
        "achieved; on_track (at least 95% of expected); needs_acceleration (60% up to 95%); off_track (below "
        "60%); not_started (window not begun). Empty for a target without a number.",
        code_list="target_statuses",
    ),
    _F(
        "run_rate",
        "float",
        "Persons whose first qualifying date falls in the six calendar months up to the as-of month, divided by 6 "
        "(persons a month).",
        min=0,
    ),
    _F(
        "remaining_months",
        "int",
        "Calendar months from the as-of month to the window's end month; 0 once the window closed.",
        min=0,
    ),
    _F(
        "forecast",
        "float",
        "achieved + run_rate x remaining_months: where the current pace ends at the window's end.",
        min=0,
    ),
    _F(
        "required_monthly_rate",
        "float",
        "Persons a month still needed to reach the target: 0 once achieved; empty when the window closed short.",
        min=0,
    ),
    # --- persons and periods --------------------------------------------------------------------------
    _F("is_employee", "bool", "The person has an employment spell at a care employer."),
    _F("is_student", "bool", "The person has an enrolment at a training provider."),
    _F("is_participant", "bool", "The person has a trajectory in a municipal programme."),
    _F("target_group_codes", "string", "The person's target groups in the municipal records, sorted and joined by |."),
    _F(
        "programme_codes",
        "string",
        "Programmes the person takes part in or was hired or enrolled through, sorted and joined by |.",
    ),
    _F("first_seen_period", "string", "First delivery period in which the person appears (YYYY-MM or YYYY-Qn)."),
    _F("last_seen_period", "string", "Last delivery period in which the person appears."),
    _F("valid_from", "date", "First day of the first delivery period showing this residence."),
    _F("valid_to", "date", "Last day before the residence changed; empty while current."),
    _F("month_start", "date", "First day of the month."),
    _F("month_end", "date", "Last day of the month."),
    _F("month_label", "string", "The month as YYYY-MM.", pattern=r"\d{4}-\d{2}"),
    _F("quarter_label", "string", "The quarter as YYYY-Qn.", pattern=r"\d{4}-Q[1-4]"),
    _F("year", "int", "The year."),
    _F("month_of_year", "int", "Month number 1-12.", min=1, max=12),
    # --- published statistics -------------------------------------------------------------------------
    _F(
        "period_month",
        "date",
        "First day of the month the cell counts (month grain; sum months for quarters and years).",
    ),
    _F("period_quarter", "string", "Quarter of period_month, YYYY-Qn (for BI grouping).", pattern=r"\d{4}-Q[1-4]"),
    _F("period_year", "int", "Year of period_month (for BI grouping)."),
    _F(
        "area_level",
        "string",
        "Level of the area: municipality, region (labour-market region) or all.",
        code_list="area_levels",
    ),
    _F(
        "area_code",
        "string",
        "CBS municipality code, labour-market region code, BUITEN_REGIO (people living outside Haaglanden) or ALL.",
    ),
    _F("area_name", "string", "Name of the area."),
    _F(
        "measure",
        "string",
        "What is counted: inflow (into the care sector), outflow (out of it) or internal_mobility (switches "
        "between care employers, neither in- nor outflow).",
        code_list="measures",
    ),
    _F(
        "breakdown",
        "string",
        "The dimension the cell breaks the total down by: total, inflow_kind, function, contract_type, age_band, "
        "target_group, programme or employer. Within one period, area and measure the values of a breakdown sum "
        "to its total.",
        code_list="breakdowns",
    ),
    _F("breakdown_value", "string", "The value of the breakdown ('total' on the total row; 'onbekend' where unknown)."),
    _F("persons", "int", "Distinct persons in the cell. Empty when suppressed.", min=0),
    _F("suppressed", "bool", "The count is hidden to protect privacy (see suppression_reason)."),
    _F(
        "suppression_reason",
        "string",
        "Why the cell is empty: small_count (1 to 4 persons) or secondary (hidden so that a small count cannot be "
        "worked out from totals).",
        code_list="suppression_reasons",
    ),
    # --- operations --------------------------------------------------------------------------------------------
    _F("period_start", "date", "First day of the delivery period."),
    _F("period_end", "date", "Last day of the delivery period."),
    _F(
        "due_date",
        "date",
        "Date the delivery is due: the period's end plus the agreed days (config/checks.yaml, delivery_due_days).",
    ),
    _F("received", "bool", "A readable delivery (loaded, or later superseded) arrived for the period."),
    _F("first_received_at", "timestamp", "Arrival of the first readable delivery for the period."),
    _F(
        "days_late",
        "int",
        "Days after the due date the delivery arrived, or, when missing, days past the due date up to as_of_date; "
        "0 when on time.",
        min=0,
    ),
    _F(
        "completeness_status",
        "string",
        "on_time, late, missing (past due and not received), empty (only files without data rows arrived, past due) "
        "or not_yet_due.",
        code_list="completeness_statuses",
    ),
    # --- audit ----------------------------------------------------------------------------------------
    _F(
        "delivery_status",
        "string",
        "What happened to the delivery: loaded, duplicate (same content as an earlier file, skipped), superseded "
        "(replaced by a later version for the same partner and period), rejected (could not be read as a whole, "
        "or a link: never followed), skipped (a hidden file or folder: never read).",
        code_list="delivery_statuses",
    ),
    _F("rows_read", "int", "Data rows read from the file.", min=0),
    _F("rows_accepted", "int", "Rows that passed validation and are in the staging table.", min=0),
    _F("rows_quarantined", "int", "Rows rejected with a reason (see quarantine_rows).", min=0),
    _F(
        "reason_code",
        "string",
        "Stable identifier of a rejection or quarantine reason (for example FILE_MISSING_COLUMNS, ROW_INVALID_DATE).",
    ),
    _F("reason", "string", "What is wrong, in words a partner can act on. Never holds a raw identifier."),
    _F("layout", "string", "Layout (header era) of the partner mapping the file was read with."),
    _F(
        "unmapped_headers",
        "string",
        "Headers in the file that the partner mapping neither maps nor lists as ignored (their columns are not "
        "loaded), separated by |.",
    ),
    _F("duplicate_of", "string", "For a duplicate: the delivery_id of the earlier identical file."),
    _F("superseded_by", "string", "For a superseded delivery: the delivery_id of the version that replaced it."),
    _F("processed_at", "timestamp", "When the pipeline processed the file, UTC."),
    _F(
        "attempted_at",
        "timestamp",
        "When a run started reading the file, UTC. The record is removed with the file's delivery_log record; one "
        "that remains means that run stopped while reading it.",
    ),
    # --- build state: which inputs each derived table was last built from ---------------------------
    _F(
        "asset_name",
        "string",
        "A derived table (Dagster asset) of the warehouse, or an asset check kept up to date delivery by delivery.",
    ),
    _F(
        "base_fingerprint",
        "string",
        "SHA-256 of what the table was built from apart from deliveries: the pipeline's code and configuration "
        "and the tables it reads. Only when it is unchanged can new deliveries be applied to the table on their "
        "own.",
        pattern=r"[0-9a-f]{64}",
    ),
    _F(
        "input_fingerprint",
        "string",
        "SHA-256 of what the table was built from: the pipeline's code and configuration, and the loaded "
        "deliveries of the feeds it depends on.",
        pattern=r"[0-9a-f]{64}",
    ),
    _F("built_at", "timestamp", "When the table was last built, UTC."),
    _F("run_id", "string", "The Dagster run that built it."),
    _F("columns", "string", "Canonical column(s) the problem is in, separated by |."),
    _F("source_columns", "string", "The partner's header(s) of those columns, separated by |."),
    _F(
        "masked_value",
        "string",
        "The offending value, masked where it is an identifier (BSN, onderwijsnummer, birth date, postcode) and "
        "cut to 60 characters.",
    ),
    _F(
        "severity",
        "string",
        "row_rejected: the row is not loaded; flagged: loaded but worth a look.",
        code_list="severities",
    ),
]

FIELDS: dict[str, Field] = {f.name: f for f in _FIELD_LIST}
if len(FIELDS) != len(_FIELD_LIST):  # pragma: no cover - guards the list above
    raise RuntimeError("duplicate field name in schemas/fields.py")
