"""One whole pipeline run over ordinary deliveries plus the hostile corpus (sampledata/hostile.py), on a
real Dagster instance, with the peak memory of the process tree sampled while it runs.

Used by tests/test_hostile_corpus.py (every file has its record, the rest loads) and
tests/test_privacy_audit.py (no planted identifier anywhere). The fixture is in conftest.py: session
scope, once per warehouse.
"""

from __future__ import annotations

import contextlib
import shutil
import threading
import time
from pathlib import Path

import dagster as dg
import psutil

from pipelines.checks import all_checks
from pipelines.definitions import all_assets
from pipelines.resources import IngestResource, WarehouseResource
from sampledata.hostile import write_hostile_corpus


class PeakMemory:
    """Peak resident memory of this process and all its children (workers, the isolated readers' server
    and the readers forked from it), sampled every 20 ms in a thread."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        me = psutil.Process()
        while not self._stop.is_set():
            total = 0
            for p in [me, *me.children(recursive=True)]:
                with contextlib.suppress(psutil.Error):  # a reader that just ended
                    total += p.memory_info().rss
            self.peak = max(self.peak, total)
            self._stop.wait(0.02)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def hostile_landing(sample: dict, root: Path):
    """A copy of the ordinary sample's landing zone with the corpus added (the shared sample stays clean)."""
    landing = root / "landing"
    shutil.copytree(sample["landing"], landing, symlinks=True)
    return landing, write_hostile_corpus(landing, root / "outside")


def run_hostile(url: str, sample: dict, root: Path, backend: str) -> dict:
    landing, corpus = hostile_landing(sample, root)
    home = root / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    instance = dg.DagsterInstance.from_config(str(home))
    started = time.monotonic()
    with PeakMemory() as memory:
        result = dg.materialize(
            [*all_assets, *all_checks],
            instance=instance,
            resources={
                "warehouse": WarehouseResource(url=url),
                "ingest": IngestResource(
                    environment="test", landing_dir=str(landing), feedback_dir=str(root / "feedback")
                ),
            },
            raise_on_error=False,
        )
    seconds = time.monotonic() - started
    print(
        f"\nhostile corpus run on {backend}: {len(corpus.expected)} hostile entries beside the ordinary sample, "
        f"success={result.success}, {seconds:.1f} s, peak memory of the process tree {memory.peak / 2**20:,.0f} MiB"
    )
    events = instance.all_logs(result.run_id)
    event_text = "\n".join(dg.serialize_value(e) for e in events)
    instance.dispose()
    return {
        "result": result,
        "corpus": corpus,
        "landing": landing,
        "root": root,
        "home": home,
        "events": events,
        "event_text": event_text,
        "peak_bytes": memory.peak,
        "backend": backend,
    }
