"""Settings from the environment, evaluated when asked for (never at import time).

`ZORGSTROOM_ENV` picks the deployment: `development` (default: demo and local work), `test`, or
`production`. Outside development and test the pseudonymisation key must be set and may not be the
development key: the pipeline refuses to start otherwise. With ZORGSTROOM_ENV unset and no key, the
public development key is used: that is said once per process, loudly (a WARNING on stderr), so that
nobody runs real deliveries under it by mistake.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

from core.errors import SettingsError
from core.paths import DATA_DIR, as_path

#: The key the demo and the tests use. Clearly named so it is never mistaken for a secret.
DEVELOPMENT_PSEUDONYM_KEY = "DEVELOPMENT-ONLY-pseudonym-key-not-secret"
MIN_KEY_LENGTH = 32
ENVIRONMENTS = ("development", "test", "production")
DEVELOPMENT_KEY_WARNING = (
    "ZORGSTROOM_ENV is not set: running as 'development' with the PUBLIC development pseudonymisation key. "
    "Pseudonyms made with it are not secret: never load real partner deliveries like this. In production set "
    "ZORGSTROOM_ENV=production and ZORGSTROOM_PSEUDONYM_KEY from the secret store; for the demo set "
    "ZORGSTROOM_ENV=development (make does)."
)
_warned_about_development_key = False


@dataclass(frozen=True)
class Settings:
    environment: str
    pseudonym_key: bytes
    warehouse_url: str
    landing_dir: Path  # or a UPath for an object store (core.paths.as_path)
    feedback_dir: Path
    report_dir: Path
    archive_dir: Path
    max_file_bytes: int
    #: The BI tools' copy of the published tables (warehouse/bi_release.py); None on PostgreSQL unless set.
    bi_path: Path | None = None


def _default_warehouse_url() -> str:
    return f"duckdb:///{DATA_DIR / 'warehouse.duckdb'}"


def pseudonym_key_from_env(environment: str) -> bytes:
    """The HMAC key: from ZORGSTROOM_PSEUDONYM_KEY, or the development key in development and test."""
    key = os.environ.get("ZORGSTROOM_PSEUDONYM_KEY", "")
    if environment in ("development", "test"):
        return (key or DEVELOPMENT_PSEUDONYM_KEY).encode()
    if not key:
        raise SettingsError(
            "ZORGSTROOM_PSEUDONYM_KEY is not set. In production the pipeline needs the secret "
            "pseudonymisation key (at least 32 characters) from your secret store; it refuses to start without it."
        )
    if key == DEVELOPMENT_PSEUDONYM_KEY or len(key) < MIN_KEY_LENGTH:
        raise SettingsError(
            "ZORGSTROOM_PSEUDONYM_KEY is the development key or shorter than 32 characters. "
            "Set the real secret key for production."
        )
    return key.encode()


def warn_if_development_key_by_default() -> bool:
    """Warn once per process when ZORGSTROOM_ENV is unset and so the development key is in use. True if it warned."""
    global _warned_about_development_key
    if "ZORGSTROOM_ENV" in os.environ or os.environ.get("ZORGSTROOM_PSEUDONYM_KEY") or _warned_about_development_key:
        return False
    _warned_about_development_key = True
    logging.getLogger("zorgstroom.settings").warning(DEVELOPMENT_KEY_WARNING)
    return True


def default_bi_path(warehouse_url: str) -> Path | None:
    """The BI copy beside a DuckDB warehouse file (data/warehouse.duckdb -> data/bi/zorgstroom.duckdb);
    None for other warehouses (on PostgreSQL BI tools read the tables themselves)."""
    prefix = "duckdb:///"
    if not warehouse_url.startswith(prefix) or warehouse_url[len(prefix) :] in ("", ":memory:"):
        return None
    return Path(warehouse_url[len(prefix) :].split("?")[0]).resolve().parent / "bi" / "zorgstroom.duckdb"


def _bi_path(warehouse_url: str) -> Path | None:
    if os.environ.get("ZORGSTROOM_BI_PATH"):
        return Path(os.environ["ZORGSTROOM_BI_PATH"]).resolve()
    return default_bi_path(warehouse_url)


def load_settings() -> Settings:
    warn_if_development_key_by_default()
    environment = os.environ.get("ZORGSTROOM_ENV", "development")
    if environment not in ENVIRONMENTS:
        raise SettingsError(f"ZORGSTROOM_ENV={environment!r} is not one of {', '.join(ENVIRONMENTS)}.")
    warehouse_url = os.environ.get("ZORGSTROOM_WAREHOUSE_URL") or _default_warehouse_url()
    return Settings(
        environment=environment,
        pseudonym_key=pseudonym_key_from_env(environment),
        warehouse_url=warehouse_url,
        landing_dir=as_path(os.environ.get("ZORGSTROOM_LANDING_DIR") or DATA_DIR / "sample" / "landing"),
        feedback_dir=Path(os.environ.get("ZORGSTROOM_FEEDBACK_DIR") or DATA_DIR / "feedback"),
        report_dir=Path(os.environ.get("ZORGSTROOM_REPORT_DIR") or DATA_DIR / "report").resolve(),
        archive_dir=Path(os.environ.get("ZORGSTROOM_ARCHIVE_DIR") or DATA_DIR / "archive"),
        max_file_bytes=int(os.environ.get("ZORGSTROOM_MAX_FILE_BYTES") or 200 * 1024 * 1024),
        bi_path=_bi_path(warehouse_url),
    )
