"""Partners whose mapping file is broken: what the warehouse keeps for them while they wait for a fix.

A broken mapping stops only its own partner's deliveries. The partner stays known: dim_partner keeps
its row (from the identity keys of the broken file when those are valid, else the row the warehouse
already had), so the rows it delivered before still pass the checks that every partner_code is a
known partner, and the other partners' runs go on.
"""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa

from ingest.deliveries import is_hidden
from ingest.partner_config import PartnerIdentity, PartnerMappings
from transforms.dimensions import dim_partner
from warehouse.db import read_table, table_exists


def dim_partner_of(mappings: PartnerMappings, engine: sa.Engine | None = None) -> pd.DataFrame:
    """dim_partner: every valid partner, and every broken one whose identity is known (here or in the warehouse)."""
    identities: list[PartnerIdentity] = [p.identity for p in mappings.valid.values()]
    identities += [b.identity for b in mappings.broken.values() if b.identity is not None]
    frame = dim_partner(identities)
    unknown = [code for code, b in mappings.broken.items() if b.identity is None]
    if unknown and engine is not None and table_exists(engine, "dim_partner"):
        kept = read_table(engine, "dim_partner")
        kept = kept[kept["partner_code"].isin(unknown)]
        frame = pd.concat([frame, kept[frame.columns].astype("str")], ignore_index=True)
    return frame.sort_values("partner_code", kind="stable").reset_index(drop=True)


def waiting_files(landing_dir, partner_code: str) -> list[str]:
    """The files in a partner's landing folder (hidden ones left out), relative to it, sorted."""
    folder = landing_dir / partner_code
    if not folder.is_dir():
        return []
    return sorted(
        p.relative_to(folder).as_posix()
        for p in folder.rglob("*")
        if p.is_file() and not is_hidden(p.relative_to(folder))
    )


def broken_mapping_lines(mappings: PartnerMappings, landing_dir=None) -> list[str]:
    """One plain line per broken mapping, with the number of its files that wait (first in logs and reports)."""
    lines = []
    for code, b in sorted(mappings.broken.items()):
        waiting = f"; {len(waiting_files(landing_dir, code))} file(s) in its landing folder wait" if landing_dir else ""
        lines.append(
            f"partner {code}: its mapping is broken, so its deliveries wait for a valid mapping (the other "
            f"partners' go on){waiting}. {b.error}"
        )
    return lines
