"""Dimension tables from the reference files and the partner mappings (data, not code)."""

from __future__ import annotations

import dataclasses

import pandas as pd

from ingest.partner_config import PartnerConfig, PartnerIdentity
from ingest.reference import Reference


def _bool(s: pd.Series) -> pd.Series:
    return s.str.strip().str.casefold().map({"true": True, "false": False, "ja": True, "nee": False}).astype("boolean")


def _int(s: pd.Series) -> pd.Series:
    return pd.to_numeric(s.replace("", None), errors="raise").astype("Int64")


def _str(df: pd.DataFrame) -> pd.DataFrame:
    return df.astype("str").replace("", None)


def dim_region(ref: Reference) -> pd.DataFrame:
    return _str(ref.municipalities)


def dim_postcode_range(ref: Reference) -> pd.DataFrame:
    df = ref.pc4_ranges.copy()
    return df.astype({"pc4_from": "Int64", "pc4_to": "Int64", "municipality_code": "str"})


def dim_programme(ref: Reference) -> pd.DataFrame:
    return _str(ref.programmes)


def dim_function(ref: Reference) -> pd.DataFrame:
    df = _str(ref.functions)
    df["mbo_level"] = _int(ref.functions["mbo_level"])
    df["is_care_function"] = _bool(ref.functions["is_care_function"])
    return df


def dim_target_group(ref: Reference) -> pd.DataFrame:
    return _str(ref.target_groups)


def dim_code_list(ref: Reference) -> pd.DataFrame:
    return _str(ref.code_list_table)


def dim_target(ref: Reference) -> pd.DataFrame:
    raw = ref.targets
    df = _str(raw)
    df["window_start"] = pd.to_datetime(raw["window_start"], format="%Y-%m-%d").astype("datetime64[us]")
    df["window_end"] = pd.to_datetime(raw["window_end"], format="%Y-%m-%d").astype("datetime64[us]")
    df["target_number"] = _int(raw["target_number"])
    df["window_assumed"] = _bool(raw["window_assumed"])
    df["criterion_requires_municipal_record"] = _bool(raw["criterion_requires_municipal_record"])
    return df


def dim_partner(partners: dict[str, PartnerConfig] | list[PartnerIdentity]) -> pd.DataFrame:
    """One row per partner: from its mapping's identity keys (name, kind, feed, location, cadence)."""
    identities = [p.identity for p in partners.values()] if isinstance(partners, dict) else partners
    rows = [dataclasses.asdict(p) for p in sorted(identities, key=lambda p: p.partner_code)]
    return pd.DataFrame(rows, columns=[f.name for f in dataclasses.fields(PartnerIdentity)]).astype("str")


DIMENSIONS = {
    "dim_region": dim_region,
    "dim_postcode_range": dim_postcode_range,
    "dim_programme": dim_programme,
    "dim_function": dim_function,
    "dim_target_group": dim_target_group,
    "dim_code_list": dim_code_list,
    "dim_target": dim_target,
}
