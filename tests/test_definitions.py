"""The Dagster definitions load, and the environment decides the resources and the key."""

import importlib

import dagster as dg
import pytest

from core.errors import SettingsError
from core.settings import DEVELOPMENT_PSEUDONYM_KEY, load_settings


def test_definitions_load_with_every_asset_check_and_job():
    from pipelines.definitions import defs

    repo = defs.get_repository_def()
    keys = {k.to_user_string() for k in repo.asset_graph.get_all_asset_keys()}
    assert {
        "stg_employment_spells",
        "stg_enrolments",
        "stg_municipal_participants",
        "fct_employment_spells",
        "dim_region",
        "dim_target",
        "fct_sector_inflow",
        "fct_target_attainment",
        "pub_sector_flows",
        "pub_retention",
        "pub_programme_flows",
        "pub_target_attainment",
        "dim_person",
    } <= keys
    assert {"everything", "reference_layer", "staging_layer", "core_layer", "statistics_layer"} <= {
        j.name for j in repo.get_all_jobs()
    }
    assert len(repo.asset_graph.asset_check_keys) == 48  # 47 + partner_mappings_are_valid
    for key in repo.asset_graph.get_all_asset_keys():
        node = repo.asset_graph.get(key)
        assert node.group_name in {
            "reference",
            "staging",
            "core",
            "feedback",
            "statistics",
            "published",
            "operations",
            "report",
        }
        assert node.description


def test_every_table_asset_shows_its_schema_and_every_job_retries_only_infrastructure_faults():
    """The UI's asset page shows the column schema and grain from the definition, whatever the last
    materialization did; the code location is `zorgstroom` wherever it is loaded."""
    import yaml

    from core.paths import REPO_ROOT
    from pipelines.definitions import defs
    from pipelines.faults import retry_only_infrastructure_faults
    from pipelines.queue import LOCATION_NAME
    from schemas.tables import TABLES

    repo = defs.get_repository_def()
    for key in repo.asset_graph.get_all_asset_keys():
        name = key.to_user_string()
        if name in TABLES:
            metadata = repo.asset_graph.get(key).metadata
            assert [c.name for c in metadata["dagster/column_schema"].columns] == TABLES[name].column_names, name
            assert metadata["grain"] == TABLES[name].grain
    for job in repo.get_all_jobs():
        if not job.name.startswith("__"):
            assert retry_only_infrastructure_faults in job.hook_defs, job.name
    workspace = yaml.safe_load((REPO_ROOT / "workspace.yaml").read_text())
    assert [e["python_module"]["location_name"] for e in workspace["load_from"]] == [LOCATION_NAME]


def test_development_uses_the_named_development_key(monkeypatch):
    monkeypatch.setenv("ZORGSTROOM_ENV", "development")
    monkeypatch.delenv("ZORGSTROOM_PSEUDONYM_KEY", raising=False)
    assert load_settings().pseudonym_key == DEVELOPMENT_PSEUDONYM_KEY.encode()


@pytest.mark.parametrize("key", [None, DEVELOPMENT_PSEUDONYM_KEY, "too-short"])
def test_production_refuses_to_start_without_a_real_key(monkeypatch, key):
    monkeypatch.setenv("ZORGSTROOM_ENV", "production")
    if key is None:
        monkeypatch.delenv("ZORGSTROOM_PSEUDONYM_KEY", raising=False)
    else:
        monkeypatch.setenv("ZORGSTROOM_PSEUDONYM_KEY", key)
    with pytest.raises(SettingsError):
        load_settings()
    import pipelines.definitions as module

    with pytest.raises(SettingsError):
        importlib.reload(module)  # the code location itself refuses to load


def test_production_with_a_real_key_and_postgres_url(monkeypatch):
    monkeypatch.setenv("ZORGSTROOM_ENV", "production")
    monkeypatch.setenv("ZORGSTROOM_PSEUDONYM_KEY", "x" * 40)
    monkeypatch.setenv("ZORGSTROOM_WAREHOUSE_URL", "postgresql+psycopg://u:secret@db.example/zorg")
    settings = load_settings()
    assert settings.pseudonym_key == b"x" * 40
    import pipelines.definitions as module

    module = importlib.reload(module)
    warehouse = module.defs.resources["warehouse"]
    assert warehouse.backend == "postgresql"
    assert "secret" not in warehouse.display_url()
    monkeypatch.setenv("ZORGSTROOM_ENV", "test")
    importlib.reload(module)


def test_pseudonym_key_is_not_part_of_any_resource_config():
    from pipelines.definitions import defs

    for resource in defs.resources.values():
        if isinstance(resource, dg.ConfigurableResource):
            assert DEVELOPMENT_PSEUDONYM_KEY not in repr(resource.model_dump())
