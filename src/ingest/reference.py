"""Reference data shipped as files in config/reference: regions, postcode ranges, code lists, targets.

Each file is validated against the Pandera schema of its dimension table when loaded.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import pandas as pd

from core.errors import ConfigError
from core.paths import REFERENCE_DIR

#: The smaller code lists: file in config/reference -> (code column, name column).
CODE_LIST_FILES = {
    "contract_types": ("contract_type_code", "contract_type_name"),
    "leaving_reasons": ("leaving_reason_code", "leaving_reason_name"),
    "benefit_types": ("benefit_type_code", "benefit_type_name"),
    "benefit_end_reasons": ("benefit_end_reason_code", "benefit_end_reason_name"),
    "placement_kinds": ("placement_kind_code", "placement_kind_name"),
    "placement_results": ("placement_result_code", "placement_result_name"),
    "enrolment_outcomes": ("enrolment_outcome_code", "enrolment_outcome_name"),
    "enrolment_leaving_reasons": ("enrolment_leaving_reason_code", "enrolment_leaving_reason_name"),
    "trajectory_results": ("trajectory_result_code", "trajectory_result_name"),
    "learning_paths": ("learning_path_code", "learning_path_name"),
}
#: Residence outside the nine municipalities of Haaglanden (valid postcode, other region).
OUTSIDE_REGION = "BUITEN_REGIO"


def _read_csv(path: Path) -> pd.DataFrame:
    if not path.exists():
        raise ConfigError(f"reference file {path} is missing")
    return pd.read_csv(path, dtype=str, keep_default_na=False).map(str.strip)


@dataclass(frozen=True)
class Reference:
    """All reference tables, read from one folder."""

    folder: Path = REFERENCE_DIR

    def csv(self, name: str) -> pd.DataFrame:
        return _read_csv(self.folder / f"{name}.csv")

    @cached_property
    def municipalities(self) -> pd.DataFrame:
        return self.csv("municipalities")

    @cached_property
    def pc4_ranges(self) -> pd.DataFrame:
        df = self.csv("pc4_municipality")
        df["pc4_from"] = df["pc4_from"].astype(int)
        df["pc4_to"] = df["pc4_to"].astype(int)
        unknown = set(df["municipality_code"]) - set(self.municipalities["municipality_code"])
        if unknown:
            raise ConfigError(f"pc4_municipality.csv names municipalities not in municipalities.csv: {sorted(unknown)}")
        return df

    @cached_property
    def pc4_lookup(self) -> dict[int, str]:
        """4-digit postcode -> CBS municipality code, for every PC4 in a range."""
        lookup: dict[int, str] = {}
        for row in self.pc4_ranges.itertuples():
            for pc4 in range(row.pc4_from, row.pc4_to + 1):
                if pc4 in lookup and lookup[pc4] != row.municipality_code:
                    raise ConfigError(f"postcode {pc4} lies in ranges of two municipalities")
                lookup[pc4] = row.municipality_code
        return lookup

    @cached_property
    def functions(self) -> pd.DataFrame:
        return self.csv("functions")

    @cached_property
    def programmes(self) -> pd.DataFrame:
        return self.csv("programmes")

    @cached_property
    def target_groups(self) -> pd.DataFrame:
        return self.csv("target_groups")

    @cached_property
    def targets(self) -> pd.DataFrame:
        return self.csv("targets")

    @cached_property
    def code_list_table(self) -> pd.DataFrame:
        """The smaller code lists as one long table (code_list, code, code_name)."""
        frames = []
        for name, (code_col, name_col) in CODE_LIST_FILES.items():
            df = self.csv(name)
            frames.append(pd.DataFrame({"code_list": name, "code": df[code_col], "code_name": df[name_col]}))
        return pd.concat(frames, ignore_index=True)

    @cached_property
    def code_lists(self) -> dict[str, frozenset[str]]:
        """Every code list by name, for mapping checks and Pandera isin checks."""
        lists = {name: frozenset(group["code"]) for name, group in self.code_list_table.groupby("code_list")}
        lists["functions"] = frozenset(self.functions["function_code"])
        lists["programmes"] = frozenset(self.programmes["programme_code"])
        lists["programmes_or_none"] = lists["programmes"] | {"geen"}
        lists["target_groups"] = frozenset(self.target_groups["target_group_code"])
        lists["residence_municipalities"] = frozenset(self.municipalities["municipality_code"]) | {OUTSIDE_REGION}
        return lists
