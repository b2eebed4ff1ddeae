"""Benchmark: how fast and how big the pipeline is, side by side with a DuckDB SQL reference.

    python bench/run_bench.py --scales 1 10 --out bench/out

Per scale: generate the sample deliveries (2019-01..2024-12) into <out>/scale_<s>/sample (skipped when
already there, --regenerate forces it), run the whole pipeline with the dagster CLI in a subprocess
(own DAGSTER_HOME and DuckDB file under <out>/scale_<s>/), measure wall time and the peak RSS of the
whole process tree (psutil polling, summed over the tree; plus GNU /usr/bin/time -v's max RSS of the
largest single process when that binary exists), read the per-step durations from the run's event
log (STEP_SUCCESS) and group them into stages, run bench/reference.py (DuckDB SQL over the staging table)
and bench/reference_files.py (DuckDB SQL from the delivery files themselves: like with like for the
end-to-end figure) the same way and compare their inflow/outflow counts, then add one monthly delivery
and time the incremental run.
Results go to stdout and to <out>/results.json.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

try:
    import psutil
except ImportError:  # the project's venv does not ship it: `pip install psutil`
    psutil = None

#: The issue's stages, in order. The staging assets time their own parts (asset metadata
#: seconds_per_stage): finding files (list + SHA-256), read, map + parse, validate and load, as wall
#: time of the run process (with worker processes: the time it waits for them; their own seconds are
#: listed apart, in parentheses, and overlap the rest); everything
#: after staging is "transform" (facts, statistics, published tables: built and written in the
#: warehouse); then partner feedback, the report, the asset checks, and what the Dagster process
#: spends outside any step (start-up, loading the definitions, the event log).
STAGES = [
    "find files",
    "read",
    "map + parse",
    "validate",
    "load",
    "transform",
    "feedback",
    "report",
    "checks",
    "dagster start-up + between steps",
]
INGEST_PARTS = {
    "discover": "find files",
    "read": "read",
    "map_parse": "map + parse",
    "validate": "validate",
    "load": "load",
}
#: Dagster asset group -> benchmark stage (the staging group is split by INGEST_PARTS).
GROUP_STAGE = {
    "reference": "transform",
    "core": "transform",
    "statistics": "transform",
    "published": "transform",
    "operations": "transform",
    "feedback": "feedback",
    "report": "report",
    "staging": "staging",
}


# --- measuring a process tree --------------------------------------------------------------------------


def gnu_time() -> str | None:
    """GNU time, when installed (it reports the max RSS of the largest single process, with -v)."""
    if not Path("/usr/bin/time").exists():
        return None
    probe = subprocess.run(["/usr/bin/time", "-v", "true"], capture_output=True, text=True)
    return "/usr/bin/time" if probe.returncode == 0 and "Maximum resident" in probe.stderr else None


def measured(cmd: list[str], env: dict, log: Path, poll: float = 0.05) -> dict:
    """Run cmd; wall seconds, peak RSS of the process tree (psutil, summed), GNU time's max RSS."""
    timer = gnu_time()
    full = [timer, "-v", *cmd] if timer else cmd
    peak = [0]
    t0 = time.perf_counter()
    with open(log, "w") as out:
        proc = subprocess.Popen(full, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
        done = threading.Event()

        def watch():
            if psutil is None:
                return
            try:
                root = psutil.Process(proc.pid)
            except psutil.NoSuchProcess:
                return
            while not done.is_set():
                total = 0
                try:
                    for p in [root, *root.children(recursive=True)]:
                        with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
                            total += p.memory_info().rss
                except psutil.NoSuchProcess:
                    break
                peak[0] = max(peak[0], total)
                time.sleep(poll)

        th = threading.Thread(target=watch, daemon=True)
        th.start()
        rc = proc.wait()
        done.set()
        th.join()
    wall = time.perf_counter() - t0
    gnu_kib = None
    if timer:
        m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", log.read_text(errors="replace"))
        gnu_kib = int(m.group(1)) if m else None
    return {
        "returncode": rc,
        "wall_s": wall,
        "peak_rss_tree_mib": peak[0] / 2**20 if psutil else None,
        "gnu_time_max_rss_mib": gnu_kib / 1024 if gnu_kib else None,
    }


# --- the pipeline ----------------------------------------------------------------------------------


def generate(scale: float, sample: Path, regenerate: bool) -> float | None:
    if (sample / "truth" / "manifest.json").exists() and not regenerate:
        return None
    shutil.rmtree(sample, ignore_errors=True)
    t0 = time.perf_counter()
    subprocess.run(
        [
            str(BIN / "python"),
            "-m",
            "sampledata",
            "--out",
            str(sample),
            "--scale",
            str(scale),
            "--from",
            "2019-01",
            "--to",
            "2024-12",
        ],
        check=True,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - t0


def pipeline_env(work: Path, landing: Path) -> dict:
    env = dict(os.environ)
    env.update(
        {
            "DAGSTER_HOME": str(work / "dagster_home"),
            "ZORGSTROOM_WAREHOUSE_URL": f"duckdb:///{work / 'warehouse.duckdb'}",
            "ZORGSTROOM_LANDING_DIR": str(landing),
            "ZORGSTROOM_FEEDBACK_DIR": str(work / "feedback"),
            "ZORGSTROOM_ENV": "development",
        }
    )
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    return env


def run_pipeline(work: Path, landing: Path, tag: str) -> dict:
    env = pipeline_env(work, landing)
    cmd = [str(BIN / "dagster"), "asset", "materialize", "--select", "*", "-m", "pipelines.definitions"]
    res = measured(cmd, env, work / f"pipeline_{tag}.log")
    res["stages"], res["run_id"] = stage_seconds(work / "dagster_home", res["wall_s"])
    return res


def asset_groups() -> dict[str, str]:
    """Asset name -> Dagster group, from the code location."""
    from pipelines.definitions import defs

    groups: dict[str, str] = {}
    for spec in defs.resolve_all_asset_specs():
        assert spec.group_name is not None, spec.key  # every asset of the pipeline names its group
        groups[spec.key.to_user_string()] = spec.group_name
    return groups


def stage_seconds(home: Path, wall_s: float | None = None) -> tuple[dict[str, float], str | None]:
    """Seconds per stage of the latest run in `home`, from its event log: STEP_SUCCESS durations, the
    stage from the group of the assets the step materialised, staging split by its own timings."""
    import dagster as dg
    from dagster._core.events import StepSuccessData  # not exported: narrows the event-data union

    groups = asset_groups()
    with dg.DagsterInstance.from_config(str(home)) as instance:
        runs = instance.get_runs(limit=1)
        if not runs:
            return {}, None
        run_id = runs[0].run_id
        logs = instance.all_logs(run_id)
    step_assets: dict[str, set[str]] = {}
    durations: dict[str, float] = {}
    ingest_parts: dict[str, float] = {}
    for entry in logs:
        ev = entry.dagster_event
        if ev is None:
            continue
        if ev.event_type == dg.DagsterEventType.ASSET_MATERIALIZATION and ev.asset_key is not None:
            materialization = entry.asset_materialization
            assert ev.step_key is not None and materialization is not None  # a run's step materialised it
            step_assets.setdefault(ev.step_key, set()).add(ev.asset_key.to_user_string())
            parts = materialization.metadata.get("seconds_per_stage")
            if parts is not None:  # the staging assets' {part: seconds}
                assert isinstance(parts, dg.JsonMetadataValue), parts
                seconds = parts.value
                assert isinstance(seconds, Mapping), parts
                for part, sec in seconds.items():
                    ingest_parts[part] = ingest_parts.get(part, 0.0) + sec
        elif ev.event_type == dg.DagsterEventType.STEP_SUCCESS:
            success = ev.event_specific_data
            assert ev.step_key is not None and isinstance(success, StepSuccessData), ev
            durations[ev.step_key] = success.duration_ms / 1000
    stages = dict.fromkeys(STAGES, 0.0)
    for step, sec in durations.items():
        found = {GROUP_STAGE.get(groups.get(a, ""), "other") for a in step_assets.get(step, set())}
        stage = sorted(found)[0] if len(found) == 1 else ("checks" if not found else "+".join(sorted(found)))
        if stage == "staging":  # split by the staging assets' own timings; the rest of their step is load
            continue
        stages[stage] = stages.get(stage, 0.0) + sec
    staging_steps = sum(
        sec
        for step, sec in durations.items()
        if {GROUP_STAGE.get(groups.get(a, ""), "") for a in step_assets.get(step, set())} == {"staging"}
    )
    workers: dict[str, float] = {}
    for part, sec in ingest_parts.items():
        if part.endswith("_in_workers"):  # CPU spent in worker processes, overlapping the wall stages
            name = INGEST_PARTS.get(part.removesuffix("_in_workers"), part)
            workers[name] = workers.get(name, 0.0) + sec
            continue
        stages[INGEST_PARTS.get(part, part)] += sec
    for name, sec in workers.items():
        stages[f"({name} in worker processes)"] = sec
    wall_parts = sum(sec for part, sec in ingest_parts.items() if not part.endswith("_in_workers"))
    stages["load"] += max(staging_steps - wall_parts, 0.0)  # metadata queries after the loads
    if wall_s is not None:
        stages["dagster start-up + between steps"] = max(wall_s - sum(durations.values()), 0.0)
    return stages, run_id


def source_rows(sample: Path) -> int:
    manifest = json.loads((sample / "truth" / "manifest.json").read_text())
    return sum(int(f.get("data_rows") or 0) for f in manifest["files"])


def staging_rows(warehouse: Path) -> dict[str, int]:
    import duckdb

    def count(con: duckdb.DuckDBPyConnection, table: str) -> int:
        row = con.sql(f"SELECT count(*) FROM {table}").fetchone()
        assert row is not None  # count(*) returns one row
        return row[0]

    with duckdb.connect(str(warehouse), read_only=True) as con:
        return {
            t: count(con, t)
            for t in (
                "stg_employment_spells",
                "stg_enrolments",
                "stg_municipal_participants",
                "fct_sector_inflow",
                "fct_sector_outflow",
            )
        }


def add_next_month(landing: Path, partner: str = "zorggroep_haaglanden") -> Path:
    """Copy the partner's latest monthly file as the next month (same rows, new period label)."""
    files = sorted(p for p in (landing / partner).iterdir() if re.search(r"\d{4}-?\d{2}", p.name))
    last = files[-1]
    m = re.search(r"(\d{4})(-?)(\d{2})", last.name)
    assert m is not None  # the files were picked by this pattern
    y, sep, mo = int(m.group(1)), m.group(2), int(m.group(3))
    y, mo = (y + 1, 1) if mo == 12 else (y, mo + 1)
    new = last.with_name(last.name[: m.start()] + f"{y:04d}{sep}{mo:02d}" + last.name[m.end() :])
    shutil.copyfile(last, new)
    return new


def run_reference(work: Path) -> dict:
    out = work / "reference.json"
    cmd = [
        str(BIN / "python"),
        str(ROOT / "bench" / "reference.py"),
        "--warehouse",
        str(work / "warehouse.duckdb"),
        "--json",
        str(out),
    ]
    res = measured(cmd, dict(os.environ), work / "reference.log")
    if out.exists():
        res.update(json.loads(out.read_text()))
    return res


def run_files_reference(work: Path) -> dict:
    """bench/reference_files.py on the landing folder the warehouse was loaded from: xlsx conversion, file scan and
    SQL seconds, and its inflow/outflow counts against the warehouse's."""
    out = work / "reference_files.json"
    cmd = [
        str(BIN / "python"),
        str(ROOT / "bench" / "reference_files.py"),
        "--landing",
        str(work / "landing"),
        "--warehouse",
        str(work / "warehouse.duckdb"),
        "--json",
        str(out),
    ]
    res = measured(cmd, dict(os.environ), work / "reference_files.log")
    if out.exists():
        res.update(json.loads(out.read_text()))
    return res


# --- main ------------------------------------------------------------------------------------------


def bench_scale(scale: float, out: Path, regenerate: bool, incremental: bool) -> dict:
    work = out / f"scale_{scale:g}"
    sample = work / "sample"
    work.mkdir(parents=True, exist_ok=True)
    gen = generate(scale, sample, regenerate)
    # a fresh warehouse and instance each time; the sample is copied so the incremental file never touches it
    for name in ("warehouse.duckdb", "warehouse.duckdb.wal", "dagster_home", "feedback", "landing"):
        p = work / name
        shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink(missing_ok=True)
    shutil.copytree(sample / "landing", work / "landing")
    (work / "dagster_home").mkdir()
    shutil.copyfile(ROOT / "config" / "dagster" / "dagster.yaml", work / "dagster_home" / "dagster.yaml")

    result: dict[str, Any] = {"scale": scale, "generate_s": gen, "source_rows": source_rows(sample)}
    print(f"[scale {scale:g}] full pipeline run ...", flush=True)
    result["full"] = run_pipeline(work, work / "landing", "full")
    if result["full"]["returncode"] != 0:
        print(f"  pipeline FAILED, see {work / 'pipeline_full.log'}", flush=True)
        return result
    result["rows"] = staging_rows(work / "warehouse.duckdb")
    print(f"[scale {scale:g}] reference ...", flush=True)
    result["reference"] = run_reference(work)
    print(f"[scale {scale:g}] reference from the files ...", flush=True)
    result["reference_files"] = run_files_reference(work)
    if incremental:
        new = add_next_month(work / "landing")
        result["incremental_file"] = new.name
        print(f"[scale {scale:g}] incremental run with {new.name} ...", flush=True)
        result["incremental"] = run_pipeline(work, work / "landing", "incremental")
    return result


def fmt(x, spec=".1f"):
    return "-" if x is None else format(x, spec)


#: The issue's targets.
TARGET_RATIO, TARGET_PEAK_MIB, TARGET_INCREMENTAL_SHARE, TARGET_DEMO_S = 3.0, 4096, 0.15, 60.0


def report(results: list[dict]) -> None:
    print()
    print(f"{'scale':>5} {'source rows':>11} {'stage':<34} {'seconds':>8} {'rows/s':>10}")
    for r in results:
        full = r.get("full", {})
        n = r["source_rows"]
        for stage, sec in full.get("stages", {}).items():
            if sec:
                print(f"{r['scale']:>5g} {n:>11,} {stage:<34} {sec:>8.2f} {n / sec if sec else 0:>10,.0f}")
        print(
            f"{r['scale']:>5g} {n:>11,} {'END TO END (dagster CLI process)':<34} {full.get('wall_s', 0):>8.2f} "
            f"{n / full['wall_s'] if full.get('wall_s') else 0:>10,.0f}   peak RSS tree "
            f"{fmt(full.get('peak_rss_tree_mib'))} MiB,"
            f" largest process {fmt(full.get('gnu_time_max_rss_mib'))} MiB"
        )
        fref = r.get("reference_files")
        if fref:
            print(
                f"{r['scale']:>5g} {n:>11,} {'REFERENCE from the files (DuckDB)':<34} "
                f"{fmt(fref.get('wall_s'), '8.2f'):>8} "
                f"{n / fref['wall_s'] if fref.get('wall_s') else 0:>10,.0f}   SQL {fmt(fref.get('sql_s'), '.2f')} s, "
                "xlsx "
                f"conversion {fmt(fref.get('xlsx_s'), '.2f')} s, file scan {fmt(fref.get('scan_s'), '.2f')} s; "
                f"peak RSS {fmt(fref.get('peak_rss_tree_mib'))} MiB"
            )
            if full.get("wall_s") and fref.get("wall_s"):
                print(
                    f"      RATIO pipeline / reference, end to end, both from the delivery files: "
                    f"{full['wall_s'] / fref['wall_s']:,.1f}x"
                )
            deliveries = fref.get("delivery_differences")
            statuses = (
                "no result" if deliveries is None else "EQUAL" if not deliveries else f"DIFFERENT for {len(deliveries)}"
            )
            print(
                f"      reference from the files vs pipeline: inflow/outflow {fref.get('verdict', 'no result')}, "
                f"target attainment {fref.get('targets_verdict', 'no result')}, delivery statuses and accepted rows "
                f"{statuses}"
            )
            for d in [*fref.get("differences", []), *fref.get("target_differences", []), *(deliveries or [])][:20]:
                print(f"        {d}")
        ref = r.get("reference")
        if ref:
            print(
                f"      reference from stg_employment_spells (current records + flow rules only): "
                f"{ref.get('verdict', 'no result')}, SQL {fmt(ref.get('sql_s'), '.2f')} s"
            )
        inc = r.get("incremental")
        if inc and full.get("wall_s"):
            print(
                f"{r['scale']:>5g} {'':>11} {'INCREMENTAL run (one new delivery)':<34} {inc['wall_s']:>8.2f} {'':>10} "
                "  "
                f"{100 * inc['wall_s'] / full['wall_s']:.0f}% of the full run ({r['incremental_file']}),"
                f" peak RSS tree {fmt(inc.get('peak_rss_tree_mib'))} MiB"
            )
            for stage, sec in inc.get("stages", {}).items():
                if sec:
                    print(f"{'':>5} {'':>11}   {stage:<32} {sec:>8.2f}")
    print()
    print("targets (issue 6):")
    for line in target_lines(results):
        print("  " + line)


def target_lines(results: list[dict]) -> list[str]:
    """Each target of the issue with the measured value, from the largest and the demo-sized scales."""
    ok = [r for r in results if r.get("full", {}).get("returncode") == 0]
    if not ok:
        return ["no successful run"]
    big = max(ok, key=lambda r: r["source_rows"])
    lines = []
    fref = big.get("reference_files", {})
    if fref.get("wall_s"):
        ratio = big["full"]["wall_s"] / fref["wall_s"]
        lines.append(
            f"{'met' if ratio <= TARGET_RATIO else 'NOT met'}: end to end within {TARGET_RATIO:g}x of the reference at "
            f"{big['source_rows']:,} source rows: {ratio:.1f}x"
        )
    peak = max((r["full"].get("peak_rss_tree_mib") or 0) for r in ok)
    lines.append(
        f"{'met' if peak < TARGET_PEAK_MIB else 'NOT met'}: peak memory under 4 GiB: {peak:,.0f} MiB (largest over "
        "the scales)"
    )
    if big.get("incremental", {}).get("wall_s"):
        share = big["incremental"]["wall_s"] / big["full"]["wall_s"]
        lines.append(
            f"{'met' if share < TARGET_INCREMENTAL_SHARE else 'NOT met'}: incremental run under "
            f"{TARGET_INCREMENTAL_SHARE:.0%} of a full run at {big['source_rows']:,} rows: {share:.0%}"
        )
    demo = [r for r in ok if r["scale"] == 1]
    if demo:
        wall = demo[0]["full"]["wall_s"]
        lines.append(
            f"{'met' if wall < TARGET_DEMO_S else 'NOT met'}: demo-sized pipeline run under {TARGET_DEMO_S:g} s: "
            f"{wall:.1f} s"
        )
    return lines


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scales", nargs="+", type=float, default=[1.0])
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    ap.add_argument("--regenerate", action="store_true", help="generate the sample again even when present")
    ap.add_argument("--no-incremental", action="store_true")
    args = ap.parse_args(argv)
    out = args.out.resolve()
    if psutil is None:
        print("psutil is not installed: no process-tree memory (pip install psutil); GNU time only", file=sys.stderr)
    sys.path[:0] = [str(ROOT), str(ROOT / "src")]
    results = []
    for s in args.scales:
        results.append(bench_scale(s, out, args.regenerate, not args.no_incremental))
        (out / "results.json").write_text(json.dumps(results, indent=2, default=str))
    report(results)
    return 0 if all(r.get("full", {}).get("returncode") == 0 for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
