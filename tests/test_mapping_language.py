"""The mapping language: each pattern of real exports onboards a partner by its mapping file alone, from a
real CSV, xlsx, xls or ods file, and every row's parsed values are checked (docs/mapping_reference.md)."""

from __future__ import annotations

import functools
import textwrap
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import Workbook

from core.errors import ConfigError
from ingest.partner_config import load_partner_configs
from ingest.pseudonymise import pseudonym
from ingest.reference import Reference
from warehouse.db import make_engine, read_table
from warehouse.ingest_feed import ingest_feed

KEY = b"test-key-for-the-mapping-language"
REF = Reference()
# Valid 11-check numbers that belong to no one (generated): BSNs and onderwijsnummers.
BSN_A, BSN_B, BSN_C, BSN_ZERO = "123456782", "111222333", "192837412", "012345672"
ONR_A = "100000004"  # starts with 10, weighted sum mod 11 == 5 (checked below)

EMPLOYER_HEAD = """\
    partner_name: Test employer
    partner_kind: employer
    feed: employment_spells
    location_municipality_code: GM0518
    delivery_cadence: monthly
    """
TRAINER_HEAD = EMPLOYER_HEAD.replace("employer\n", "training_provider\n").replace("employment_spells", "enrolments")
MUNICIPAL_HEAD = EMPLOYER_HEAD.replace("partner_kind: employer", "partner_kind: municipality").replace(
    "employment_spells", "municipal_participants"
)


def _pid(kind: str, number: str) -> str:
    return pseudonym(kind, number, KEY)


def test_the_test_numbers_pass_their_checks(onboard):
    from ingest.pseudonymise import is_valid_bsn, is_valid_onderwijsnummer

    assert all(is_valid_bsn(b) for b in (BSN_A, BSN_B, BSN_C, BSN_ZERO))
    assert is_valid_onderwijsnummer(ONR_A) and not is_valid_bsn(ONR_A)


def mapping(code: str, head: str, body: str) -> str:
    return f"partner_code: {code}\n" + textwrap.dedent(head) + textwrap.dedent(body)


def _onboard(tmp_path: Path, code: str, yaml_text: str, files: dict[str, bytes], feed: str, url: str | None = None):
    """Write the mapping and the deliveries, ingest them; (staging rows by file and row, quarantine, log)."""
    partners = tmp_path / "partners"
    partners.mkdir(exist_ok=True)
    (partners / f"{code}.yaml").write_text(yaml_text, encoding="utf-8")
    landing = tmp_path / "landing" / code
    landing.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (landing / name).write_bytes(data)
    engine = make_engine(url or f"duckdb:///{tmp_path / 'w.duckdb'}")
    configs = load_partner_configs(partners, REF)
    report = ingest_feed(engine, feed, configs, tmp_path / "landing", REF, KEY)
    table = {"employment_spells": "stg_employment_spells", "enrolments": "stg_enrolments"}.get(
        feed, "stg_municipal_participants"
    )
    staged = read_table(engine, table).sort_values(["source_file", "source_row_number"]).reset_index(drop=True)
    quarantine = read_table(engine, "quarantine_rows").sort_values(["source_file", "source_row_number"])
    engine.dispose()
    return staged, quarantine.reset_index(drop=True), report.log_rows


@pytest.fixture
def onboard(warehouse_url):
    """`_onboard` on each warehouse: DuckDB and a real PostgreSQL."""
    return functools.partial(_onboard, url=warehouse_url)


def csv_bytes(rows: list[list[str]], delimiter: str = ";") -> bytes:
    return ("\n".join(delimiter.join(r) for r in rows) + "\n").encode("utf-8")


def xlsx_bytes(sheets: dict[str, list[list]]) -> bytes:
    import io

    wb = Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for r in rows:
            ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


# --- 1. a coded number --------------------------------------------------------------------------------------

LEVEL_TRAINER = """\
    layouts:
      - layout: "2024"
        columns:
          enrolment_number: [Nr]
          bsn: [BSN]
          mbo_level: [Niveau]
          learning_path: [Leerweg]
          start_date: [Start]
          actual_end_date: [Einde]
          outcome: [Resultaat]
    not_delivered: [onderwijsnummer, birth_date, postcode, programme, crebo_code, planned_end_date,
                    leaving_reason, bbl_employer_name, has_work_placement_agreement]
    patterns:
      mbo_level: '(?:niveau|mbo|n)?\\s*-?\\s*([0-9]+)'
    values:
      learning_path: {BBL: BBL, BOL: BOL}
      outcome: {Lopend: lopend, Diploma: diploma}
    """


def test_a_level_written_as_niveau_2_mbo_2_n2_or_2_is_read_by_a_declared_pattern(tmp_path, onboard):
    yaml_text = mapping("leerhuis", TRAINER_HEAD, LEVEL_TRAINER)
    rows = [
        ["Nr", "BSN", "Niveau", "Leerweg", "Start", "Einde", "Resultaat"],
        ["E1", BSN_A, "Niveau 2", "BBL", "01-09-2024", "", "Lopend"],
        ["E2", BSN_B, "mbo-2", "BOL", "01-09-2024", "", "Lopend"],
        ["E3", BSN_C, "N2", "BOL", "01-09-2024", "", "Lopend"],
        ["E4", BSN_A, "2", "BOL", "01-09-2024", "", "Lopend"],
        ["E5", BSN_B, "NIVEAU 4", "BBL", "01-09-2024", "30-09-2024", "Diploma"],
        ["E6", BSN_C, "Niveau twee", "BOL", "01-09-2024", "", "Lopend"],  # not a number: rejected
        ["E7", BSN_A, "Niveau 7", "BOL", "01-09-2024", "", "Lopend"],  # no mbo level 7: rejected by the schema
        ["E8", BSN_B, "", "BOL", "01-09-2024", "", "Lopend"],  # no level: no statistic needs one on every row
    ]
    staged, quarantine, log = onboard(
        tmp_path, "leerhuis", yaml_text, {"leerhuis_2024-09.csv": csv_bytes(rows)}, "enrolments"
    )
    assert log[0]["delivery_status"] == "loaded"
    assert staged["record_key"].tolist() == ["E1", "E2", "E3", "E4", "E5", "E8"]
    assert staged["mbo_level"].tolist()[:5] == [2, 2, 2, 2, 4] and pd.isna(staged["mbo_level"].iloc[5])
    assert staged["learning_path_code"].tolist() == ["BBL", "BOL", "BOL", "BOL", "BBL", "BOL"]
    assert staged["enrolment_outcome_code"].tolist() == ["lopend"] * 4 + ["diploma", "lopend"]
    assert staged["person_id"].tolist() == [_pid("bsn", b) for b in (BSN_A, BSN_B, BSN_C, BSN_A, BSN_B, BSN_B)]
    reasons = dict(zip(quarantine["source_row_number"], quarantine["reason_code"]))
    assert reasons == {7: "ROW_INVALID_NUMBER", 8: "ROW_SCHEMA"}


def test_labels_work_for_any_column_numbers_included(tmp_path, onboard):
    yaml_text = mapping(
        "zorgthuis",
        EMPLOYER_HEAD,
        """\
        layouts:
          - layout: "2024"
            columns:
              employee_number: [Pnr]
              bsn: [BSN]
              birth_date: [Geboren]
              function: [Functie]
              contract_type: [Contract]
              hours_per_week: [Uren]
              is_apprenticeship: [BBL]
              start_date: [In dienst]
              end_date: [Uit dienst]
        not_delivered: [employment_number, postcode, leaving_reason, programme]
        values:
          function: {Zorghulp: ZHP, "Leerling VIG": LVIG}
          contract_type: {Vast: vast, Onbekend: onbekend}
          hours_per_week: {fulltime: 36, deeltijd: "24,5"}
          is_apprenticeship: {leerling: ja, "-": nee}
        """,
    )
    rows = [
        ["Pnr", "BSN", "Geboren", "Functie", "Contract", "Uren", "BBL", "In dienst", "Uit dienst"],
        ["P1", BSN_A, "01-01-1990", "Zorghulp", "Vast", "fulltime", "-", "01-03-2024", ""],
        ["P2", BSN_B, "01-01-1991", "Leerling VIG", "Onbekend", "deeltijd", "leerling", "01-03-2024", ""],
        ["P3", BSN_C, "01-01-1992", "zorghulp", "", "32,5", "nee", "01-03-2024", ""],  # no contract: rejected
        ["P4", BSN_A, "01-01-1993", "Zorghulp", "Vast", "veel", "ja", "01-03-2024", ""],  # not a label, not a number
    ]
    staged, quarantine, _ = onboard(
        tmp_path, "zorgthuis", yaml_text, {"zorgthuis_2024-03.csv": csv_bytes(rows)}, "employment_spells"
    )
    assert staged["record_key"].tolist() == ["P1", "P2"]
    assert staged["hours_per_week"].tolist() == [36.0, 24.5]
    assert staged["is_apprenticeship"].tolist() == [False, True]
    assert staged["function_code"].tolist() == ["ZHP", "LVIG"]
    assert staged["contract_type_code"].tolist() == ["vast", "onbekend"]  # 'unknown' as the partner says: a code
    assert dict(zip(quarantine["source_row_number"], quarantine["reason_code"])) == {
        4: "ROW_MISSING_VALUE",  # missing is not 'onbekend'
        5: "ROW_INVALID_NUMBER",
    }


# --- 2. one column holding a BSN or an onderwijsnummer ------------------------------------------------------------

PERSON_NUMBER_TRAINER = """\
    layouts:
      - layout: "2024"
        columns:
          enrolment_number: [Inschrijving]
          bsn_or_onderwijsnummer: ["BSN/Onderwijsnummer"]
          start_date: [Start]
          actual_end_date: [Einde]
          mbo_level: [Niveau]
          learning_path: [Leerweg]
          outcome: [Resultaat]
    not_delivered: [birth_date, postcode, programme, crebo_code, planned_end_date, leaving_reason,
                    bbl_employer_name, has_work_placement_agreement]
    values:
      learning_path: {BBL: BBL}
      outcome: {Lopend: lopend}
    """


def test_one_identifier_column_holds_a_bsn_or_an_onderwijsnummer_per_row(tmp_path, onboard):
    head = ["Inschrijving", "BSN/Onderwijsnummer", "Start", "Einde", "Niveau", "Leerweg", "Resultaat"]
    sheet = [
        head,
        ["I1", BSN_A, "2024-09-01", None, 2, "BBL", "Lopend"],
        ["I2", ONR_A, "2024-09-01", None, 2, "BBL", "Lopend"],
        ["I3", "1234.56.782", "2024-09-01", None, 2, "BBL", "Lopend"],  # a BSN written with dots
        ["I4", "111 222 333", "2024-09-01", None, 2, "BBL", "Lopend"],  # ... and with spaces
        ["I5", int(BSN_C), "2024-09-01", None, 2, "BBL", "Lopend"],  # a numeric cell
        ["I6", int(BSN_ZERO), "2024-09-01", None, 2, "BBL", "Lopend"],  # the leading zero dropped by Excel
        ["I7", "123456789", "2024-09-01", None, 2, "BBL", "Lopend"],  # passes neither check
        ["I8", None, "2024-09-01", None, 2, "BBL", "Lopend"],  # no number at all
    ]
    yaml_text = mapping("leerhuis", TRAINER_HEAD, PERSON_NUMBER_TRAINER)
    staged, quarantine, log = onboard(
        tmp_path, "leerhuis", yaml_text, {"leerhuis_2024-09.xlsx": xlsx_bytes({"Blad1": sheet})}, "enrolments"
    )
    assert log[0]["delivery_status"] == "loaded" and log[0]["rows_read"] == 8
    assert staged["record_key"].tolist() == ["I1", "I2", "I3", "I4", "I5", "I6"]
    assert staged["person_id_kind"].tolist() == ["bsn", "onderwijsnummer", "bsn", "bsn", "bsn", "bsn"]
    assert staged["person_id"].tolist() == [
        _pid("bsn", BSN_A),
        _pid("onderwijsnummer", ONR_A),
        _pid("bsn", BSN_A),
        _pid("bsn", BSN_B),
        _pid("bsn", BSN_C),
        _pid("bsn", BSN_ZERO),
    ]
    reasons = dict(zip(quarantine["source_row_number"], quarantine["reason_code"]))
    assert reasons == {8: "ROW_INVALID_PERSON_NUMBER", 9: "ROW_MISSING_VALUE"}
    masked = quarantine.loc[quarantine["source_row_number"] == 8, "masked_value"].iloc[0]
    assert masked == "*********" and "123456789" not in " ".join(quarantine["reason"])


def test_a_mapping_cannot_map_both_the_combined_and_a_separate_identifier(tmp_path):
    bad = PERSON_NUMBER_TRAINER.replace(
        'bsn_or_onderwijsnummer: ["BSN/Onderwijsnummer"]', "bsn_or_onderwijsnummer: [Nummer]\n          bsn: [BSN]"
    )
    (tmp_path / "leerhuis.yaml").write_text(mapping("leerhuis", TRAINER_HEAD, bad), encoding="utf-8")
    with pytest.raises(ConfigError, match="bsn_or_onderwijsnummer holds both kinds of number"):
        load_partner_configs(tmp_path, REF)


# --- 3. a canonical field derived from several partner columns -------------------------------------------------

DERIVED_TRAINER = """\
    layouts:
      - layout: "2024"
        columns:
          enrolment_number: [Inschrijving]
          bsn: [BSN]
          start_date: [Start]
          actual_end_date: [Einddatum]
          leaving_reason: [Reden uitschrijving]
          mbo_level: [Niveau]
          learning_path: [Leerweg]
        inputs:
          diploma: [Diploma behaald]
    not_delivered: [onderwijsnummer, birth_date, postcode, programme, crebo_code, planned_end_date,
                    bbl_employer_name, has_work_placement_agreement]
    derived:
      outcome:
        - value: diploma
          when: {diploma: ja}
        - value: overig
          when: {diploma: nee, leaving_reason: [Werk gevonden]}
        - value: uitval
          when: {diploma: nee}
          filled: [actual_end_date]
        - value: lopend
          when: {diploma: nee}
          empty: [actual_end_date]
    values:
      learning_path: {BOL: BOL}
      leaving_reason: {Werk gevonden: werk_gevonden, Verkeerde studiekeuze: verkeerde_studiekeuze, Diploma: diploma}
    """


def test_an_outcome_is_derived_from_diploma_behaald_the_end_date_and_the_reason_by_rules_as_data(tmp_path, onboard):
    head = ["Inschrijving", "BSN", "Start", "Einddatum", "Diploma behaald", "Reden uitschrijving", "Niveau", "Leerweg"]
    rows = [
        head,
        ["D1", BSN_A, "01-09-2023", "30-06-2024", "ja", "Diploma", "2", "BOL"],
        ["D2", BSN_B, "01-09-2023", "15-01-2024", "nee", "Verkeerde studiekeuze", "2", "BOL"],
        ["D3", BSN_C, "01-09-2023", "", "nee", "", "2", "BOL"],
        ["D4", BSN_A, "01-09-2023", "01-03-2024", "Nee", "Werk gevonden", "2", "BOL"],
        ["D5", BSN_B, "01-09-2023", "", "misschien", "", "2", "BOL"],  # no rule: rejected, not a silent null
        ["D6", BSN_C, "01-09-2023", "", "", "", "2", "BOL"],  # nothing to derive from: outcome missing, required
    ]
    yaml_text = mapping("leerhuis", TRAINER_HEAD, DERIVED_TRAINER)
    staged, quarantine, _ = onboard(
        tmp_path, "leerhuis", yaml_text, {"leerhuis_2024-06.csv": csv_bytes(rows)}, "enrolments"
    )
    assert staged["record_key"].tolist() == ["D1", "D2", "D3", "D4"]
    assert staged["enrolment_outcome_code"].tolist() == ["diploma", "uitval", "lopend", "overig"]
    assert staged["enrolment_leaving_reason_code"].tolist()[:2] == ["diploma", "verkeerde_studiekeuze"]
    assert staged["enrolment_leaving_reason_code"].tolist()[3] == "werk_gevonden"
    assert [str(d.date()) if pd.notna(d) else None for d in staged["actual_end_date"]] == [
        "2024-06-30",
        "2024-01-15",
        None,
        "2024-03-01",
    ]
    by_row = quarantine.set_index("source_row_number")
    assert by_row.loc[6, "reason_code"] == "ROW_NOT_DERIVED"
    # a lettered value only one row holds is masked, as in a code column (it may be a name typed there)
    assert "Diploma behaald '*********'" in by_row.loc[6, "reason"] and "outcome" in by_row.loc[6, "reason"]
    assert "misschien" not in by_row.loc[6, "reason"]
    assert by_row.loc[7, "reason_code"] == "ROW_MISSING_VALUE"


def test_a_trajectory_result_is_derived_from_an_exit_reason_column(tmp_path, onboard):
    yaml_text = mapping(
        "gemeente_test",
        MUNICIPAL_HEAD,
        """\
        layouts:
          - layout: "2024"
            columns:
              trajectory_number: [Traject]
              bsn: [BSN]
              target_group: [Doelgroep]
              benefit_type: [Uitkering]
              programme: [Programma]
              referral_date: [Aanmelding]
              placement_date: [Plaatsing]
              placement_kind: [Soort]
              placement_end_date: [Einde plaatsing]
              placement_result: [Resultaat plaatsing]
              trajectory_end_date: [Einde traject]
            inputs:
              exit_reason: [Reden uitstroom]
        not_delivered: [birth_date, postcode, benefit_end_date, benefit_end_reason, civic_integration_required]
        derived:
          trajectory_result:
            - {value: werk, when: {exit_reason: [Betaald werk, Werk]}}
            - {value: opleiding, when: {exit_reason: Start opleiding}}
            - {value: verhuizing, when: {exit_reason: Verhuisd}}
            - {value: onbekend, when: {exit_reason: Onbekend}}
        values:
          target_group: {Bijstand: bijstand}
          benefit_type: {PW: participatiewet}
          programme: {WEP-trein: wep_trein}
          placement_kind: {WEP: wep}
          placement_result: {Werkfit: werkfit, Opleiding: opleiding}
        """,
    )
    head = [
        "Traject",
        "BSN",
        "Doelgroep",
        "Uitkering",
        "Programma",
        "Aanmelding",
        "Plaatsing",
        "Soort",
        "Einde plaatsing",
        "Resultaat plaatsing",
        "Einde traject",
        "Reden uitstroom",
    ]
    base = ["Bijstand", "PW", "WEP-trein", "2024-01-10"]
    rows = [
        head,
        ["T1", BSN_A, *base, "2024-02-01", "WEP", "2024-05-31", "Werkfit", "2024-08-31", "Betaald werk"],
        ["T2", BSN_B, *base, "2024-02-01", "WEP", "2024-04-30", "Opleiding", "2024-04-30", "Start opleiding"],
        ["T3", BSN_C, *base, "", "", "", "", "", ""],  # still running: no end, no result
        ["T4", BSN_A, *base, "", "", "", "", "2024-03-01", "Onbekend"],
        ["T5", BSN_B, *base, "", "", "", "", "2024-03-01", "Ruzie"],  # no rule for it: rejected
    ]
    staged, quarantine, _ = onboard(
        tmp_path,
        "gemeente_test",
        yaml_text,
        {"gemeente_test_2024-09.csv": csv_bytes(rows, ",")},
        "municipal_participants",
    )
    assert staged["record_key"].tolist() == ["T1", "T2", "T3", "T4"]
    assert staged["trajectory_result_code"].tolist()[:2] == ["werk", "opleiding"]
    assert pd.isna(staged["trajectory_result_code"].iloc[2]) and staged["trajectory_result_code"].iloc[3] == "onbekend"
    assert staged["placement_result_code"].tolist()[:2] == ["werkfit", "opleiding"]  # 'started training'
    ends = [str(d.date()) if pd.notna(d) else None for d in staged["trajectory_end_date"]]
    assert ends == ["2024-08-31", "2024-04-30", None, "2024-03-01"]
    assert quarantine["reason_code"].tolist() == ["ROW_NOT_DERIVED"]


# --- 4. labels per layout era ------------------------------------------------------------------------------------

ERA_EMPLOYER = """\
    layouts:
      - layout: "oud"
        valid_to: "2022-12"
        columns: &columns
          employee_number: [Personeelsnummer]
          bsn: [BSN]
          birth_date: [Geboortedatum]
          function: [Functie]
          contract_type: [Contract]
          start_date: [Start]
          end_date: [Einde]
      - layout: "nieuw HR-systeem"
        valid_from: "2023-01"
        columns: *columns
        values:
          function: {"Medewerker zorg niv. 2": HZW, "Zorghulp": ZHP}
          contract_type: {"Onbepaald": vast, "Bepaald": tijdelijk, "V": vrijwilliger_not_a_code}
    not_delivered: [employment_number, postcode, hours_per_week, is_apprenticeship, leaving_reason, programme]
    values:
      function: {F025: HZW, F010: HHU, Zorghulp: HHU}
      contract_type: {V: vast, T: tijdelijk}
    """


def test_values_per_layout_era_fall_back_to_the_partners(tmp_path, onboard):
    bad = mapping("zorgthuis", EMPLOYER_HEAD, ERA_EMPLOYER)
    (tmp_path / "zorgthuis.yaml").write_text(bad, encoding="utf-8")
    with pytest.raises(
        ConfigError, match=r"layout 'nieuw HR-systeem' values.contract_type.V: 'vrijwilliger_not_a_code'"
    ):
        load_partner_configs(tmp_path, REF)

    yaml_text = mapping("zorgthuis", EMPLOYER_HEAD, ERA_EMPLOYER.replace(', "V": vrijwilliger_not_a_code', ""))
    head = ["Personeelsnummer", "BSN", "Geboortedatum", "Functie", "Contract", "Start", "Einde"]
    old = [
        head,
        ["A1", BSN_A, "01-01-1980", "F025", "V", "01-06-2022", ""],
        ["A2", BSN_B, "01-01-1981", "Zorghulp", "T", "01-06-2022", ""],
        ["A3", BSN_C, "01-01-1982", "Medewerker zorg niv. 2", "V", "01-06-2022", ""],
    ]  # a new label, too early
    new = [
        head,
        ["A1", BSN_A, "01-01-1980", "Medewerker zorg niv. 2", "Onbepaald", "01-06-2022", ""],
        ["A2", BSN_B, "01-01-1981", "Zorghulp", "Bepaald", "01-06-2022", ""],  # the layout's label wins
        ["A4", BSN_C, "01-01-1982", "F010", "T", "01-02-2023", ""],
    ]  # the partner's labels still apply
    staged, quarantine, _ = onboard(
        tmp_path,
        "zorgthuis",
        yaml_text,
        {"zorgthuis_2022-12.csv": csv_bytes(old), "zorgthuis_2023-01.csv": csv_bytes(new)},
        "employment_spells",
    )
    by_file = dict(list(staged.groupby("source_file")))
    old_rows, new_rows = by_file["zorgthuis_2022-12.csv"], by_file["zorgthuis_2023-01.csv"]
    assert old_rows["function_code"].tolist() == ["HZW", "HHU"]
    assert old_rows["contract_type_code"].tolist() == ["vast", "tijdelijk"]
    assert new_rows["function_code"].tolist() == ["HZW", "ZHP", "HHU"]
    assert new_rows["contract_type_code"].tolist() == ["vast", "tijdelijk", "tijdelijk"]
    assert quarantine[["source_file", "source_row_number", "reason_code"]].values.tolist() == [
        ["zorgthuis_2022-12.csv", 4, "ROW_UNKNOWN_CODE"]
    ]
    reason = quarantine["reason"].iloc[0]
    assert "not one of the agreed values (f025, f010, zorghulp)" in reason
    assert "config" not in reason and ".yaml" not in reason  # a partner reads it: no internal path


# --- 5. fields a partner does not deliver ------------------------------------------------------------------------


def test_a_trainer_without_birth_dates_is_onboarded_and_the_birth_year_comes_from_another_feed(tmp_path, onboard):
    from transforms.persons import dim_person

    yaml_text = mapping("leerhuis", TRAINER_HEAD, DERIVED_TRAINER)  # declares birth_date not delivered
    rows = [
        ["Inschrijving", "BSN", "Start", "Einddatum", "Diploma behaald", "Reden uitschrijving", "Niveau", "Leerweg"],
        ["B1", BSN_A, "01-09-2023", "", "nee", "", "", ""],  # no level, no path: none of these rejects the row
    ]
    staged, quarantine, _ = onboard(
        tmp_path, "leerhuis", yaml_text, {"leerhuis_2024-06.csv": csv_bytes(rows)}, "enrolments"
    )
    assert len(quarantine) == 0 and staged["record_key"].tolist() == ["B1"]
    assert pd.isna(staged["birth_year"].iloc[0]) and pd.isna(staged["learning_path_code"].iloc[0])
    spells = pd.DataFrame(
        {
            "person_id": [_pid("bsn", BSN_A)],
            "person_id_kind": ["bsn"],
            "birth_year": pd.array([1990], "Int64"),
            "delivery_period": ["2024-01"],
            "partner_code": ["zorgthuis"],
            "record_key": ["P1"],
            "residence_municipality_code": ["GM0518"],
            "programme_code": [None],
        }
    )
    enrolments = staged.assign(delivery_period="2024-06")  # the later record holds no birth year
    persons = dim_person(spells, enrolments, None)
    assert persons["birth_year"].tolist() == [1990]


@pytest.mark.parametrize(
    ("feed_head", "column", "need"),
    [
        (EMPLOYER_HEAD, "birth_date", "the age at inflow"),
        (EMPLOYER_HEAD, "end_date", "the sector flows"),
        (TRAINER_HEAD, "learning_path", "the target attainment"),
        (MUNICIPAL_HEAD, "placement_end_date", "the programme flows"),
    ],
)
def test_a_field_a_statistic_needs_cannot_be_declared_not_delivered(tmp_path, feed_head, column, need):
    (tmp_path / "p.yaml").write_text(
        mapping("p", feed_head, f"layouts:\n  - columns: {{bsn: [BSN]}}\nnot_delivered: [{column}]\n"),
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as exc:
        load_partner_configs(tmp_path, REF)
    assert f"{column} cannot be declared not_delivered: {need}" in str(exc.value)
    assert "tests" not in str(exc.value) or "p.yaml" in str(exc.value)  # names the file


def test_a_field_neither_mapped_nor_declared_is_refused_naming_it(tmp_path):
    body = ERA_EMPLOYER.replace("hours_per_week, ", "")
    (tmp_path / "zorgthuis.yaml").write_text(mapping("zorgthuis", EMPLOYER_HEAD, body), encoding="utf-8")
    with pytest.raises(ConfigError, match="layout 'oud': hours_per_week is neither mapped"):
        load_partner_configs(tmp_path, REF)


# --- 6. the municipal trajectory as it is ----------------------------------------------------------------------


def test_placement_and_trajectory_ends_are_separate_fields_each_with_its_own_date_order(tmp_path, onboard):
    yaml_text = mapping(
        "gemeente_test",
        MUNICIPAL_HEAD,
        """\
        layouts:
          - layout: "2024"
            columns:
              trajectory_number: [Traject]
              bsn: [BSN]
              target_group: [Doelgroep]
              benefit_type: [Uitkering]
              programme: [Programma]
              referral_date: [Aanmelding]
              placement_date: [Plaatsing]
              placement_kind: [Soort]
              placement_end_date: [Einde plaatsing]
              placement_result: [Resultaat plaatsing]
              trajectory_end_date: [Einde traject]
              trajectory_result: [Resultaat traject]
              benefit_end_date: [Einde uitkering]
              benefit_end_reason: [Reden einde uitkering]
        not_delivered: [birth_date, postcode, civic_integration_required]
        values:
          target_group: {Bijstand: bijstand, Onbekend: onbekend}
          benefit_type: {PW: participatiewet}
          programme: {Wijkleerbedrijf: wijkleerbedrijf, Huiskamer: opleiding_huiskamer_ondersteuning}
          placement_kind: {Baan: baan, Opleiding: opleiding}
          placement_result: {Werk: werk, Opleiding: opleiding}
          trajectory_result: {Werk: werk, Uitval: uitval}
          benefit_end_reason: {Werk: werk, Onbekend: onbekend}
        """,
    )
    head = [
        "Traject",
        "BSN",
        "Doelgroep",
        "Uitkering",
        "Programma",
        "Aanmelding",
        "Plaatsing",
        "Soort",
        "Einde plaatsing",
        "Resultaat plaatsing",
        "Einde traject",
        "Resultaat traject",
        "Einde uitkering",
        "Reden einde uitkering",
    ]
    rows = [
        head,
        # the placement (a job) goes on after the trajectory ended: allowed
        [
            "M1",
            BSN_A,
            "Bijstand",
            "PW",
            "Wijkleerbedrijf",
            "2024-01-10",
            "2024-02-01",
            "Baan",
            "2024-12-31",
            "Werk",
            "2024-06-30",
            "Werk",
            "2024-02-15",
            "Werk",
        ],
        # the benefit ended before the referral: allowed (no order between them)
        [
            "M2",
            BSN_B,
            "Onbekend",
            "PW",
            "Huiskamer",
            "2024-01-10",
            "2024-02-01",
            "Opleiding",
            "2024-05-01",
            "Opleiding",
            "2024-05-01",
            "Uitval",
            "2023-12-01",
            "Onbekend",
        ],
        # the trajectory ends before the referral: rejected on that pair
        [
            "M3",
            BSN_C,
            "Bijstand",
            "PW",
            "Wijkleerbedrijf",
            "2024-03-10",
            "",
            "",
            "",
            "",
            "2024-03-01",
            "Uitval",
            "",
            "",
        ],
        # the placement ends before it starts: rejected on that pair
        [
            "M4",
            BSN_A,
            "Bijstand",
            "PW",
            "Wijkleerbedrijf",
            "2024-01-10",
            "2024-02-01",
            "Baan",
            "2024-01-15",
            "Werk",
            "",
            "",
            "",
            "",
        ],
    ]
    staged, quarantine, _ = onboard(
        tmp_path,
        "gemeente_test",
        yaml_text,
        {"gemeente_test_2024-09.csv": csv_bytes(rows, ",")},
        "municipal_participants",
    )
    assert staged["record_key"].tolist() == ["M1", "M2"]
    days = lambda col: [str(pd.Timestamp(d).date()) for d in staged[col]]  # noqa: E731
    assert days("placement_end_date") == ["2024-12-31", "2024-05-01"]
    assert days("trajectory_end_date") == ["2024-06-30", "2024-05-01"]
    assert days("benefit_end_date") == ["2024-02-15", "2023-12-01"]
    assert staged["trajectory_result_code"].tolist() == ["werk", "uitval"]
    assert staged["placement_result_code"].tolist() == ["werk", "opleiding"]
    assert staged["target_group_code"].tolist() == ["bijstand", "onbekend"]
    assert staged["programme_code"].tolist() == ["wijkleerbedrijf", "opleiding_huiskamer_ondersteuning"]
    assert staged["benefit_end_reason_code"].tolist() == ["werk", "onbekend"]
    assert quarantine[["source_row_number", "reason_code", "columns"]].values.tolist() == [
        [4, "ROW_END_BEFORE_START", "referral_date|trajectory_end_date"],
        [5, "ROW_END_BEFORE_START", "placement_date|placement_end_date"],
    ]


# --- 7. workbooks as they come -----------------------------------------------------------------------------------

SHEET_EMPLOYER = """\
    layouts:
      - layout: "2024"
        sheet: Dienstverbanden
        decimal_separator: ","
        columns:
          employee_number: [Pnr]
          bsn: [BSN]
          birth_date: [Geboren]
          function: [Functie]
          contract_type: [Contract]
          hours_per_week: [Uren]
          start_date: [In dienst]
          end_date: [Uit dienst]
    not_delivered: [employment_number, postcode, is_apprenticeship, leaving_reason, programme]
    values:
      function: {HH: HHU}
      contract_type: {V: vast}
    """
SHEET_ROWS = [
    ["Pnr", "BSN", "Geboren", "Functie", "Contract", "Uren", "In dienst", "Uit dienst"],
    ["W1", BSN_A, "01-01-1990", "HH", "V", "1.234,5", "2024-03-01 08:30:00", ""],  # thousands separated
    ["W2", BSN_B, "01-01-1991", "HH", "V", "32,5", "01-03-2024 10:15", "31-03-2024 17:00"],  # times dropped
    ["W3", BSN_C, "01-01-1992", "HH", "V", "32.5", "01-03-2024", ""],  # '.' under ',': not read as 325
]


def _xls_bytes(sheets: dict[str, list[list]]) -> bytes:
    import io

    import xlwt

    wb = xlwt.Workbook()
    for title, rows in sheets.items():
        ws = wb.add_sheet(title)
        for r, row in enumerate(rows):
            for c, v in enumerate(row):
                ws.write(r, c, v)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _ods_bytes(sheets: dict[str, list[list]]) -> bytes:
    import io

    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="odf") as writer:
        for title, rows in sheets.items():
            pd.DataFrame(rows[1:], columns=rows[0]).to_excel(writer, sheet_name=title, index=False)
    return buf.getvalue()


@pytest.mark.parametrize(
    ("suffix", "writer"),
    [(".xlsx", xlsx_bytes), (".xls", _xls_bytes), (".ods", _ods_bytes)],
)
def test_the_data_on_a_named_sheet_of_several_in_xlsx_xls_and_ods(tmp_path, suffix, writer, onboard):
    data = writer(
        {"Toelichting": [["Export dienstverbanden"], ["zie tabblad Dienstverbanden"]], "Dienstverbanden": SHEET_ROWS}
    )
    yaml_text = mapping("zorgthuis", EMPLOYER_HEAD, SHEET_EMPLOYER)
    staged, quarantine, log = onboard(
        tmp_path, "zorgthuis", yaml_text, {f"zorgthuis_2024-03{suffix}": data}, "employment_spells"
    )
    assert log[0]["delivery_status"] == "loaded", log[0]["reason"]
    assert staged["record_key"].tolist() == ["W2"]
    assert staged["hours_per_week"].tolist() == [32.5]
    assert [str(d) for d in staged["start_date"]] == ["2024-03-01 00:00:00"]  # the time of day dropped
    assert str(staged["end_date"].iloc[0]) == "2024-03-31 00:00:00"
    reasons = quarantine.groupby("source_row_number")["reason_code"].apply(sorted).to_dict()
    # 1.234,5 is read as 1234.5 hours (then refused: at most 60); 32.5 under a decimal comma is not a number
    assert reasons == {2: ["ROW_SCHEMA"], 4: ["ROW_INVALID_NUMBER"]}
    assert quarantine.loc[quarantine["source_row_number"] == 2, "columns"].tolist() == ["hours_per_week"]


def test_thousands_are_read_under_a_declared_decimal_comma():
    from ingest.parse import parse_decimal

    values, invalid = parse_decimal(pd.Series(["1.234,5", "1.234", "12,5", "12.5", "1.23", ""], dtype="str"), ",")
    assert values.tolist()[:3] == [1234.5, 1234.0, 12.5]
    assert invalid.tolist() == [False, False, False, True, True, False]
    auto, _ = parse_decimal(pd.Series(["1,234.5", "1.234,5", "12,5"], dtype="str"))
    assert auto.tolist() == [1234.5, 1234.5, 12.5]


def test_a_workbook_without_the_declared_sheet_is_rejected_saying_which_sheets_it_has(tmp_path, onboard):
    data = xlsx_bytes({"Blad1": SHEET_ROWS})
    yaml_text = mapping("zorgthuis", EMPLOYER_HEAD, SHEET_EMPLOYER)
    staged, _, log = onboard(tmp_path, "zorgthuis", yaml_text, {"zorgthuis_2024-03.xlsx": data}, "employment_spells")
    assert log[0]["delivery_status"] == "rejected" and log[0]["reason_code"] == "FILE_NO_SHEET"
    assert "'Dienstverbanden'" in log[0]["reason"] and "'Blad1'" in log[0]["reason"] and len(staged) == 0


def test_excel_date_cells_with_a_time_part_are_dates(tmp_path, onboard):
    rows = [
        SHEET_ROWS[0],
        [
            "X1",
            BSN_A,
            datetime(1990, 1, 1),
            "HH",
            "V",
            32,
            datetime(2024, 3, 1, 9, 45),
            datetime(2024, 3, 20, 23, 59, 59),
        ],
    ]
    yaml_text = mapping("zorgthuis", EMPLOYER_HEAD, SHEET_EMPLOYER)
    staged, quarantine, _ = onboard(
        tmp_path,
        "zorgthuis",
        yaml_text,
        {"zorgthuis_2024-03.xlsx": xlsx_bytes({"Dienstverbanden": rows})},
        "employment_spells",
    )
    assert len(quarantine) == 0
    assert str(staged["start_date"].iloc[0]) == "2024-03-01 00:00:00"
    assert str(staged["end_date"].iloc[0]) == "2024-03-20 00:00:00"
    assert staged["birth_year"].tolist() == [1990]


# --- 8. code lists that fit the sector ------------------------------------------------------------------------------


def test_the_code_lists_fit_the_sector():
    lists = REF.code_lists
    assert {"ZHP", "LHZW", "LVIG", "LVPK"} <= lists["functions"]
    assert "opleiding" in lists["placement_results"]
    assert {"diploma", "werk_gevonden", "verkeerde_studiekeuze"} <= lists["enrolment_leaving_reasons"]
    assert "werk_gevonden" not in lists["leaving_reasons"]  # leaving a job is another list
    assert {"wijkleerbedrijf", "opleiding_huiskamer_ondersteuning", "zorg_werkt_academie"} <= lists["programmes"]
    for name in (
        "contract_types",
        "leaving_reasons",
        "enrolment_leaving_reasons",
        "benefit_types",
        "benefit_end_reasons",
        "placement_kinds",
        "placement_results",
        "trajectory_results",
        "enrolment_outcomes",
        "learning_paths",
        "target_groups",
    ):
        assert "onbekend" in lists[name], name  # declined / unknown is a code; missing is an empty cell
        assert "" not in lists[name]


def test_a_period_no_layout_covers_is_rejected_in_words_for_the_partner(tmp_path, onboard):
    body = SHEET_EMPLOYER.replace("    sheet: Dienstverbanden\n", '    valid_from: "2024-01"\n')
    yaml_text = mapping("zorgthuis", EMPLOYER_HEAD, body)
    _, _, log = onboard(
        tmp_path, "zorgthuis", yaml_text, {"zorgthuis_2023-05.csv": csv_bytes(SHEET_ROWS)}, "employment_spells"
    )
    assert log[0]["delivery_status"] == "rejected" and log[0]["reason_code"] == "FILE_NO_LAYOUT"
    assert "2023-05" in log[0]["reason"] and "config" not in log[0]["reason"] and ".yaml" not in log[0]["reason"]


def test_an_identifier_in_a_column_only_a_derived_field_reads_is_quarantined_and_masked(tmp_path, onboard):
    head = ["Inschrijving", "BSN", "Start", "Einddatum", "Diploma behaald", "Reden uitschrijving", "Niveau", "Leerweg"]
    rows = [
        head,
        ["D1", BSN_A, "01-09-2023", "30-06-2024", "ja", "Diploma", "2", "BOL"],
        ["D2", BSN_A, "01-09-2023", "", BSN_B, "", "2", "BOL"],  # a BSN where ja/nee belongs
        ["D3", BSN_A, "01-09-2023", "", "Jan Jansen", "", "2", "BOL"],  # a name: no combination the rules know
        ["D4", BSN_A, "01-09-2023", "", "2511 AB", "", "2", "BOL"],  # a postcode
    ]
    _staged, q, _log = onboard(
        tmp_path,
        "leerhuis",
        mapping("leerhuis", TRAINER_HEAD, DERIVED_TRAINER),
        {"leerhuis_2024-06.csv": csv_bytes(rows)},
        "enrolments",
    )
    codes = q.groupby("source_row_number")["reason_code"].agg(set)
    assert "ROW_IDENTIFIER_IN_WRONG_COLUMN" in codes[3] and "ROW_IDENTIFIER_IN_WRONG_COLUMN" in codes[5]
    assert "ROW_NOT_DERIVED" in codes[4]
    text = q.astype(str).to_csv()
    for raw in (BSN_B, "Jan Jansen", "Jansen", "2511 AB", "2511AB"):
        assert raw not in text, raw
