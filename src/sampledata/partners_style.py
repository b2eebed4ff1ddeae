"""How each partner writes its exports: file name, format, encoding, dates, numbers, column order.

Headers and code labels are NOT defined here: they come from the partner's YAML mapping.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from .dates import Period


@dataclass(frozen=True)
class Style:
    fmt: str  # "csv" | "xlsx"
    filename: Callable[[Period], str]
    date_style: str  # "dmy" | "iso" | "excel" | "dmy_text"
    bool_labels: tuple[str, str] = ("ja", "nee")
    decimal: str = "."
    encoding: str = "utf-8"
    delimiter: str = ","
    lineterminator: str = "\r\n"
    postcode_space: bool = True
    header_row: int = 1  # spreadsheet row number of the header
    title: Callable[[Period], str] | None = None
    sheet_title: str = "Blad1"
    notes_sheet: str | None = None  # a sheet before the data's (the mapping names the data's sheet)
    level_format: str = "{}"  # how the mbo level is written ("Niveau {}": the mapping's pattern reads it)
    trailing_empty_rows: tuple[int, int] | None = None
    dotted_bsn: bool = False  # some BSNs written as 123.456.789
    order: dict[str, list[str]] = field(default_factory=dict)  # layout name or "*" -> columns
    unknown_labels: tuple[str, ...] = ("Onbekende code",)
    creator: str = "export"

    @property
    def first_data_row(self) -> int:
        return self.header_row + 1

    def excel_dates_as_serial(self, period: Period) -> bool:
        return self.date_style == "excel" and period.layout_month <= "2020-12"


EMPLOYER_ORDER_2019 = [
    "employee_number",
    "employment_number",
    "Achternaam",
    "Tussenvoegsel",
    "Voornaam",
    "bsn",
    "birth_date",
    "postcode",
    "Afdeling",
    "function",
    "contract_type",
    "hours_per_week",
    "is_apprenticeship",
    "start_date",
    "end_date",
    "leaving_reason",
    "programme",
]
EMPLOYER_ORDER_2022 = [
    "employee_number",
    "employment_number",
    "bsn",
    "Voornaam",
    "Tussenvoegsel",
    "Achternaam",
    "birth_date",
    "postcode",
    "start_date",
    "end_date",
    "function",
    "contract_type",
    "hours_per_week",
    "is_apprenticeship",
    "Afdeling",
    "programme",
    "leaving_reason",
]

STYLES: dict[str, Style] = {
    "zorggroep_haaglanden": Style(
        fmt="csv",
        filename=lambda p: f"zorggroep_haaglanden_{p.label}.csv",
        date_style="dmy",
        decimal=",",
        encoding="utf-8-sig",
        delimiter=";",
        trailing_empty_rows=(2, 3),
        order={"2019": EMPLOYER_ORDER_2019, "2022": EMPLOYER_ORDER_2022},
        unknown_labels=("F077", "F099", "F012"),
    ),
    "thuiszorg_westland": Style(
        fmt="xlsx",
        filename=lambda p: f"thuiszorg_westland_{p.compact}.xlsx",
        date_style="excel",
        postcode_space=False,
        header_row=3,
        title=lambda p: f"Export dienstverbanden Thuiszorg Westland periode {p.label}",
        sheet_title="Dienstverbanden",
        notes_sheet="Toelichting",
        order={
            "*": [
                "employee_number",
                "naam_medewerker",
                "bsn",
                "birth_date",
                "postcode",
                "team",
                "employment_number",
                "function",
                "contract_type",
                "hours_per_week",
                "is_apprenticeship",
                "start_date",
                "end_date",
                "leaving_reason",
                "programme",
                "opmerking",
            ]
        },
        unknown_labels=("Zorgcoördinator", "Wijkverpleegkundige", "Teamleider zorg"),
        creator="Thuiszorg Westland HR",
    ),
    "vph_delfland": Style(
        fmt="csv",
        filename=lambda p: f"vph_delfland_{p.label}.csv",
        date_style="iso",
        bool_labels=("Ja", "Nee"),
        encoding="cp1252",
        delimiter=",",
        order={
            "*": [
                "employee_number",
                "Naam",
                "bsn",
                "birth_date",
                "postcode",
                "employment_number",
                "Locatie",
                "function",
                "contract_type",
                "hours_per_week",
                "is_apprenticeship",
                "start_date",
                "end_date",
                "leaving_reason",
                "programme",
            ]
        },
        unknown_labels=("ZCO", "PLB", "EVV"),
    ),
    "threewise": Style(
        fmt="xlsx",
        filename=lambda p: f"threewise_{p.label}.xlsx",
        date_style="dmy_text",
        header_row=1,
        sheet_title="Inschrijvingen",
        dotted_bsn=True,
        level_format="Niveau {}",
        order={
            "*": [
                "enrolment_number",
                "Naam student",
                "bsn",
                "onderwijsnummer",
                "birth_date",
                "postcode",
                "programme",
                "crebo_code",
                "mbo_level",
                "learning_path",
                "start_date",
                "planned_end_date",
                "actual_end_date",
                "outcome",
                "leaving_reason",
                "bbl_employer_name",
                "has_work_placement_agreement",
                "Mentor",
            ]
        },
        unknown_labels=("Vrijstelling", "Overgeplaatst", "Afgewezen"),
        creator="Threewise",
    ),
    "roc_zuidwest": Style(
        fmt="csv",
        filename=lambda p: f"roc_zuidwest_{p.label}.csv",
        date_style="dmy",
        encoding="cp1252",
        delimiter=";",
        postcode_space=False,
        order={
            "*": [
                "enrolment_number",
                "achternaam",
                "voornamen",
                "bsn",
                "onderwijsnummer",
                "birth_date",
                "postcode",
                "klas",
                "crebo_code",
                "mbo_level",
                "learning_path",
                "programme",
                "start_date",
                "planned_end_date",
                "actual_end_date",
                "outcome",
                "leaving_reason",
                "bbl_employer_name",
                "has_work_placement_agreement",
            ]
        },
        unknown_labels=("vrijgesteld", "afgewezen", "geschorst"),
    ),
    "gemeente_den_haag": Style(
        fmt="csv",
        filename=lambda p: f"gemeente_den_haag_{p.compact}.csv",
        date_style="iso",
        encoding="utf-8",
        delimiter=",",
        lineterminator="\n",
        order={
            "*": [
                "trajectory_number",
                "bsn",
                "Naam",
                "birth_date",
                "postcode",
                "target_group",
                "benefit_type",
                "programme",
                "referral_date",
                "placement_date",
                "placement_kind",
                "placement_end_date",
                "placement_result",
                "benefit_end_date",
                "benefit_end_reason",
                "civic_integration_required",
                "Klantmanager",
            ]
        },
        unknown_labels=("55-plusser", "Oudere werkzoekende", "Alleenstaande ouder"),
    ),
}

DEPARTMENTS = [
    "Thuiszorg Centrum",
    "Thuiszorg Escamp",
    "Verpleeghuis Moerwijk",
    "Verpleeghuis Loosduinen",
    "Wijkteam Laak",
    "Facilitair bedrijf",
]
TEAMS = ["Team Naaldwijk", "Team Monster", "Team 's-Gravenzande", "Team Wateringen", "Team De Lier"]
LOCATIONS = [
    "Delft - Vrijenban",
    "Delft - Tanthof",
    "Rijswijk - Hoornwijck",
    "Pijnacker - De Kreek",
    "Den Hoorn - Hof van Delfland",
]
MENTORS = ["A. de Ridder", "M. Haddou", "S. van Vliet", "J. Pinas", "E. Kuipers"]
MANAGERS = ["K. Bakker", "R. Soekhai", "F. el Idrissi", "T. de Graaf", "L. Verhoeven"]


def ignored_value(partner: str, header: str, rec, values: dict) -> str:
    """Values for columns the pipeline ignores (names, teams, notes). Raw names: realistic."""
    p = rec.person
    flags = rec.flags
    if partner == "zorggroep_haaglanden":
        return {
            "Achternaam": p.surname,
            "Voornaam": p.first_name,
            "Tussenvoegsel": p.prefix,
            "Afdeling": DEPARTMENTS[flags.get("team", 0) % len(DEPARTMENTS)],
        }.get(header, "")
    if partner == "thuiszorg_westland":
        if header == "naam_medewerker":
            return p.full_name
        if header == "team":
            return TEAMS[flags.get("team", 0) % len(TEAMS)]
        if header == "opmerking":
            if values.get("end_date") and not values.get("leaving_reason"):
                return "reden volgt"
            if values.get("contract_type") == "bbl":
                return "BBL-traject"
            return ""
        return ""
    if partner == "vph_delfland":
        if header == "Naam":
            return f"{p.last_name}, {p.initial}"
        if header == "Locatie":
            return LOCATIONS[flags.get("team", 0) % len(LOCATIONS)]
        return ""
    if partner == "threewise":
        if header == "Naam student":
            return p.full_name
        if header == "Mentor":
            return MENTORS[flags.get("mentor", 0) % len(MENTORS)]
        return ""
    if partner == "roc_zuidwest":
        if header == "achternaam":
            return p.last_name
        if header == "voornamen":
            return p.first_name
        if header == "klas":
            start = values.get("start_date")
            year = f"{start.year % 100:02d}" if start else "00"
            path = "L" if values.get("learning_path") == "BBL" else "S"
            return f"ZW{values.get('mbo_level') or ''}{path}{year}{flags.get('klas', 'A')}"
        return ""
    if partner == "gemeente_den_haag":
        if header == "Naam":
            return f"{p.last_name}, {p.first_name}"
        if header == "Klantmanager":
            return MANAGERS[flags.get("manager", 0) % len(MANAGERS)]
        return ""
    return ""
