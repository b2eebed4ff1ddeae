"""Resources, chosen per environment from environment variables when the definitions load."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

import dagster as dg
import sqlalchemy as sa
from pydantic import PrivateAttr

from core.errors import ConfigError
from core.paths import REFERENCE_DIR
from core.settings import default_bi_path, load_settings, pseudonym_key_from_env
from ingest.partner_config import PartnerConfig, PartnerMappings, default_partners_dir, load_partner_mappings
from ingest.reference import Reference
from warehouse.db import make_engine

#: Run tag naming the warehouse a run was submitted for (without a password); the run refuses any other.
WAREHOUSE_TAG = "zorgstroom/warehouse"


class WarehouseResource(dg.ConfigurableResource):
    """The warehouse database, by SQLAlchemy URL (DuckDB file by default, PostgreSQL in production)."""

    url: str
    #: Where BI tools' copy of the published tables goes (ZORGSTROOM_BI_PATH; empty: beside a DuckDB file).
    bi_path: str = ""
    _engine: sa.Engine | None = PrivateAttr(default=None)

    def engine(self) -> sa.Engine:
        if self._engine is None:
            self._engine = make_engine(self.url)
        return self._engine

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        """Refuse to write another warehouse than the one the run was submitted for: `make pipeline`
        submits to a queue whose daemon (`make dev`'s, say) may run with other settings."""
        run = context.run
        wanted = run.tags.get(WAREHOUSE_TAG) if run is not None else None
        if wanted and wanted != self.display_url():
            raise ConfigError(
                f"This run was submitted for the warehouse {wanted}, but the Dagster daemon that started it runs "
                f"with {self.display_url()} (its ZORGSTROOM_WAREHOUSE_URL). Start `make dev` with the same "
                "settings as `make pipeline`, or stop it: `make pipeline` then starts a daemon of its own."
            )

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        """Close the connections when a run ends: a DuckDB file is locked while any process holds it open."""
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    @property
    def backend(self) -> str:
        return sa.engine.make_url(self.url).get_backend_name()

    def display_url(self) -> str:
        """The URL without its password, for logs and metadata."""
        return sa.engine.make_url(self.url).render_as_string(hide_password=True)

    def bi_release_path(self) -> Path | None:
        return Path(self.bi_path) if self.bi_path else default_bi_path(self.url)


class IngestResource(dg.ConfigurableResource):
    """Where deliveries land, where partner mappings and reference data live, and the environment.

    The pseudonymisation key is read from the environment when needed, never from run config,
    so it never appears in the Dagster UI.
    """

    environment: str
    landing_dir: str
    feedback_dir: str
    partners_dir: str = ""  # empty: ZORGSTROOM_PARTNERS_DIR, else config/partners
    reference_dir: str = str(REFERENCE_DIR)
    max_file_bytes: int = 200 * 1024 * 1024
    _mappings: PartnerMappings | None = PrivateAttr(default=None)

    def pseudonym_key(self) -> bytes:
        return pseudonym_key_from_env(self.environment)

    @cached_property
    def reference(self) -> Reference:
        return Reference(Path(self.reference_dir))

    @property
    def partners_folder(self) -> Path:
        return Path(self.partners_dir) if self.partners_dir else default_partners_dir()

    def partner_mappings(self) -> PartnerMappings:
        """Every partner mapping, read and validated once per run: the valid ones, and the broken ones apart
        (a broken mapping stops only its own partner's deliveries)."""
        if self._mappings is None:
            self._mappings = load_partner_mappings(self.partners_folder, self.reference)
        return self._mappings

    def partners(self) -> dict[str, PartnerConfig]:
        """The valid partner mappings (every staging asset and check asks)."""
        return self.partner_mappings().valid

    def partner_feeds(self) -> dict[str, str]:
        """The feed of every partner whose identity is known, broken mappings included (their rows stay in force)."""
        mappings = self.partner_mappings()
        feeds = {code: p.feed for code, p in mappings.valid.items()}
        feeds |= {code: b.identity.feed for code, b in mappings.broken.items() if b.identity is not None}
        return feeds

    def known_partner_codes(self) -> frozenset[str]:
        """Every partner with a mapping file, valid or broken: rows they delivered earlier stay theirs."""
        return self.partner_mappings().known_codes


def build_resources() -> dict[str, dg.ConfigurableResource]:
    """Resources for the current environment. Raises SettingsError (refuses to start) when misconfigured."""
    settings = load_settings()
    return {
        "warehouse": WarehouseResource(url=settings.warehouse_url, bi_path=str(settings.bi_path or "")),
        "ingest": IngestResource(
            environment=settings.environment,
            landing_dir=str(settings.landing_dir),
            feedback_dir=str(settings.feedback_dir),
            partners_dir=str(default_partners_dir()),
            max_file_bytes=settings.max_file_bytes,
        ),
    }
