"""One delivery file from bytes to accepted staging rows and quarantined rows with reasons.

`process_delivery` is pure apart from reading the file: it returns frames and a log record; the
caller writes them (in one transaction). Every data row read ends up accepted or quarantined.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pandas as pd
import pandera.pandas as pa

from core.errors import ConfigError, DeliveryRejected
from core.timing import NO_TIMER, StageTimer
from ingest import parse
from ingest.deliveries import Delivery, Period
from ingest.derive import derive_all
from ingest.feeds import (
    BIRTH_DATE,
    BSN,
    CODE,
    DATE,
    DECIMAL,
    IDENTIFYING_KINDS,
    INTEGER,
    ONDERWIJSNUMMER,
    PERSON_NUMBER,
    POSTCODE,
    TEXT,
    YES_NO,
    FeedSpec,
    feed_spec,
)
from ingest.headers import MappedTable, map_headers
from ingest.identifiers import DESCRIPTIONS, identifier_kinds, masked
from ingest.limits import ReadLimits
from ingest.partner_config import Layout, PartnerConfig
from ingest.pseudonymise import birth_years, check_and_pseudonymise, municipalities_from_postcodes
from ingest.readers import ROW_NUMBER, read_delivery_file
from ingest.reference import Reference
from ingest.written_forms import rewrite
from schemas.pandera_schemas import pandera_schema
from schemas.tables import FEED_STAGING, TABLES, Table

QUARANTINE_COLUMNS = TABLES["quarantine_rows"].column_names
MAX_SHOWN_VALUE = 60
DATE_HINT = "use dd-mm-yyyy or yyyy-mm-dd"
#: A value with letters in it is shown in quarantine and feedback only when at least this many rows of the
#: deliveries read together share it: then it is a label (an unknown code, a typo), not a person's name. The
#: same number as the published tables' smallest count.
SHOWN_FROM_ROWS = 5


def mask_value(value: str, kind: str) -> str:
    """A value fit for quarantine and feedback: identifiers masked, the rest cut to 60 characters."""
    if kind in IDENTIFYING_KINDS:
        return masked(value)
    return value if len(value) <= MAX_SHOWN_VALUE else value[: MAX_SHOWN_VALUE - 1] + "…"


def shown_values(raw: pd.Series, idx: pd.Index, kind: str, suspects: pd.Series | None) -> pd.Series:
    """The values of rows `idx` as quarantine and feedback show them: masked when the column is an identifier,
    when the value looks like one (`suspects`), or when it holds letters and fewer than SHOWN_FROM_ROWS rows
    share it (a name typed into a code or date column); else as they are, cut to 60 characters."""
    values = raw.loc[idx].fillna("")
    if kind in IDENTIFYING_KINDS:
        return values.map(masked)
    hide = values.str.contains(r"[^\W\d_]").fillna(False).astype(bool)
    if hide.any():
        counts = raw.value_counts()
        hide &= values.map(counts).fillna(0).to_numpy() < SHOWN_FROM_ROWS
    if suspects is not None:
        hide |= suspects.loc[idx].notna().to_numpy()
    return values.where(~hide, values.map(masked)).map(lambda v: mask_value(v, kind))


@dataclass
class IssueCollector:
    """Row problems found while parsing, as frames to concatenate."""

    frames: list[pd.DataFrame] = field(default_factory=list)

    def add(
        self,
        rows: pd.Series,
        mask: pd.Series,
        code: str,
        column: str,
        header: str,
        reasons: pd.Series | str | Callable[[pd.Index], pd.Series],
        values: pd.Series | str | Callable[[pd.Index], pd.Series] = "",
        severity: str = "row_rejected",
    ) -> None:
        """Record the rows in `mask`. Reasons and values may be callables of the offending rows' index,
        so that the text is built only for rows that have the problem."""
        if not mask.any():
            return
        idx = mask[mask].index
        reasons = reasons(idx) if callable(reasons) else reasons
        values = values(idx) if callable(values) else values
        self.frames.append(
            pd.DataFrame(
                {
                    "row_index": idx,
                    "source_row_number": rows.loc[idx].to_numpy(),
                    "reason_code": code,
                    "columns": column,
                    "source_columns": header,
                    "masked_value": values.loc[idx].to_numpy() if isinstance(values, pd.Series) else values,
                    "reason": reasons.loc[idx].to_numpy() if isinstance(reasons, pd.Series) else reasons,
                    "severity": severity,
                }
            )
        )

    def frame(self) -> pd.DataFrame:
        cols = [
            "row_index",
            "source_row_number",
            "reason_code",
            "columns",
            "source_columns",
            "masked_value",
            "reason",
            "severity",
        ]
        if not self.frames:
            return pd.DataFrame(
                {c: pd.Series([], dtype="int64" if c in ("row_index", "source_row_number") else "str") for c in cols}
            )
        return pd.concat(self.frames, ignore_index=True)[cols]


@dataclass
class DeliveryResult:
    accepted: pd.DataFrame  # staging table rows
    quarantine: pd.DataFrame  # quarantine_rows rows (rejected and flagged)
    rows_read: int
    layout: str
    unmapped_headers: list[str]
    file_format: str

    @property
    def rows_quarantined(self) -> int:
        return self.rows_read - len(self.accepted)


def _identifiers_out_of_place(
    raw: pd.Series, col, spec: FeedSpec, header: str, rows: pd.Series, issues: IssueCollector
) -> pd.Series | None:
    """Values of a column not declared as an identifier that look like one (ingest/identifiers.py): their rows
    are quarantined with the column named, and the kinds found returned (None: nothing found) so that every
    other reason about those rows masks the value too."""
    if col.kind in IDENTIFYING_KINDS:
        return None  # its values are masked wherever shown
    key = col.name in spec.record_key
    options = {"search": col.kind == TEXT and not key, "dates": col.kind != DATE}
    if col.kind == TEXT:  # keys and free text: mostly distinct values, looked at as they are
        kinds = identifier_kinds(raw, **options)
    else:
        kinds = parse.on_unique(lambda v: (k := identifier_kinds(v, **options), k.notna()), raw)[0]
    found = kinds.notna()
    if not found.any():
        return None
    what = (
        "a record key must be your own number, never a person's identifier"
        if key
        else ("identifiers belong only in their own column")
    )
    issues.add(
        rows,
        found,
        "ROW_IDENTIFIER_IN_WRONG_COLUMN",
        col.name,
        header,
        lambda idx: (
            header
            + ": the value (masked) looks like "
            + kinds.loc[idx].map(DESCRIPTIONS)
            + "; "
            + what
            + ". Remove it from this column and resend the row."
        ),
        lambda idx: raw.loc[idx].fillna("").map(masked),
    )
    return kinds


def _agreed_labels(labels: dict[str, str], limit: int = 12) -> str:
    shown = list(labels)[:limit]
    return ", ".join(shown) + (f" and {len(labels) - limit} more" if len(labels) > limit else "")


def _parse_columns(
    df: pd.DataFrame,
    spec: FeedSpec,
    partner: PartnerConfig,
    layout: Layout,
    headers: dict[str, str],
    reference: Reference,
    key: bytes,
    issues: IssueCollector,
    not_derived: dict[str, pd.Series] | None = None,
) -> dict[str, pd.Series]:
    """Parse every input column once per distinct value (parse.on_unique), after the layout's written forms
    (patterns, labels: ingest/written_forms.py); masked values and reasons are built for the offending rows only."""
    rows = df[ROW_NUMBER]
    parsed: dict[str, pd.Series] = {}
    for col in spec.columns:
        raw = df[col.name]
        header = headers.get(col.name, col.name)
        suspects = _identifiers_out_of_place(raw, col, spec, header, rows, issues)
        labels = layout.values.get(col.name, {})
        written = raw
        if col.kind not in IDENTIFYING_KINDS and (col.name in layout.patterns or (labels and col.kind != CODE)):
            # a coded column's labels are applied by map_codes (closed list); other columns' here (open)
            written = rewrite(raw, layout.patterns.get(col.name), None if col.kind == CODE else labels)

        def shown(idx: pd.Index, raw=raw, kind=col.kind, suspects=suspects) -> pd.Series:
            return shown_values(raw, idx, kind, suspects)

        def quoted(suffix: str, header=header, shown=shown):
            return lambda idx: header + " '" + shown(idx) + "'" + suffix

        if col.kind == TEXT:
            values, invalid = parse.on_unique(parse.parse_text, written)
        elif col.kind in (BSN, ONDERWIJSNUMMER):
            values, invalid = parse.on_unique(check_and_pseudonymise, raw, col.kind, key)
            label = "BSN" if col.kind == BSN else "onderwijsnummer"
            rule = (
                "the 11-check"
                if col.kind == BSN
                else "the onderwijsnummer check (starts with 10, 11-check remainder 5)"
            )
            issues.add(
                rows,
                invalid,
                f"ROW_INVALID_{col.kind.upper()}",
                col.name,
                header,
                f"{header}: the {label} (masked) fails {rule}; correct the number",
                shown,
            )
        elif col.kind == PERSON_NUMBER:
            # a BSN or an onderwijsnummer: per row whichever check the number passes (the checks exclude each other)
            as_bsn, not_bsn = parse.on_unique(check_and_pseudonymise, raw, BSN, key)
            as_onr, not_onr = parse.on_unique(check_and_pseudonymise, raw, ONDERWIJSNUMMER, key)
            parsed[f"{col.name}:{BSN}"], parsed[f"{col.name}:{ONDERWIJSNUMMER}"] = as_bsn, as_onr
            values, invalid = as_bsn.where(as_bsn.notna(), as_onr), not_bsn & not_onr
            issues.add(
                rows,
                invalid,
                "ROW_INVALID_PERSON_NUMBER",
                col.name,
                header,
                f"{header}: the number (masked) is neither a BSN (11-check) nor an onderwijsnummer (starts with 10, "
                "11-check remainder 5); correct the number",
                shown,
            )
        elif col.kind in (DATE, BIRTH_DATE):
            values, invalid = parse.on_unique(parse.parse_dates, written)
            if col.kind == BIRTH_DATE:
                reason = f"{header} (masked) is not a valid date ({DATE_HINT})"
            else:
                reason = quoted(f" is not a valid date ({DATE_HINT})")
            issues.add(rows, invalid, "ROW_INVALID_DATE", col.name, header, reason, shown)
        elif col.kind == POSTCODE:
            values, invalid = parse.on_unique(municipalities_from_postcodes, raw, reference.pc4_lookup)
            issues.add(
                rows,
                invalid,
                "ROW_INVALID_POSTCODE",
                col.name,
                header,
                f"{header} (masked) is not a Dutch postcode (4 digits, 2 letters); the municipality is left unknown",
                shown,
                severity="flagged",
            )
            invalid = pd.Series(False, index=raw.index)  # flagged, not rejected
        elif col.kind == DECIMAL:
            values, invalid = parse.on_unique(parse.parse_decimal, written, layout.decimal_separator)
            issues.add(rows, invalid, "ROW_INVALID_NUMBER", col.name, header, quoted(" is not a number"), shown)
        elif col.kind == INTEGER:
            values, invalid = parse.on_unique(parse.parse_integer, written, layout.decimal_separator)
            issues.add(rows, invalid, "ROW_INVALID_NUMBER", col.name, header, quoted(" is not a whole number"), shown)
        elif col.kind == YES_NO:
            values, invalid = parse.on_unique(parse.parse_yes_no, written)
            issues.add(rows, invalid, "ROW_INVALID_YES_NO", col.name, header, quoted(" is not ja or nee"), shown)
        elif col.kind == CODE:
            values, invalid = parse.on_unique(parse.map_codes, written, labels)
            issues.add(
                rows,
                invalid,
                "ROW_UNKNOWN_CODE",
                col.name,
                header,
                quoted(
                    f" is not one of the agreed values ({_agreed_labels(labels)}); send one of them, "
                    "or agree the new value with the pipeline team"
                ),
                shown,
            )
        else:  # pragma: no cover - feeds.py defines the kinds
            raise ValueError(col.kind)
        if col.required:
            missing = parse.on_unique(lambda v: (v, v.fillna("").str.strip() == ""), raw)[1]
            if not_derived and col.name in not_derived:  # reported already: no rule matched
                missing &= ~not_derived[col.name]
            issues.add(rows, missing, "ROW_MISSING_VALUE", col.name, header, f"{header} is required but empty")
        parsed[col.name] = values
    return parsed


def _identifiers_in_input(df: pd.DataFrame, name: str, header: str, issues: IssueCollector) -> pd.Series | None:
    """A column read only by a derived field's rules that holds what looks like an identifier: its rows are
    quarantined with the column named, and the kinds found returned so that every reason masks the value."""
    raw = df[name]
    kinds = parse.on_unique(lambda v: (k := identifier_kinds(v), k.notna()), raw)[0]
    found = kinds.notna()
    if not found.any():
        return None
    issues.add(
        df[ROW_NUMBER],
        found,
        "ROW_IDENTIFIER_IN_WRONG_COLUMN",
        name,
        header,
        lambda idx: (
            header
            + ": the value (masked) looks like "
            + kinds.loc[idx].map(DESCRIPTIONS)
            + "; identifiers belong only in their own column. Remove it from this column and resend the row."
        ),
        lambda idx: raw.loc[idx].fillna("").map(masked),
    )
    return kinds


def _derive_columns(
    df: pd.DataFrame, layout: Layout, headers: dict[str, str], issues: IssueCollector
) -> tuple[pd.DataFrame, dict[str, str], dict[str, pd.Series]]:
    """The layout's derived fields computed into the mapped frame; rows no rule matches reported (and returned)."""
    if not layout.derived:
        return df, headers, {}
    df, headers = df.copy(), dict(headers)
    suspects = {n: _identifiers_in_input(df, n, headers.get(n, n), issues) for n in layout.inputs if n in df}
    unmatched: dict[str, pd.Series] = {}
    for column, result in derive_all(df, layout).items():
        sources = [headers.get(n, n) for n in result.names]
        header = f"{column} (from {', '.join(sources)})"

        def reason(idx: pd.Index, names=result.names, sources=sources, column=column) -> pd.Series:
            text = pd.Series("", index=idx, dtype="str")
            for i, (n, src) in enumerate(zip(names, sources)):
                cells = shown_values(df[n], idx, TEXT, suspects.get(n))
                text = text + (", " if i else "") + src + " '" + cells + "'"
            return text + f": not a combination the mapping knows for {column}; send one of the agreed values"

        issues.add(df[ROW_NUMBER], result.unmatched, "ROW_NOT_DERIVED", column, "|".join(sources), reason)
        df[column] = result.values
        headers[column] = header
        unmatched[column] = result.unmatched
    return df, headers, unmatched


def _person_columns(
    parsed: dict[str, pd.Series], spec: FeedSpec, df: pd.DataFrame, headers: dict[str, str], issues: IssueCollector
) -> pd.DataFrame:
    person_id = pd.Series(None, index=df.index, dtype="str")
    kind = pd.Series(None, index=df.index, dtype="str")
    number = spec.person_number_column
    for ident in spec.person_identifiers:  # first identifier present wins (BSN before onderwijsnummer)
        values = parsed[ident]
        if number:  # a column holding either number: the rows whose number passes this identifier's check
            values = values.where(values.notna(), parsed[f"{number}:{ident}"])
        take = person_id.isna() & values.notna()
        person_id = person_id.where(~take, values)
        kind = kind.where(~take, ident)
    identifiers = [*spec.person_identifiers, *([number] if number else [])]
    if len(identifiers) > 1:
        none = pd.Series(True, index=df.index)
        for ident in identifiers:
            none &= df[ident].fillna("").str.strip() == ""
        delivered = [i for i in identifiers if i in headers] or identifiers
        names = " or ".join(headers.get(i, i) for i in delivered)
        issues.add(
            df[ROW_NUMBER],
            none,
            "ROW_MISSING_VALUE",
            "|".join(delivered),
            names,
            f"{names}: a BSN or an onderwijsnummer is required, but the row has none",
        )
    return pd.DataFrame(
        {
            "person_id": person_id,
            "person_id_kind": kind,
            "birth_year": birth_years(parsed["birth_date"]),
            "residence_municipality_code": parsed["postcode"],
        }
    )


def _check_date_orders(
    parsed: dict[str, pd.Series], spec: FeedSpec, df: pd.DataFrame, headers: dict[str, str], issues: IssueCollector
) -> None:
    for order in spec.date_orders:
        early, late = parsed[order.earlier], parsed[order.later]
        bad = early.notna() & late.notna() & (late < early)
        h_early, h_late = headers.get(order.earlier, order.earlier), headers.get(order.later, order.later)
        reason = (
            h_late
            + " "
            + late.dt.strftime("%d-%m-%Y").fillna("")
            + " is before "
            + h_early
            + " "
            + early.dt.strftime("%d-%m-%Y").fillna("")
        )
        issues.add(
            df[ROW_NUMBER], bad, "ROW_END_BEFORE_START", f"{order.earlier}|{order.later}", f"{h_early}|{h_late}", reason
        )


def _duplicate_keys(
    record_key: pd.Series,
    delivery_ids: pd.Series,
    df: pd.DataFrame,
    headers: str,
    issues: IssueCollector,
    rejected: pd.Series,
) -> None:
    """A record key twice in one delivery: the first valid row stays, later ones are rejected."""
    candidates = record_key.notna() & ~rejected
    scoped = (delivery_ids + "\x00" + record_key).where(candidates)
    dup = scoped.duplicated(keep="first") & candidates
    if dup.any():
        first_row = df[ROW_NUMBER].where(candidates).groupby(scoped).transform("min")
        reason = (
            "The record key ("
            + headers
            + ") occurs earlier in this file, in row "
            + first_row.astype("Int64").astype("str")
            + "; each record once per delivery"
        )
        issues.add(df[ROW_NUMBER], dup, "ROW_DUPLICATE_KEY", "record_key", headers, reason)


def _schema_issues(staging: pd.DataFrame, schema: pa.DataFrameSchema, df: pd.DataFrame, issues: IssueCollector) -> None:
    """Pandera failures of rows that parsing did not already reject (defence in depth)."""
    try:
        schema.validate(staging, lazy=True)
    except pa.errors.SchemaErrors as err:
        cases = err.failure_cases
        row_cases = cases[cases["index"].notna()]
        if len(row_cases) != len(cases):
            raise RuntimeError(
                f"schema-level failure in {schema.name}: {cases[cases['index'].isna()].to_dict('records')}"
            ) from None
        for (column, check), group in row_cases.groupby(["column", "check"]):
            mask = pd.Series(False, index=staging.index)
            mask.loc[group["index"].astype("int64").unique()] = True
            issues.add(
                df[ROW_NUMBER],
                mask,
                "ROW_SCHEMA",
                str(column),
                str(column),
                f"{column} fails the check {check} of table {schema.name}",
            )


@dataclass
class ReadDelivery:
    """A delivery file read and mapped onto canonical input columns (strings), not yet parsed."""

    delivery: Delivery
    period: Period
    version: int
    mapped: MappedTable
    reader_issues: list[tuple[int, str, str, str]]
    file_format: str

    @property
    def rows_read(self) -> int:
        """Data rows read: the mapped rows plus the rows the reader could not use (one or more issues each)."""
        return len(self.mapped.frame) + len({issue[0] for issue in self.reader_issues})


def read_delivery(
    delivery: Delivery,
    partner: PartnerConfig,
    period: Period,
    version: int,
    timer: StageTimer = NO_TIMER,
    limits: ReadLimits | None = None,
) -> ReadDelivery:
    """Read a delivery file and map its headers with the partner's layout for the period. Raises DeliveryRejected."""
    try:
        layout = partner.layout_for(period.start_month)
    except ConfigError:
        raise DeliveryRejected(
            "FILE_NO_LAYOUT",
            f"No agreed layout of this export covers the period {period.label}. Check the period in the file "
            "name, or tell the pipeline team which export layout the file has.",
        ) from None
    with timer.stage("read"):
        raw = read_delivery_file(delivery.path, partner.known_headers, limits, sheet=layout.sheet)
    with timer.stage("map_parse"):
        mapped = map_headers(raw, partner, layout, feed_spec(partner.feed))
    item = ReadDelivery(delivery, period, version, mapped, raw.row_issues, raw.file_format)
    if item.rows_read == 0:  # a header and nothing else: not a delivery of the period (completeness says 'empty')
        raise DeliveryRejected(
            "FILE_EMPTY",
            "The file has its header row but no data rows. Send the export again with its rows; if the period "
            "really had none, tell the pipeline team (an empty file does not count as the period's delivery).",
        )
    return item


def _lineage(items: list[ReadDelivery], partner: PartnerConfig) -> pd.DataFrame:
    sizes = [len(it.mapped.frame) for it in items]

    def repeat(values: list, dtype: str) -> pd.Series:
        return pd.Series(pd.Series(values, dtype=dtype).repeat(sizes).to_numpy(), dtype=dtype)

    return pd.DataFrame(
        {
            "delivery_id": repeat([it.delivery.delivery_id for it in items], "str"),
            "partner_code": repeat([partner.partner_code] * len(items), "str"),
            "delivery_period": repeat([it.period.label for it in items], "str"),
            "delivery_version": repeat([it.version for it in items], "Int64"),
            "source_file": repeat([it.delivery.source_file for it in items], "str"),
            "content_hash": repeat([it.delivery.content_hash for it in items], "str"),
            "source_row_number": pd.Series(
                pd.concat([it.mapped.frame[ROW_NUMBER] for it in items], ignore_index=True), dtype="Int64"
            ),
            "received_at": repeat([it.delivery.received_at for it in items], "datetime64[us]"),
        }
    )


def _validate_group(
    items: list[ReadDelivery], partner: PartnerConfig, reference: Reference, key: bytes, timer: StageTimer = NO_TIMER
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Parse and validate the rows of deliveries that share a partner and header names, in one go."""
    with timer.stage("map_parse"):
        group = _parse_group(items, partner, reference, key)
    with timer.stage("validate"):
        return _validate_parsed(group, partner, reference)


@dataclass
class _ParsedGroup:
    """Deliveries' rows parsed into staging columns, with the problems found so far."""

    staging: pd.DataFrame  # staging table columns, every row
    raw: pd.DataFrame  # the input frame (strings, with the source row numbers)
    record_key: pd.Series
    lineage: pd.DataFrame
    issues: IssueCollector
    headers: dict[str, str]
    table: Table


def _parse_group(items: list[ReadDelivery], partner: PartnerConfig, reference: Reference, key: bytes) -> _ParsedGroup:
    spec = feed_spec(partner.feed)
    layout = partner.layout_named(items[0].mapped.layout)
    df = pd.concat([it.mapped.frame for it in items], ignore_index=True)
    lineage = _lineage(items, partner)
    issues = IssueCollector()

    df, headers, not_derived = _derive_columns(df, layout, items[0].mapped.source_headers, issues)
    parsed = _parse_columns(df, spec, partner, layout, headers, reference, key, issues, not_derived)
    person = _person_columns(parsed, spec, df, headers, issues)
    _check_date_orders(parsed, spec, df, headers, issues)

    key_parts = [parsed[c].fillna("") for c in spec.record_key]
    record_key = key_parts[0]
    for part in key_parts[1:]:
        record_key = record_key.where(part == "", record_key + "-" + part)
    record_key = record_key.where(parsed[spec.record_key[0]].notna(), None).astype("str")

    table = TABLES[FEED_STAGING[partner.feed]]
    targets = {c.target: parsed[c.name] for c in spec.columns if c.target}
    staging = pd.concat([lineage, pd.DataFrame({"record_key": record_key}), person, pd.DataFrame(targets)], axis=1)
    return _ParsedGroup(staging[table.column_names], df, record_key, lineage, issues, headers, table)


def _validate_parsed(
    group: _ParsedGroup, partner: PartnerConfig, reference: Reference
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Duplicate keys and the Pandera schema over the parsed rows; accepted rows and the problems found."""
    spec = feed_spec(partner.feed)
    staging, df, record_key, lineage, issues, headers, table = (
        group.staging,
        group.raw,
        group.record_key,
        group.lineage,
        group.issues,
        group.headers,
        group.table,
    )
    n = len(df)
    schema = pandera_schema(table, reference.code_lists | {"partners": frozenset({partner.partner_code})})
    _schema_issues(staging[~_rejected_mask(issues.frame(), n)], schema, df, issues)
    # after the schema: the first *valid* row of a record key stays (a row failing only the schema must
    # not push a valid later row out as its duplicate)
    key_headers = "+".join(headers.get(c, c) for c in spec.record_key if c in headers)
    _duplicate_keys(record_key, lineage["delivery_id"], df, key_headers, issues, _rejected_mask(issues.frame(), n))

    found = issues.frame()
    rejected = _rejected_mask(found, n)
    found["delivery_id"] = (
        lineage["delivery_id"].to_numpy()[found["row_index"].to_numpy()] if len(found) else pd.Series([], dtype="str")
    )
    return staging[~rejected].reset_index(drop=True), found.drop(columns="row_index")


def validate_deliveries(
    items: list[ReadDelivery], partner: PartnerConfig, reference: Reference, key: bytes, timer: StageTimer = NO_TIMER
) -> dict[str, DeliveryResult]:
    """Parse, pseudonymise and validate read deliveries of one partner; a result per delivery_id.

    Deliveries with the same layout and header names are validated together: the per-file cost of
    many small vectorised steps is paid once per batch.
    """
    groups: dict[tuple, list[ReadDelivery]] = {}
    for it in items:
        groups.setdefault((it.mapped.layout, *sorted(it.mapped.source_headers.items())), []).append(it)
    accepted_parts, issue_parts = [], []
    for group in groups.values():
        accepted, found = _validate_group(group, partner, reference, key, timer)
        accepted_parts.append(accepted)
        issue_parts.append(found)
    accepted = pd.concat(accepted_parts, ignore_index=True)
    quarantine = _quarantine_frame(pd.concat(issue_parts, ignore_index=True), items, partner)
    accepted_by = dict(tuple(accepted.groupby("delivery_id", sort=False))) if len(accepted) else {}
    quarantine_by = dict(tuple(quarantine.groupby("delivery_id", sort=False))) if len(quarantine) else {}
    results = {}
    for it in items:
        d = it.delivery
        results[d.delivery_id] = DeliveryResult(
            accepted_by.get(d.delivery_id, accepted.head(0)).reset_index(drop=True),
            quarantine_by.get(d.delivery_id, quarantine.head(0)).reset_index(drop=True),
            it.rows_read,
            it.mapped.layout,
            it.mapped.unmapped_headers,
            it.file_format,
        )
    return results


def process_delivery(
    delivery: Delivery, partner: PartnerConfig, period: Period, version: int, reference: Reference, key: bytes
) -> DeliveryResult:
    """Read, map, parse, pseudonymise and validate one delivery file. Raises DeliveryRejected."""
    item = read_delivery(delivery, partner, period, version)
    return validate_deliveries([item], partner, reference, key)[delivery.delivery_id]


def _rejected_mask(found: pd.DataFrame, n: int) -> pd.Series:
    mask = pd.Series(False, index=range(n))
    rej = found.loc[found["severity"] == "row_rejected", "row_index"].unique()
    mask.loc[rej] = True
    return mask


def _quarantine_frame(found: pd.DataFrame, items: list[ReadDelivery], partner: PartnerConfig) -> pd.DataFrame:
    """Quarantine rows of several deliveries: parse and schema problems plus unusable rows from the reader."""
    reader = pd.DataFrame(
        [
            (it.delivery.delivery_id, *issue, _canonical(it.mapped.source_headers, issue[3]))
            for it in items
            for issue in it.reader_issues
        ],
        columns=["delivery_id", "source_row_number", "reason_code", "reason", "source_columns", "columns"],
    )
    reader["masked_value"] = ""
    reader["severity"] = "row_rejected"
    out = pd.concat([found, reader], ignore_index=True)
    source_files = {it.delivery.delivery_id: it.delivery.source_file for it in items}
    out["partner_code"] = partner.partner_code
    out["source_file"] = out["delivery_id"].map(source_files)
    out = out.sort_values(["delivery_id", "source_row_number", "reason_code", "columns"], kind="stable").reset_index(
        drop=True
    )
    out["source_row_number"] = out["source_row_number"].astype("Int64")
    for c in QUARANTINE_COLUMNS:
        if c != "source_row_number":
            out[c] = out[c].astype("str")
    return out[QUARANTINE_COLUMNS]


def _canonical(source_headers: dict[str, str], header: str) -> str:
    """The canonical column a partner's header is mapped onto ('' when none)."""
    return next((column for column, h in source_headers.items() if h == header), "") if header else ""


def utc_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)
