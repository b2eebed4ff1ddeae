"""Completeness and timeliness, and the data-quality rules from config/checks.yaml, on hand-made data."""

import pandas as pd
import sqlalchemy as sa

from transforms.completeness import delivery_completeness
from warehouse.db import make_engine
from warehouse.quality import load_quality_config, offending_rows, quarantine_shares

T = pd.Timestamp


def _log(rows):
    return pd.DataFrame(rows, columns=["partner_code", "delivery_period", "delivery_status", "received_at"]).assign(
        received_at=lambda d: pd.to_datetime(d["received_at"])
    )


def test_completeness_worked_by_hand():
    partners = pd.DataFrame({"partner_code": ["m", "q"], "delivery_cadence": ["monthly", "quarterly"]})
    log = _log(
        [
            ("m", "2024-01", "loaded", "2024-02-10 09:00"),  # due 2024-02-15: on time
            ("m", "2024-02", "superseded", "2024-03-20 09:00"),  # due 2024-03-15 (29 Feb + 15): 5 days late
            ("m", "2024-02", "loaded", "2024-04-01 09:00"),  # the re-send does not change the first arrival
            ("m", "2024-03", "rejected", "2024-04-02 09:00"),  # unreadable: does not count
            ("q", "2024-Q1", "loaded", "2024-04-30 09:00"),  # due 2024-04-15: 15 days late
        ]
    )
    df = delivery_completeness(partners, log, cutoff=T("2024-04-30"), as_of=T("2024-05-10"), due_days=15)
    got = {(r.partner_code, r.delivery_period): (r.completeness_status, r.days_late) for r in df.itertuples()}
    assert got == {
        ("m", "2024-01"): ("on_time", 0),
        ("m", "2024-02"): ("late", 5),
        ("m", "2024-03"): ("missing", 25),  # due 2024-03-31 + 15 = 2024-04-15; as of 2024-05-10: 25 days
        ("m", "2024-04"): ("not_yet_due", 0),  # due 2024-05-15
        ("q", "2024-Q1"): ("late", 15),
        ("q", "2024-Q2"): ("not_yet_due", 0),
    }


def test_a_period_with_only_empty_files_shows_as_empty_not_received():
    partners = pd.DataFrame({"partner_code": ["m"], "delivery_cadence": ["monthly"]})
    log = _log(
        [
            ("m", "2024-01", "loaded", "2024-02-10 09:00"),
            ("m", "2024-02", "rejected", "2024-03-01 09:00"),  # a header and no rows
            ("m", "2024-03", "rejected", "2024-04-01 09:00"),  # empty, then a readable re-send
            ("m", "2024-03", "loaded", "2024-04-03 09:00"),
            ("m", "2024-04", "rejected", "2024-05-01 09:00"),  # unreadable for another reason
        ]
    ).assign(reason_code=[None, "FILE_EMPTY", "FILE_EMPTY", None, "FILE_CORRUPT"])
    df = delivery_completeness(partners, log, cutoff=T("2024-04-30"), as_of=T("2024-06-10"), due_days=15)
    got = {r.delivery_period: (r.completeness_status, bool(r.received)) for r in df.itertuples()}
    assert got == {
        "2024-01": ("on_time", True),
        "2024-02": ("empty", False),
        "2024-03": ("on_time", True),
        "2024-04": ("missing", False),
    }


def test_quarantine_share_threshold():
    log = pd.DataFrame(
        {
            "delivery_id": ["a", "b", "c"],
            "partner_code": ["p", "p", "x"],
            "delivery_status": ["loaded"] * 3,
            "rows_read": [100, 100, 100],
            "rows_quarantined": [5, 6, 50],
        }
    )
    over = quarantine_shares(log, {"p"}, 0.05)
    assert over["delivery_id"].tolist() == ["b"]  # 5% is allowed, 6% is not; x is another feed's partner


def test_integrity_and_plausibility_rules_catch_bad_rows(tmp_path):
    engine = make_engine(f"duckdb:///{tmp_path / 'w.duckdb'}")
    config = load_quality_config()
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE dim_region (municipality_code TEXT)"))
        conn.execute(sa.text("INSERT INTO dim_region VALUES ('GM0518')"))
        conn.execute(sa.text("CREATE TABLE fct_sector_inflow (municipality_code TEXT)"))
        conn.execute(sa.text("INSERT INTO fct_sector_inflow VALUES ('GM0518'), ('BUITEN_REGIO'), ('GM9999'), (NULL)"))
        conn.execute(
            sa.text(
                "CREATE TABLE fct_employment_spells (partner_code TEXT, record_key TEXT, person_id TEXT, "
                "start_date DATE, end_date DATE)"
            )
        )
        conn.execute(
            sa.text(
                "INSERT INTO fct_employment_spells VALUES ('p', 'ok', 'a', DATE '2020-01-01', NULL), "
                "('p', 'backwards', 'b', DATE '2020-01-01', DATE '2019-12-31'), ('p', 'ancient', 'c', DATE "
                "'1960-01-01', NULL)"
            )
        )
    rule = next(r for r in config.integrity if r.table == "fct_sector_inflow" and r.column == "municipality_code")
    n, sample = offending_rows(engine, rule.sql())
    assert n == 1 and sample["missing_code"].tolist() == ["GM9999"]
    rules = {r.id: r for r in config.plausibility}
    assert offending_rows(engine, rules["spell_end_before_start"].sql)[1]["record_key"].tolist() == ["backwards"]
    assert offending_rows(engine, rules["spell_longer_than_50_years"].sql)[1]["record_key"].tolist() == ["ancient"]


def test_every_plausibility_rule_fires_on_data_that_breaks_it(warehouse_url):
    """On both databases (the rules are SQL both must run)."""
    engine = make_engine(warehouse_url)
    rules = {r.id: r for r in load_quality_config().plausibility}
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "CREATE TABLE fct_employment_spells (partner_code TEXT, record_key TEXT, person_id TEXT, "
                "start_date DATE, end_date DATE)"
            )
        )
        conn.execute(
            sa.text(
                "INSERT INTO fct_employment_spells VALUES ('p', 'backwards', 'a', DATE '2020-01-01', DATE "
                "'2019-12-31'), "
                "('p', 'ancient', 'b', DATE '1960-01-01', NULL), ('p', 'ok', 'c', DATE '2020-03-01', DATE "
                "'2020-03-20'), "
                "('q', 'ok2', 'c', DATE '2020-02-15', DATE '2020-03-05')"
            )
        )  # c twice on 1 March: one person
        conn.execute(
            sa.text(
                "CREATE TABLE fct_enrolments (partner_code TEXT, record_key TEXT, start_date DATE, "
                "actual_end_date DATE)"
            )
        )
        conn.execute(
            sa.text(
                "INSERT INTO fct_enrolments VALUES ('r', 'e1', DATE '2021-09-01', DATE '2021-08-31'), ('r', 'e2', "
                "DATE '2021-09-01', NULL)"
            )
        )
        # on 1 March 2020 two people are employed ('ancient', and 'c' in two spells), but three flow out in March
        conn.execute(sa.text("CREATE TABLE fct_sector_outflow (person_id TEXT, event_month DATE)"))
        conn.execute(
            sa.text(
                "INSERT INTO fct_sector_outflow VALUES ('c', DATE '2020-03-01'), ('x', DATE '2020-03-01'), ('y', "
                "DATE '2020-03-01')"
            )
        )
    expected = {
        "spell_end_before_start": 1,
        "spell_longer_than_50_years": 1,
        "enrolment_end_before_start": 1,
        "outflow_above_stock": 1,
    }
    assert {rule_id: offending_rows(engine, rule.sql)[0] for rule_id, rule in rules.items()} == expected
    with engine.begin() as conn:  # and each passes once the data is plausible
        conn.execute(sa.text("DELETE FROM fct_employment_spells WHERE record_key IN ('backwards', 'ancient')"))
        conn.execute(sa.text("DELETE FROM fct_enrolments WHERE record_key = 'e1'"))
        conn.execute(sa.text("DELETE FROM fct_sector_outflow WHERE person_id IN ('x', 'y')"))
    # left: 'c' (employed on 1 March, in two spells): a stock of 1 and an outflow of 1
    assert {rule_id: offending_rows(engine, rule.sql)[0] for rule_id, rule in rules.items()} == dict.fromkeys(
        expected, 0
    )
