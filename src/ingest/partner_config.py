"""Partner mappings (config/partners/<partner_code>.yaml): the mapping language, validated on load.

Onboarding a partner is adding one such file (README, "Onboarding a partner"; every key is in
docs/mapping_reference.md). A mapping says, per layout era of the partner's export, which headers
hold which canonical column (`columns`), which other columns feed derived fields (`inputs`), how
labels and written forms become canonical values (`values`, `patterns`), which canonical fields are
derived from several columns by ordered rules (`derived`), which are not delivered at all
(`not_delivered`), and where the data is (`sheet`) and how numbers are written
(`decimal_separator`). `values`, `patterns`, `derived`, `not_delivered`, `sheet`,
`decimal_separator` and `ignored_headers` may be given per layout; a layout's own entries come
first, the partner's are the fall-back.

Every file is validated when loaded, and a wrong one is reported in plain words naming the file and
the key. `load_partner_mappings` keeps a broken mapping apart (it stops only that partner's
deliveries); `load_partner_configs` raises on the first broken one (for tools and tests).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from core.errors import ConfigError
from core.paths import PARTNERS_DIR, REPO_ROOT
from ingest.feeds import (
    CODE,
    DATE,
    DECIMAL,
    IDENTIFYING_KINDS,
    INTEGER,
    TEXT,
    YES_NO,
    FeedSpec,
    InputColumn,
    feed_spec,
)
from ingest.reference import Reference

PARTNER_KINDS = ("employer", "training_provider", "municipality")
CADENCES = ("monthly", "quarterly")
DECIMAL_SEPARATORS = (",", ".")
_PERIOD = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
#: Environment variable naming the folder of partner mappings (the tests point it at their own fixtures).
PARTNERS_DIR_ENV = "ZORGSTROOM_PARTNERS_DIR"

IDENTITY_KEYS = (
    "partner_code",
    "partner_name",
    "partner_kind",
    "feed",
    "location_municipality_code",
    "delivery_cadence",
)
#: Keys that may be given for the whole partner and again per layout (the layout's come first).
SHARED_KEYS = ("values", "patterns", "derived", "not_delivered", "sheet", "decimal_separator", "ignored_headers")
TOP_KEYS = (*IDENTITY_KEYS, "layouts", *SHARED_KEYS)
LAYOUT_KEYS = ("layout", "valid_from", "valid_to", "columns", "inputs", *SHARED_KEYS)
RULE_KEYS = ("value", "when", "filled", "empty")
YES_TEXT = frozenset({"ja", "j", "yes", "y", "true", "waar", "1", "x"})
NO_TEXT = frozenset({"nee", "n", "no", "false", "onwaar", "0"})


def normalise_header(header: str) -> str:
    """Header as compared: case-folded, accents kept, runs of non-alphanumerics to one '_'."""
    return re.sub(r"[\W_]+", "_", str(header).strip().casefold()).strip("_")


def normalise_label(label: object) -> str:
    """A partner's label as compared: trimmed and case-folded."""
    return str(label).strip().casefold()


def default_partners_dir() -> Path:
    """The folder of partner mappings: ZORGSTROOM_PARTNERS_DIR, else config/partners."""
    return Path(os.environ.get(PARTNERS_DIR_ENV) or PARTNERS_DIR)


def shown_path(path: Path | None) -> str:
    """A configuration file as named in messages for data engineers: relative to the repository when inside it."""
    if path is None:
        return "(mapping)"
    try:
        return Path(path).resolve().relative_to(REPO_ROOT).as_posix()
    except ValueError:
        return str(path)


@dataclass(frozen=True)
class Rule:
    """One rule of a derived field: when every condition holds, the field gets `value` (canonical text)."""

    value: str
    when: tuple[tuple[str, frozenset[str]], ...] = ()  # (column or input, case-folded texts it may hold)
    filled: tuple[str, ...] = ()
    empty: tuple[str, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys([n for n, _ in self.when] + list(self.filled) + list(self.empty)))


@dataclass(frozen=True)
class Layout:
    """One era of a partner's export, with every construct resolved (the layout's own, then the partner's)."""

    name: str
    valid_from: str | None  # YYYY-MM, inclusive
    valid_to: str | None  # YYYY-MM, inclusive
    columns: dict[str, tuple[str, ...]]  # canonical column -> header aliases
    inputs: dict[str, tuple[str, ...]] = field(default_factory=dict)  # input name -> header aliases
    values: dict[str, dict[str, str]] = field(default_factory=dict)  # column -> normalised label -> canonical text
    patterns: dict[str, re.Pattern] = field(default_factory=dict)  # column -> full-match pattern
    derived: dict[str, tuple[Rule, ...]] = field(default_factory=dict)  # column -> ordered rules
    not_delivered: frozenset[str] = frozenset()
    sheet: str | None = None
    decimal_separator: str | None = None
    ignored_headers: tuple[str, ...] = ()

    def covers(self, period_start_month: str) -> bool:
        return (self.valid_from is None or self.valid_from <= period_start_month) and (
            self.valid_to is None or period_start_month <= self.valid_to
        )

    @property
    def sources(self) -> dict[str, tuple[str, ...]]:
        """Everything read from the file by header: canonical columns and inputs."""
        return {**self.columns, **self.inputs}


@dataclass(frozen=True)
class PartnerIdentity:
    partner_code: str
    partner_name: str
    partner_kind: str
    feed: str
    location_municipality_code: str
    delivery_cadence: str


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
    source: Path | None = None

    def layout_for(self, period_start_month: str) -> Layout:
        for layout in self.layouts:
            if layout.covers(period_start_month):
                return layout
        raise ConfigError(
            f"partner {self.partner_code}: no layout in {shown_path(self.source)} covers {period_start_month}; "
            "add one or widen valid_from/valid_to"
        )

    def layout_named(self, name: str) -> Layout:
        return next(lay for lay in self.layouts if lay.name == name)

    @property
    def known_headers(self) -> set[str]:
        """Every header (normalised) the mapping mentions: aliases, inputs and ignored headers."""
        known = {normalise_header(h) for h in self.ignored_headers}
        for layout in self.layouts:
            known.update(normalise_header(h) for h in layout.ignored_headers)
            for aliases in layout.sources.values():
                known.update(normalise_header(a) for a in aliases)
        return known

    @property
    def identity(self) -> PartnerIdentity:
        return PartnerIdentity(
            self.partner_code,
            self.partner_name,
            self.partner_kind,
            self.feed,
            self.location_municipality_code,
            self.delivery_cadence,
        )


@dataclass(frozen=True)
class BrokenMapping:
    """A mapping file that does not validate: its partner's deliveries wait until it is fixed."""

    partner_code: str  # from the file name
    source: Path
    error: str
    identity: PartnerIdentity | None = None  # when the partner's identity keys themselves are valid


@dataclass(frozen=True)
class PartnerMappings:
    """Every mapping file of a folder: the valid ones by partner code, and the broken ones."""

    valid: dict[str, PartnerConfig]
    broken: dict[str, BrokenMapping] = field(default_factory=dict)

    @property
    def known_codes(self) -> frozenset[str]:
        """Codes of every partner with a mapping file, valid or not (their earlier rows stay theirs)."""
        return frozenset(self.valid) | frozenset(self.broken)


# --- small validators ----------------------------------------------------------------------------------


def _as_aliases(value: object, where: str) -> tuple[str, ...]:
    if isinstance(value, str) and value.strip():
        return (value,)
    if isinstance(value, list) and value and all(isinstance(v, str) and v.strip() for v in value):
        return tuple(value)
    raise ConfigError(f"{where}: expected a header or a list of headers, got {value!r}")


def _mapping(value: object, where: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: expected a mapping (key: value lines), got {type(value).__name__} {value!r}")
    return value


def _names(value: object, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise ConfigError(f"{where}: expected a name or a list of names, got {value!r}")


def _unknown_keys(raw: dict, allowed: tuple[str, ...], where: str) -> None:
    unknown = [k for k in raw if k not in allowed]
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {unknown}; the keys allowed here are {list(allowed)}")


def _label_text(label: object, where: str) -> str:
    """A label as YAML read it, as text; refuses what YAML turned into something else (unquoted yes/no/on/off)."""
    if isinstance(label, bool):
        raise ConfigError(
            f"{where}: YAML read a label as {label} (an unquoted yes/no/on/off/y/n); quote it, e.g. 'no': ..."
        )
    if isinstance(label, (int, float, str)):
        return str(label)
    if isinstance(label, dt.date):
        return label.isoformat()
    raise ConfigError(f"{where}: a label must be text or a number, got {label!r}")


def _canonical_text(col: InputColumn, value: object, reference: Reference, decimal: str | None, where: str) -> str:
    """A canonical value written in a mapping (a label's value or a rule's value) as the text its parser reads."""
    if col.kind in IDENTIFYING_KINDS:
        raise ConfigError(f"{where}: {col.name} is an identifier; the mapping cannot give it values")
    if col.kind == CODE:
        codes = reference.code_lists[col.code_list or ""]
        text = "" if value is None or isinstance(value, bool) else str(value).strip()
        if text not in codes:
            raise ConfigError(
                f"{where}: {value!r} is not a code of code list {col.code_list} "
                f"(config/reference/{col.code_list}.csv); valid codes: {sorted(codes)}"
            )
        return text
    if col.kind == YES_NO:
        if isinstance(value, bool):
            return "ja" if value else "nee"
        text = str(value).strip().casefold()
        if text in YES_TEXT:
            return "ja"
        if text in NO_TEXT:
            return "nee"
        raise ConfigError(f"{where}: {value!r} is not ja or nee (for yes/no column {col.name})")
    if col.kind == INTEGER:
        if isinstance(value, bool) or not re.fullmatch(r"[+-]?\d+", str(value).strip()):
            raise ConfigError(f"{where}: {value!r} is not a whole number (for column {col.name})")
        return str(int(str(value).strip()))
    if col.kind == DECIMAL:
        try:
            number = float(str(value).strip().replace(",", "."))
        except ValueError:
            raise ConfigError(f"{where}: {value!r} is not a number (for column {col.name})") from None
        text = repr(number) if not number.is_integer() else str(int(number))
        return text.replace(".", ",") if decimal == "," else text
    if col.kind == DATE:
        if isinstance(value, dt.date):
            return value.isoformat()
        text = str(value).strip()
        try:
            dt.date.fromisoformat(text)
        except ValueError:
            raise ConfigError(f"{where}: {value!r} is not a date written yyyy-mm-dd (for column {col.name})") from None
        return text
    if col.kind == TEXT:
        if value is None or isinstance(value, bool):
            raise ConfigError(f"{where}: {value!r} is not text (for column {col.name}); quote it")
        return str(value).strip()
    raise ConfigError(f"{where}: values cannot be given for column {col.name}")  # pragma: no cover


def _pattern(value: object, where: str) -> re.Pattern:
    if not isinstance(value, str):
        raise ConfigError(f"{where}: a pattern is a regular expression in quotes, got {value!r}")
    try:
        compiled = re.compile(value, re.IGNORECASE)
    except re.error as exc:
        raise ConfigError(f"{where}: not a valid regular expression ({exc})") from None
    if compiled.groups < 1:
        raise ConfigError(
            f"{where}: the pattern needs a group in parentheses around the part that is the value, "
            f"e.g. 'niveau\\s*([1-4])'; got {value!r}"
        )
    return compiled


# --- one mapping file --------------------------------------------------------------------------------------


def parse_identity(raw: dict, source: Path, reference: Reference) -> PartnerIdentity:
    """The partner's identity keys (who it is, what it delivers), validated."""
    where = shown_path(source)
    missing = [k for k in (*IDENTITY_KEYS, "layouts") if k not in raw]
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
        raise ConfigError(f"{where}: partner_kind must be one of {PARTNER_KINDS}, got {raw['partner_kind']!r}")
    if raw["delivery_cadence"] not in CADENCES:
        raise ConfigError(f"{where}: delivery_cadence must be one of {CADENCES}, got {raw['delivery_cadence']!r}")
    try:
        feed_spec(raw["feed"])
    except KeyError as exc:
        raise ConfigError(f"{where}: feed: {exc.args[0]}") from None
    if raw["location_municipality_code"] not in set(reference.municipalities["municipality_code"]):
        raise ConfigError(
            f"{where}: location_municipality_code {raw['location_municipality_code']!r} is not in "
            "config/reference/municipalities.csv"
        )
    return PartnerIdentity(
        str(code),
        str(raw["partner_name"]),
        raw["partner_kind"],
        raw["feed"],
        raw["location_municipality_code"],
        raw["delivery_cadence"],
    )


@dataclass
class _Shared:
    """The keys a partner and a layout may both give, read but not yet resolved against a layout."""

    values: dict[str, dict] = field(default_factory=dict)  # column -> {label: raw value}
    patterns: dict[str, re.Pattern] = field(default_factory=dict)
    derived: dict[str, list] = field(default_factory=dict)  # column -> raw rules
    not_delivered: tuple[str, ...] = ()
    sheet: str | None = None
    decimal_separator: str | None = None
    ignored_headers: tuple[str, ...] = ()


def _read_shared(raw: dict, spec: FeedSpec, where: str) -> _Shared:
    out = _Shared()
    for column, mapping in _mapping(raw.get("values"), f"{where} values").items():
        if column not in spec.names:
            raise ConfigError(f"{where} values.{column}: not a column of feed {spec.feed}; known: {spec.names}")
        labels = _mapping(mapping, f"{where} values.{column}")
        if not labels:
            raise ConfigError(f"{where} values.{column}: no labels given")
        out.values[column] = labels
    for column, pattern in _mapping(raw.get("patterns"), f"{where} patterns").items():
        if column not in spec.names:
            raise ConfigError(f"{where} patterns.{column}: not a column of feed {spec.feed}; known: {spec.names}")
        out.patterns[column] = _pattern(pattern, f"{where} patterns.{column}")
    for column, rules in _mapping(raw.get("derived"), f"{where} derived").items():
        if column not in spec.names:
            raise ConfigError(f"{where} derived.{column}: not a column of feed {spec.feed}; known: {spec.names}")
        if not isinstance(rules, list) or not rules:
            raise ConfigError(f"{where} derived.{column}: expected a list of rules (- value: ..., when: ...)")
        out.derived[column] = rules
    out.not_delivered = _names(raw.get("not_delivered"), f"{where} not_delivered")
    unknown = [c for c in out.not_delivered if c not in spec.names]
    if unknown:
        raise ConfigError(f"{where} not_delivered: {unknown} are not columns of feed {spec.feed}; known: {spec.names}")
    sheet = raw.get("sheet")
    if sheet is not None and (not isinstance(sheet, (str, int)) or isinstance(sheet, bool) or str(sheet) == ""):
        raise ConfigError(f"{where} sheet: expected the name of a worksheet, got {sheet!r}")
    out.sheet = None if sheet is None else str(sheet)
    decimal = raw.get("decimal_separator")
    if decimal is not None and decimal not in DECIMAL_SEPARATORS:
        raise ConfigError(f"{where} decimal_separator: must be ',' or '.' (quoted), got {decimal!r}")
    out.decimal_separator = decimal
    ignored = raw.get("ignored_headers")
    out.ignored_headers = () if ignored is None else _as_aliases(ignored, f"{where} ignored_headers")
    return out


def _rules(
    column: InputColumn, raw_rules: list, names: set[str], reference: Reference, decimal: str | None, where: str
) -> tuple[Rule, ...]:
    rules: list[Rule] = []
    for i, raw_rule in enumerate(raw_rules):
        rw = f"{where}[{i}]"
        if not isinstance(raw_rule, dict):
            raise ConfigError(f"{rw}: a rule is a mapping with value and conditions (when, filled, empty)")
        _unknown_keys(raw_rule, RULE_KEYS, rw)
        if "value" not in raw_rule:
            raise ConfigError(f"{rw}: a rule needs a value")
        if rules and not (rules[-1].when or rules[-1].filled or rules[-1].empty):
            raise ConfigError(f"{rw}: comes after a rule without conditions, so it can never apply")
        when = []
        for name, texts in _mapping(raw_rule.get("when"), f"{rw}.when").items():
            options = texts if isinstance(texts, list) else [texts]
            if not options:
                raise ConfigError(f"{rw}.when.{name}: give the value(s) to compare with")
            when.append((name, frozenset(normalise_label(_label_text(t, f"{rw}.when.{name}")) for t in options)))
        rule = Rule(
            _canonical_text(column, raw_rule["value"], reference, decimal, f"{rw}.value"),
            tuple(when),
            _names(raw_rule.get("filled"), f"{rw}.filled"),
            _names(raw_rule.get("empty"), f"{rw}.empty"),
        )
        unknown = [n for n in rule.names if n not in names]
        if unknown:
            raise ConfigError(
                f"{rw}: {unknown} are neither inputs nor mapped columns of this layout; known: {sorted(names)}"
            )
        rules.append(rule)
    return tuple(rules)


def _resolve_layout(
    lay: dict, index: int, partner: _Shared, spec: FeedSpec, reference: Reference, where: str
) -> Layout:
    lw = f"{where} layouts[{index}]"
    if not isinstance(lay, dict):
        raise ConfigError(f"{lw}: expected a mapping with layout, columns, ...")
    _unknown_keys(lay, LAYOUT_KEYS, lw)
    name = str(lay.get("layout", index))
    lw = f"{where} layout {name!r}"
    cols = {k: _as_aliases(v, f"{lw} columns.{k}") for k, v in _mapping(lay.get("columns"), f"{lw} columns").items()}
    unknown = set(cols) - set(spec.names)
    if unknown:
        raise ConfigError(f"{lw}: {sorted(unknown)} are not columns of feed {spec.feed}; known: {spec.names}")
    inputs = {k: _as_aliases(v, f"{lw} inputs.{k}") for k, v in _mapping(lay.get("inputs"), f"{lw} inputs").items()}
    clash = set(inputs) & set(spec.names)
    if clash:
        raise ConfigError(f"{lw} inputs: {sorted(clash)} are canonical column names; give the inputs other names")
    own = _read_shared(lay, spec, lw)
    decimal = own.decimal_separator or partner.decimal_separator

    derived_raw = {**partner.derived, **own.derived}
    derived_raw = {c: r for c, r in derived_raw.items() if c not in cols or c in own.derived}
    not_delivered = set(own.not_delivered) | {
        c for c in partner.not_delivered if c not in cols and c not in derived_raw
    }
    for column in sorted(set(cols) & set(derived_raw)):
        raise ConfigError(f"{lw}: {column} is both mapped (columns) and derived; keep one")
    for column in sorted(not_delivered & (set(cols) | set(derived_raw))):
        raise ConfigError(f"{lw}: {column} is declared not_delivered but is mapped or derived in this layout")

    values: dict[str, dict[str, str]] = {}
    for column in dict.fromkeys([*partner.values, *own.values]):
        if column in derived_raw:
            if column in own.values:
                raise ConfigError(
                    f"{lw} values.{column}: {column} is derived; its rules give canonical values, labels do not apply"
                )
            continue  # the partner's labels serve the layouts that map the column
        col = spec.column(column)
        merged: dict[str, str] = {}
        for base, labels in ((where, partner.values.get(column, {})), (lw, own.values.get(column, {}))):
            for label, value in labels.items():  # the layout's labels come last: they win over the partner's
                at = f"{base} values.{column}.{label}"
                merged[normalise_label(_label_text(label, at))] = _canonical_text(col, value, reference, decimal, at)
        values[column] = merged
    patterns = {**partner.patterns, **own.patterns}
    for column in patterns:
        if column in derived_raw:
            raise ConfigError(f"{lw} patterns.{column}: {column} is derived; patterns apply to mapped columns")

    derived: dict[str, tuple[Rule, ...]] = {}
    names = set(cols) | set(inputs)
    for column, raw_rules in derived_raw.items():
        col = spec.column(column)
        if col.kind in IDENTIFYING_KINDS:
            raise ConfigError(f"{lw} derived.{column}: an identifier cannot be derived; map it")
        derived[column] = _rules(col, raw_rules, names, reference, decimal, f"{lw} derived.{column}")
        if col.kind == CODE:  # a derived code is canonical already: the code list is its own label list
            values[column] = {normalise_label(c): c for c in reference.code_lists[col.code_list or ""]}

    _check_coverage(spec, cols, derived, not_delivered, values, lw)

    valid_from, valid_to = lay.get("valid_from"), lay.get("valid_to")
    for v in (valid_from, valid_to):
        if v is not None and not _PERIOD.match(str(v)):
            raise ConfigError(f"{lw}: valid_from/valid_to must be YYYY-MM in quotes, got {v!r}")
    return Layout(
        name,
        valid_from and str(valid_from),
        valid_to and str(valid_to),
        cols,
        inputs,
        values,
        patterns,
        derived,
        frozenset(not_delivered),
        own.sheet or partner.sheet,
        decimal,
        tuple(dict.fromkeys([*partner.ignored_headers, *own.ignored_headers])),
    )


def _check_coverage(
    spec: FeedSpec,
    cols: dict[str, tuple[str, ...]],
    derived: dict[str, tuple[Rule, ...]],
    not_delivered: set[str],
    values: dict[str, dict[str, str]],
    lw: str,
) -> None:
    """Every canonical column is mapped, derived or declared not delivered; what a statistic needs is delivered."""
    number = spec.person_number_column
    if number and number in cols:
        both = [p for p in spec.person_identifiers if p in cols]
        if both:
            raise ConfigError(
                f"{lw}: {number} holds both kinds of number; do not also map {both} (map one or the other)"
            )
    identifiers = [*spec.person_identifiers, *([number] if number else [])]
    if not any(p in cols for p in identifiers):
        raise ConfigError(f"{lw}: maps none of the person identifiers {identifiers}")
    implied = set(identifiers) if any(p in cols for p in identifiers) else set()
    for c in spec.columns:
        if c.needed and c.name in not_delivered:
            raise ConfigError(
                f"{lw}: {c.name} cannot be declared not_delivered: {' and '.join(c.needed_by)} need it. "
                "Map it (columns) or derive it (derived) in every layout"
            )
    for c in spec.columns:
        delivered = c.name in cols or c.name in derived
        if c.needed and not delivered and c.name not in implied:
            raise ConfigError(
                f"{lw}: {c.name} is not mapped, and {' and '.join(c.needed_by)} need it. Map it (columns) or "
                "derive it (derived)"
            )
        if not delivered and c.name not in not_delivered and c.name not in implied:
            raise ConfigError(
                f"{lw}: {c.name} is neither mapped (columns), derived (derived) nor declared not_delivered; "
                "say which, so that no field is left out by mistake"
            )
        if c.kind == CODE and c.name in cols and c.name not in values:
            raise ConfigError(f"{lw}: coded column {c.name} has no values: (its labels and their codes)")


def parse_partner_config(raw: dict, source: Path, reference: Reference) -> PartnerConfig:
    """Validate one partner mapping (as loaded from YAML) and build its PartnerConfig."""
    where = shown_path(source)
    _unknown_keys(raw, TOP_KEYS, where)
    identity = parse_identity(raw, source, reference)
    spec = feed_spec(identity.feed)
    partner = _read_shared(raw, spec, where)
    for name in partner.not_delivered:
        col = spec.column(name)
        if col.needed:
            raise ConfigError(
                f"{where} not_delivered: {name} cannot be declared not_delivered: {' and '.join(col.needed_by)} "
                "need it. Map it (columns) or derive it (derived) in every layout"
            )
    if not isinstance(raw["layouts"], list) or not raw["layouts"]:
        raise ConfigError(f"{where}: at least one layout is needed (layouts: a list)")
    layouts = tuple(_resolve_layout(lay, i, partner, spec, reference, where) for i, lay in enumerate(raw["layouts"]))
    names = [lay.name for lay in layouts]
    if len(set(names)) != len(names):
        raise ConfigError(f"{where}: layout names must differ, got {names}")
    return PartnerConfig(
        partner_code=identity.partner_code,
        partner_name=identity.partner_name,
        partner_kind=identity.partner_kind,
        feed=identity.feed,
        location_municipality_code=identity.location_municipality_code,
        delivery_cadence=identity.delivery_cadence,
        layouts=layouts,
        ignored_headers=partner.ignored_headers,
        source=source,
    )


def read_mapping_file(path: Path) -> dict:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(f"{shown_path(path)}: not valid YAML: {exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{shown_path(path)}: not UTF-8 text; save the mapping as UTF-8") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{shown_path(path)}: expected a mapping at the top level")
    return raw


def load_partner_mapping(path: Path, reference: Reference) -> PartnerConfig | BrokenMapping:
    """One mapping file: its PartnerConfig, or a BrokenMapping saying in plain words what is wrong."""
    identity = None
    try:
        raw = read_mapping_file(path)
        with contextlib.suppress(ConfigError):
            identity = parse_identity(raw, path, reference)
        return parse_partner_config(raw, path, reference)
    except ConfigError as exc:
        return BrokenMapping(path.stem, path, str(exc), identity)


def load_partner_mappings(folder: Path | None = None, reference: Reference | None = None) -> PartnerMappings:
    """Every mapping in `folder` (default: default_partners_dir()); broken ones kept apart, not raised."""
    folder = Path(folder) if folder is not None else default_partners_dir()
    reference = reference or Reference()
    valid: dict[str, PartnerConfig] = {}
    broken: dict[str, BrokenMapping] = {}
    for path in sorted(folder.glob("*.yaml")):
        loaded = load_partner_mapping(path, reference)
        if isinstance(loaded, BrokenMapping):
            broken[loaded.partner_code] = loaded
        else:
            valid[loaded.partner_code] = loaded
    if not valid and not broken:
        raise ConfigError(f"no partner mappings in {shown_path(folder)}")
    return PartnerMappings(valid, broken)


def load_partner_configs(folder: Path | None = None, reference: Reference | None = None) -> dict[str, PartnerConfig]:
    """Every partner mapping in `folder`, by partner code; raises ConfigError on the first broken one."""
    mappings = load_partner_mappings(folder, reference)
    for b in mappings.broken.values():
        raise ConfigError(b.error)
    return mappings.valid
