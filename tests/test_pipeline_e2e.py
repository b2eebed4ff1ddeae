"""End to end with Dagster on a real instance: generated deliveries into DuckDB and into PostgreSQL."""

import dagster as dg
import pandas as pd
import pytest
import sqlalchemy as sa

from pipelines.checks import all_checks
from pipelines.definitions import all_assets
from pipelines.resources import IngestResource, WarehouseResource
from schemas.tables import FEED_FACT, FEED_STAGING, TABLES
from warehouse.db import make_engine, read_table


def run_everything(warehouse_url: str, landing, feedback_dir) -> dg.ExecuteInProcessResult:
    instance = dg.DagsterInstance.get()  # the real instance in $DAGSTER_HOME (tests set it)
    return dg.materialize(
        [*all_assets, *all_checks],
        instance=instance,
        resources={
            "warehouse": WarehouseResource(url=warehouse_url),
            "ingest": IngestResource(environment="test", landing_dir=str(landing), feedback_dir=str(feedback_dir)),
        },
    )


def expected_current_records(sample, feed: str) -> int:
    """Distinct (partner, record key) among the valid rows of the files in force: worked out from the truth files."""
    truth = pd.read_csv(sample["truth"] / f"valid_{feed}.csv", dtype=str, keep_default_na=False)
    partner = truth["path"].str.split("/").str[1]
    return len(set(zip(partner, truth["record_key"])))


@pytest.fixture
def loaded(sample, warehouse_url, dagster_home, tmp_path):
    result = run_everything(warehouse_url, sample["landing"], tmp_path / "feedback")
    return result, make_engine(warehouse_url)


def test_rows_per_feed_equal_what_the_generator_says_is_valid(sample, loaded):
    result, engine = loaded
    assert result.success
    manifest = sample["manifest"]
    for feed, table in FEED_STAGING.items():
        with engine.connect() as conn:
            n = conn.execute(sa.text(f'SELECT COUNT(*) FROM "{table}"')).scalar_one()
        assert n == manifest["expected_staging_rows"][feed], feed
        fact = read_table(engine, FEED_FACT[feed])
        assert len(fact) == expected_current_records(sample, feed), feed
        assert not fact.duplicated(["partner_code", "record_key"]).any()


def test_every_check_ran_and_passed(loaded):
    result, _ = loaded
    evaluations = result.get_asset_check_evaluations()
    assert {e.check_name for e in evaluations} == {key.name for chk in all_checks for key in chk.check_keys}
    assert len(evaluations) == 9
    assert all(e.passed for e in evaluations)


def test_delivery_log_accounts_for_every_row_and_every_file(sample, loaded):
    _, engine = loaded
    log = read_table(engine, "delivery_log")
    files = sample["manifest"]["files"]
    broken = sample["manifest"]["rejected_files"]
    assert len(log) == len(files) + len(broken)  # every file seen once
    assert (log["rows_read"] == log["rows_accepted"] + log["rows_quarantined"]).all()
    statuses = log["delivery_status"].value_counts().to_dict()
    want = pd.Series([f["status"] for f in files] + ["rejected"] * len(broken)).replace({"load": "loaded"}).value_counts().to_dict()
    assert statuses == want
    rejected = log[log["delivery_status"] == "rejected"]
    by_name = dict(zip(rejected["source_file"].str.split("/").str[-1], rejected["reason_code"]))
    assert by_name == {b["path"].split("/")[-1]: b["expected_reason_code"] for b in broken}
    assert rejected["reason"].str.len().min() > 30  # a sentence a partner can act on
    superseded = log[log["delivery_status"] == "superseded"].iloc[0]
    v2_name = next(f for f in files if f["status"] == "superseded")["superseded_by"].split("/")[-1]
    v2 = log[log["source_file"] == v2_name].iloc[0]
    assert superseded["superseded_by"] == v2["delivery_id"] and v2["delivery_status"] == "loaded"
    for feed, table in FEED_STAGING.items():
        staging = read_table(engine, table)
        assert not staging["delivery_id"].isin(log.loc[log["delivery_status"] != "loaded", "delivery_id"]).any()
        per_delivery = staging.groupby("delivery_id").size()
        loaded_log = log[log["delivery_id"].isin(per_delivery.index)].set_index("delivery_id")
        assert (loaded_log["rows_accepted"] == per_delivery.reindex(loaded_log.index)).all()
    quarantine = read_table(engine, "quarantine_rows")
    rejected_rows = quarantine[quarantine["severity"] == "row_rejected"].drop_duplicates(["delivery_id", "source_row_number"])
    assert len(rejected_rows) == int(log["rows_quarantined"].sum())


def test_second_run_changes_nothing(sample, loaded, tmp_path):
    _, engine = loaded
    before = {t: read_table(engine, t) for t in TABLES if t not in ("delivery_log",)}
    log_before = read_table(engine, "delivery_log").drop(columns="processed_at")
    result = run_everything(engine.url.render_as_string(hide_password=False), sample["landing"], tmp_path / "feedback")
    assert result.success
    for t, df in before.items():
        after = read_table(engine, t)
        pd.testing.assert_frame_equal(df.sort_values(list(df.columns)).reset_index(drop=True),
                                      after.sort_values(list(df.columns)).reset_index(drop=True), obj=t)
    pd.testing.assert_frame_equal(log_before, read_table(engine, "delivery_log").drop(columns="processed_at"))


def test_no_raw_identity_of_any_generated_person_in_any_table(sample, loaded):
    """Privacy scan: no BSN, onderwijsnummer, name, full birth date or full postcode anywhere in the warehouse."""
    _, engine = loaded
    people = pd.read_csv(sample["truth"] / "people.csv", dtype=str, keep_default_na=False)
    numbers = {v for v in pd.concat([people["bsn"], people["onderwijsnummer"]]) if v}
    births = set(people["birth_date"]) | {f"{d[8:10]}-{d[5:7]}-{d[0:4]}" for d in people["birth_date"]}
    postcodes = {p for p in people["postcode"] if p} | {p.replace(" ", "") for p in people["postcode"] if p}
    names = {n for n in pd.concat([people["first_name"], people["last_name"]]) if len(n) >= 3}
    full_names = {f"{f} {l}" for f, l in zip(people["first_name"], people["last_name"])}
    inspector = sa.inspect(engine)
    scanned = 0
    for table in inspector.get_table_names():
        df = pd.read_sql(sa.text(f'SELECT * FROM "{table}"'), engine)
        for col in df.columns:
            values = df[col].dropna().astype(str)
            if values.empty:
                continue
            cells = set(values)
            text = "\n".join(cells)
            assert not (cells & (names | full_names)), f"a name in {table}.{col}"
            for needle in numbers | births | postcodes:
                assert needle not in text, f"raw identifier in {table}.{col}"
            scanned += len(values)
    assert scanned > 10_000


def test_people_are_linked_across_partners_by_pseudonym(sample, loaded):
    """The persons in both the municipal and the employer facts are exactly those the truth files share."""
    _, engine = loaded
    valid = {feed: pd.read_csv(sample["truth"] / f"valid_{feed}.csv", dtype=str, keep_default_na=False)
             for feed in ("employment_spells", "municipal_participants")}
    shared_bsns = set(valid["employment_spells"]["bsn"]) & set(valid["municipal_participants"]["bsn"])
    employed = set(read_table(engine, "fct_employment_spells")["person_id"])
    participants = set(read_table(engine, "fct_municipal_trajectories")["person_id"])
    assert shared_bsns, "the sample should link some participants to employers"
    assert len(employed & participants) == len(shared_bsns)


def test_a_feedback_report_for_every_delivery_with_rejections(loaded, tmp_path):
    _, engine = loaded
    log = read_table(engine, "delivery_log")
    quarantine = read_table(engine, "quarantine_rows")
    expected = set(log.loc[log["delivery_status"] == "rejected", "content_hash"].str[:8]) | set(
        log.loc[log["delivery_id"].isin(quarantine["delivery_id"]), "content_hash"].str[:8])
    reports = list((tmp_path / "feedback").rglob("*_feedback.xlsx"))
    assert {p.stem.split("_")[-2] for p in reports} == expected
    assert len(list((tmp_path / "feedback").rglob("*_feedback.csv"))) == len(reports)
