"""Onboarding that is safe: a broken mapping stops only its own partner (reported first, surfaced by a check),
`make check-partner` shows how a sample file would load before any run, the shipped mappings validate, and
the tests read their own fixture mappings."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest
from conftest import FIXTURE_PARTNERS

from core.paths import PARTNERS_DIR, REPO_ROOT
from ingest.check_partner import main as check_partner
from ingest.partner_config import load_partner_mappings
from ingest.reference import Reference
from warehouse.db import make_engine, read_table

BSN_A, BSN_B = "123456782", "111222333"


def test_the_tests_read_their_own_fixture_mappings_not_config_partners():
    assert os.environ["ZORGSTROOM_PARTNERS_DIR"] == str(FIXTURE_PARTNERS)
    from pipelines.resources import IngestResource

    assert IngestResource(environment="test", landing_dir="x", feedback_dir="y").partners_folder == FIXTURE_PARTNERS


def test_the_shipped_mappings_validate():
    mappings = load_partner_mappings(PARTNERS_DIR, Reference())
    assert mappings.broken == {}, {c: b.error for c, b in mappings.broken.items()}
    assert len(mappings.valid) >= 6


def _staging_run(landing: Path, partners: Path, root: Path, url: str):
    from pipelines.assets.reference import reference_assets
    from pipelines.assets.staging import staging_assets
    from pipelines.mapping_checks import partner_mappings_are_valid
    from pipelines.resources import IngestResource, WarehouseResource

    return dg.materialize(
        [*staging_assets, *reference_assets, partner_mappings_are_valid],
        selection=dg.AssetSelection.assets("stg_employment_spells", "unrouted_deliveries", "dim_partner")
        | dg.AssetSelection.checks(partner_mappings_are_valid),
        instance=dg.DagsterInstance.get(),
        resources={
            "warehouse": WarehouseResource(url=url),
            "ingest": IngestResource(
                environment="test",
                landing_dir=str(landing),
                feedback_dir=str(root / "feedback"),
                partners_dir=str(partners),
            ),
        },
        raise_on_error=False,
    )


@pytest.mark.slow
def test_a_broken_mapping_stops_only_its_own_partner_and_its_files_load_once_fixed(tmp_path, dagster_home, sample):
    partners = tmp_path / "partners"
    shutil.copytree(FIXTURE_PARTNERS, partners)
    good = (partners / "vph_delfland.yaml").read_text(encoding="utf-8")
    (partners / "vph_delfland.yaml").write_text(good.replace("    V: vast\n", "    V: vaste_baan\n"), encoding="utf-8")
    landing = tmp_path / "landing"
    for code in ("vph_delfland", "zorggroep_haaglanden"):
        shutil.copytree(sample["landing"] / code, landing / code)
    url = f"duckdb:///{tmp_path / 'w.duckdb'}"

    result = _staging_run(landing, partners, tmp_path, url)
    assert result.success
    engine = make_engine(url)
    log = read_table(engine, "delivery_log")
    assert set(log["partner_code"].dropna()) == {"zorggroep_haaglanden"}  # the other partner loads as usual
    assert (log["delivery_status"] == "loaded").sum() >= 5
    assert "FILE_UNKNOWN_PARTNER" not in set(log["reason_code"].dropna())  # waiting, not rejected
    assert set(read_table(engine, "dim_partner")["partner_code"]) >= {"vph_delfland", "zorggroep_haaglanden"}
    checks = {e.check_name: e for e in result.get_asset_check_evaluations()}
    check = checks["partner_mappings_are_valid"]
    assert not check.passed and check.metadata["broken_mappings"].value == 1
    assert check.metadata["files_waiting"].value == len(list((landing / "vph_delfland").glob("*")))
    assert "vaste_baan" in check.metadata["broken"].value["vph_delfland"]["error"]
    staging = result.asset_materializations_for_node("stg_employment_spells")[0]
    assert "vph_delfland" in staging.metadata["partners_waiting_for_a_valid_mapping"].value
    messages = [e.user_message for e in dg.DagsterInstance.get().all_logs(result.run_id) if e.user_message]
    broken_at = next(i for i, m in enumerate(messages) if "partner vph_delfland: mapping broken" in m)
    ingest_at = next(i for i, m in enumerate(messages) if "new file(s) in the landing folders" in m)
    assert broken_at < ingest_at  # reported first
    assert "make check-partner PARTNER=vph_delfland" in messages[broken_at]
    engine.dispose()

    (partners / "vph_delfland.yaml").write_text(good, encoding="utf-8")
    result = _staging_run(landing, partners, tmp_path, url)
    assert result.success
    engine = make_engine(url)
    log = read_table(engine, "delivery_log")
    assert (log[log["partner_code"] == "vph_delfland"]["delivery_status"] == "loaded").sum() >= 5
    assert [e.passed for e in result.get_asset_check_evaluations() if e.check_name == "partner_mappings_are_valid"] == [
        True
    ]
    engine.dispose()


def test_broken_mappings_are_reported_in_plain_words_when_the_definitions_load(tmp_path):
    partners = tmp_path / "partners"
    shutil.copytree(FIXTURE_PARTNERS, partners)
    (partners / "threewise.yaml").write_text("partner_code: threewise\nlayouts: [\n", encoding="utf-8")
    env = {**os.environ, "ZORGSTROOM_PARTNERS_DIR": str(partners), "DAGSTER_HOME": str(tmp_path)}
    code = "from pipelines.mapping_checks import announce_broken_mappings; announce_broken_mappings()"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=REPO_ROOT)
    assert out.returncode == 0
    assert "partner threewise: its mapping is broken, so its deliveries wait" in out.stderr
    assert "not valid YAML" in out.stderr


def test_check_partner_shows_headers_unknown_labels_and_the_first_rows_without_identifiers(tmp_path, capsys, sample):
    source = sorted((sample["landing"] / "zorggroep_haaglanden").glob("*.csv"))[0]
    lines = source.read_text(encoding="utf-8-sig").splitlines()
    header = lines[0].split(";")
    lines[0] = lines[0] + ";Teamleider"  # a header the mapping does not know
    row = lines[1].split(";")
    row[header.index("Functiecode")] = "F777"  # a label it does not know
    lines[1] = ";".join(row) + ";x"
    lines[2:] = [line + ";" for line in lines[2:]]
    sample_file = tmp_path / source.name
    sample_file.write_text("\n".join(lines) + "\n", encoding="utf-8")

    assert check_partner(["zorggroep_haaglanden", str(sample_file), "--rows", "3"]) == 1
    out = capsys.readouterr().out
    assert "mapping tests/fixtures/partners/zorggroep_haaglanden.yaml is valid" in out
    assert "'Personeelsnummer': mapped to employee_number" in out
    assert "'Achternaam': ignored" in out
    assert "'Teamleider': UNMAPPED" in out
    assert "unknown labels in 'Functiecode' (function): 'F777' x1" in out
    assert "valid codes (config/reference/functions.csv): BGL, HHU, HKM" in out
    assert "ROW_UNKNOWN_CODE in function: 1 row(s)" in out
    assert "the first 3 accepted rows" in out and "person_id_kind=bsn" in out
    people = (sample["truth"] / "people.csv").read_text(encoding="utf-8").splitlines()[1:]
    bsns = {line.split(",")[1] for line in people if line.split(",")[1]}
    assert not any(b in out for b in bsns)  # identifiers are never printed


def test_check_partner_reports_a_broken_mapping_and_validates_all(tmp_path, capsys):
    partners = tmp_path / "partners"
    shutil.copytree(FIXTURE_PARTNERS, partners)
    text = (partners / "roc_zuidwest.yaml").read_text(encoding="utf-8")
    (partners / "roc_zuidwest.yaml").write_text(
        text.replace("      niveau", "      nivo").replace(
            "layouts:", "layouts:\n  - layout: extra\n    colums: {}\n", 1
        ),
        encoding="utf-8",
    )
    assert check_partner(["roc_zuidwest", "--partners-dir", str(partners)]) == 1
    out = capsys.readouterr().out
    assert "is BROKEN" in out and "unknown key(s) ['colums']" in out
    assert check_partner(["--partners-dir", str(partners)]) == 1
    out = capsys.readouterr().out
    assert "5 valid, 1 broken" in out and "BROKEN roc_zuidwest" in out
    assert check_partner(["--partners-dir", str(FIXTURE_PARTNERS)]) == 0


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("delivery_cadence: monthly", "delivery_cadence: weekly"), "delivery_cadence must be one of"),
        (("      function: [Functiecode]\n", "      functie: [Functiecode]\n"), "['functie'] are not columns of feed"),
        (("    F010: HHU", "    F010: HULP"), "values.function.F010: 'HULP' is not a code of code list functions"),
        (('  - layout: "2019"', "  - layout: \"2019\"\n    decimal_separator: ';'"), "decimal_separator: must be"),
        (("ignored_headers:", "patterns: {function: 'F0(10'}\nignored_headers:"), "patterns.function: not a valid"),
        (("ignored_headers:", "patterns: {function: 'F010'}\nignored_headers:"), "needs a group in parentheses"),
        (("ignored_headers:", "not_delivered: [bsn]\nignored_headers:"), "bsn cannot be declared not_delivered"),
    ],
)
def test_mapping_errors_name_the_file_and_the_key_in_plain_words(tmp_path, change, message):
    text = (FIXTURE_PARTNERS / "zorggroep_haaglanden.yaml").read_text(encoding="utf-8")
    assert change[0] in text
    (tmp_path / "zorggroep_haaglanden.yaml").write_text(text.replace(change[0], change[1], 1), encoding="utf-8")
    mappings = load_partner_mappings(tmp_path, Reference())
    error = mappings.broken["zorggroep_haaglanden"].error
    assert message in error and "zorggroep_haaglanden.yaml" in error


def test_the_bench_reference_rejects_files_for_the_same_needed_columns_as_the_pipeline():
    import importlib.util

    from ingest.feeds import FEEDS

    spec = importlib.util.spec_from_file_location("bench_files_ref", REPO_ROOT / "bench" / "reference_files.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_files_ref"] = module
    spec.loader.exec_module(module)
    for feed, feed_spec in FEEDS.items():
        needed, identifiers = module.REQUIRED[feed]
        assert set(needed) == {c.name for c in feed_spec.columns if c.needed}, feed
        assert identifiers == feed_spec.person_identifiers


def test_the_mapping_reference_documents_every_key_and_every_canonical_column():
    from ingest.feeds import FEEDS
    from ingest.partner_config import LAYOUT_KEYS, RULE_KEYS, TOP_KEYS

    text = (REPO_ROOT / "docs" / "mapping_reference.md").read_text(encoding="utf-8")
    for key in {*TOP_KEYS, *LAYOUT_KEYS, *RULE_KEYS}:
        assert f"`{key}`" in text, key
    for spec in FEEDS.values():
        for column in spec.columns:
            assert f"| `{column.name}` | {column.kind} |" in text, column.name
