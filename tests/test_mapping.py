"""Partner mappings are data: a new partner with its own headers loads after adding one YAML file."""

import shutil
import textwrap
from pathlib import Path

import pytest
from conftest import FIXTURE_PARTNERS as PARTNERS_DIR

from core.errors import ConfigError, DeliveryRejected
from ingest.deliveries import discover_deliveries, parse_period_and_version
from ingest.partner_config import load_partner_configs
from ingest.process import process_delivery
from ingest.reference import Reference
from warehouse.db import make_engine, read_table
from warehouse.ingest_feed import ingest_feed

KEY = b"test-key"
NEW_PARTNER = textwrap.dedent("""\
    partner_code: zorg_aan_zee
    partner_name: Zorg aan Zee
    partner_kind: employer
    feed: employment_spells
    location_municipality_code: GM0629
    delivery_cadence: monthly
    layouts:
      - layout: "2024"
        columns:
          start_date: [Aanvang]
          bsn: [Burgerservicenummer]
          employee_number: [Werknemer]
          function: [Rol]
          contract_type: [Dienstverband soort]
          birth_date: [Geboren op]
          end_date: [Einde]
          postcode: [PC]
    ignored_headers: [Naam]
    not_delivered: [employment_number, hours_per_week, is_apprenticeship, leaving_reason, programme]
    values:
      function: {Thuiszorg helpende: HZW, Wijkverpleging: VPK}
      contract_type: {Vast contract: vast, Jaarcontract: tijdelijk}
    """)
# Reordered and renamed headers compared with every existing partner; the ';' and dd-mm-yyyy style.
NEW_FILE = (
    "Einde;Rol;Naam;Aanvang;Werknemer;Burgerservicenummer;Geboren op;PC;Dienstverband soort;Extra kolom\n"
    ";Thuiszorg helpende;A. de Vries;01-02-2024;W1;111222333;03-04-1990;2242 AB;Vast contract;x\n"
    "31-12-2024;Wijkverpleging;B. Smit;15-01-2024;W2;123456782;05-06-1975;;Jaarcontract;y\n"
)


@pytest.fixture
def partners_dir(tmp_path) -> Path:
    folder = tmp_path / "partners"
    shutil.copytree(PARTNERS_DIR, folder)
    return folder


def test_new_partner_loads_after_adding_a_mapping_file_only(partners_dir, tmp_path):
    landing = tmp_path / "landing"
    (landing / "zorg_aan_zee").mkdir(parents=True)
    (landing / "zorg_aan_zee" / "zorg_aan_zee_2024-02.csv").write_text(NEW_FILE, encoding="utf-8")
    engine = make_engine(f"duckdb:///{tmp_path / 'w.duckdb'}")
    ref = Reference()

    before = ingest_feed(engine, "employment_spells", load_partner_configs(partners_dir, ref), landing, ref, KEY)
    assert before.log_rows == []  # no mapping: the folder is not a partner's (yet)

    (partners_dir / "zorg_aan_zee.yaml").write_text(NEW_PARTNER, encoding="utf-8")
    after = ingest_feed(engine, "employment_spells", load_partner_configs(partners_dir, ref), landing, ref, KEY)
    assert [r["delivery_status"] for r in after.log_rows] == ["loaded"]
    assert after.log_rows[0]["unmapped_headers"] == "Extra kolom"  # reported, not silently dropped
    rows = read_table(engine, "stg_employment_spells").sort_values("record_key")
    assert rows["record_key"].tolist() == ["W1", "W2"]
    assert rows["function_code"].tolist() == ["HZW", "VPK"]
    assert rows["contract_type_code"].tolist() == ["vast", "tijdelijk"]
    assert rows["residence_municipality_code"].iloc[0] == "GM0629"  # 2242 is Wassenaar
    assert rows["birth_year"].tolist() == [1990, 1975]
    assert str(rows["end_date"].iloc[1].date()) == "2024-12-31"


def test_missing_required_column_rejects_the_file_naming_what_is_missing_and_found(tmp_path):
    ref = Reference()
    partners = load_partner_configs(reference=ref)
    folder = tmp_path / "gemeente_den_haag"
    folder.mkdir()
    path = folder / "gemeente_den_haag_202201.csv"
    path.write_text(
        "Trajectnummer,BSN,Geboortedatum,Doelgroep,Uitkering,Programma\nT1,111222333,1990-01-01,Bijstand,PW,WEP-trein\n",
        encoding="utf-8",
    )
    delivery = discover_deliveries(tmp_path, ["gemeente_den_haag"])[0]
    period, version = parse_period_and_version(delivery.source_file)
    with pytest.raises(DeliveryRejected) as exc:
        process_delivery(delivery, partners["gemeente_den_haag"], period, version, ref, KEY)
    assert exc.value.reason_code == "FILE_MISSING_COLUMNS"
    assert "referral_date" in exc.value.message and "Datum aanmelding" in exc.value.message
    assert "Headers found: ['Trajectnummer', 'BSN'" in exc.value.message


def test_mapping_onto_an_unknown_code_fails_at_load(partners_dir):
    bad = NEW_PARTNER.replace("Wijkverpleging: VPK", "Wijkverpleging: NOT_A_FUNCTION")
    (partners_dir / "zorg_aan_zee.yaml").write_text(bad, encoding="utf-8")
    with pytest.raises(ConfigError, match="NOT_A_FUNCTION"):
        load_partner_configs(partners_dir)


def test_layout_is_chosen_by_period_not_guessed():
    partners = load_partner_configs()
    zg = partners["zorggroep_haaglanden"]
    assert zg.layout_for("2021-12").name == "2019"
    assert zg.layout_for("2022-01").name == "2022"
