"""The landing sensor: a run when partners deliver new or changed files, and archiving loaded files.

The sensor scans `<ZORGSTROOM_LANDING_DIR>/<partner>/**` (hidden files and folders skipped, links
never followed, files directly in the landing folder ignored: they belong to no partner) every
minute, with the same listing as the ingester (ingest/deliveries.py, `list_landing`). A file over
ZORGSTROOM_MAX_FILE_BYTES is never hashed: it is never read either. All new or
changed files found in one evaluation give ONE run request, whose run key is derived from the
sorted (relative path, SHA-256) pairs of those files: the same files never give a second run
(Dagster drops a run request whose run key this sensor already used, even if the cursor is lost),
and a file whose bytes change gives a new run key.

The cursor is JSON, relative path -> "size:mtime_ns:sha256", so an unchanged file (same size and
modification time) is not hashed again every minute; a touched file (new mtime, same bytes) is
hashed once, found unchanged, and gives no run.

The run that the sensor requests is a normal run of the job: it reads the whole landing folder
and skips the deliveries it already knows (see warehouse/ingest_feed.py). The list of files in
the run's tags is for people reading the run, not an instruction to the assets.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import dagster as dg
from dagster._core.storage.dagster_run import DagsterRun, DagsterRunStatus, RunsFilter

from core.settings import load_settings
from ingest.archive import archive_loaded_files  # noqa: F401  (re-exported: the sensor's companion)
from ingest.deliveries import FILE, list_landing, listing_fingerprint, sha256_of

if TYPE_CHECKING:
    from dagster._core.definitions.unresolved_asset_job_definition import UnresolvedAssetJobDefinition

    JobLike = dg.JobDefinition | UnresolvedAssetJobDefinition

#: Runs that write the warehouse carry this tag; the production instance allows one such run at a
#: time (config/dagster/dagster.production.yaml, `tag_concurrency_limits`).
WRITES_WAREHOUSE_TAG = "zorgstroom/writes-warehouse"
#: Relative paths of the files that triggered the run (JSON list, truncated) and their number.
LANDING_FILES_TAG = "zorgstroom/landing-files"
LANDING_FILE_COUNT_TAG = "zorgstroom/landing-file-count"
MAX_LISTED_FILES = 20
MAX_LISTED_CHARS = 1000


def scan_landing(landing_dir: Path) -> list[tuple[str, Path]]:
    """(relative posix path, absolute path) of every delivery file in a partner folder, sorted.

    Only regular files inside `<landing>/<partner>/` count; hidden files and folders (a name starting
    with a dot, e.g. an upload in progress named `.part`) and links are skipped, never followed.
    """
    found: list[tuple[str, Path]] = []
    for partner_dir in sorted(landing_dir.iterdir()):
        if partner_dir.name.startswith(".") or partner_dir.is_symlink() or not partner_dir.is_dir():
            continue
        found.extend(
            (entry.path.relative_to(landing_dir).as_posix(), entry.path)
            for entry in list_landing(partner_dir)
            if entry.kind == FILE
        )
    return found


def _parse_cursor(cursor: str | None) -> dict[str, tuple[int, int, str]]:
    """The cursor's per-file state; an unreadable cursor counts as empty (every file is hashed again)."""
    if not cursor:
        return {}
    try:
        raw = json.loads(cursor)
    except ValueError:
        return {}
    state: dict[str, tuple[int, int, str]] = {}
    if isinstance(raw, dict):
        for relative, value in raw.items():
            parts = str(value).split(":")
            if len(parts) == 3 and parts[0].isdigit() and parts[1].isdigit() and parts[2]:
                state[str(relative)] = (int(parts[0]), int(parts[1]), parts[2])
    return state


def _format_cursor(state: dict[str, tuple[int, int, str]]) -> str:
    return json.dumps({k: f"{s}:{m}:{h}" for k, (s, m, h) in sorted(state.items())}, separators=(",", ":"))


def landing_run_key(files: Iterable[tuple[str, str]]) -> str:
    """The run key of a batch of (relative path, sha256) pairs: the same batch always gives the same key."""
    pairs = sorted((str(relative), str(digest)) for relative, digest in files)
    payload = json.dumps(pairs, separators=(",", ":")).encode()
    return "landing-" + hashlib.sha256(payload).hexdigest()


def _listed_files(relative_paths: list[str]) -> str:
    """A JSON list of the first relative paths that fit in MAX_LISTED_FILES and MAX_LISTED_CHARS."""
    shown: list[str] = []
    for relative in relative_paths[:MAX_LISTED_FILES]:
        if len(json.dumps([*shown, relative])) > MAX_LISTED_CHARS:
            break
        shown.append(relative)
    return json.dumps(shown)


def evaluate_landing(
    landing_dir: Path, cursor: str | None, log=None, max_bytes: int | None = None
) -> tuple[list[tuple[str, str]], str]:
    """New or changed files as (relative path, sha256), and the new cursor. Reads only what changed; a file
    over `max_bytes` is identified by its size and modification time instead of its bytes."""
    previous = _parse_cursor(cursor)
    state: dict[str, tuple[int, int, str]] = {}
    changed: list[tuple[str, str]] = []
    for relative, path in scan_landing(landing_dir):
        try:
            stat = path.stat()
            known = previous.get(relative)
            mtime_ns = getattr(stat, "st_mtime_ns", 0)
            if known and mtime_ns and known[0] == stat.st_size and known[1] == mtime_ns:
                digest = known[2]  # same size and mtime: trust the stored hash
            elif max_bytes is not None and stat.st_size > max_bytes:
                digest = listing_fingerprint("large", relative, stat.st_size, mtime_ns)
            else:
                digest = sha256_of(path)
        except OSError as exc:  # removed or unreadable between the scan and the read: next time
            if log is not None:
                log.warning(f"Skipping {relative} for now: {exc.__class__.__name__}")
            continue
        state[relative] = (stat.st_size, mtime_ns, digest)
        if not known or known[2] != digest:
            changed.append((relative, digest))
    return changed, _format_cursor(state)


#: Runs that have not yet read the landing folder: every file there now will be read by them.
_NOT_YET_READING = [DagsterRunStatus.QUEUED, DagsterRunStatus.NOT_STARTED, DagsterRunStatus.STARTING]


def _landed_at(path) -> float | None:
    """When a file got its current name and bytes (the later of mtime and ctime: a rename from the
    hidden upload name changes only the ctime); None when the file system does not say."""
    try:
        stat = path.stat()
    except OSError:
        return None
    times = [t for t in (getattr(stat, "st_mtime", None), getattr(stat, "st_ctime", None)) if t]
    return max(times) if times else None


def run_that_will_read(instance: dg.DagsterInstance, job_name: str, paths: list) -> DagsterRun | None:
    """A run of `job_name` that will read all of these files anyway, or None.

    Every run of the job reads the whole landing folder when its staging steps start. So a run
    that is queued (or starting) will see every file that is there now, and a run that started
    after the last of them landed has seen them. For such files another run would only queue up
    to find nothing new (the CLI's run and the sensor's first tick after `make pipeline` started
    the daemon, say). A run that started before a file landed gives no cover: the file gets its
    own run, queued behind it.
    """
    pending = instance.get_runs(RunsFilter(job_name=job_name, statuses=_NOT_YET_READING), limit=1)
    if pending:
        return pending[0]
    landed = [_landed_at(p) for p in paths]
    if not landed or any(t is None for t in landed):
        return None
    latest = max(t for t in landed if t is not None)
    for record in instance.get_run_records(RunsFilter(job_name=job_name, statuses=[DagsterRunStatus.STARTED]), limit=5):
        if record.start_time is not None and record.start_time > latest + 1.0:  # 1 s: coarse file-system clocks
            return record.dagster_run
    return None


def build_landing_sensor(
    job: JobLike,
    *,
    name: str = "landing_sensor",
    minimum_interval_seconds: int = 60,
    default_status: dg.DefaultSensorStatus = dg.DefaultSensorStatus.RUNNING,
) -> dg.SensorDefinition:
    """A sensor that requests one run of `job` per batch of new or changed delivery files.

    RUNNING by default, so the daemon of `make dev` (and of production) picks deliveries up
    without anyone switching the sensor on in the UI.
    """
    job_name = job.name

    @dg.sensor(
        job=job,
        name=name,
        minimum_interval_seconds=minimum_interval_seconds,
        default_status=default_status,
        description=(
            "Requests a run when partners deliver new or changed files in the landing folder "
            "(ZORGSTROOM_LANDING_DIR/<partner>/). One run per batch; the run key is derived from the "
            "files' relative paths and SHA-256, so the same files never give a second run."
        ),
    )
    def _landing_sensor(context: dg.SensorEvaluationContext):
        settings = load_settings()  # read at every evaluation, never at import time
        landing_dir = settings.landing_dir
        if not landing_dir.is_dir():
            return dg.SkipReason(
                f"The landing folder {landing_dir} does not exist or is not a folder "
                "(ZORGSTROOM_LANDING_DIR): nothing to scan."
            )
        changed, new_cursor = evaluate_landing(landing_dir, context.cursor, context.log, settings.max_file_bytes)
        if not changed:
            return dg.SensorResult(
                skip_reason=dg.SkipReason(f"No new or changed files in {landing_dir}."),
                cursor=new_cursor,
            )
        relative_paths = sorted(relative for relative, _ in changed)
        context.log.info(
            f"{len(relative_paths)} new or changed file(s): {', '.join(relative_paths[:MAX_LISTED_FILES])}"
        )
        covering = run_that_will_read(context.instance, job_name, [landing_dir / r for r in relative_paths])
        if covering is not None:
            return dg.SensorResult(
                skip_reason=dg.SkipReason(
                    f"{len(relative_paths)} new or changed file(s) will be read by run {covering.run_id[:8]} of "
                    f"{job_name} ({covering.status.value.lower()}): it reads the landing folder after they landed."
                ),
                cursor=new_cursor,
            )
        return dg.SensorResult(
            run_requests=[
                dg.RunRequest(
                    run_key=landing_run_key(changed),
                    tags={
                        LANDING_FILES_TAG: _listed_files(relative_paths),
                        LANDING_FILE_COUNT_TAG: str(len(relative_paths)),
                        WRITES_WAREHOUSE_TAG: "true",
                    },
                )
            ],
            cursor=new_cursor,
        )

    return _landing_sensor
