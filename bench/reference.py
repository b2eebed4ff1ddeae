"""Reference: sector inflow/outflow counts per municipality and month by DuckDB SQL alone (bench/reference.sql),
compared with the pipeline's fct_sector_inflow / fct_sector_outflow (distinct persons per cell).

SIMPLIFICATION: the reference starts from the pipeline's own stg_employment_spells (validated,
pseudonymised rows), not from the delivery files; see the top of reference.sql.

    python bench/reference.py --warehouse bench/out/scale_1/warehouse.duckdb [--json out.json]

Exit code 0 when the counts are equal, 1 when they differ (the differing cells are printed).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import duckdb

SQL = Path(__file__).with_name("reference.sql")
FLOWS_SQL = Path(__file__).with_name("reference_flows.sql")

PIPELINE_COUNTS = """
SELECT 'inflow' AS measure, municipality_code, CAST(event_month AS DATE) AS event_month,
       count(DISTINCT person_id) AS persons
FROM fct_sector_inflow GROUP BY ALL
UNION ALL
SELECT 'outflow', municipality_code, CAST(event_month AS DATE), count(DISTINCT person_id)
FROM fct_sector_outflow GROUP BY ALL
"""

DIFF = """
SELECT coalesce(r.measure, p.measure) AS measure,
       coalesce(r.municipality_code, p.municipality_code) AS municipality_code,
       coalesce(r.event_month, p.event_month) AS event_month,
       coalesce(r.persons, 0) AS reference, coalesce(p.persons, 0) AS pipeline
FROM ref_counts r
FULL OUTER JOIN pipeline_counts p
  ON r.measure = p.measure AND r.municipality_code IS NOT DISTINCT FROM p.municipality_code
 AND r.event_month = p.event_month
WHERE coalesce(r.persons, 0) <> coalesce(p.persons, 0)
ORDER BY 1, 3, 2
"""


def run_reference(con: duckdb.DuckDBPyConnection) -> float:
    """Run reference.sql and reference_flows.sql on an open connection; seconds taken.

    Leaves the tables ref_counts, ref_inflow, ... on the connection.
    """
    t0 = time.perf_counter()
    con.execute(SQL.read_text())
    con.execute(FLOWS_SQL.read_text())
    return time.perf_counter() - t0


def compare(warehouse: str | Path) -> dict:
    """Reference vs pipeline counts of one warehouse file: totals, differing cells, SQL seconds."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        sql_s = run_reference(con)
        con.execute(f"CREATE TEMP TABLE pipeline_counts AS {PIPELINE_COUNTS}")
        diffs = con.execute(DIFF).fetchall()
        totals = {}
        for table, measure in (("ref_counts", "reference"), ("pipeline_counts", "pipeline")):
            for m, cells, persons in con.execute(
                f"SELECT measure, count(*), sum(persons) FROM {table} GROUP BY measure ORDER BY measure"
            ).fetchall():
                totals[f"{measure}_{m}"] = {"cells": cells, "persons_summed": int(persons)}
        window = con.execute(
            "SELECT CAST(observation_start AS VARCHAR), CAST(cutoff AS VARCHAR) FROM ref_window"
        ).fetchone()
        assert window is not None  # ref_window is one row of scalar subqueries
    finally:
        con.close()
    differences = [
        {"measure": m, "municipality_code": mun, "event_month": str(month), "reference": r, "pipeline": p}
        for m, mun, month, r, p in diffs
    ]
    return {
        "sql_s": sql_s,
        "observation_start": window[0],
        "cutoff": window[1],
        "totals": totals,
        "differences": differences,
        "verdict": "EQUAL" if not differences else f"DIFFERENT in {len(differences)} cells",
        "simplification": "reference reads stg_employment_spells (validated, pseudonymised), not the delivery files",
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--warehouse", required=True, type=Path)
    ap.add_argument("--json", type=Path, help="write the result here as JSON")
    args = ap.parse_args(argv)
    result = compare(args.warehouse)
    print(f"reference SQL: {result['sql_s']:.3f} s (window {result['observation_start']} .. {result['cutoff']})")
    print("SIMPLIFICATION: " + result["simplification"])
    for k, v in result["totals"].items():
        print(f"  {k}: {v['cells']} cells, {v['persons_summed']} persons summed over cells")
    print(f"reference vs pipeline: {result['verdict']}")
    for d in result["differences"]:
        print(f"  {d}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, default=str))
    return 0 if not result["differences"] else 1


if __name__ == "__main__":
    sys.exit(main())
