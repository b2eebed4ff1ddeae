"""Partner mappings (config/partners/<partner_code>.yaml): which headers and codes a partner uses.

Onboarding a partner is adding one such file (see README, "Onboarding a partner"). Each file is
validated when loaded: a wrong mapping fails loudly at start-up, never silently during a run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from core.errors import ConfigError
from core.paths import PARTNERS_DIR
from ingest.feeds import CODE, feed_spec
from ingest.reference import Reference

PARTNER_KINDS = ("employer", "training_provider", "municipality")
CADENCES = ("monthly", "quarterly")
_PERIOD = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def normalise_header(header: str) -> str:
    """Header as compared: case-folded, accents kept, runs of non-alphanumerics to one '_'."""
    return re.sub(r"[\W_]+", "_", str(header).strip().casefold()).strip("_")


def normalise_label(label: object) -> str:
    """A partner's code label as compared: trimmed and case-folded."""
    return str(label).strip().casefold()


@dataclass(frozen=True)
class Layout:
    """One era of a partner's export: which headers hold which canonical column."""

    name: str
    valid_from: str | None  # YYYY-MM, inclusive
    valid_to: str | None  # YYYY-MM, inclusive
    columns: dict[str, tuple[str, ...]]  # canonical column -> header aliases

    def covers(self, period_start_month: str) -> bool:
        return (self.valid_from is None or self.valid_from <= period_start_month) and (
            self.valid_to is None or period_start_month <= self.valid_to
        )


@dataclass(frozen=True)
class PartnerConfig:
    partner_code: str
    partner_name: str
    partner_kind: str
    feed: str
    location_municipality_code: str
    delivery_cadence: str
    layouts: tuple[Layout, ...]
    ignored_headers: tuple[str, ...]
    values: dict[str, dict[str, str]] = field(default_factory=dict)  # column -> normalised label -> code
    source: Path | None = None

    def layout_for(self, period_start_month: str) -> Layout:
        for layout in self.layouts:
            if layout.covers(period_start_month):
                return layout
        raise ConfigError(
            f"partner {self.partner_code}: no layout in {self.source} covers {period_start_month}; "
            "add one or widen valid_from/valid_to"
        )

    @property
    def known_headers(self) -> set[str]:
        """Every header (normalised) the mapping mentions: aliases and ignored headers."""
        known = {normalise_header(h) for h in self.ignored_headers}
        for layout in self.layouts:
            for aliases in layout.columns.values():
                known.update(normalise_header(a) for a in aliases)
        return known


def _as_aliases(value: object, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise ConfigError(f"{where}: expected a header or a list of headers, got {value!r}")


def parse_partner_config(raw: dict, source: Path, reference: Reference) -> PartnerConfig:
    """Validate one partner mapping (as loaded from YAML) and build its PartnerConfig."""
    where = str(source)
    required = [
        "partner_code",
        "partner_name",
        "partner_kind",
        "feed",
        "location_municipality_code",
        "delivery_cadence",
        "layouts",
    ]
    missing = [k for k in required if k not in raw]
    if missing:
        raise ConfigError(f"{where}: missing keys {missing}")
    code = raw["partner_code"]
    if not re.fullmatch(r"[a-z0-9_]+", str(code)):
        raise ConfigError(
            f"{where}: partner_code {code!r} must be lower-case letters, digits and _ (it is the landing folder name)"
        )
    if source.stem != code:
        raise ConfigError(f"{where}: file name must be {code}.yaml")
    if raw["partner_kind"] not in PARTNER_KINDS:
        raise ConfigError(f"{where}: partner_kind must be one of {PARTNER_KINDS}")
    if raw["delivery_cadence"] not in CADENCES:
        raise ConfigError(f"{where}: delivery_cadence must be one of {CADENCES}")
    try:
        spec = feed_spec(raw["feed"])
    except KeyError as exc:
        raise ConfigError(f"{where}: {exc.args[0]}") from None
    if raw["location_municipality_code"] not in set(reference.municipalities["municipality_code"]):
        raise ConfigError(
            f"{where}: location_municipality_code {raw['location_municipality_code']!r} is not in config/reference/municipalities.csv"
        )

    layouts = []
    for i, lay in enumerate(raw["layouts"] or []):
        lw = f"{where} layouts[{i}]"
        cols = {k: _as_aliases(v, f"{lw}.{k}") for k, v in (lay.get("columns") or {}).items()}
        unknown = set(cols) - set(spec.names)
        if unknown:
            raise ConfigError(f"{lw}: {sorted(unknown)} are not columns of feed {spec.feed}; known: {spec.names}")
        missing_req = [c.name for c in spec.columns if c.required and c.name not in cols]
        if missing_req:
            raise ConfigError(f"{lw}: required columns {missing_req} of feed {spec.feed} are not mapped")
        if not any(p in cols for p in spec.person_identifiers):
            raise ConfigError(f"{lw}: maps none of the person identifiers {spec.person_identifiers}")
        valid_from, valid_to = lay.get("valid_from"), lay.get("valid_to")
        for v in (valid_from, valid_to):
            if v is not None and not _PERIOD.match(str(v)):
                raise ConfigError(f"{lw}: valid_from/valid_to must be YYYY-MM, got {v!r}")
        layouts.append(
            Layout(str(lay.get("layout", i)), valid_from and str(valid_from), valid_to and str(valid_to), cols)
        )
    if not layouts:
        raise ConfigError(f"{where}: at least one layout is needed")

    values: dict[str, dict[str, str]] = {}
    for column, mapping in (raw.get("values") or {}).items():
        try:
            col = spec.column(column)
        except KeyError:
            raise ConfigError(f"{where}: values.{column} is not a column of feed {spec.feed}") from None
        if col.kind != CODE:
            raise ConfigError(f"{where}: values.{column}: column is not a coded column")
        codes = reference.code_lists[col.code_list]
        bad = {label: c for label, c in mapping.items() if c not in codes}
        if bad:
            raise ConfigError(
                f"{where}: values.{column} maps onto codes that are not in code list {col.code_list}: {bad}"
            )
        values[column] = {normalise_label(label): c for label, c in mapping.items()}
    coded = [c.name for c in spec.columns if c.kind == CODE and any(c.name in lay.columns for lay in layouts)]
    missing_values = [c for c in coded if c not in values]
    if missing_values:
        raise ConfigError(f"{where}: coded columns {missing_values} have no values: mapping")

    return PartnerConfig(
        partner_code=code,
        partner_name=raw["partner_name"],
        partner_kind=raw["partner_kind"],
        feed=spec.feed,
        location_municipality_code=raw["location_municipality_code"],
        delivery_cadence=raw["delivery_cadence"],
        layouts=tuple(layouts),
        ignored_headers=tuple(raw.get("ignored_headers") or ()),
        values=values,
        source=source,
    )


def load_partner_configs(folder: Path = PARTNERS_DIR, reference: Reference | None = None) -> dict[str, PartnerConfig]:
    """Every partner mapping in `folder`, by partner code."""
    reference = reference or Reference()
    partners: dict[str, PartnerConfig] = {}
    for path in sorted(folder.glob("*.yaml")):
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise ConfigError(f"{path}: not valid YAML: {exc}") from None
        if not isinstance(raw, dict):
            raise ConfigError(f"{path}: expected a mapping at the top level")
        cfg = parse_partner_config(raw, path, reference)
        partners[cfg.partner_code] = cfg
    if not partners:
        raise ConfigError(f"no partner mappings in {folder}")
    return partners
