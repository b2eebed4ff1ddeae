"""What each canonical feed expects from a partner file, before pseudonymisation.

These are the keys partners map their headers onto in config/partners/*.yaml (`columns:`). Each
input column has a kind that says how it is parsed and which staging column it becomes.
"""

from __future__ import annotations

from dataclasses import dataclass

# Kinds of input column and how they are parsed (see ingest/parse.py).
TEXT, BSN, ONDERWIJSNUMMER, BIRTH_DATE, POSTCODE, DATE, DECIMAL, INTEGER, YES_NO, CODE = (
    "text",
    "bsn",
    "onderwijsnummer",
    "birth_date",
    "postcode",
    "date",
    "decimal",
    "integer",
    "yes_no",
    "code",
)
#: Kinds whose raw values identify a person: never shown unmasked after ingestion.
IDENTIFYING_KINDS = frozenset({BSN, ONDERWIJSNUMMER, BIRTH_DATE, POSTCODE})


@dataclass(frozen=True)
class InputColumn:
    name: str
    kind: str
    required: bool
    target: str | None = None  # staging column it fills (None: used only to build others)
    code_list: str | None = None  # for kind CODE: the canonical code list


@dataclass(frozen=True)
class DateOrder:
    """A row fails when `later` is before `earlier` (both dates present)."""

    earlier: str
    later: str


@dataclass(frozen=True)
class FeedSpec:
    feed: str
    columns: tuple[InputColumn, ...]
    record_key: tuple[str, ...]  # input columns joined by '-' into record_key
    date_orders: tuple[DateOrder, ...] = ()
    #: at least one of these identifier columns must hold a value (BSN preferred)
    person_identifiers: tuple[str, ...] = ("bsn",)

    def column(self, name: str) -> InputColumn:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]


_C = InputColumn
FEEDS: dict[str, FeedSpec] = {
    "employment_spells": FeedSpec(
        "employment_spells",
        (
            _C("employee_number", TEXT, True),
            _C("employment_number", TEXT, False),
            _C("bsn", BSN, True),
            _C("birth_date", BIRTH_DATE, True),
            _C("postcode", POSTCODE, False),
            _C("function", CODE, True, "function_code", "functions"),
            _C("contract_type", CODE, True, "contract_type_code", "contract_types"),
            _C("hours_per_week", DECIMAL, False, "hours_per_week"),
            _C("is_apprenticeship", YES_NO, False, "is_apprenticeship"),
            _C("start_date", DATE, True, "start_date"),
            _C("end_date", DATE, False, "end_date"),
            _C("leaving_reason", CODE, False, "leaving_reason_code", "leaving_reasons"),
            _C("programme", CODE, False, "programme_code", "programmes"),
        ),
        record_key=("employee_number", "employment_number"),
        date_orders=(DateOrder("start_date", "end_date"),),
    ),
    "enrolments": FeedSpec(
        "enrolments",
        (
            _C("enrolment_number", TEXT, True),
            _C("bsn", BSN, False),
            _C("onderwijsnummer", ONDERWIJSNUMMER, False),
            _C("birth_date", BIRTH_DATE, True),
            _C("postcode", POSTCODE, False),
            _C("programme", CODE, False, "programme_code", "programmes"),
            _C("crebo_code", TEXT, True, "crebo_code"),
            _C("mbo_level", INTEGER, True, "mbo_level"),
            _C("learning_path", CODE, True, "learning_path_code", "learning_paths"),
            _C("start_date", DATE, True, "start_date"),
            _C("planned_end_date", DATE, False, "planned_end_date"),
            _C("actual_end_date", DATE, False, "actual_end_date"),
            _C("outcome", CODE, True, "enrolment_outcome_code", "enrolment_outcomes"),
            _C("leaving_reason", CODE, False, "leaving_reason_code", "leaving_reasons"),
            _C("bbl_employer_name", TEXT, False, "bbl_employer_name"),
            _C("has_work_placement_agreement", YES_NO, False, "has_work_placement_agreement"),
        ),
        record_key=("enrolment_number",),
        date_orders=(DateOrder("start_date", "actual_end_date"), DateOrder("start_date", "planned_end_date")),
        person_identifiers=("bsn", "onderwijsnummer"),
    ),
    "municipal_participants": FeedSpec(
        "municipal_participants",
        (
            _C("trajectory_number", TEXT, True),
            _C("bsn", BSN, True),
            _C("birth_date", BIRTH_DATE, True),
            _C("postcode", POSTCODE, False),
            _C("target_group", CODE, True, "target_group_code", "target_groups"),
            _C("benefit_type", CODE, True, "benefit_type_code", "benefit_types"),
            _C("programme", CODE, True, "programme_code", "programmes"),
            _C("referral_date", DATE, True, "referral_date"),
            _C("placement_date", DATE, False, "placement_date"),
            _C("placement_kind", CODE, False, "placement_kind_code", "placement_kinds"),
            _C("placement_end_date", DATE, False, "placement_end_date"),
            _C("placement_result", CODE, False, "placement_result_code", "placement_results"),
            _C("benefit_end_date", DATE, False, "benefit_end_date"),
            _C("benefit_end_reason", CODE, False, "benefit_end_reason_code", "benefit_end_reasons"),
            _C("civic_integration_required", YES_NO, False, "civic_integration_required"),
        ),
        record_key=("trajectory_number",),
        date_orders=(DateOrder("placement_date", "placement_end_date"),),
    ),
}


def feed_spec(feed: str) -> FeedSpec:
    try:
        return FEEDS[feed]
    except KeyError:
        raise KeyError(f"unknown feed {feed!r}; known: {', '.join(FEEDS)}") from None
