"""Read the partner mappings (config/partners/*.yaml) and the reference lists the generator needs."""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ingest.feeds import FEEDS

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_PARTNERS_DIR = REPO_ROOT / "config" / "partners"
DEFAULT_REFERENCE_DIR = REPO_ROOT / "config" / "reference"

# Canonical columns per feed, in canonical order, with the required ones.
FEED_COLUMNS: dict[str, list[str]] = {
    "employment_spells": [
        "employee_number",
        "employment_number",
        "bsn",
        "birth_date",
        "postcode",
        "function",
        "contract_type",
        "hours_per_week",
        "is_apprenticeship",
        "start_date",
        "end_date",
        "leaving_reason",
        "programme",
    ],
    "enrolments": [
        "enrolment_number",
        "bsn",
        "onderwijsnummer",
        "birth_date",
        "postcode",
        "programme",
        "crebo_code",
        "mbo_level",
        "learning_path",
        "start_date",
        "planned_end_date",
        "actual_end_date",
        "outcome",
        "leaving_reason",
        "bbl_employer_name",
        "has_work_placement_agreement",
    ],
    "municipal_participants": [
        "trajectory_number",
        "bsn",
        "birth_date",
        "postcode",
        "target_group",
        "benefit_type",
        "programme",
        "referral_date",
        "placement_date",
        "placement_kind",
        "placement_end_date",
        "placement_result",
        "trajectory_end_date",
        "trajectory_result",
        "benefit_end_date",
        "benefit_end_reason",
        "civic_integration_required",
    ],
}

#: Columns whose empty cell rejects a row: what the pipeline's statistics need on every row (ingest/feeds.py,
#: the one declaration; the generator's bad rows blank only these).
REQUIRED: dict[str, list[str]] = {feed: [c.name for c in spec.columns if c.required] for feed, spec in FEEDS.items()}

# Columns that identify a record or a person: never blanked by a `missing_required` bad row.
IDENTIFIER_COLUMNS = {
    "employee_number",
    "employment_number",
    "enrolment_number",
    "trajectory_number",
    "bsn",
    "onderwijsnummer",
}

DATE_COLUMNS = {
    "birth_date",
    "start_date",
    "end_date",
    "planned_end_date",
    "actual_end_date",
    "referral_date",
    "placement_date",
    "placement_end_date",
    "trajectory_end_date",
    "benefit_end_date",
}
BOOL_COLUMNS = {"is_apprenticeship", "has_work_placement_agreement", "civic_integration_required"}

# (end column, its start column) per feed
END_START: dict[str, list[tuple[str, str]]] = {
    "employment_spells": [("end_date", "start_date")],
    "enrolments": [("actual_end_date", "start_date")],
    "municipal_participants": [("placement_end_date", "placement_date"), ("trajectory_end_date", "referral_date")],
}

# the code column that gets an unknown label in an `unknown_code` bad row
UNKNOWN_CODE_COLUMN = {
    "employment_spells": "function",
    "enrolments": "outcome",
    "municipal_participants": "target_group",
}


@dataclass
class Layout:
    name: str
    valid_from: str | None
    valid_to: str | None
    columns: dict[str, list[str]]

    def covers(self, month: str) -> bool:
        if self.valid_from and month < self.valid_from:
            return False
        return not (self.valid_to and month > self.valid_to)


@dataclass
class PartnerConfig:
    code: str
    name: str
    kind: str
    feed: str
    location_municipality_code: str | None
    cadence: str
    layouts: list[Layout]
    ignored_headers: list[str]
    values: dict[str, dict[str, str]]  # column -> label -> canonical code
    reverse: dict[str, dict[str, str]] = field(default_factory=dict)  # column -> code -> label

    def layout_for(self, month: str) -> Layout:
        for layout in self.layouts:
            if layout.covers(month):
                return layout
        raise ValueError(f"{self.code}: no layout covers {month}")

    def codes(self, column: str) -> list[str]:
        """Canonical codes this partner can express for a column, in YAML order."""
        return list(self.reverse.get(column, {}))

    def label(self, column: str, code: str | None) -> str | None:
        if code is None:
            return None
        return self.reverse.get(column, {}).get(code)

    def known_labels(self, column: str) -> list[str]:
        return list(self.values.get(column, {}))


def load_partners(partners_dir: Path | str | None = None) -> dict[str, PartnerConfig]:
    partners_dir = Path(partners_dir or os.environ.get("ZORGSTROOM_PARTNERS_DIR") or DEFAULT_PARTNERS_DIR)
    configs: dict[str, PartnerConfig] = {}
    for path in sorted(partners_dir.glob("*.yaml")):
        with path.open(encoding="utf-8") as fh:
            raw = yaml.safe_load(fh)
        if not isinstance(raw, dict) or "partner_code" not in raw:
            continue
        layouts = []
        for item in raw.get("layouts") or []:
            columns = {
                str(k): [str(a) for a in (v if isinstance(v, list) else [v])]
                for k, v in (item.get("columns") or {}).items()
            }
            layouts.append(
                Layout(
                    name=str(item.get("layout", "")),
                    valid_from=str(item["valid_from"]) if item.get("valid_from") else None,
                    valid_to=str(item["valid_to"]) if item.get("valid_to") else None,
                    columns=columns,
                )
            )
        values: dict[str, dict[str, str]] = {}
        reverse: dict[str, dict[str, str]] = {}
        for column, mapping in (raw.get("values") or {}).items():
            values[str(column)] = {str(label): str(code) for label, code in mapping.items()}
            rev: dict[str, str] = {}
            for label, code in mapping.items():
                rev.setdefault(str(code), str(label))  # first label for each canonical code
            reverse[str(column)] = rev
        cfg = PartnerConfig(
            code=str(raw["partner_code"]),
            name=str(raw.get("partner_name", raw["partner_code"])),
            kind=str(raw.get("partner_kind", "")),
            feed=str(raw.get("feed", "")),
            location_municipality_code=raw.get("location_municipality_code"),
            cadence=str(raw.get("delivery_cadence", "monthly")),
            layouts=layouts,
            ignored_headers=[str(h) for h in raw.get("ignored_headers") or []],
            values=values,
            reverse=reverse,
        )
        configs[cfg.code] = cfg
    return dict(sorted(configs.items()))


def reference_dir_for(partners_dir: Path | str | None) -> Path:
    if partners_dir:
        candidate = Path(partners_dir).resolve().parent / "reference"
        if (candidate / "pc4_municipality.csv").exists():
            return candidate
    return DEFAULT_REFERENCE_DIR


def read_reference(reference_dir: Path, name: str) -> list[dict[str, str]]:
    with (reference_dir / name).open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@dataclass
class Reference:
    pc4_ranges: list[tuple[int, int, str]]  # (from, to, municipality_code)
    codes: dict[str, list[str]]  # canonical column -> valid codes

    def municipality_of(self, postcode: str | None) -> str:
        if not postcode:
            return ""
        pc4 = int(postcode[:4])
        for lo, hi, code in self.pc4_ranges:
            if lo <= pc4 <= hi:
                return code
        return ""


def load_reference(reference_dir: Path) -> Reference:
    ranges = [
        (int(r["pc4_from"]), int(r["pc4_to"]), r["municipality_code"])
        for r in read_reference(reference_dir, "pc4_municipality.csv")
    ]
    files = {
        "function": ("functions.csv", "function_code"),
        "contract_type": ("contract_types.csv", "contract_type_code"),
        "leaving_reason": ("leaving_reasons.csv", "leaving_reason_code"),
        "programme": ("programmes.csv", "programme_code"),
        "learning_path": ("learning_paths.csv", "learning_path_code"),
        "outcome": ("enrolment_outcomes.csv", "enrolment_outcome_code"),
        "target_group": ("target_groups.csv", "target_group_code"),
        "benefit_type": ("benefit_types.csv", "benefit_type_code"),
        "placement_kind": ("placement_kinds.csv", "placement_kind_code"),
        "placement_result": ("placement_results.csv", "placement_result_code"),
        "benefit_end_reason": ("benefit_end_reasons.csv", "benefit_end_reason_code"),
        "trajectory_result": ("trajectory_results.csv", "trajectory_result_code"),
    }
    codes = {}
    for column, (fname, key) in files.items():
        if (reference_dir / fname).exists():
            codes[column] = [r[key] for r in read_reference(reference_dir, fname)]
    return Reference(pc4_ranges=ranges, codes=codes)
