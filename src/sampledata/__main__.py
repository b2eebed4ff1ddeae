"""CLI: python -m sampledata --out data/sample --scale 1 --seed 20191114 --from 2019-01 --to 2024-12"""

from __future__ import annotations

import argparse
import sys
import time

from .generate import generate_sample_deliveries


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m sampledata",
        description="Write seeded sample partner deliveries (landing/) and their truth (truth/).",
    )
    parser.add_argument("--out", default="data/sample", help="output directory (default: data/sample)")
    parser.add_argument("--scale", type=float, default=1.0, help="people multiplier (1 = ~2,500 persons)")
    parser.add_argument("--seed", type=int, default=20191114)
    parser.add_argument("--from", dest="first_period", default="2019-01", metavar="YYYY-MM")
    parser.add_argument("--to", dest="last_period", default="2024-12", metavar="YYYY-MM")
    parser.add_argument("--partners-dir", default=None, help="partner YAML folder (default: config/partners)")
    args = parser.parse_args(argv)

    t0 = time.perf_counter()
    try:
        manifest = generate_sample_deliveries(
            args.out,
            seed=args.seed,
            scale=args.scale,
            first_period=args.first_period,
            last_period=args.last_period,
            partners_dir=args.partners_dir,
        )
    except ValueError as exc:
        parser.error(str(exc))
    elapsed = time.perf_counter() - t0

    files = manifest["files"]
    print(f"sample deliveries in {args.out} ({elapsed:.1f} s): {len(files)} files, {manifest['persons']} persons")
    feeds: dict[str, list[int]] = {}
    for f in files:
        acc = feeds.setdefault(f["feed"], [0, 0, 0])
        acc[0] += 1
        acc[1] += f["data_rows"]
        acc[2] += f["bad_rows"]
    for feed, (n, rows, bad) in sorted(feeds.items()):
        print(
            f"  {feed:<24} {n:>4} files {rows:>9,} rows {bad:>6,} bad rows "
            f"(expected staging rows {manifest['expected_staging_rows'][feed]:,})"
        )
    special = [f for f in files if f["status"] != "load" or f["version"] > 1]
    for f in special:
        print(f"  {f['status']:<10} v{f['version']} {f['path']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
