"""The simulated world: persons with employment spells, enrolments and municipal trajectories.

Every record keeps, per changing field, a timeline of (known_from, value): the value a partner's
system shows at an export date is the last one known by then. Deliveries (see deliveries.py)
take snapshots of these records.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from .config import PartnerConfig, Reference
from .dates import add_months, add_years
from .people import Person, PersonFactory

DMIN = date.min
HISTORY_CUT = date(2019, 1, 1)  # first day of the event data; spells before it are history
WORLD_START = date(2019, 1, 1)
SECTORDEAL_START = date(2019, 11, 14)

EMPLOYER_WEIGHTS = {"zorggroep_haaglanden": 0.5, "thuiszorg_westland": 0.25, "vph_delfland": 0.25}
TRAINER_DEFAULT = ("roc_zuidwest", "threewise")  # (mbo college, care academy)

FUNCTION_WEIGHTS = {
    "HHU": 0.18,
    "HKM": 0.05,
    "ZAS": 0.10,
    "HZW": 0.20,
    "VIG": 0.25,
    "BGL": 0.06,
    "VPK": 0.12,
    "ONDST": 0.04,
}
FUNCTION_LEVEL = {"HHU": 1, "HKM": 1, "ONDST": 1, "ZAS": 2, "HZW": 2, "VIG": 3, "BGL": 3, "VPK": 4}
LEVEL_FUNCTIONS = {1: ["HHU", "HKM", "ZAS"], 2: ["HZW", "ZAS"], 3: ["VIG", "BGL"], 4: ["VPK"]}
CREBO_BY_LEVEL = {1: ["25497", "25655"], 2: ["25498"], 3: ["25491"], 4: ["25480"]}
HOURS = [12, 16, 20, 24, 24, 24, 28, 28, 28, 32, 32, 32, 32.5, 36, 36, 38, 26.5, 30.75]

VAST_REASONS = {"eigen_verzoek": 0.60, "ontslag_werkgever": 0.10, "gezondheid": 0.10, "overig": 0.12, "onbekend": 0.08}
OPROEP_REASONS = {"eigen_verzoek": 0.55, "einde_contract": 0.25, "overig": 0.12, "onbekend": 0.08}
TRAINER_LEAVING = {"eigen_verzoek": 0.5, "gezondheid": 0.15, "overig": 0.2, "onbekend": 0.15}

EXTERNAL_BBL_EMPLOYERS = [
    "Zorgcentrum De Lindenhof",
    "Stichting Thuishulp Zuidwest",
    "Woonzorg Het Anker",
    "Zorgpartners Rijswijk",
]

# programme of a municipal trajectory -> programme label on an employment spell it leads to
EMPLOYER_PROGRAMME = {
    "sectordeal_zorg": "sectordeal_zorg",
    "werkoffensief_500": "werkoffensief_500",
    "brugbanen": "brugbanen",
}


def weighted(rng: random.Random, weights: dict):
    keys = list(weights)
    return rng.choices(keys, [weights[k] for k in keys])[0]


def days(n: int) -> timedelta:
    return timedelta(days=n)


class Record:
    """One partner record (spell, enrolment or trajectory) with its value timelines."""

    __slots__ = (
        "close",
        "created",
        "end_field",
        "feed",
        "flags",
        "key",
        "partner",
        "person",
        "sort_key",
        "start_field",
        "static",
        "tl",
    )

    def __init__(
        self,
        partner,
        feed,
        key,
        sort_key,
        person,
        static,
        tl,
        created,
        start_field,
        end_field=None,
        close=None,
        flags=None,
    ):
        self.partner = partner
        self.feed = feed
        self.key = key
        self.sort_key = sort_key
        self.person = person
        self.static = static
        self.tl = tl
        self.created = created
        self.start_field = start_field
        self.end_field = end_field
        self.close = close
        self.flags = flags or {}

    def value(self, field: str, d: date):
        timeline = self.tl.get(field)
        if timeline is None:
            return self.static.get(field)
        current = None
        for known, val in timeline:
            if known <= d:
                current = val
            else:
                break
        return current

    def values_at(self, d: date) -> dict:
        out = dict(self.static)
        for field in self.tl:
            out[field] = self.value(field, d)
        return out

    def active(self, start: date, end: date, export: date) -> bool:
        if self.created > export:
            return False
        s = self.value(self.start_field, export)
        if s is None or s > end:
            return False
        e = self.value(self.end_field, export) if self.end_field else self.close
        return e is None or e >= start


def timeline(initial) -> list:
    return [(DMIN, initial)]


def push(tl: list, known: date, value) -> None:
    tl.append((known, value))
    tl.sort(key=lambda kv: kv[0])


class World:
    def __init__(
        self, seed: int, scale: float, partners: dict[str, PartnerConfig], reference: Reference, world_end: date
    ):
        self.rng = random.Random(f"{seed}|world")
        self.partners = partners
        self.reference = reference
        self.world_end = world_end
        self.horizon = add_years(world_end, 2)
        self.factory = PersonFactory(random.Random(f"{seed}|people"), reference)
        self.n_persons = max(20, round(2500 * scale))

        self.employers = [c for c, p in partners.items() if p.feed == "employment_spells"]
        self.employer_weights = [EMPLOYER_WEIGHTS.get(c, 0.2) for c in self.employers]
        trainers = [c for c, p in partners.items() if p.feed == "enrolments"]
        self.college: str | None = (
            TRAINER_DEFAULT[0] if TRAINER_DEFAULT[0] in trainers else (trainers[0] if trainers else None)
        )
        # the academy falls back to the college: both are None or neither
        self.academy: str | None = TRAINER_DEFAULT[1] if TRAINER_DEFAULT[1] in trainers else self.college
        munis = [c for c, p in partners.items() if p.feed == "municipal_participants"]
        self.municipality = munis[0] if munis else None

        self.persons: list[Person] = []
        self.records: dict[str, list[Record]] = {c: [] for c in partners}
        self._employee_numbers: dict[tuple[str, int], str] = {}
        self._employment_seq: dict[tuple[str, int], int] = {}
        self._employee_counter: dict[str, int] = {}
        self._enrolment_counter: dict[str, int] = {}
        self._trajectory_counter = 0

    # ------------------------------------------------------------------ helpers
    def _rand_date(self, lo: date, hi: date) -> date:
        if hi <= lo:
            return lo
        return lo + days(self.rng.randint(0, (hi - lo).days))

    def _pick_employer(self, exclude: str | None = None) -> str | None:
        options = [(c, w) for c, w in zip(self.employers, self.employer_weights) if c != exclude]
        if not options:
            return None
        return self.rng.choices([c for c, _ in options], [w for _, w in options])[0]

    def _function(self, emp: str, preferred: list[str] | None = None) -> str:
        codes = self.partners[emp].codes("function")
        if preferred:
            cands = [c for c in preferred if c in codes]
            if cands:
                return self.rng.choice(cands)
        cands = [c for c in codes if c in FUNCTION_WEIGHTS] or codes
        return self.rng.choices(cands, [FUNCTION_WEIGHTS.get(c, 0.05) for c in cands])[0]

    def _partner_code(self, partner: str, column: str, code: str | None) -> str | None:
        """A canonical code the partner can express, else None (the partner leaves it empty)."""
        if code is None or partner is None:
            return None
        return code if code in self.partners[partner].reverse.get(column, {}) else None

    def _employee_number(self, emp: str, p: Person) -> tuple[str, int]:
        key = (emp, p.idx)
        if key not in self._employee_numbers:
            n = self._employee_counter.get(emp, 0) + 1
            self._employee_counter[emp] = n
            if emp == "zorggroep_haaglanden":
                number = str(100100 + n)
            elif emp == "thuiszorg_westland":
                number = f"W{1000 + n:05d}"
            elif emp == "vph_delfland":
                number = str(30000 + n)
            else:
                number = f"E{n:06d}"
            self._employee_numbers[key] = number
        seq = self._employment_seq.get(key, 0) + 1
        self._employment_seq[key] = seq
        return self._employee_numbers[key], seq

    def _enrolment_number(self, trainer: str, start: date) -> str:
        n = self._enrolment_counter.get(trainer, 0) + 1
        self._enrolment_counter[trainer] = n
        if trainer == "threewise":
            return f"TW-{start.year}-{n:05d}"
        if trainer == "roc_zuidwest":
            return str(4500000 + n)
        return f"INS{n:07d}"

    # ------------------------------------------------------------------ persons
    def build(self) -> None:
        rng = self.rng
        n = self.n_persons
        n_part = round(0.25 * n)
        n_stud = max(1, round(0.05 * n))
        roles = ["participant"] * n_part + ["student"] * n_stud + ["employee"] * (n - n_part - n_stud)
        rng.shuffle(roles)
        for idx, role in enumerate(roles, start=1):
            if role == "employee":
                self._background_employee(idx)
            elif role == "participant":
                self._participant(idx)
            else:
                self._student(idx)

    def _new_person(self, idx: int, role: str, birth: date, has_bsn: bool = True) -> Person:
        p = self.factory.make(idx, role, birth, has_bsn=has_bsn)
        self.persons.append(p)
        return p

    def _background_employee(self, idx: int) -> None:
        rng = self.rng
        if not self.employers:
            self._new_person(idx, "employee", date(1980, 1, 1) + days(rng.randint(0, 9000)))
            return
        if rng.random() < 0.55:
            # history: already employed on 2019-01-01
            age = rng.randint(19, 63)
            birth = date(2019 - age - 1, 1, 1) + days(rng.randint(0, 364))
            p = self._new_person(idx, "employee", birth)
            emp = self._pick_employer()
            assert emp is not None  # self.employers is not empty
            contract = weighted(rng, {"vast": 0.72, "oproep": 0.10, "tijdelijk": 0.12, "bbl": 0.06})
            if contract == "bbl" and age > 40:
                contract = "vast"
            earliest = max(add_years(birth, 18), date(2004, 1, 1))
            if contract == "tijdelijk":
                start = self._rand_date(date(2018, 1, 15), date(2018, 12, 31))
                function = self._function(emp)
                self._career(p, emp, start, contract, function, None, history=True, term=12)
            elif contract == "bbl":
                start = self._rand_date(max(earliest, date(2017, 2, 1)), date(2018, 12, 1))
                function = self._function(emp, ["HZW", "VIG", "VPK"])
                self._career(p, emp, start, contract, function, None, history=True)
            else:
                start = self._rand_date(min(earliest, date(2018, 12, 31)), date(2018, 12, 31))
                function = self._function(emp)
                self._career(p, emp, start, contract, function, None, history=True)
        else:
            start = self._rand_date(WORLD_START, self.world_end)
            young = rng.random() < 0.35
            age = rng.randint(17, 24) if young else rng.randint(25, 60)
            birth = add_years(start, -age) - days(rng.randint(0, 364))
            p = self._new_person(idx, "employee", birth)
            emp = self._pick_employer()
            assert emp is not None  # self.employers is not empty
            bbl_share = 0.30 if young else 0.08
            contract = weighted(
                rng, {"tijdelijk": 0.55, "vast": 0.15, "oproep": 0.15, "bbl": bbl_share / (1 - bbl_share) * 0.85}
            )
            function = self._function(emp, ["HZW", "VIG", "VPK", "ZAS"]) if contract == "bbl" else self._function(emp)
            self._career(p, emp, start, contract, function, None)

    # ------------------------------------------------------------------ employment
    def _career(
        self,
        p: Person,
        emp: str,
        start: date,
        contract: str,
        function: str,
        programme: str | None,
        *,
        history: bool = False,
        term: int | None = None,
        enrol: dict | None = None,
    ) -> dict:
        """A chain of spells starting with the given one. Returns the first spell's outcome."""
        rng = self.rng
        first = None
        for _ in range(6):
            if start > self.world_end or emp is None:
                break
            out = self._spell(p, emp, start, contract, function, programme, history=history, term=term, enrol=enrol)
            if first is None:
                first = out
            end, reason = out["end"], out["reason"]
            if end is None or reason == "pensioen" or end >= self.world_end:
                break
            history, term, enrol = False, None, None
            if out["completed_bbl"] and rng.random() < 0.65:
                # qualified: a new contract at the same employer the next day
                level = FUNCTION_LEVEL.get(function, 2)
                function = self._function(emp, LEVEL_FUNCTIONS.get(level, []))
                start = end + days(1)
                contract = weighted(rng, {"tijdelijk": 0.6, "vast": 0.4})
                programme = None
                continue
            programme = None
            u = rng.random()
            if u < 0.25:  # employer switch within a few weeks
                emp2 = self._pick_employer(exclude=emp)
                if emp2 is None:
                    break
                emp = emp2
                start = end + days(rng.randint(1, 42))
                function = self._function(emp, [function])
            elif u < 0.32:  # back at the same employer within a year
                start = end + days(rng.randint(60, 330))
            elif u < 0.42:  # re-entrant after more than a year
                start = end + days(rng.randint(400, 1400))
                again = self._pick_employer()
                assert again is not None  # emp is one of self.employers, so there is one to pick
                emp = again
                function = self._function(emp, [function])
            else:
                break
            contract = weighted(rng, {"tijdelijk": 0.6, "vast": 0.3, "oproep": 0.1})
        return first or {
            "end": None,
            "reason": None,
            "completed_bbl": False,
            "enrolment": None,
            "start": start,
            "employer": emp,
        }

    def _spell(
        self,
        p: Person,
        emp: str,
        start: date,
        contract: str,
        function: str,
        programme: str | None,
        *,
        history: bool = False,
        term: int | None = None,
        enrol: dict | None = None,
        nested: bool = False,
    ) -> dict:
        rng = self.rng
        tl_end = timeline(None)
        tl_contract = timeline(contract)
        final_end: date | None = None
        reason: str | None = None
        completed_bbl = False

        def notice(end: date) -> date:
            return max(start, end - days(rng.randint(7, 60)))

        if contract in ("vast", "oproep"):
            base = max(start, HISTORY_CUT) if history else start
            mean = 5 * 365 if contract == "vast" else 2 * 365
            end = base + days(int(rng.expovariate(1 / mean)) + 30)
            if nested:
                end = start + days(rng.randint(60, 400))
            if end <= self.horizon:
                final_end = end
                reason = weighted(rng, VAST_REASONS if contract == "vast" else OPROEP_REASONS)
                push(tl_end, notice(end), end)
        elif contract == "tijdelijk":
            months = term or rng.choice([6, 7, 12, 12, 12, 24])
            p1 = add_months(start, months) - days(1)
            tl_end = timeline(p1)
            u = rng.random()
            if u < 0.10:
                end = start + days(rng.randint(30, max(31, (p1 - start).days - 1)))
                final_end, reason = end, "eigen_verzoek"
                push(tl_end, notice(end), end)
            elif u < 0.45:
                final_end = p1
                reason = "einde_contract" if rng.random() < 0.8 else "eigen_verzoek"
            else:
                decided = max(start, p1 - days(rng.randint(10, 45)))
                convert_at: date | None = p1
                if u < 0.75:  # extended by a year
                    p2 = add_months(p1 + days(1), 12) - days(1)
                    push(tl_end, decided, p2)
                    if rng.random() < 0.5:
                        final_end, reason = p2, "einde_contract"
                        convert_at = None
                    else:
                        decided = max(decided + days(1), p2 - days(rng.randint(10, 45)))
                        convert_at = p2
                if convert_at is not None:  # converted to a permanent contract
                    push(tl_end, decided, None)
                    push(tl_contract, decided, "vast")
                    end = convert_at + days(int(rng.expovariate(1 / (4 * 365))) + 30)
                    if end <= self.horizon:
                        final_end = end
                        reason = weighted(rng, VAST_REASONS)
                        push(tl_end, max(decided + days(1), notice(end)), end)
        elif contract == "bbl":
            level = FUNCTION_LEVEL.get(function, 2)
            planned = add_months(start, 12 * max(2, min(level, 3))) - days(1)
            tl_end = timeline(planned)
            if rng.random() < 0.72:
                final_end, reason, completed_bbl = planned, "einde_contract", True
            else:
                end = start + days(rng.randint(60, max(61, (planned - start).days - 1)))
                final_end = end
                reason = weighted(rng, {"eigen_verzoek": 0.6, "ontslag_werkgever": 0.2, "gezondheid": 0.2})
                push(tl_end, notice(end), end)
        else:
            raise ValueError(contract)

        # retirement at 67
        pension = add_years(p.birth_date, 67)
        if pension <= self.horizon and pension > start and (final_end is None or final_end > pension):
            final_end, reason, completed_bbl = pension, "pensioen", False
            tl_end = timeline(pension if contract in ("tijdelijk", "bbl") else None)
            push(tl_end, max(start, pension - days(60)), pension)
            tl_contract = timeline(contract)

        # the leaving reason: known when the end is known, later, or never
        tl_reason = timeline(None)
        if final_end is not None:
            known_end = next((k for k, v in reversed(tl_end) if v == final_end), start)
            # the reason is registered around the decision, not when a fixed end date was set
            known_end = max(known_end, start, final_end - days(rng.randint(10, 45)))
            u = rng.random()
            if u < 0.8:
                push(tl_reason, known_end, reason)
            elif u < 0.95:  # filled in later (visible only if still delivered then)
                push(tl_reason, known_end + days(rng.randint(5, 25)), reason)

        created = start if history else start - days(rng.randint(0, 30))
        tl_start = timeline(start)
        ends = [v for _, v in tl_end if v is not None]
        if not history and rng.random() < 0.03:
            wrong = start + days(rng.choice([-1, 1]) * rng.randint(1, 31))
            if (not ends or min(ends) > max(start, wrong)) and wrong >= add_years(p.birth_date, 16):
                tl_start = timeline(wrong)
                push(tl_start, created + days(rng.randint(25, 100)), start)
                created = min(created, wrong)

        hours = None if contract == "oproep" else rng.choice(HOURS)
        tl_hours = timeline(hours)
        if hours is not None and rng.random() < 0.05:
            when = start + days(rng.randint(120, 700))
            if final_end is None or when < final_end:
                push(tl_hours, when, rng.choice(HOURS))

        number, seq = self._employee_number(emp, p)
        programme = self._partner_code(emp, "programme", programme)
        rec = Record(
            partner=emp,
            feed="employment_spells",
            key=f"{number}-{seq}",
            sort_key=(number, seq),
            person=p,
            static={
                "employee_number": number,
                "employment_number": seq,
                "function": function,
                "is_apprenticeship": contract == "bbl",
                "programme": programme,
            },
            tl={
                "start_date": tl_start,
                "end_date": tl_end,
                "contract_type": tl_contract,
                "hours_per_week": tl_hours,
                "leaving_reason": tl_reason,
            },
            created=created,
            start_field="start_date",
            end_field="end_date",
            flags={"team": rng.randrange(1000)},
        )
        self.records[emp].append(rec)
        p.counts["spells"] += 1

        enrolment = None
        if contract == "bbl":
            if enrol is None and rng.random() < 0.85 and self.college:
                trainer = self.college if rng.random() < 0.75 else self.academy
                enrol = {"trainer": trainer, "programme": None}
            if enrol is not None and enrol.get("trainer"):
                level = FUNCTION_LEVEL.get(function, 2)
                result: tuple[str, date | None]
                if completed_bbl:
                    assert final_end is not None  # a completed apprenticeship ends on its planned date
                    result = ("diploma", final_end - days(rng.randint(0, 20)))
                elif final_end is not None:
                    result = (weighted(rng, {"uitval": 0.8, "overig": 0.2}), final_end)
                else:
                    result = ("lopend", None)
                enrolment = self._enrolment(
                    p,
                    enrol["trainer"],
                    start,
                    level,
                    "BBL",
                    enrol.get("programme"),
                    self.partners[emp].name,
                    planned=tl_end[0][1] or add_months(start, 24),
                    result=result,
                )

        # a few have a second, overlapping contract at the same employer
        if not nested and contract in ("vast", "tijdelijk") and rng.random() < 0.03:
            start2 = start + days(rng.randint(30, 300))
            if (final_end is None or start2 < final_end - days(30)) and start2 <= self.world_end:
                self._spell(p, emp, start2, "oproep", function, None, nested=True)

        return {
            "end": final_end,
            "reason": reason,
            "completed_bbl": completed_bbl,
            "enrolment": enrolment,
            "start": start,
            "employer": emp,
        }

    # ------------------------------------------------------------------ enrolments
    def _enrolment(
        self,
        p: Person,
        trainer: str,
        start: date,
        level: int,
        path: str,
        programme: str | None,
        bbl_employer: str | None,
        *,
        planned: date | None = None,
        result: tuple[str, date | None] | None = None,
        speed: float = 1.0,
    ) -> dict:
        rng = self.rng
        crebo = rng.choice(CREBO_BY_LEVEL[level])
        if planned is None:
            months = max(6, round(12 * level * speed))
            planned = add_months(start, months) - days(1)
        actual: date | None
        if result is None:
            outcome = weighted(rng, {"diploma": 0.65, "uitval": 0.25, "overig": 0.10})
            span = max(31, (planned - start).days)
            if outcome == "diploma":
                actual = (
                    planned + days(rng.randint(-20, 20))
                    if rng.random() < 0.85
                    else planned + days(rng.randint(30, 150))
                )
            else:
                actual = start + days(rng.randint(30, span - 1))
        else:
            outcome, actual = result
        if actual is not None and actual < start:
            actual = start

        tl_planned = timeline(planned)
        if actual is not None and outcome == "diploma" and actual > planned:
            push(tl_planned, max(start, planned - days(rng.randint(20, 60))), actual)
        tl_actual = timeline(None)
        tl_outcome = timeline("lopend")
        tl_reason = timeline(None)
        if actual is not None and outcome != "lopend":
            known = actual + days(rng.randint(0, 7))
            push(tl_actual, known, actual)
            push(tl_outcome, known, outcome)
            if outcome in ("uitval", "overig") and rng.random() < 0.9:
                reason = weighted(rng, TRAINER_LEAVING) if outcome == "uitval" else "overig"
                push(tl_reason, known, self._partner_code(trainer, "leaving_reason", reason))

        created = start - days(rng.randint(0, 20))
        tl_start = timeline(start)
        if rng.random() < 0.02 and (actual is None or actual > start + days(40)):
            wrong = start + days(rng.randint(1, 31))
            tl_start = timeline(wrong)
            push(tl_start, created + days(rng.randint(30, 90)), start)
        wpa = True if path == "BBL" else weighted(rng, {True: 0.6, False: 0.3, None: 0.1})
        number = self._enrolment_number(trainer, start)
        rec = Record(
            partner=trainer,
            feed="enrolments",
            key=number,
            sort_key=(number,),
            person=p,
            static={
                "enrolment_number": number,
                "programme": self._partner_code(trainer, "programme", programme),
                "crebo_code": crebo,
                "mbo_level": level,
                "learning_path": path,
                "bbl_employer_name": bbl_employer if path == "BBL" else None,
                "has_work_placement_agreement": wpa,
            },
            tl={
                "start_date": tl_start,
                "planned_end_date": tl_planned,
                "actual_end_date": tl_actual,
                "outcome": tl_outcome,
                "leaving_reason": tl_reason,
            },
            created=created,
            start_field="start_date",
            end_field="actual_end_date",
            flags={"dotted": rng.random() < 0.05, "mentor": rng.randrange(1000), "klas": rng.choice("ABC")},
        )
        self.records[trainer].append(rec)
        p.counts["enrolments"] += 1
        return {
            "outcome": outcome if actual is not None else "lopend",
            "end": actual,
            "level": level,
            "trainer": trainer,
        }

    def _student(self, idx: int) -> None:
        rng = self.rng
        year = rng.randint(2016, self.world_end.year)
        start = date(year, 8, 15) + days(rng.randint(0, 25))
        if start > self.world_end:
            start = self._rand_date(date(year, 1, 1), self.world_end)
        birth = add_years(start, -rng.randint(16, 21)) - days(rng.randint(0, 364))
        has_bsn = rng.random() >= 0.30
        p = self._new_person(idx, "student", birth, has_bsn=has_bsn)
        if self.college is None:
            return
        for _ in range(2):
            trainer = self.college if rng.random() < 0.8 else self.academy
            assert trainer is not None  # the college is not None, so neither is the academy
            level = weighted(rng, {1: 0.15, 2: 0.35, 3: 0.3, 4: 0.2})
            path = "BOL" if rng.random() < 0.9 else "BBL"
            bbl_employer = rng.choice(EXTERNAL_BBL_EMPLOYERS) if path == "BBL" else None
            res = self._enrolment(p, trainer, start, level, path, None, bbl_employer)
            if res["outcome"] != "diploma" or res["end"] is None:
                break
            if p.bsn and rng.random() < 0.5:
                hire = res["end"] + days(rng.randint(14, 150))
                emp = self._pick_employer()
                if emp is not None:
                    function = self._function(emp, LEVEL_FUNCTIONS[level])
                    self._career(p, emp, hire, "tijdelijk", function, None)
                break
            if level >= 4 or rng.random() > 0.3:
                break
            start = date(res["end"].year, 8, 20) + days(rng.randint(0, 20))
            if start <= res["end"]:
                start = date(res["end"].year + 1, 8, 20)
            if start > self.world_end:
                break

    # ------------------------------------------------------------------ municipality
    def _referral_date(self) -> date:
        rng = self.rng
        months = []
        weights = []
        y, m = WORLD_START.year, WORLD_START.month
        while date(y, m, 1) <= self.world_end:
            first = date(y, m, 1)
            if first < date(2019, 11, 1):
                w = 0.5
            elif y <= 2021:
                w = 1.0
            elif y <= 2023:
                w = 1.6
            else:
                w = 1.2
            months.append(first)
            weights.append(w)
            m += 1
            if m == 13:
                y, m = y + 1, 1
        first = rng.choices(months, weights)[0]
        return self._rand_date(first, min(add_months(first, 1) - days(1), self.world_end))

    def _programme_for(self, r: date, allow_brugbanen: bool = True) -> str:
        rng = self.rng
        if r.year <= 2021:
            return "sectordeal_zorg"
        if r.year == 2022:
            w = {
                "sectordeal_zorg": 0.20,
                "werkoffensief_500": 0.35,
                "voortraject": 0.12,
                "taakbrigades": 0.08,
                "wep_trein": 0.13,
                "brugbanen": 0.12,
            }
        elif r.year == 2023:
            w = {
                "werkoffensief_500": 0.45,
                "voortraject": 0.15,
                "taakbrigades": 0.10,
                "wep_trein": 0.15,
                "brugbanen": 0.15,
            }
        else:
            w = {
                "werkoffensief_500": 0.60,
                "voortraject": 0.10,
                "taakbrigades": 0.05,
                "wep_trein": 0.15,
                "brugbanen": 0.10,
            }
        if not allow_brugbanen:
            w.pop("brugbanen")
        return weighted(rng, w)

    def _participant(self, idx: int) -> None:
        rng = self.rng
        r = self._referral_date()
        programme = self._programme_for(r)
        if programme == "brugbanen":
            group = "pro_vso_jongere" if rng.random() < 0.9 else "arbeidsbeperking"
        elif programme == "werkoffensief_500":
            group = "bijstand" if rng.random() < 0.8 else "statushouder"
        else:
            group = weighted(
                rng,
                {
                    "bijstand": 0.50,
                    "statushouder": 0.17,
                    "arbeidsbeperking": 0.08,
                    "nugger": 0.12,
                    "carriereswitcher": 0.10,
                    "pro_vso_jongere": 0.03,
                },
            )
        age = rng.randint(16, 20) if group == "pro_vso_jongere" else rng.randint(18, 60)
        birth = add_years(r, -age) - days(rng.randint(0, 364))
        p = self._new_person(idx, "participant", birth)
        benefit = {
            "bijstand": lambda: "participatiewet" if rng.random() < 0.95 else "onbekend",
            "statushouder": lambda: "participatiewet" if rng.random() < 0.85 else "geen",
            "arbeidsbeperking": lambda: weighted(rng, {"wajong": 0.5, "participatiewet": 0.4, "geen": 0.1}),
            "nugger": lambda: "geen",
            "carriereswitcher": lambda: "ww" if rng.random() < 0.5 else "geen",
            "pro_vso_jongere": lambda: "geen" if rng.random() < 0.7 else "wajong",
        }[group]()
        civic = rng.random() < 0.85 if group == "statushouder" else weighted(rng, {False: 0.9, None: 0.1})
        close, hired = self._trajectory(p, r, programme, group, benefit, civic)
        if close is not None and not hired and rng.random() < 0.3:
            r2 = close + days(rng.randint(30, 400))
            if r2 <= self.world_end:
                young = (r2 - birth).days < 21 * 365
                programme2 = self._programme_for(r2, allow_brugbanen=group == "pro_vso_jongere" and young)
                self._trajectory(p, r2, programme2, group, benefit, civic)

    def _trajectory(
        self, p: Person, r: date, programme: str, group: str, benefit: str, civic: bool | None
    ) -> tuple[date | None, bool]:
        rng = self.rng
        if self.municipality is None:
            return None, False
        kind = weighted(
            rng,
            {
                "sectordeal_zorg": {"opleiding": 0.40, "baan": 0.30, "wep": 0.15, None: 0.15},
                "werkoffensief_500": {"baan": 0.50, "wep": 0.20, "opleiding": 0.15, None: 0.15},
                "voortraject": {"opleiding": 0.85, None: 0.15},
                "taakbrigades": {"opleiding": 0.85, None: 0.15},
                "wep_trein": {"wep": 0.9, None: 0.1},
                "brugbanen": {"baan": 0.85, None: 0.15},
            }[programme],
        )
        pd = r + days(rng.randint(14, 100))
        if pd > self.world_end:
            kind = None
        label = EMPLOYER_PROGRAMME.get(programme)
        hire: date | None = None
        placement_end: date | None = None
        result: str | None = None

        def hire_label(emp: str) -> str | None:
            if label == "sectordeal_zorg" and emp == "zorggroep_haaglanden" and rng.random() < 0.3:
                return "zorg_werkt_academie"
            return label

        if kind == "baan":
            emp = self._pick_employer()
            if emp is not None:
                preferred = ["HHU", "HKM", "ZAS"] if programme == "brugbanen" else None
                contract = (
                    "tijdelijk"
                    if programme == "brugbanen"
                    else weighted(rng, {"tijdelijk": 0.75, "vast": 0.10, "oproep": 0.15})
                )
                out = self._career(p, emp, pd, contract, self._function(emp, preferred), hire_label(emp))
                hire = pd
                pend = pd + days(rng.randint(180, 365))
                if out["end"] is not None and out["end"] < pend:
                    placement_end, result = out["end"], "uitval"
                else:
                    placement_end, result = pend, "werk"
        elif kind == "wep":
            placement_end = pd + days(rng.randint(90, 270))
            result = weighted(rng, {"werkfit": 0.40, "werk": 0.25, "uitval": 0.20, "overig": 0.15})
            if result == "werk" or (result == "werkfit" and rng.random() < 0.3):
                hire = placement_end + days(rng.randint(1, 30) if result == "werk" else rng.randint(30, 150))
                emp = self._pick_employer()
                if emp is not None and hire <= self.world_end:
                    self._career(p, emp, hire, "tijdelijk", self._function(emp, ["HHU", "HZW", "ZAS"]), hire_label(emp))
                else:
                    hire = None
        elif kind == "opleiding" and self.college is not None:
            if programme == "voortraject":
                bbl = True
                trainer = self.academy if rng.random() < 0.6 else self.college
                level = weighted(rng, {2: 0.5, 3: 0.35, 1: 0.15})
            elif programme == "taakbrigades":
                bbl = rng.random() < 0.4
                trainer = self.academy if rng.random() < 0.7 else self.college
                level = 1 if rng.random() < 0.55 else 2
            elif programme == "sectordeal_zorg":
                bbl = rng.random() < 0.5
                trainer = self.academy if rng.random() < 0.6 else self.college
                level = weighted(rng, {1: 0.3, 2: 0.4, 3: 0.3})
            else:
                bbl = False
                trainer = self.academy if rng.random() < 0.5 else self.college
                level = 1 if rng.random() < 0.5 else 2
            assert trainer is not None  # the college is not None, so neither is the academy
            trainer_programme = programme
            if programme == "sectordeal_zorg" and trainer == "threewise" and rng.random() < 0.5:
                trainer_programme = "zorg_werkt_academie"
            if programme == "werkoffensief_500":
                trainer_programme = "zorg_werkt_academie"
            enrolment = None
            emp = self._pick_employer() if bbl else None
            if bbl and emp is not None:
                function = self._function(emp, LEVEL_FUNCTIONS[level])
                out = self._career(
                    p,
                    emp,
                    pd,
                    "bbl",
                    function,
                    hire_label(emp) if programme == "sectordeal_zorg" else None,
                    enrol={"trainer": trainer, "programme": trainer_programme},
                )
                enrolment = out["enrolment"]
                hire = pd
            else:
                speed = 0.6 if programme in ("taakbrigades", "voortraject") else 1.0
                enrolment = self._enrolment(p, trainer, pd, level, "BOL", trainer_programme, None, speed=speed)
                if enrolment["outcome"] == "diploma" and enrolment["end"] and rng.random() < 0.5:
                    h = enrolment["end"] + days(rng.randint(14, 120))
                    emp = self._pick_employer()
                    if emp is not None and h <= self.world_end:
                        hire = h
                        self._career(
                            p, emp, h, "tijdelijk", self._function(emp, LEVEL_FUNCTIONS[level]), hire_label(emp)
                        )
            if enrolment is not None and enrolment["end"] is not None and enrolment["outcome"] != "lopend":
                placement_end = enrolment["end"]
                result = {"diploma": "werk" if hire else "overig", "uitval": "uitval", "overig": "overig"}[
                    enrolment["outcome"]
                ]
        elif kind == "opleiding":
            kind = None

        # benefit end
        bed = ber = None
        if hire and benefit in ("participatiewet", "ww") and rng.random() < 0.8:
            bed, ber = hire + days(rng.randint(0, 60)), "werk"
        elif kind == "opleiding" and benefit == "participatiewet" and rng.random() < 0.15:
            bed, ber = pd + days(rng.randint(0, 60)), "opleiding"
        elif benefit in ("participatiewet", "ww") and rng.random() < 0.05:
            bed, ber = r + days(rng.randint(60, 400)), rng.choice(["verhuizing", "overig"])

        if kind is None:
            close = r + days(rng.randint(120, 450))
        elif placement_end is None:
            close = None  # placement still running at the end of the data
        else:
            close = placement_end + days(rng.randint(45, 180))
        if bed is not None and close is not None and bed > close - days(8):
            bed = ber = None

        tl = {
            "placement_date": timeline(None),
            "placement_kind": timeline(None),
            "placement_end_date": timeline(None),
            "placement_result": timeline(None),
            "benefit_end_date": timeline(None),
            "benefit_end_reason": timeline(None),
            "trajectory_end_date": timeline(None),
            "trajectory_result": timeline(None),
        }
        if close is not None:  # the trajectory as a whole: its own end and result, apart from the placement's
            push(tl["trajectory_end_date"], close, close)
            push(tl["trajectory_result"], close, "werk" if hire else (result or "overig"))
        if kind is not None:
            known = max(r, pd - days(rng.randint(0, 14)))
            push(tl["placement_date"], known, pd)
            push(tl["placement_kind"], known, kind)
            if placement_end is not None:
                known = placement_end + days(rng.randint(0, 7))
                push(tl["placement_end_date"], known, placement_end)
                if rng.random() < 0.2:
                    known = known + days(rng.randint(8, 40))
                push(tl["placement_result"], known, result)
        if bed is not None:
            known = bed + days(rng.randint(0, 7))
            push(tl["benefit_end_date"], known, bed)
            push(tl["benefit_end_reason"], known, ber)

        self._trajectory_counter += 1
        number = f"TRJ-{r.year}-{self._trajectory_counter:05d}"
        mun = self.municipality
        rec = Record(
            partner=mun,
            feed="municipal_participants",
            key=number,
            sort_key=(r.year, self._trajectory_counter),
            person=p,
            static={
                "trajectory_number": number,
                "target_group": group,
                "benefit_type": benefit,
                "programme": programme,
                "referral_date": r,
                "civic_integration_required": civic,
            },
            tl=tl,
            created=r,
            start_field="referral_date",
            end_field=None,
            close=close,
            flags={"manager": rng.randrange(1000)},
        )
        self.records[mun].append(rec)
        p.counts["trajectories"] += 1
        return close, hire is not None
