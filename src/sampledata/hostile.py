"""A hostile corpus: small files, made on the fly, that try to take the pipeline down or leak an identity.

Dropped into a landing zone beside ordinary deliveries (tests/test_hostile_corpus.py, bench/hostile.py),
each file must end with a delivery_log record and the expected reason, the other deliveries must load,
and none of the identifiers planted in them may appear in any table, log, metadata or feedback file.
Every file is a few KB to a few MB; what makes it hostile is what it asks a reader to do:

- an xlsx whose only cell is at XFD1048576 (a naive reader allocates 512 GiB), one with a cell at
  CV1048576 (3.6 GB), zip archives that lie about their sizes (smaller and larger than they unpack to);
- a CSV header of 200,000 columns, two headers of the same name, a header and no rows, one cell of
  150,000 characters, UTF-16 text with and without a byte-order mark;
- links to a file outside the landing zone, to another partner's file, to a system file and to folders,
  a hidden upload in progress, a hidden folder, a named pipe (reading it would wait forever);
- BSNs, onderwijsnummers, postcodes, dates of birth and names in key, code, number and free-text columns.

The people are generated: numbers pass the 11-check but belong to no one (sampledata/identifiers.py).
Periods lie before the ordinary sample's (2021), so nothing here replaces an ordinary delivery.
"""

from __future__ import annotations

import io
import os
import random
import struct
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import openpyxl

from sampledata.identifiers import new_bsn, new_onderwijsnummer

MUNICIPAL = "gemeente_den_haag"
TRAINING = "roc_zuidwest"
EMPLOYER = "vph_delfland"
MUNICIPAL_HEADER = [
    "Trajectnummer",
    "BSN",
    "Naam",
    "Geboortedatum",
    "Postcode",
    "Doelgroep",
    "Uitkering",
    "Programma",
    "Datum aanmelding",
    "Datum plaatsing",
    "Soort plaatsing",
    "Datum einde plaatsing",
    "Resultaat plaatsing",
]
TRAINING_HEADER = [
    "inschrijving_id",
    "achternaam",
    "bsn",
    "onderwijsnummer",
    "geboortedatum",
    "postcode",
    "crebo_code",
    "niveau",
    "leerweg",
    "datum_inschrijving",
    "datum_uitschrijving",
    "uitstroomresultaat",
    "leerbedrijf",
]


@dataclass(frozen=True)
class Expected:
    """What must become of one corpus entry: its delivery_log record (partner None: no partner's folder)."""

    partner_code: str | None
    source_file: str
    status: str
    reason_code: str | None
    what: str


@dataclass
class Corpus:
    expected: list[Expected] = field(default_factory=list)
    #: raw identifiers planted anywhere in the corpus (numbers, postcodes, dates as written, names)
    planted: set[str] = field(default_factory=set)
    #: rows that must be quarantined: (partner, source file, row number) -> reason code
    quarantined: dict[tuple[str, str, int], str] = field(default_factory=dict)


class _People:
    """Generated people: valid numbers that belong to no one, written down as they are planted."""

    def __init__(self, corpus: Corpus, seed: int) -> None:
        self.corpus, self.rng = corpus, random.Random(seed)
        self.used: set[str] = set()

    def bsn(self) -> str:
        return self._plant(new_bsn(self.rng, self.used))

    def onderwijsnummer(self) -> str:
        return self._plant(new_onderwijsnummer(self.rng, self.used))

    def postcode(self) -> str:
        code = f"{self.rng.randrange(2490, 2600)} {self.rng.choice('ABCEGHJKLMNPRSTVWXZ')}{self.rng.choice('ABCEGHJ')}"
        self.corpus.planted |= {code, code.replace(" ", "")}
        return code

    def birth_date(self) -> tuple[str, str]:
        """(dd-mm-yyyy, yyyy-mm-dd) of a birth date before 2000 (no ordinary date column holds one)."""
        y, m, d = self.rng.randrange(1950, 2000), self.rng.randrange(1, 13), self.rng.randrange(1, 29)
        dmy, iso = f"{d:02d}-{m:02d}-{y}", f"{y}-{m:02d}-{d:02d}"
        self.corpus.planted |= {dmy, iso}
        return dmy, iso

    def name(self) -> str:
        first = self.rng.choice(["Zwaantje", "Gerbrandus", "Wilhelmina", "Evertjan", "Hendrikje"])
        last = self.rng.choice(["Quaadvliet", "Zuidwijkhoven", "Brouwerszoon", "Oostkampveld"])
        full = f"{first} {last}"
        self.corpus.planted |= {full, last}
        return full

    def _plant(self, number: str) -> str:
        self.corpus.planted.add(number)
        return number


def _csv(rows: list[list[str]], delimiter: str = ",") -> str:
    return "".join(delimiter.join(row) + "\n" for row in rows)


def _municipal_row(people: _People, number: str, **override: str) -> list[str]:
    row = dict(
        zip(
            MUNICIPAL_HEADER,
            [
                number,
                people.bsn(),
                people.name(),
                people.birth_date()[0],
                people.postcode(),
                "Bijstand",
                "PW",
                "WEP-trein",
                "2021-10-04",
                "2021-11-01",
                "WEP",
                "",
                "",
            ],
            strict=True,
        )
    )
    row.update(override)
    return [row[h] for h in MUNICIPAL_HEADER]


def _xlsx(cells: dict[str, object]) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    for ref, value in cells.items():
        ws[ref] = value
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _with_sheet_padding(xlsx: bytes, padding: bytes, times: int) -> bytes:
    """The workbook with `padding` written `times` over (an XML comment) into its first sheet, streamed."""
    src = zipfile.ZipFile(io.BytesIO(xlsx))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename != "xl/worksheets/sheet1.xml":
                dst.writestr(item.filename, data)
                continue
            head, _, tail = data.partition(b"<sheetData>")
            with dst.open(item.filename, "w", force_zip64=True) as fh:
                fh.write(head + b"<!--")
                for _ in range(times):
                    fh.write(padding)
                fh.write(b"--><sheetData>" + tail)
    return out.getvalue()


def _forge_sizes(xlsx: bytes, member: str, declared: int) -> bytes:
    """The archive with `member`'s uncompressed size rewritten to `declared`, in its local header and in the
    central directory (a zip that lies about what it unpacks to)."""
    data = bytearray(xlsx)
    name = member.encode()
    for signature, size_offset, name_offset in ((b"PK\x03\x04", 22, 30), (b"PK\x01\x02", 24, 46)):
        start = 0
        while (pos := data.find(signature, start)) >= 0:
            start = pos + 4
            name_len = struct.unpack_from("<H", data, pos + (26 if signature == b"PK\x03\x04" else 28))[0]
            if bytes(data[pos + name_offset : pos + name_offset + name_len]) == name:
                struct.pack_into("<I", data, pos + size_offset, declared)
    return bytes(data)


def write_hostile_corpus(landing: Path, outside: Path, seed: int = 13) -> Corpus:
    """Write the corpus into `landing` (links point into `outside`, a folder beside it); returns what must
    become of each entry and every identifier planted."""
    corpus = Corpus()
    people = _People(corpus, seed)
    municipal, training = landing / MUNICIPAL, landing / TRAINING
    for folder in (municipal, training, outside):
        folder.mkdir(parents=True, exist_ok=True)

    def put(partner: str, name: str, data: bytes | str, status: str, reason: str | None, what: str) -> Path:
        path = landing / partner / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
        corpus.expected.append(Expected(partner, name, status, reason, what))
        return path

    # --- readers asked to allocate far more than the file holds -----------------------------------
    put(MUNICIPAL, "gemeente_den_haag_2021-07.xlsx", _xlsx({"XFD1048576": "x"}), "rejected", "FILE_TOO_MANY_COLUMNS",
        "the only cell at XFD1048576")  # fmt: skip
    header = dict(zip(["A1", "B1", "C1", "D1", "E1"], MUNICIPAL_HEADER, strict=False))
    put(MUNICIPAL, "gemeente_den_haag_2021-07_v2.xlsx", _xlsx({**header, "CV1048576": "x"}), "rejected",
        "FILE_TOO_MANY_CELLS", "a header and a cell at CV1048576")  # fmt: skip
    put(MUNICIPAL, "gemeente_den_haag_2021-08.csv", ",".join(f"kolom{i}" for i in range(200_000)) + "\n1\n",
        "rejected", "FILE_TOO_MANY_COLUMNS", "a header of 200,000 columns")  # fmt: skip
    plain = _xlsx({**dict(zip(["A1", "B1"], MUNICIPAL_HEADER, strict=False)), "A2": "T1"})
    bomb = _with_sheet_padding(plain, b"0" * (1 << 20), 200)  # 200 MB that compresses 1000x
    put(MUNICIPAL, "gemeente_den_haag_2021-08_v2.xlsx", _forge_sizes(bomb, "xl/worksheets/sheet1.xml", 4096),
        "rejected", "FILE_CORRUPT", "a sheet that unpacks to 200 MB but declares 4 KB")  # fmt: skip
    put(MUNICIPAL, "gemeente_den_haag_2021-08_v3.xlsx", _forge_sizes(plain, "xl/worksheets/sheet1.xml", 3 << 30),
        "rejected", "FILE_SUSPICIOUS_ARCHIVE", "a sheet that declares 3 GB")  # fmt: skip

    # --- small file problems --------------------------------------------------------------------
    dup = [*MUNICIPAL_HEADER[:5], "BSN", *MUNICIPAL_HEADER[5:]]
    row = _municipal_row(people, "T-DUB-1")
    put(MUNICIPAL, "gemeente_den_haag_2021-09.csv", _csv([dup, [*row[:5], people.bsn(), *row[5:]]]), "rejected",
        "FILE_DUPLICATE_HEADERS", "two columns named BSN")  # fmt: skip
    put(MUNICIPAL, "gemeente_den_haag_2021-11.csv", _csv([MUNICIPAL_HEADER]), "rejected", "FILE_EMPTY",
        "a header and no rows")  # fmt: skip
    long_cell = _municipal_row(people, "T-LANG-2", Programma="W" * 150_000)
    huge = _csv([MUNICIPAL_HEADER, _municipal_row(people, "T-LANG-1"), long_cell, _municipal_row(people, "T-LANG-3")])
    put(MUNICIPAL, "gemeente_den_haag_2021-12.csv", huge, "loaded", None, "one cell of 150,000 characters")
    corpus.quarantined[(MUNICIPAL, "gemeente_den_haag_2021-12.csv", 3)] = "ROW_VALUE_TOO_LONG"
    utf16 = _csv([MUNICIPAL_HEADER, _municipal_row(people, "T-U16-1"), _municipal_row(people, "T-U16-2")])
    put(MUNICIPAL, "gemeente_den_haag_2021-05.csv", utf16.encode("utf-16"), "loaded", None, "UTF-16 with BOM")
    utf16 = _csv([MUNICIPAL_HEADER, _municipal_row(people, "T-U16-3"), _municipal_row(people, "T-U16-4")])
    put(MUNICIPAL, "gemeente_den_haag_2021-06.csv", utf16.encode("utf-16-le"), "loaded", None, "UTF-16 without BOM")

    # --- identifiers where they do not belong -----------------------------------------------------
    key_bsn = people.bsn()
    rows = [
        MUNICIPAL_HEADER,
        _municipal_row(people, key_bsn, BSN=key_bsn),  # a BSN used as the trajectory number
        _municipal_row(people, "T-ID-2", Doelgroep=people.bsn()),  # a BSN in a code column
        _municipal_row(people, "T-ID-3", Programma=people.postcode()),  # a postcode in a code column
        _municipal_row(people, "T-ID-4", Uitkering=people.birth_date()[0]),  # a date of birth in a code column
        _municipal_row(people, "T-ID-5", **{"Soort plaatsing": people.name()}),  # a name in a code column
        _municipal_row(people, "T-ID-6", **{"Datum plaatsing": people.bsn()}),  # a BSN in a date column
        _municipal_row(people, "T-ID-7"),  # an ordinary row: loaded
    ]
    put(MUNICIPAL, "gemeente_den_haag_2021-10.csv", _csv(rows), "loaded", None, "identifiers in key and code columns")
    for number, code in zip(
        range(2, 8),
        ["ROW_IDENTIFIER_IN_WRONG_COLUMN"] * 4 + ["ROW_UNKNOWN_CODE", "ROW_IDENTIFIER_IN_WRONG_COLUMN"],
        strict=True,
    ):
        corpus.quarantined[(MUNICIPAL, "gemeente_den_haag_2021-10.csv", number)] = code

    def training_row(number: str, **override: str) -> list[str]:
        values = dict(
            zip(
                TRAINING_HEADER,
                [number, people.name().split()[1], people.bsn(), "", people.birth_date()[0],
                 people.postcode().replace(" ", ""), "25480", "3", "bbl", "01-09-2021", "", "actief", "Zorggroep West"],
                strict=True,
            )
        )  # fmt: skip
        values.update(override)
        return [values[h] for h in TRAINING_HEADER]

    onr = people.onderwijsnummer()
    dob, _ = people.birth_date()
    rows = [
        TRAINING_HEADER,
        training_row(onr, bsn="", onderwijsnummer=onr),  # an onderwijsnummer as enrolment number
        training_row("4599001", leerbedrijf=f"Zorghuis De Linde, stagiair bsn {people.bsn()}"),  # free text
        training_row("4599002", leerbedrijf=f"Thuiszorg, geboren {dob}"),  # a date of birth in free text
        training_row("4599003", leerbedrijf=f"Kraamzorg, {people.postcode()} Den Haag"),  # a postcode in free text
        training_row("4599004", niveau=people.bsn()),  # a BSN in a number column
        training_row("4599005", crebo_code=people.onderwijsnummer()),  # an onderwijsnummer in a code field
        training_row("4599006"),  # an ordinary row: loaded
    ]
    text = _csv(rows, ";").encode("cp1252")
    put(TRAINING, "roc_zuidwest_2021-Q4.csv", text, "loaded", None, "identifiers in key, number and free-text columns")
    for number in range(2, 8):
        corpus.quarantined[(TRAINING, "roc_zuidwest_2021-Q4.csv", number)] = "ROW_IDENTIFIER_IN_WRONG_COLUMN"

    # --- what is never read: links, hidden names, a pipe -----------------------------------------
    target = outside / "buiten_de_landingszone_2021-09.csv"
    target.write_text(_csv([MUNICIPAL_HEADER, _municipal_row(people, "T-BUITEN-1")]), encoding="utf-8")
    (outside / "map").mkdir(exist_ok=True)
    (outside / "map" / "gemeente_den_haag_2021-03.csv").write_bytes(target.read_bytes())

    def link(partner: str | None, name: str, to: Path, what: str) -> None:
        where = landing / partner / name if partner else landing / name
        os.symlink(to, where)
        corpus.expected.append(Expected(partner, name, "rejected", "FILE_LINK", what))

    link(MUNICIPAL, "gemeente_den_haag_2021-09_v2.csv", target, "a link to a file outside the landing zone")
    others = sorted(p for p in (landing / EMPLOYER).glob("*.csv")) if (landing / EMPLOYER).is_dir() else []
    inside = others[0] if others else training / "roc_zuidwest_2021-Q4.csv"
    link(MUNICIPAL, "gemeente_den_haag_2021-04.csv", inside, "a link to another partner's file")
    link(MUNICIPAL, "gemeente_den_haag_2021-03.csv", Path("/etc/passwd"), "a link to a system file")
    link(MUNICIPAL, "oude_map", outside / "map", "a link to a folder outside the landing zone")
    link(None, "gedeelde_map", outside / "map", "a folder link directly in the landing folder")
    put(MUNICIPAL, ".gemeente_den_haag_2021-12_v2.csv.part", _csv([MUNICIPAL_HEADER]), "skipped", "FILE_HIDDEN",
        "an upload in progress")  # fmt: skip
    hidden = municipal / ".concept"
    hidden.mkdir(exist_ok=True)
    (hidden / "gemeente_den_haag_2021-02.csv").write_bytes(target.read_bytes())
    corpus.expected.append(Expected(MUNICIPAL, ".concept", "skipped", "FILE_HIDDEN", "a hidden folder"))
    if hasattr(os, "mkfifo"):
        os.mkfifo(municipal / "gemeente_den_haag_2021-01.csv")
        corpus.expected.append(
            Expected(MUNICIPAL, "gemeente_den_haag_2021-01.csv", "rejected", "FILE_NOT_REGULAR", "a named pipe")
        )
    return corpus
