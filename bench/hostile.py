"""Benchmark: the hostile corpus beside the demo's deliveries, one whole run; its peak memory must stay under 1 GiB.

    python bench/hostile.py --out bench/out/hostile            (make bench runs it)

Generates the demo's sample deliveries (2019-01..2024-12 at --scale, once; the one bench/run_bench.py made
beside --out is reused), copies
their landing zone and adds the hostile corpus of sampledata/hostile.py (a cell at XFD1048576, a header
of 200,000 columns, archives that lie about their sizes, links, a pipe, identifiers in the wrong columns,
...), then runs every asset with the dagster CLI in a subprocess on a fresh DuckDB file and Dagster home,
polling the resident memory of the whole process tree (bench/run_bench.py's `measured`). Prints the wall
time, the peak memory and what became of each hostile entry; exits 1 when the run failed, an entry did
not end as expected, or the peak memory reached --limit-mib (default 1024). This is where the memory
limit is asserted; tests/test_hostile_corpus.py measures and prints it but asserts no figure.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run_bench import BIN, ROOT, generate, measured, pipeline_env  # type: ignore[import-not-found]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "hostile")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--limit-mib", type=float, default=1024.0)
    parser.add_argument("--regenerate", action="store_true")
    args = parser.parse_args()

    from sampledata.hostile import write_hostile_corpus

    out = args.out.resolve()
    sample = out.parent / f"scale_{args.scale:g}" / "sample"  # run_bench.py's sample of that scale, if there
    generate(args.scale, sample, args.regenerate)
    work = out / "run"
    shutil.rmtree(work, ignore_errors=True)
    (work / "dagster_home").mkdir(parents=True)
    shutil.copy(ROOT / "config" / "dagster" / "dagster.yaml", work / "dagster_home" / "dagster.yaml")
    landing = work / "landing"
    shutil.copytree(sample / "landing", landing, symlinks=True)
    corpus = write_hostile_corpus(landing, work / "outside")

    cmd = [str(BIN / "dagster"), "asset", "materialize", "--select", "*", "-m", "pipelines.definitions"]
    result = measured(cmd, pipeline_env(work, landing), work / "pipeline.log")

    import duckdb

    con = duckdb.connect(str(work / "warehouse.duckdb"), read_only=True)
    log = con.execute(
        "SELECT coalesce(partner_code, ''), source_file, delivery_status, coalesce(reason_code, '') FROM delivery_log"
    ).fetchall()
    con.close()
    found = {(p, s): (st, code) for p, s, st, code in log}
    wrong = []
    print(f"{'entry':62} {'expected':36} got")
    for e in corpus.expected:
        want = (e.status, e.reason_code or "")
        got = found.get((e.partner_code or "", e.source_file))
        print(f"{e.what[:62]:62} {' '.join(want):36} {' '.join(got) if got else '(no record)'}")
        if got != want:
            wrong.append(e.what)
    peak = result["peak_rss_tree_mib"]
    print(
        f"\nhostile corpus: {len(corpus.expected)} entries beside {len(log) - len(corpus.expected)} ordinary "
        f"deliveries (scale {args.scale:g}); run {'succeeded' if result['returncode'] == 0 else 'FAILED'} in "
        f"{result['wall_s']:.1f} s; peak memory of the process tree {peak:,.0f} MiB (limit {args.limit_mib:,.0f} MiB)"
    )
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps({**result, "entries_not_as_expected": wrong}, indent=1))
    failures = []
    if result["returncode"] != 0:
        failures.append(f"the run failed: see {work / 'pipeline.log'}")
    if wrong:
        failures.append(f"entries not as expected: {wrong}")
    if peak is None or peak >= args.limit_mib:
        failures.append(f"peak memory {peak} MiB is not under {args.limit_mib:,.0f} MiB")
    for f in failures:
        print("FAIL:", f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
