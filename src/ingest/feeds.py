"""What each canonical feed expects from a partner file, before pseudonymisation.

These are the keys partners map their headers onto in config/partners/*.yaml (`columns:`). Each
input column has a kind that says how it is parsed and which staging column it becomes.

Required-ness is declared once per column, by what reads it: `needed_by` names the uses (the
record key, the person link, the statistics) that cannot do without the column. A column with a
use must be delivered by every partner of the feed (mapped or derived in every layout; it cannot be
declared `not_delivered`); `every_row` says those uses need a value on every row (an empty cell
rejects the row). A column without a use may be declared not delivered, and an empty cell in it
never rejects a row: a person must not vanish from the statistics for a field none of them reads.
"""

from __future__ import annotations

from dataclasses import dataclass

# Kinds of input column and how they are parsed (see ingest/parse.py).
TEXT, BSN, ONDERWIJSNUMMER, PERSON_NUMBER, BIRTH_DATE, POSTCODE, DATE, DECIMAL, INTEGER, YES_NO, CODE = (
    "text",
    "bsn",
    "onderwijsnummer",
    "person_number",  # a BSN or an onderwijsnummer, per row whichever check the number passes
    "birth_date",
    "postcode",
    "date",
    "decimal",
    "integer",
    "yes_no",
    "code",
)
#: Kinds whose raw values identify a person: never shown unmasked after ingestion.
IDENTIFYING_KINDS = frozenset({BSN, ONDERWIJSNUMMER, PERSON_NUMBER, BIRTH_DATE, POSTCODE})

# What reads a column (InputColumn.needed_by): shown to partners and data engineers in plain words.
RECORD_KEY = "the record key (the latest row of each record wins)"
PERSON_LINK = "the person link (the pseudonym that joins the feeds)"
SECTOR_FLOWS = "the sector flows (inflow, outflow, internal mobility, retention)"
AGE = "the age at inflow and the inflow kind (herintreder, zij-instromer)"
PROGRAMME_FLOWS = "the programme flows (route starts and ends by outcome)"
TARGETS = "the target attainment (docs/statistics_spec.md)"
TARGET_GROUP = "the target group of events (the trajectory referred most recently before them)"


@dataclass(frozen=True)
class InputColumn:
    name: str
    kind: str
    target: str | None = None  # staging column it fills (None: used only to build others)
    code_list: str | None = None  # for kind CODE: the canonical code list
    needed_by: tuple[str, ...] = ()  # what cannot do without the column (empty: optional)
    every_row: bool = False  # those uses need a value on every row

    @property
    def required(self) -> bool:
        """An empty cell rejects the row."""
        return bool(self.needed_by) and self.every_row

    @property
    def needed(self) -> bool:
        """Every partner of the feed must deliver the column (it cannot be declared not delivered)."""
        return bool(self.needed_by)


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

    @property
    def person_number_column(self) -> str | None:
        """The column that may hold either identifier (a BSN or an onderwijsnummer), when the feed has one."""
        return next((c.name for c in self.columns if c.kind == PERSON_NUMBER), None)


_C = InputColumn
FEEDS: dict[str, FeedSpec] = {
    "employment_spells": FeedSpec(
        "employment_spells",
        (
            _C("employee_number", TEXT, needed_by=(RECORD_KEY,), every_row=True),
            _C("employment_number", TEXT),
            _C("bsn", BSN, needed_by=(PERSON_LINK, SECTOR_FLOWS), every_row=True),
            _C("birth_date", BIRTH_DATE, needed_by=(AGE,), every_row=True),
            _C("postcode", POSTCODE),
            _C("function", CODE, "function_code", "functions", needed_by=(SECTOR_FLOWS,), every_row=True),
            _C(
                "contract_type", CODE, "contract_type_code", "contract_types", needed_by=(SECTOR_FLOWS,), every_row=True
            ),
            _C("hours_per_week", DECIMAL, "hours_per_week"),
            _C("is_apprenticeship", YES_NO, "is_apprenticeship"),
            _C("start_date", DATE, "start_date", needed_by=(SECTOR_FLOWS, TARGETS), every_row=True),
            _C("end_date", DATE, "end_date", needed_by=(SECTOR_FLOWS,)),
            _C("leaving_reason", CODE, "leaving_reason_code", "leaving_reasons"),
            _C("programme", CODE, "programme_code", "programmes"),
        ),
        record_key=("employee_number", "employment_number"),
        date_orders=(DateOrder("start_date", "end_date"),),
    ),
    "enrolments": FeedSpec(
        "enrolments",
        (
            _C("enrolment_number", TEXT, needed_by=(RECORD_KEY,), every_row=True),
            _C("bsn", BSN),
            _C("onderwijsnummer", ONDERWIJSNUMMER),
            _C("bsn_or_onderwijsnummer", PERSON_NUMBER),
            _C("birth_date", BIRTH_DATE),
            _C("postcode", POSTCODE),
            _C("programme", CODE, "programme_code", "programmes"),
            _C("crebo_code", TEXT, "crebo_code"),
            _C("mbo_level", INTEGER, "mbo_level", needed_by=(TARGETS,)),
            _C("learning_path", CODE, "learning_path_code", "learning_paths", needed_by=(TARGETS,)),
            _C("start_date", DATE, "start_date", needed_by=(PROGRAMME_FLOWS, TARGETS), every_row=True),
            _C("planned_end_date", DATE, "planned_end_date"),
            _C("actual_end_date", DATE, "actual_end_date", needed_by=(PROGRAMME_FLOWS,)),
            _C(
                "outcome",
                CODE,
                "enrolment_outcome_code",
                "enrolment_outcomes",
                needed_by=(PROGRAMME_FLOWS,),
                every_row=True,
            ),
            _C("leaving_reason", CODE, "enrolment_leaving_reason_code", "enrolment_leaving_reasons"),
            _C("bbl_employer_name", TEXT, "bbl_employer_name"),
            _C("has_work_placement_agreement", YES_NO, "has_work_placement_agreement"),
        ),
        record_key=("enrolment_number",),
        date_orders=(DateOrder("start_date", "actual_end_date"), DateOrder("start_date", "planned_end_date")),
        person_identifiers=("bsn", "onderwijsnummer"),
    ),
    "municipal_participants": FeedSpec(
        "municipal_participants",
        (
            _C("trajectory_number", TEXT, needed_by=(RECORD_KEY,), every_row=True),
            _C("bsn", BSN, needed_by=(PERSON_LINK, TARGETS), every_row=True),
            _C("birth_date", BIRTH_DATE),
            _C("postcode", POSTCODE),
            _C(
                "target_group",
                CODE,
                "target_group_code",
                "target_groups",
                needed_by=(TARGETS, TARGET_GROUP),
                every_row=True,
            ),
            _C("benefit_type", CODE, "benefit_type_code", "benefit_types", needed_by=(TARGETS,), every_row=True),
            _C("programme", CODE, "programme_code", "programmes", needed_by=(TARGETS,), every_row=True),
            _C("referral_date", DATE, "referral_date", needed_by=(TARGET_GROUP,), every_row=True),
            _C("placement_date", DATE, "placement_date", needed_by=(PROGRAMME_FLOWS, TARGETS)),
            _C("placement_kind", CODE, "placement_kind_code", "placement_kinds", needed_by=(PROGRAMME_FLOWS, TARGETS)),
            _C("placement_end_date", DATE, "placement_end_date", needed_by=(PROGRAMME_FLOWS, TARGETS)),
            _C(
                "placement_result",
                CODE,
                "placement_result_code",
                "placement_results",
                needed_by=(PROGRAMME_FLOWS, TARGETS),
            ),
            _C("trajectory_end_date", DATE, "trajectory_end_date"),
            _C("trajectory_result", CODE, "trajectory_result_code", "trajectory_results"),
            _C("benefit_end_date", DATE, "benefit_end_date"),
            _C("benefit_end_reason", CODE, "benefit_end_reason_code", "benefit_end_reasons"),
            _C("civic_integration_required", YES_NO, "civic_integration_required"),
        ),
        record_key=("trajectory_number",),
        date_orders=(
            DateOrder("placement_date", "placement_end_date"),
            DateOrder("referral_date", "trajectory_end_date"),
        ),
    ),
}


def feed_spec(feed: str) -> FeedSpec:
    try:
        return FEEDS[feed]
    except KeyError:
        raise KeyError(f"unknown feed {feed!r}; known: {', '.join(FEEDS)}") from None
