"""Fake persons: names (Dutch-ish, with accents), postcodes, birth dates, identifiers.

All names are encodable in Windows-1252, because two partners export in that encoding.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date

from .config import Reference
from .identifiers import new_bsn, new_onderwijsnummer

FIRST_NAMES = [
    "Sanne",
    "Lotte",
    "Emma",
    "Julia",
    "Sophie",
    "Anouk",
    "Fleur",
    "Daan",
    "Bram",
    "Lars",
    "Thijs",
    "Ruben",
    "Jeroen",
    "Marieke",
    "Ingrid",
    "Petra",
    "Wilma",
    "Henk",
    "Kees",
    "Joke",
    "Annemiek",
    "Loïs",
    "Zoë",
    "Chloë",
    "Noël",
    "Anaïs",
    "Inès",
    "René",
    "André",
    "Maëlle",
    "Mohammed",
    "Fatima",
    "Yasmina",
    "Khadija",
    "Samira",
    "Soufiane",
    "Nadia",
    "Hatice",
    "Emine",
    "Mehmet",
    "Zeynep",
    "Elif",
    "Gül",
    "Hülya",
    "Özlem",
    "Sharmila",
    "Ravi",
    "Priya",
    "Shanti",
    "Rajesh",
    "Agnieszka",
    "Katarzyna",
    "Tomasz",
    "Shurandy",
    "Semhar",
    "Yonas",
    "Aziz",
    "Rania",
    "Hiba",
    "Abdullah",
    "Françoise",
    "Hélène",
    "Joël",
    "Naomi",
    "Kevin",
    "Esther",
    "Mirjam",
    "Gerda",
    "Ilse",
    "Bianca",
    "Chantal",
    "Dewi",
    "Nour",
    "Aya",
    "Mila",
    "Jesse",
    "Stefan",
    "Ahmed",
    "Ibrahim",
    "Ilham",
    "Rachida",
    "Saïda",
    "Björn",
    "Linda",
]

# (tussenvoegsel, surname core)
LAST_NAMES = [
    ("", "Jansen"),
    ("de", "Vries"),
    ("van der", "Berg"),
    ("van", "Dijk"),
    ("", "Bakker"),
    ("", "Visser"),
    ("", "Smit"),
    ("", "Meijer"),
    ("de", "Boer"),
    ("", "Mulder"),
    ("de", "Groot"),
    ("", "Bos"),
    ("", "Vos"),
    ("", "Peters"),
    ("", "Hendriks"),
    ("van", "Leeuwen"),
    ("", "Dekker"),
    ("", "Brouwer"),
    ("de", "Wit"),
    ("", "Dijkstra"),
    ("van der", "Meer"),
    ("van den", "Heuvel"),
    ("", "Kok"),
    ("de", "Jong"),
    ("", "Vermeulen"),
    ("van", "Beek"),
    ("", "Özdemir"),
    ("", "Yilmaz"),
    ("", "Çelik"),
    ("", "Kaya"),
    ("", "Demir"),
    ("", "Öztürk"),
    ("El", "Amrani"),
    ("", "Benali"),
    ("", "Bouzid"),
    ("El", "Idrissi"),
    ("", "Aït Ouali"),
    ("", "Ramdin"),
    ("", "Ramautar"),
    ("", "Sewnath"),
    ("", "Tjon A Fong"),
    ("", "Brûlé"),
    ("", "Lefèvre"),
    ("", "Gonçalves"),
    ("", "Müller"),
    ("", "Kowalski"),
    ("", "Nowak"),
    ("", "Nguyen"),
    ("", "Haile"),
    ("", "Tesfaye"),
    ("", "Al-Hassan"),
    ("", "Hoekstra"),
    ("ten", "Brink"),
    ("'t", "Hart"),
    ("", "Kraaijeveld"),
    ("van", "Wijk"),
    ("", "Zoetemelk"),
    ("van 't", "Hof"),
    ("", "Verbeek"),
    ("", "Koster"),
]

# weights of residence municipalities inside Haaglanden (Den Haag heavy)
MUNICIPALITY_WEIGHTS = {
    "GM0518": 0.55,
    "GM0503": 0.08,
    "GM0603": 0.05,
    "GM0629": 0.02,
    "GM0637": 0.08,
    "GM1783": 0.08,
    "GM1842": 0.02,
    "GM1916": 0.07,
    "GM1926": 0.05,
}
OUTSIDE_RANGES = [(2300, 2399), (3000, 3099)]  # Leiden, Rotterdam
BAD_LETTER_PAIRS = ("SA", "SD", "SS")
LETTERS = "ABCDEFGHJKLMNPRSTVWXZ"

for _first in FIRST_NAMES:
    _first.encode("cp1252")
for _prefix, _core in LAST_NAMES:
    (_prefix + _core).encode("cp1252")


@dataclass
class Person:
    idx: int
    bsn: str | None
    onderwijsnummer: str | None
    first_name: str
    prefix: str
    surname: str
    birth_date: date
    postcode: str | None  # canonical "2511 AB" or None
    municipality_code: str
    postcode_area: str  # haaglanden / outside / missing
    role: str  # employee / participant / student
    counts: dict = field(default_factory=lambda: {"spells": 0, "enrolments": 0, "trajectories": 0})

    @property
    def last_name(self) -> str:
        return f"{self.prefix} {self.surname}".strip()

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def initial(self) -> str:
        return self.first_name[0] + "."


class PersonFactory:
    def __init__(self, rng: random.Random, reference: Reference):
        self.rng = rng
        self.reference = reference
        self.used_ids: set[str] = set()
        # pc4 ranges per municipality, only municipalities present in the reference file
        self.ranges_by_muni: dict[str, list[tuple[int, int]]] = {}
        for lo, hi, code in reference.pc4_ranges:
            self.ranges_by_muni.setdefault(code, []).append((lo, hi))
        self.munis = list(self.ranges_by_muni)
        self.muni_weights = [MUNICIPALITY_WEIGHTS.get(m, 0.03) for m in self.munis]

    def postcode(self) -> tuple[str | None, str]:
        rng = self.rng
        u = rng.random()
        if u < 0.03:
            return None, "missing"
        if u < 0.08 or not self.munis:
            lo, hi = rng.choice(OUTSIDE_RANGES)
            area = "outside"
        else:
            muni = rng.choices(self.munis, self.muni_weights)[0]
            ranges = self.ranges_by_muni[muni]
            lo, hi = rng.choices(ranges, [high - low + 1 for low, high in ranges])[0]
            area = "haaglanden"
        pc4 = rng.randint(lo, hi)
        while True:
            letters = rng.choice(LETTERS) + rng.choice(LETTERS)
            if letters not in BAD_LETTER_PAIRS:
                break
        return f"{pc4} {letters}", area

    def make(self, idx: int, role: str, birth_date: date, *, has_bsn: bool = True) -> Person:
        rng = self.rng
        first = rng.choice(FIRST_NAMES)
        prefix, surname = rng.choice(LAST_NAMES)
        postcode, area = self.postcode()
        bsn = new_bsn(rng, self.used_ids) if has_bsn else None
        onr = None if has_bsn else new_onderwijsnummer(rng, self.used_ids)
        return Person(
            idx=idx,
            bsn=bsn,
            onderwijsnummer=onr,
            first_name=first,
            prefix=prefix,
            surname=surname,
            birth_date=birth_date,
            postcode=postcode,
            municipality_code=self.reference.municipality_of(postcode),
            postcode_area=area,
            role=role,
        )
