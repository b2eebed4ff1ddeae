"""Statistics assets: sector flows, retention, programme flows, targets, the person spine, and the
published tables BI tools read. Each computes with a pure transform and replaces its table(s)."""

import dagster as dg
import pandas as pd

from pipelines.incremental import Build, incrementally
from pipelines.metadata import (
    definition_metadata,
    deliveries_behind,
    markdown_preview,
    table_metadata,
    warehouse_table_metadata,
)
from pipelines.resources import WarehouseResource
from schemas.tables import TABLES
from transforms import publish
from transforms.data_window import data_window, observed
from transforms.periods import dim_period
from transforms.persons import dim_person, person_residence_sql, touched_persons_sql
from transforms.programme_flows import programme_flows
from transforms.retention import retention_cohorts, retention_members
from transforms.sector_flows import care_spells, sector_events
from transforms.targets import target_attainment, target_persons
from warehouse.db import TOUCHED_KEYS, read_table, replace_rows, replace_table_from_select, replace_tables

STATS = "statistics"
PUBLISHED = "published"


class Inputs:
    """Reads a run's inputs once per asset (tables are small enough to read whole; see bench/)."""

    def __init__(self, warehouse: WarehouseResource):
        self.engine = warehouse.engine()
        self._cache: dict[str, pd.DataFrame] = {}

    def __getitem__(self, name: str) -> pd.DataFrame:
        if name not in self._cache:
            self._cache[name] = read_table(self.engine, name)
        return self._cache[name]

    def window(self) -> tuple[pd.Timestamp, pd.Timestamp]:
        partners = self["dim_partner"]
        employers = set(partners.loc[partners["feed"] == "employment_spells", "partner_code"])
        return data_window(self["delivery_log"], employers)


def _write(context, data: "Inputs", name: str, df: pd.DataFrame, **extra) -> dg.MaterializeResult:
    return _write_tables(context, data, {name: (df, extra)})[0]


def _write_tables(context, data: "Inputs", tables: dict[str, tuple[pd.DataFrame, dict]]) -> list[dg.MaterializeResult]:
    """Replace the tables an asset builds in one transaction (all new, or on failure all old), then report each."""
    replace_tables(data.engine, {name: df for name, (df, _) in tables.items()})
    results: list[dg.MaterializeResult] = []
    for name, (df, extra) in tables.items():
        context.log.info(f"{name}: {len(df)} rows")
        results.append(
            dg.MaterializeResult(
                asset_key=name,
                metadata=table_metadata(TABLES[name], df, **deliveries_behind(data["delivery_log"]), **extra),
            )
        )
    return results


def _spec(name: str, group: str, deps: list[str]) -> dg.AssetSpec:
    table = TABLES[name]
    return dg.AssetSpec(
        name,
        group_name=group,
        deps=deps,
        kinds={"pandas", "sql"},
        description=f"{table.description} Grain: {table.grain}.",
        metadata=definition_metadata(table),
    )


FACTS_IN = [
    "fct_employment_spells",
    "fct_enrolments",
    "fct_municipal_trajectories",
    "dim_partner",
    "dim_region",
    "dim_function",
]


SECTOR_FLOWS = ["fct_sector_inflow", "fct_sector_outflow", "fct_internal_mobility"]


@dg.multi_asset(specs=[_spec(n, STATS, FACTS_IN) for n in SECTOR_FLOWS])
@incrementally(SECTOR_FLOWS)
def sector_flow_facts(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    data = Inputs(warehouse)
    observation_start, cutoff = data.window()
    spells = care_spells(data["fct_employment_spells"], data["dim_function"])
    events = sector_events(
        spells,
        data["dim_partner"],
        data["dim_region"],
        data["fct_municipal_trajectories"],
        observation_start=observation_start,
        cutoff=cutoff,
    )
    window = {"observation_start": str(observation_start.date()), "cutoff": str(cutoff.date())}
    yield from _write_tables(
        context,
        data,
        {
            "fct_sector_inflow": (events.inflow, window),
            "fct_sector_outflow": (events.outflow, window),
            "fct_internal_mobility": (events.mobility, window),
        },
    )


@dg.multi_asset(
    specs=[
        _spec(n, STATS, ["fct_sector_inflow", "fct_employment_spells", "dim_function", "dim_partner"])
        for n in ("fct_retention_members", "fct_retention")
    ]
)
@incrementally(["fct_retention_members", "fct_retention"])
def retention_facts(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    data = Inputs(warehouse)
    _, cutoff = data.window()
    spells = care_spells(data["fct_employment_spells"], data["dim_function"])
    members = retention_members(data["fct_sector_inflow"], spells, cutoff=cutoff)
    yield from _write_tables(
        context,
        data,
        {"fct_retention_members": (members, {}), "fct_retention": (retention_cohorts(members, cutoff=cutoff), {})},
    )


@dg.asset(
    name="fct_programme_flows",
    group_name=STATS,
    deps=FACTS_IN,
    kinds={"pandas", "sql"},
    description=f"{TABLES['fct_programme_flows'].description} Grain: {TABLES['fct_programme_flows'].grain}.",
    metadata=definition_metadata(TABLES["fct_programme_flows"]),
)
@incrementally(["fct_programme_flows"])
def fct_programme_flows(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    data = Inputs(warehouse)
    observation_start, cutoff = data.window()
    flows = programme_flows(
        data["fct_enrolments"],
        data["fct_municipal_trajectories"],
        data["fct_employment_spells"],
        data["dim_partner"],
        data["dim_region"],
        cutoff=cutoff,
    )
    yield _write(context, data, "fct_programme_flows", observed(flows, "event_date", observation_start))


@dg.multi_asset(
    specs=[_spec(n, STATS, [*FACTS_IN, "dim_target"]) for n in ("fct_target_persons", "fct_target_attainment")]
)
@incrementally(["fct_target_persons", "fct_target_attainment"])
def target_facts(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    data = Inputs(warehouse)
    _, cutoff = data.window()
    persons = target_persons(
        data["dim_target"],
        data["fct_employment_spells"],
        data["fct_enrolments"],
        data["fct_municipal_trajectories"],
        data["dim_partner"],
        data["dim_region"],
        data["dim_function"],
        cutoff=cutoff,
    )
    attainment = target_attainment(data["dim_target"], persons, cutoff=cutoff)
    latest = attainment[attainment["is_latest"]]
    yield from _write_tables(
        context,
        data,
        {
            "fct_target_persons": (persons, {}),
            "fct_target_attainment": (
                attainment,
                {
                    "cutoff": str(cutoff.date()),
                    "attainment_as_of_cutoff": dg.MetadataValue.md(markdown_preview(latest, rows=50)),
                },
            ),
        },
    )


@dg.multi_asset(
    specs=[
        _spec("dim_person", "core", ["fct_employment_spells", "fct_enrolments", "fct_municipal_trajectories"]),
        _spec(
            "dim_period", "core", ["stg_employment_spells", "dim_partner"]
        ),  # the data window: employers from dim_partner
    ]
)
@incrementally(["dim_person", "dim_period"])
def person_and_period_dimensions(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    data = Inputs(warehouse)
    persons = dim_person(data["fct_employment_spells"], data["fct_enrolments"], data["fct_municipal_trajectories"])
    observation_start, cutoff = data.window()
    yield from _write_tables(
        context,
        data,
        {"dim_person": (persons, {}), "dim_period": (dim_period(observation_start, cutoff), {})},
    )


STAGING = ["stg_employment_spells", "stg_enrolments", "stg_municipal_participants"]


@dg.asset(
    name="fct_person_residence",
    group_name="core",
    deps=STAGING,
    kinds={"sql"},
    description=f"{TABLES['fct_person_residence'].description} Grain: {TABLES['fct_person_residence'].grain}.",
    metadata=definition_metadata(TABLES["fct_person_residence"]),
)
def fct_person_residence(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    """From every staging row of every feed, built in the warehouse (the rows never come to Python);
    after new deliveries alone, only the persons in them."""
    name = "fct_person_residence"
    build = Build(context, warehouse, [name], None)
    if not build.needed:
        return build.unchanged()[0]
    engine = warehouse.engine()
    dialect = engine.dialect.name
    added = build.added()
    if added is None:
        rows = replace_table_from_select(engine, name, person_residence_sql(STAGING, dialect))
        context.log.info(f"{name}: {rows} rows")
    else:
        only = f'SELECT person_id FROM "{TOUCHED_KEYS}"'
        written, rows = replace_rows(
            engine,
            name,
            ["person_id"],
            touched_persons_sql(STAGING),
            person_residence_sql(STAGING, dialect, persons_sql=only),
            {"added": added},
        )
        context.log.info(
            f"{name}: {written} rows rebuilt for the persons in the new deliveries ({len(added)}); {rows} in all"
        )
    result = build.versioned(
        dg.MaterializeResult(
            asset_key=name,
            metadata=warehouse_table_metadata(
                engine,
                TABLES[name],
                rows,
                updated_from_new_deliveries=added is not None,
                **deliveries_behind(read_table(engine, "delivery_log")),
            ),
        )
    )
    build.done()
    return result


def hidden_inflow_totals(flows: pd.DataFrame) -> pd.DataFrame:
    """(cohort_month, area_code) of the inflow totals pub_sector_flows suppresses (or leaves out)."""
    totals = flows[(flows["measure"] == "inflow") & (flows["breakdown"] == "total")]
    hidden = totals.loc[totals["suppressed"].astype(bool), ["period_month", "area_code"]]
    return hidden.rename(columns={"period_month": "cohort_month"})


def _published(name: str, deps: list[str], build, extra=lambda df: {}) -> dg.AssetsDefinition:
    table = TABLES[name]

    @dg.asset(
        name=name,
        group_name=PUBLISHED,
        deps=deps,
        kinds={"pandas", "sql"},
        description=f"{table.description} Grain: {table.grain}. For BI tools: stable columns, aggregates only.",
        metadata=definition_metadata(table),
    )
    @incrementally([name])
    def _asset(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
        data = Inputs(warehouse)
        df = build(data)
        suppressed = int(df["suppressed"].sum())
        yield _write(context, data, name, df, cells=len(df), cells_suppressed=suppressed, **extra(df))

    return _asset


published_assets = [
    _published(
        "pub_sector_flows",
        ["fct_sector_inflow", "fct_sector_outflow", "fct_internal_mobility"],
        lambda d: publish.publish_sector_flows(
            d["fct_sector_inflow"],
            d["fct_sector_outflow"],
            d["fct_internal_mobility"],
            d["dim_region"],
            d["dim_partner"],
        ),
    ),
    # Retention cohorts are the inflow totals of pub_sector_flows: what that table hides is hidden here too.
    _published(
        "pub_retention",
        ["fct_retention", "pub_sector_flows"],
        lambda d: publish.publish_retention(
            d["fct_retention"], d["dim_region"], hidden_inflow_totals(d["pub_sector_flows"])
        ),
    ),
    _published(
        "pub_programme_flows",
        ["fct_programme_flows"],
        lambda d: publish.publish_programme_flows(d["fct_programme_flows"], d["dim_region"]),
    ),
    _published(
        "pub_target_attainment",
        ["fct_target_attainment"],
        lambda d: publish.publish_target_attainment(d["fct_target_attainment"], d["dim_target"]),
        lambda df: {
            "attainment": dg.MetadataValue.md(
                markdown_preview(
                    df.loc[
                        df["is_latest"],
                        [
                            "target_code",
                            "as_of_date",
                            "target_number",
                            "achieved",
                            "share_attained",
                            "expected_to_date",
                            "status",
                            "forecast",
                            "required_monthly_rate",
                        ],
                    ],
                    rows=50,
                )
            )
        },
    ),
]

statistics_assets = [
    sector_flow_facts,
    retention_facts,
    fct_programme_flows,
    target_facts,
    person_and_period_dimensions,
    fct_person_residence,
    *published_assets,
]
