"""Every warehouse table: its layer, grain, description, columns and primary key.

Layers (names say the layer): `stg_` one per partner feed (accepted rows of every delivery that is
in force, with lineage), `fct_` events or records at a stated grain, `dim_` the things they are
about, audit tables (`delivery_log`, `quarantine_rows`, `read_attempts`). Published statistics for BI tools get the
prefix `pub_` (see issue 3).
"""

from __future__ import annotations

from dataclasses import dataclass

from schemas.fields import FIELDS, Field


@dataclass(frozen=True)
class Column:
    field: Field
    required: bool

    @property
    def name(self) -> str:
        return self.field.name


@dataclass(frozen=True)
class Table:
    name: str
    layer: str
    description: str
    grain: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...] = ()

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"{self.name} has no column {name}")


def _cols(spec: str, overrides: dict[str, Field] | None = None) -> tuple[Column, ...]:
    """Columns from a compact spec: names separated by spaces, a trailing '?' marks an optional one.

    `overrides` gives a table its own variant of a field (same name, other description or code list).
    """
    out = []
    for token in spec.split():
        optional = token.endswith("?")
        name = token.rstrip("?")
        out.append(Column((overrides or {}).get(name, FIELDS[name]), required=not optional))
    return tuple(out)


PUBLISHED_PROGRAMME = Field(
    "programme_code",
    "string",
    "Programme of the route; 'geen' for a route outside any programme.",
    code_list="programmes_or_none",
)


LINEAGE = (
    "delivery_id partner_code delivery_period delivery_version source_file content_hash source_row_number received_at"
)
#: birth_year is optional where no statistic needs it (ingest/feeds.py); the employment feed requires the birth date.
PERSON = "person_id person_id_kind birth_year? residence_municipality_code?"
#: Each feed's own fields, shared by its staging table and its current-records fact table.
EMPLOYMENT_FIELDS = (
    "function_code contract_type_code hours_per_week? is_apprenticeship? start_date end_date? leaving_reason_code? "
    "programme_code?"
)
ENROLMENT_FIELDS = (
    "programme_code? crebo_code? mbo_level? learning_path_code? start_date planned_end_date? actual_end_date? "
    "enrolment_outcome_code enrolment_leaving_reason_code? bbl_employer_name? has_work_placement_agreement?"
)
MUNICIPAL_FIELDS = (
    "target_group_code benefit_type_code programme_code referral_date placement_date? placement_kind_code? "
    "placement_end_date? placement_result_code? trajectory_end_date? trajectory_result_code? benefit_end_date? "
    "benefit_end_reason_code? civic_integration_required?"
)
#: Where a current record came from (a fact row keeps its delivery and source row).
CURRENT_LINEAGE = "delivery_id delivery_period source_row_number"

_TABLE_LIST = [
    # --- staging: one per feed ---------------------------------------------------------------------
    Table(
        "stg_employment_spells",
        "staging",
        "Employment spells as care employers delivered them: every accepted row of every delivery in force, "
        "pseudonymised, with lineage.",
        "one row per delivery and source row",
        _cols(f"{LINEAGE} record_key {PERSON} {EMPLOYMENT_FIELDS}"),
        ("delivery_id", "source_row_number"),
    ),
    Table(
        "stg_enrolments",
        "staging",
        "Enrolments as training providers delivered them: every accepted row of every delivery in force, "
        "pseudonymised, with lineage.",
        "one row per delivery and source row",
        _cols(f"{LINEAGE} record_key {PERSON} {ENROLMENT_FIELDS}"),
        ("delivery_id", "source_row_number"),
    ),
    Table(
        "stg_municipal_participants",
        "staging",
        "Programme participants (trajectories) as the municipality delivered them: every accepted row of every "
        "delivery in force, pseudonymised, with lineage.",
        "one row per delivery and source row",
        _cols(f"{LINEAGE} record_key {PERSON} {MUNICIPAL_FIELDS}"),
        ("delivery_id", "source_row_number"),
    ),
    # --- facts: current state of each partner record ------------------------------------------------
    Table(
        "fct_employment_spells",
        "fact",
        "Current employment spells: per partner and record key the row of the latest delivery in force (by "
        "period, then version), all fields.",
        "one row per partner and employment (record_key)",
        _cols(f"partner_code record_key {PERSON} {EMPLOYMENT_FIELDS} {CURRENT_LINEAGE}"),
        ("partner_code", "record_key"),
    ),
    Table(
        "fct_enrolments",
        "fact",
        "Current enrolments: per training provider and enrolment number the row of the latest delivery in force.",
        "one row per partner and enrolment (record_key)",
        _cols(f"partner_code record_key {PERSON} {ENROLMENT_FIELDS} {CURRENT_LINEAGE}"),
        ("partner_code", "record_key"),
    ),
    Table(
        "fct_municipal_trajectories",
        "fact",
        "Current programme trajectories of municipal participants: per municipality and trajectory number the row "
        "of the latest delivery in force.",
        "one row per partner and trajectory (record_key)",
        _cols(f"partner_code record_key {PERSON} {MUNICIPAL_FIELDS} {CURRENT_LINEAGE}"),
        ("partner_code", "record_key"),
    ),
    # --- facts: the statistics' events (internal: they hold person_id) -----------------------------------------
    Table(
        "fct_sector_inflow",
        "fact",
        "Sector inflow (instroom) as AZW defines it: a person starts a care employment spell on a date and had no "
        "care employment on any day in the year before. Moving between care employers is not inflow (see "
        "fct_internal_mobility). Starts before the first delivered period are history, not events.",
        "one row per person and inflow date",
        _cols(
            "person_id event_date event_month event_quarter event_year inflow_kind lookback_complete partner_code "
            "record_key function_code contract_type_code programme_code? municipality_code municipality_source "
            "region_code age? age_band? target_group_code?"
        ),
        ("person_id", "event_date"),
    ),
    Table(
        "fct_sector_outflow",
        "fact",
        "Sector outflow (uitstroom): a care spell ends on a date and the person has no care employment on any day "
        "in the year after. Provisional while that year is not over at the cut-off. Ends after the cut-off are "
        "not outflow (still employed at the cut-off).",
        "one row per person and end date",
        _cols(
            "person_id event_date event_month event_quarter event_year is_provisional partner_code record_key "
            "function_code contract_type_code leaving_reason_code? programme_code? municipality_code "
            "municipality_source region_code age? age_band? target_group_code?"
        ),
        ("person_id", "event_date"),
    ),
    Table(
        "fct_internal_mobility",
        "fact",
        "Internal mobility (doorstroom): a start that is not an inflow, at an employer other than the person's "
        "employer on their last care-employment day before it. Counted separately, never as inflow or outflow; a "
        "new contract at the same employer is not a switch.",
        "one row per person, date and new employer",
        _cols(
            "person_id event_date event_month event_quarter event_year from_partner_code to_partner_code "
            "record_key function_code contract_type_code programme_code? municipality_code municipality_source "
            "region_code age? age_band? target_group_code?"
        ),
        ("person_id", "event_date", "to_partner_code"),
    ),
    Table(
        "fct_retention_members",
        "fact",
        "Members of the monthly inflow cohorts and whether each is in care employment on the day 6, 12, 24 and 36 "
        "months after their inflow (point in time, as AZW checks its cohorts: someone who left and came back "
        "counts as retained).",
        "one row per inflow (person and inflow date)",
        _cols(
            "person_id inflow_date cohort_month municipality_code region_code inflow_kind check_date_6m "
            "retained_6m? check_date_12m retained_12m? check_date_24m retained_24m? check_date_36m retained_36m?"
        ),
        ("person_id", "inflow_date"),
    ),
    Table(
        "fct_retention",
        "fact",
        "Retention of monthly inflow cohorts per municipality: cohort size and members still in care at +6, +12, "
        "+24 and +36 months. A cohort month is reported at a horizon only when the check dates of all its members "
        "have passed by the cut-off.",
        "one row per cohort month, municipality and horizon",
        _cols(
            "cohort_month cohort_quarter cohort_year municipality_code region_code horizon_months cohort_persons "
            "retained_persons? retained_share?"
        ),
        ("cohort_month", "municipality_code", "horizon_months"),
    ),
    Table(
        "fct_programme_flows",
        "fact",
        "Programme route starts and ends by outcome: enrolments at training providers, municipal placements "
        "(work-experience place, job, training) and care employment hired through a programme.",
        "one row per route start and per route end",
        _cols(
            "person_id person_id_kind route_kind source_feed partner_code record_key programme_code? event_type "
            "event_date event_month event_quarter event_year outcome? outcome_detail? municipality_code "
            "municipality_source region_code target_group_code?"
        ),
        (),
    ),
    Table(
        "fct_target_persons",
        "fact",
        "The persons behind each target's count (internal, to explain a published number): per target and person "
        "the first qualifying event inside the window.",
        "one row per target and person",
        _cols("target_code person_id first_qualifying_date qualifying_feed partner_code record_key"),
        ("target_code", "person_id"),
    ),
    Table(
        "fct_target_attainment",
        "fact",
        "Target attainment per target: achieved (distinct persons), share attained, expected to date, status, "
        "run-rate forecast and the monthly rate still required; as of each month end (the progress line) and as "
        "of the data's cut-off (is_latest).",
        "one row per target and as-of date",
        _cols(
            "target_code as_of_date is_latest window_start window_end target_number? achieved share_attained? "
            "elapsed_share expected_to_date? status? run_rate remaining_months forecast required_monthly_rate?"
        ),
        ("target_code", "as_of_date"),
    ),
    Table(
        "fct_person_residence",
        "fact",
        "Residence municipality of each person over time, from the delivery snapshots of all feeds.",
        "one row per person and residence interval",
        _cols("person_id valid_from valid_to? residence_municipality_code?"),
        ("person_id", "valid_from"),
    ),
    Table(
        "fct_delivery_completeness",
        "fact",
        "Reporting completeness and timeliness per partner and period, as DHIS2 reports it: each partner is "
        "expected to deliver every period of its cadence from its first delivery to the cut-off; received or not, "
        "and how many days late.",
        "one row per partner and expected period",
        _cols(
            "partner_code delivery_period period_start period_end due_date received first_received_at? days_late "
            "completeness_status as_of_date"
        ),
        ("partner_code", "delivery_period"),
    ),
    # --- dimensions / reference -------------------------------------------------------------------------
    Table(
        "dim_region",
        "dimension",
        "Municipalities of Haaglanden with their CBS code and labour-market region "
        "(config/reference/municipalities.csv).",
        "one row per municipality",
        _cols("municipality_code municipality_name labour_market_region_code labour_market_region_name"),
        ("municipality_code",),
    ),
    Table(
        "dim_postcode_range",
        "dimension",
        "4-digit postcode ranges and their municipality, used at ingestion to turn a postcode into a municipality "
        "(config/reference/pc4_municipality.csv; replaceable by CBS's yearly file).",
        "one row per postcode range",
        _cols("pc4_from pc4_to municipality_code"),
        ("pc4_from",),
    ),
    Table(
        "dim_programme",
        "dimension",
        "Programmes that bring people into care work (config/reference/programmes.csv).",
        "one row per programme",
        _cols("programme_code programme_name owner description"),
        ("programme_code",),
    ),
    Table(
        "dim_function",
        "dimension",
        "Canonical care functions; partners' own function codes map onto these (config/reference/functions.csv).",
        "one row per function",
        _cols("function_code function_name mbo_level? is_care_function"),
        ("function_code",),
    ),
    Table(
        "dim_partner",
        "dimension",
        "Partners that deliver data, from their mapping files in config/partners/.",
        "one row per partner",
        _cols("partner_code partner_name partner_kind feed location_municipality_code delivery_cadence"),
        ("partner_code",),
    ),
    Table(
        "dim_target_group",
        "dimension",
        "Target groups of the municipal programmes (config/reference/target_groups.csv).",
        "one row per target group",
        _cols("target_group_code target_group_name"),
        ("target_group_code",),
    ),
    Table(
        "dim_target",
        "dimension",
        "Programme targets with their window, number and success criterion as data (config/reference/targets.csv).",
        "one row per target",
        _cols(
            "target_code target_name programme_code window_start window_end target_number? region_code "
            "criterion_feed criterion_event criterion_requires_municipal_record criterion_programme_code? "
            "criterion_target_group_code? criterion_benefit_type_code? criterion_mbo_levels? "
            "criterion_learning_path_code? criterion_placement_kind_code? criterion_placement_results? "
            "window_assumed notes"
        ),
        ("target_code",),
    ),
    Table(
        "dim_code_list",
        "dimension",
        "The smaller canonical code lists in one table: contract types, leaving reasons (of a job and of an "
        "enrolment), benefit types, placement kinds and results, trajectory results, enrolment outcomes, learning "
        "paths, benefit end reasons. Each has 'onbekend' for a value the partner records as unknown or declined; an "
        "empty value (missing) is never a code.",
        "one row per code list and code",
        _cols("code_list code code_name"),
        ("code_list", "code"),
    ),
    Table(
        "dim_person",
        "dimension",
        "The person spine: one record per pseudonymised person across employers, trainers and the municipality "
        "(internal: holds person_id).",
        "one row per person",
        _cols(
            "person_id person_id_kind birth_year? residence_municipality_code? is_employee is_student "
            "is_participant target_group_codes? programme_codes? first_seen_period last_seen_period"
        ),
        ("person_id",),
    ),
    Table(
        "dim_period",
        "dimension",
        "Calendar months with their quarter and year, covering the data.",
        "one row per month",
        _cols("month_start month_end month_label quarter_label year month_of_year"),
        ("month_start",),
    ),
    # --- published statistics: what BI tools read (aggregates only, small counts suppressed) ---------------
    Table(
        "pub_sector_flows",
        "published",
        "Sector inflow, outflow and internal mobility per month and area, in total and broken down by inflow "
        "kind, function, contract type, age band, target group, programme and employer. Distinct persons; cells "
        "of 1 to 4 persons and the cells that would reveal them are suppressed.",
        "one row per month, area, measure, breakdown and breakdown value",
        _cols(
            "period_month period_quarter period_year area_level area_code area_name measure breakdown "
            "breakdown_value persons? is_provisional suppressed suppression_reason?"
        ),
        ("period_month", "area_code", "measure", "breakdown", "breakdown_value"),
    ),
    Table(
        "pub_retention",
        "published",
        "Retention of monthly inflow cohorts per area at +6, +12, +24 and +36 months, where reportable. Small "
        "cohorts and small retained or not-retained counts are suppressed.",
        "one row per cohort month, area and horizon",
        _cols(
            "cohort_month cohort_quarter cohort_year area_level area_code area_name horizon_months "
            "cohort_persons? retained_persons? retained_share? suppressed suppression_reason?"
        ),
        ("cohort_month", "area_code", "horizon_months"),
    ),
    Table(
        "pub_programme_flows",
        "published",
        "Programme route starts and ends by outcome per month, area, programme and route kind. Distinct persons, "
        "small counts suppressed.",
        "one row per month, area, programme, route kind, event type and outcome",
        _cols(
            "period_month period_quarter period_year area_level area_code area_name programme_code route_kind "
            "event_type outcome persons? suppressed suppression_reason?",
            {"programme_code": PUBLISHED_PROGRAMME},
        ),
        ("period_month", "area_code", "programme_code", "route_kind", "event_type", "outcome"),
    ),
    Table(
        "pub_target_attainment",
        "published",
        "Attainment of each programme target, as of each month end and as of the cut-off (is_latest): the table "
        "programme managers and the sectortafel read. An achieved count of 1 to 4 is suppressed together with the "
        "figures that would reveal it.",
        "one row per target and as-of date",
        _cols(
            "target_code target_name as_of_date is_latest window_start window_end target_number? achieved? "
            "share_attained? expected_to_date? status? forecast? required_monthly_rate? suppressed "
            "suppression_reason?"
        ),
        ("target_code", "as_of_date"),
    ),
    # --- audit ----------------------------------------------------------------------------------------------
    Table(
        "delivery_log",
        "audit",
        "Every delivery file the pipeline has seen and what became of it. For a loaded delivery rows_read = "
        "rows_accepted + rows_quarantined.",
        "one row per delivery file (content)",
        _cols(
            "delivery_id partner_code? delivery_period? delivery_version? source_file content_hash received_at "
            "processed_at delivery_status rows_read rows_accepted rows_quarantined reason_code? reason? layout? "
            "unmapped_headers? duplicate_of? superseded_by?"
        ),
        ("delivery_id",),
    ),
    Table(
        "read_attempts",
        "audit",
        "Delivery files a run has started to read and not yet logged: recorded (and committed) before the file is "
        "read, removed with its delivery_log record. A file still here was being read when a run stopped; the next "
        "run reads it only in an isolated worker bounded in memory and time, so a file that crashes the reader is "
        "rejected with the cause instead of stopping every run.",
        "one row per delivery file being read",
        _cols("delivery_id partner_code source_file content_hash attempted_at"),
        ("delivery_id",),
    ),
    Table(
        "build_state",
        "audit",
        "Per derived table, the fingerprint of the inputs it was last built from. A run whose fingerprint is "
        "unchanged keeps the table as it is (no new deliveries for its feeds, same code and configuration).",
        "one row per derived table",
        _cols("asset_name input_fingerprint built_at run_id"),
        ("asset_name",),
    ),
    Table(
        "build_deliveries",
        "audit",
        "Per table (or check) kept up to date delivery by delivery: the loaded deliveries it covers, and the "
        "fingerprint of the rest of its inputs. A run that finds only new deliveries beside the same rest applies "
        "just those; a retired delivery or other code means a whole rebuild.",
        "one row per table (or check) and delivery",
        _cols("asset_name delivery_id base_fingerprint"),
        ("asset_name", "delivery_id"),
    ),
    Table(
        "quarantine_rows",
        "audit",
        "Rows of loaded deliveries that were rejected, with a reason the partner can act on. No raw identifiers: "
        "values of identifier columns are masked.",
        "one row per delivery, source row and problem",
        _cols(
            "delivery_id partner_code source_file source_row_number reason_code columns source_columns? "
            "masked_value? reason severity"
        ),
        (),
    ),
]

TABLES: dict[str, Table] = {t.name: t for t in _TABLE_LIST}

#: Feeds and their staging and fact tables.
FEED_STAGING = {
    "employment_spells": "stg_employment_spells",
    "enrolments": "stg_enrolments",
    "municipal_participants": "stg_municipal_participants",
}
FEED_FACT = {
    "employment_spells": "fct_employment_spells",
    "enrolments": "fct_enrolments",
    "municipal_participants": "fct_municipal_trajectories",
}


def table(name: str) -> Table:
    try:
        return TABLES[name]
    except KeyError:
        raise KeyError(f"no table {name!r} in schemas/tables.py") from None
