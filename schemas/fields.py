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
    _F("delivery_id", "string", "Identifier of the delivery file the row came from: partner, period, version and the first 12 hex digits of its SHA-256 content hash."),
    _F("partner_code", "string", "Partner that delivered the data (see dim_partner).", code_list="partners"),
    _F("delivery_period", "string", "Period the delivery covers, from its file name: YYYY-MM for monthly, YYYY-Qn for quarterly deliveries.", pattern=r"\d{4}-(0[1-9]|1[0-2]|Q[1-4])"),
    _F("delivery_version", "int", "Version of the delivery for its partner and period: 1 for the original, 2 for a corrected re-send (_v2), and so on.", min=1),
    _F("source_file", "string", "File name of the delivery as received, relative to the partner's landing folder."),
    _F("content_hash", "string", "SHA-256 of the delivery file's bytes (hex). Identical files are loaded once.", pattern=r"[0-9a-f]{64}"),
    _F("source_row_number", "int", "Row number in the delivery file as a spreadsheet user counts it (the header row of a plain CSV is row 1).", min=1),
    _F("received_at", "timestamp", "When the file landed (its modification time in the landing zone), UTC."),
    # --- persons --------------------------------------------------------------------------------
    _F("person_id", "string", "Keyed pseudonym of the person: HMAC-SHA256 of the BSN (or onderwijsnummer) under the secret pseudonymisation key, hex. The same person has the same person_id in every feed.", pattern=r"[0-9a-f]{64}"),
    _F("person_id_kind", "string", "What the pseudonym was made from: bsn, or onderwijsnummer (students without a BSN; these cannot be linked to the other feeds).", code_list="person_id_kinds"),
    _F("birth_year", "int", "Year of birth. The full birth date is dropped at ingestion.", min=1900, max=2100),
    _F("residence_municipality_code", "string", "CBS code of the municipality of residence, derived from the 4-digit postcode at ingestion; BUITEN_REGIO for a postcode outside Haaglanden; empty when the partner gave no postcode. The postcode itself is dropped.", code_list="residence_municipalities"),
    _F("record_key", "string", "The partner's own key of the record: employee number and employment number joined by '-', enrolment number or trajectory number. Per partner and record key the latest accepted row wins."),
    # --- employment ------------------------------------------------------------------------------
    _F("function_code", "string", "Canonical function of the employment spell (see dim_function), mapped from the partner's own code.", code_list="functions"),
    _F("contract_type_code", "string", "Canonical contract type: vast, tijdelijk, oproep (on-call / zero hours), bbl (apprenticeship contract).", code_list="contract_types"),
    _F("hours_per_week", "float", "Contract hours a week.", min=0, max=60, unit="hours/week"),
    _F("is_apprenticeship", "bool", "The partner marks the employee as a BBL learner (ja/nee)."),
    _F("start_date", "date", "First day of the spell, enrolment or trajectory (inclusive)."),
    _F("end_date", "date", "Last day of the employment spell (inclusive); empty while ongoing."),
    _F("leaving_reason_code", "string", "Canonical reason for leaving; empty when not (yet) given, 'onbekend' when the partner says it is unknown.", code_list="leaving_reasons"),
    _F("programme_code", "string", "Programme the person takes part in or was hired or enrolled through (see dim_programme).", code_list="programmes"),
    # --- enrolments -------------------------------------------------------------------------------
    _F("crebo_code", "string", "Qualification code (crebo) of the mbo programme, five digits.", pattern=r"\d{5}"),
    _F("mbo_level", "int", "mbo level of the qualification, 1 to 4.", min=1, max=4),
    _F("learning_path_code", "string", "Learning path: BBL (work and learn) or BOL (school-based).", code_list="learning_paths"),
    _F("planned_end_date", "date", "Planned end of the enrolment."),
    _F("actual_end_date", "date", "Actual end of the enrolment (inclusive); empty while ongoing."),
    _F("enrolment_outcome_code", "string", "Outcome of the enrolment: lopend (ongoing), diploma, uitval (dropped out), overig.", code_list="enrolment_outcomes"),
    _F("bbl_employer_name", "string", "Name of the employer of a BBL learner, as the training provider wrote it (an organisation, not a person)."),
    _F("has_work_placement_agreement", "bool", "A work-placement agreement (praktijkovereenkomst) is signed (ja/nee)."),
    # --- municipal participants -------------------------------------------------------------------
    _F("target_group_code", "string", "Target group of the participant (see dim_target_group).", code_list="target_groups"),
    _F("benefit_type_code", "string", "Benefit the participant receives: participatiewet (bijstand), ww, wajong, geen, onbekend.", code_list="benefit_types"),
    _F("referral_date", "date", "Date the participant was referred to (registered in) the programme."),
    _F("placement_date", "date", "Start of the placement (work-experience place, job or training)."),
    _F("placement_kind_code", "string", "Kind of placement: wep (work-experience place), baan (paid job), opleiding (training).", code_list="placement_kinds"),
    _F("placement_end_date", "date", "End of the placement (inclusive)."),
    _F("placement_result_code", "string", "Result of the placement: werkfit, werk (into work), uitval, overig.", code_list="placement_results"),
    _F("benefit_end_date", "date", "Last day of the benefit."),
    _F("benefit_end_reason_code", "string", "Why the benefit ended.", code_list="benefit_end_reasons"),
    _F("civic_integration_required", "bool", "The participant is obliged to complete civic integration (inburgeringsplichtig, ja/nee)."),
    # --- reference ---------------------------------------------------------------------------------
    _F("municipality_code", "string", "CBS municipality code (GMnnnn).", pattern=r"GM\d{4}"),
    _F("municipality_name", "string", "Municipality name as CBS spells it."),
    _F("labour_market_region_code", "string", "Labour-market region (arbeidsmarktregio) the municipality belongs to."),
    _F("labour_market_region_name", "string", "Name of the labour-market region."),
    _F("pc4_from", "int", "First 4-digit postcode of a range (inclusive).", min=1000, max=9999),
    _F("pc4_to", "int", "Last 4-digit postcode of a range (inclusive).", min=1000, max=9999),
    _F("programme_name", "string", "Name of the programme."),
    _F("owner", "string", "Who runs the programme."),
    _F("description", "string", "Description."),
    _F("function_name", "string", "Name of the function."),
    _F("is_care_function", "bool", "The function is care work (zorg & welzijn); a spell in it counts for sector inflow and outflow."),
    _F("partner_name", "string", "Name of the partner organisation."),
    _F("partner_kind", "string", "Kind of partner: employer, training_provider or municipality.", code_list="partner_kinds"),
    _F("feed", "string", "Canonical feed the partner delivers: employment_spells, enrolments or municipal_participants.", code_list="feeds"),
    _F("location_municipality_code", "string", "CBS code of the partner's location; the municipality of an event when the person's residence is unknown.", pattern=r"GM\d{4}"),
    _F("delivery_cadence", "string", "How often the partner delivers: monthly or quarterly.", code_list="cadences"),
    _F("target_group_name", "string", "Name of the target group."),
    _F("code_list", "string", "Name of a code list (contract_types, leaving_reasons, ...)."),
    _F("code", "string", "A canonical code."),
    _F("code_name", "string", "What the code means."),
    _F("target_code", "string", "Identifier of a programme target."),
    _F("target_name", "string", "Name of the target."),
    _F("window_start", "date", "First day of the target's window (inclusive)."),
    _F("window_end", "date", "Last day of the target's window (inclusive)."),
    _F("target_number", "int", "Number of distinct persons the target aims at; empty for a target without a number (count only).", min=1),
    _F("region_code", "string", "Region the target applies to (labour-market region code)."),
    _F("criterion_feed", "string", "Feed(s) whose events qualify, separated by |."),
    _F("criterion_event", "string", "Event that qualifies: start (of a spell or enrolment) or placement_end."),
    _F("criterion_requires_municipal_record", "bool", "The person must have a municipal record (trajectory) matching the criterion's programme, target group and benefit type filters (all filters on one record; no filter: any record)."),
    _F("criterion_programme_code", "string", "The person must be a municipal participant of this programme (empty: any municipal participant where the target requires one)."),
    _F("criterion_target_group_code", "string", "The person must be a municipal participant of this target group."),
    _F("criterion_benefit_type_code", "string", "The person must have a municipal record with this benefit type."),
    _F("criterion_mbo_levels", "string", "Qualifying mbo levels of the enrolment, separated by |."),
    _F("criterion_learning_path_code", "string", "Qualifying learning path of the enrolment."),
    _F("criterion_placement_kind_code", "string", "Qualifying placement kind."),
    _F("criterion_placement_results", "string", "Qualifying placement results, separated by |."),
    _F("window_assumed", "bool", "The window is an assumption (not stated in the source documents) and can be changed in config/reference/targets.csv."),
    _F("notes", "string", "The success criterion in words."),
    # --- audit ----------------------------------------------------------------------------------------
    _F("delivery_status", "string", "What happened to the delivery: loaded, duplicate (same content as an earlier file, skipped), superseded (replaced by a later version for the same partner and period), rejected (could not be read as a whole).", code_list="delivery_statuses"),
    _F("rows_read", "int", "Data rows read from the file.", min=0),
    _F("rows_accepted", "int", "Rows that passed validation and are in the staging table.", min=0),
    _F("rows_quarantined", "int", "Rows rejected with a reason (see quarantine_rows).", min=0),
    _F("reason_code", "string", "Stable identifier of a rejection or quarantine reason (for example FILE_MISSING_COLUMNS, ROW_INVALID_DATE)."),
    _F("reason", "string", "What is wrong, in words a partner can act on. Never holds a raw identifier."),
    _F("layout", "string", "Layout (header era) of the partner mapping the file was read with."),
    _F("unmapped_headers", "string", "Headers in the file that the partner mapping neither maps nor lists as ignored (their columns are not loaded), separated by |."),
    _F("duplicate_of", "string", "For a duplicate: the delivery_id of the earlier identical file."),
    _F("superseded_by", "string", "For a superseded delivery: the delivery_id of the version that replaced it."),
    _F("processed_at", "timestamp", "When the pipeline processed the file, UTC."),
    _F("columns", "string", "Canonical column(s) the problem is in, separated by |."),
    _F("source_columns", "string", "The partner's header(s) of those columns, separated by |."),
    _F("masked_value", "string", "The offending value, masked where it is an identifier (BSN, onderwijsnummer, birth date, postcode) and cut to 60 characters."),
    _F("severity", "string", "row_rejected: the row is not loaded; flagged: loaded but worth a look.", code_list="severities"),
]

FIELDS: dict[str, Field] = {f.name: f for f in _FIELD_LIST}
if len(FIELDS) != len(_FIELD_LIST):  # pragma: no cover - guards the list above
    raise RuntimeError("duplicate field name in schemas/fields.py")
