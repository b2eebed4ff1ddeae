"""Every warehouse table: its layer, grain, description, columns and primary key.

Layers (names say the layer): `stg_` one per partner feed (accepted rows of every delivery that is
in force, with lineage), `fct_` events or records at a stated grain, `dim_` the things they are
about, audit tables (`delivery_log`, `quarantine_rows`). Published statistics for BI tools get the
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


def _cols(spec: str) -> tuple[Column, ...]:
    """Columns from a compact spec: names separated by spaces, a trailing '?' marks an optional one."""
    out = []
    for token in spec.split():
        optional = token.endswith("?")
        out.append(Column(FIELDS[token.rstrip("?")], required=not optional))
    return tuple(out)


LINEAGE = "delivery_id partner_code delivery_period delivery_version source_file content_hash source_row_number received_at"
PERSON = "person_id person_id_kind birth_year residence_municipality_code?"

_TABLE_LIST = [
    # --- staging: one per feed ---------------------------------------------------------------------
    Table(
        "stg_employment_spells", "staging",
        "Employment spells as care employers delivered them: every accepted row of every delivery in force, pseudonymised, with lineage.",
        "one row per delivery and source row",
        _cols(f"{LINEAGE} record_key {PERSON} function_code contract_type_code hours_per_week? is_apprenticeship? start_date end_date? leaving_reason_code? programme_code?"),
        ("delivery_id", "source_row_number"),
    ),
    Table(
        "stg_enrolments", "staging",
        "Enrolments as training providers delivered them: every accepted row of every delivery in force, pseudonymised, with lineage.",
        "one row per delivery and source row",
        _cols(f"{LINEAGE} record_key {PERSON} programme_code? crebo_code mbo_level learning_path_code start_date planned_end_date? actual_end_date? enrolment_outcome_code leaving_reason_code? bbl_employer_name? has_work_placement_agreement?"),
        ("delivery_id", "source_row_number"),
    ),
    Table(
        "stg_municipal_participants", "staging",
        "Programme participants (trajectories) as the municipality delivered them: every accepted row of every delivery in force, pseudonymised, with lineage.",
        "one row per delivery and source row",
        _cols(f"{LINEAGE} record_key {PERSON} target_group_code benefit_type_code programme_code referral_date placement_date? placement_kind_code? placement_end_date? placement_result_code? benefit_end_date? benefit_end_reason_code? civic_integration_required?"),
        ("delivery_id", "source_row_number"),
    ),
    # --- facts: current state of each partner record ------------------------------------------------
    Table(
        "fct_employment_spells", "fact",
        "Current employment spells: per partner and record key the row of the latest delivery in force (by period, then version), all fields.",
        "one row per partner and employment (record_key)",
        _cols(f"partner_code record_key {PERSON} function_code contract_type_code hours_per_week? is_apprenticeship? start_date end_date? leaving_reason_code? programme_code? delivery_id delivery_period source_row_number"),
        ("partner_code", "record_key"),
    ),
    Table(
        "fct_enrolments", "fact",
        "Current enrolments: per training provider and enrolment number the row of the latest delivery in force.",
        "one row per partner and enrolment (record_key)",
        _cols(f"partner_code record_key {PERSON} programme_code? crebo_code mbo_level learning_path_code start_date planned_end_date? actual_end_date? enrolment_outcome_code leaving_reason_code? bbl_employer_name? has_work_placement_agreement? delivery_id delivery_period source_row_number"),
        ("partner_code", "record_key"),
    ),
    Table(
        "fct_municipal_trajectories", "fact",
        "Current programme trajectories of municipal participants: per municipality and trajectory number the row of the latest delivery in force.",
        "one row per partner and trajectory (record_key)",
        _cols(f"partner_code record_key {PERSON} target_group_code benefit_type_code programme_code referral_date placement_date? placement_kind_code? placement_end_date? placement_result_code? benefit_end_date? benefit_end_reason_code? civic_integration_required? delivery_id delivery_period source_row_number"),
        ("partner_code", "record_key"),
    ),
    # --- dimensions / reference -------------------------------------------------------------------------
    Table(
        "dim_region", "dimension",
        "Municipalities of Haaglanden with their CBS code and labour-market region (config/reference/municipalities.csv).",
        "one row per municipality",
        _cols("municipality_code municipality_name labour_market_region_code labour_market_region_name"),
        ("municipality_code",),
    ),
    Table(
        "dim_postcode_range", "dimension",
        "4-digit postcode ranges and their municipality, used at ingestion to turn a postcode into a municipality (config/reference/pc4_municipality.csv; replaceable by CBS's yearly file).",
        "one row per postcode range",
        _cols("pc4_from pc4_to municipality_code"),
        ("pc4_from",),
    ),
    Table(
        "dim_programme", "dimension",
        "Programmes that bring people into care work (config/reference/programmes.csv).",
        "one row per programme",
        _cols("programme_code programme_name owner description"),
        ("programme_code",),
    ),
    Table(
        "dim_function", "dimension",
        "Canonical care functions; partners' own function codes map onto these (config/reference/functions.csv).",
        "one row per function",
        _cols("function_code function_name mbo_level? is_care_function"),
        ("function_code",),
    ),
    Table(
        "dim_partner", "dimension",
        "Partners that deliver data, from their mapping files in config/partners/.",
        "one row per partner",
        _cols("partner_code partner_name partner_kind feed location_municipality_code delivery_cadence"),
        ("partner_code",),
    ),
    Table(
        "dim_target_group", "dimension",
        "Target groups of the municipal programmes (config/reference/target_groups.csv).",
        "one row per target group",
        _cols("target_group_code target_group_name"),
        ("target_group_code",),
    ),
    Table(
        "dim_target", "dimension",
        "Programme targets with their window, number and success criterion as data (config/reference/targets.csv).",
        "one row per target",
        _cols("target_code target_name programme_code window_start window_end target_number? region_code criterion_feed criterion_event criterion_requires_municipal_record criterion_programme_code? criterion_target_group_code? criterion_benefit_type_code? criterion_mbo_levels? criterion_learning_path_code? criterion_placement_kind_code? criterion_placement_results? window_assumed notes"),
        ("target_code",),
    ),
    Table(
        "dim_code_list", "dimension",
        "The smaller canonical code lists in one table: contract types, leaving reasons, benefit types, placement kinds and results, enrolment outcomes, learning paths, benefit end reasons.",
        "one row per code list and code",
        _cols("code_list code code_name"),
        ("code_list", "code"),
    ),
    # --- audit ----------------------------------------------------------------------------------------------
    Table(
        "delivery_log", "audit",
        "Every delivery file the pipeline has seen and what became of it. For a loaded delivery rows_read = rows_accepted + rows_quarantined.",
        "one row per delivery file (content)",
        _cols("delivery_id partner_code? delivery_period? delivery_version? source_file content_hash received_at processed_at delivery_status rows_read rows_accepted rows_quarantined reason_code? reason? layout? unmapped_headers? duplicate_of? superseded_by?"),
        ("delivery_id",),
    ),
    Table(
        "quarantine_rows", "audit",
        "Rows of loaded deliveries that were rejected, with a reason the partner can act on. No raw identifiers: values of identifier columns are masked.",
        "one row per delivery, source row and problem",
        _cols("delivery_id partner_code source_file source_row_number reason_code columns source_columns? masked_value? reason severity"),
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
