"""Synthetic source records for linkage: many agencies' records of the same children, with
the ground truth kept in a separate file.

Nothing here is real. Each synthetic child is planned from ``(seed, index)`` alone, so a
population is identical for a seed and can be written in any number of pieces. Every
child has one to many records in the systems that met them (child welfare, probation,
law enforcement, clinics, schools, community programmes); each record carries the noise
that the report describes as the normal case rather than the exception (ch. 3, the
thirteen-year-old arrested five times under false names and adult ages):

- short forms and nicknames of the first name (``Destiny`` → ``Dee``);
- typing errors in names; day and month of birth swapped; a wrong digit in the date;
- no date of birth, only an age stated at the time (true or, for a youth being
  exploited, a **false adult age**), and street names given as aliases;
- surname changes and hyphenated surnames; moves between ZIP codes and counties.

``noise="standard"`` is the everyday mix; ``noise="heavy"`` raises every rate and adds
records under a false name (the real first name sometimes recorded as an alias).
The output has the ``link-file`` input columns (docs/identity-resolution.md); the truth
is ``record_id → person``.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from nowrongdoor.identity.nicknames import nickname_table
from nowrongdoor.synth.names import BOYS, GIRLS, STREET_NAMES, SURNAMES, typo

REFERENCE_DATE = dt.date(2026, 6, 30)
COLUMNS = ("record_id", "source", "first_name", "middle_name", "last_name", "aliases", "birth_date",
           "age_stated", "age_recorded_on", "sex", "street_address", "city", "postcode", "county", "phone")
SOURCES = ("child_welfare", "probation", "juvenile_court", "law_enforcement", "health", "mental_health",
           "education", "community_provider")
SOURCE_WEIGHTS = (22, 10, 6, 14, 20, 8, 14, 6)
COUNTIES = (("Alder", "Ashford"), ("Birch", "Brookvale"), ("Cedar", "Cortland"), ("Dogwood", "Dunmore"),
            ("Elm", "Eastwick"), ("Fir", "Fairhaven"), ("Ginkgo", "Glenrock"), ("Hazel", "Harlow"))
STREETS = ("Oak", "Maple", "Pine", "Cedar", "Elm", "Walnut", "Sunset", "Mission", "Lincoln", "Park", "Hill",
           "Lake", "Main", "Church", "Valley", "River", "Spring", "Mesa", "Vista", "Jackson", "Madison")
SUFFIXES = ("St", "Ave", "Blvd", "Rd", "Way", "Ct", "Dr")
_ONSETS = ("b", "d", "k", "l", "m", "n", "r", "s", "t", "v", "z", "br", "ch", "dr", "gr", "kr", "sh", "st", "tr")
_VOWELS = ("a", "e", "i", "o", "u", "ai", "ea", "ia", "ou")
_CODAS = ("", "", "n", "l", "r", "s", "th", "nd", "rt", "sk", "ck", "lo", "via", "son", "ez", "ova", "ski")

# Share of people whose name comes from the common head of the pools (the rest from a
# long tail): in the US the fifty commonest given names and surnames cover a minority.
HEAD_SHARE = {"first": 0.3, "last": 0.25}
# Rates per record, by noise setting.
RATES: dict[str, dict[str, float]] = {
    "standard": {
        "nickname": 0.10, "first_typo": 0.02, "last_typo": 0.05, "dob_swap": 0.03, "dob_digit": 0.03,
        "age_only": 0.05, "false_age": 0.02, "hyphenated": 0.03, "surname_change": 0.02, "street_alias": 0.03,
        "false_name": 0.0, "moved": 0.15, "no_phone": 0.5, "no_address": 0.3, "no_sex": 0.05, "no_middle": 0.4,
    },
    "heavy": {
        "nickname": 0.20, "first_typo": 0.05, "last_typo": 0.10, "dob_swap": 0.06, "dob_digit": 0.06,
        "age_only": 0.10, "false_age": 0.06, "hyphenated": 0.06, "surname_change": 0.08, "street_alias": 0.10,
        "false_name": 0.04, "moved": 0.30, "no_phone": 0.6, "no_address": 0.4, "no_sex": 0.10, "no_middle": 0.5,
    },
}


@dataclass(frozen=True)
class Record:
    """One agency's record of a synthetic child, in the link-file columns."""

    record_id: str
    person: int
    source: str
    first_name: str
    middle_name: str
    last_name: str
    aliases: tuple[str, ...]
    birth_date: dt.date | None
    age_stated: int | None
    age_recorded_on: dt.date | None
    sex: str
    street_address: str
    city: str
    postcode: str
    county: str
    phone: str
    noise: tuple[str, ...]

    def row(self) -> dict[str, str]:
        return {
            "record_id": self.record_id, "source": self.source, "first_name": self.first_name,
            "middle_name": self.middle_name, "last_name": self.last_name, "aliases": ";".join(self.aliases),
            "birth_date": self.birth_date.isoformat() if self.birth_date else "",
            "age_stated": "" if self.age_stated is None else str(self.age_stated),
            "age_recorded_on": self.age_recorded_on.isoformat() if self.age_recorded_on else "",
            "sex": self.sex, "street_address": self.street_address, "city": self.city, "postcode": self.postcode,
            "county": self.county, "phone": self.phone,
        }


def _zipf(rng: random.Random, pool: tuple[str, ...] | list[str]) -> str:
    """A name from a pool, common names far more often than rare ones (rank-frequency law)."""
    rank = int(len(pool) * rng.random() ** 1.6)
    return pool[min(rank, len(pool) - 1)]


def _invented(rng: random.Random, syllables: int) -> str:
    """A made-up name for the long tail of rarer names."""
    parts = [rng.choice(_ONSETS) + rng.choice(_VOWELS) for _ in range(syllables)]
    return ("".join(parts) + rng.choice(_CODAS)).capitalize()


@cache
def _tail(kind: str, size: int) -> tuple[str, ...]:
    """A fixed pool of invented names: most people have names outside the common head,
    and each of those names is shared by a few people, not unique."""
    rng = random.Random(f"nowrongdoor-names:{kind}")
    names = sorted({_invented(rng, rng.randint(2, 3)) for _ in range(size)})  # sorted: a set's order varies
    rng.shuffle(names)
    return tuple(names)


def _first(rng: random.Random, sex: str) -> str:
    if rng.random() < HEAD_SHARE["first"]:
        return _zipf(rng, GIRLS if sex == "female" else BOYS)
    return _zipf(rng, _tail(sex, 4000))


def _surname(rng: random.Random) -> str:
    if rng.random() < HEAD_SHARE["last"]:
        return _zipf(rng, SURNAMES)
    return _zipf(rng, _tail("surname", 30000))


def _age_on(birth: dt.date, day: dt.date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def _nickname(rng: random.Random, first: str, nicknames: dict[str, tuple[str, ...]]) -> str | None:
    forms = nicknames.get(first.lower())
    return rng.choice(forms).capitalize() if forms else None


def person_records(seed: int, index: int, noise: str = "standard",
                   nicknames: dict[str, tuple[str, ...]] | None = None) -> list[Record]:
    """Every record of synthetic child ``index``: deterministic for ``(seed, index, noise)``."""
    rates = RATES[noise]
    table = nickname_table().by_name if nicknames is None else nicknames
    rng = random.Random(f"nowrongdoor-people:{seed}:{index}")
    sex = "female" if rng.random() < 0.55 else "male"
    birth = REFERENCE_DATE - dt.timedelta(days=rng.randint(9 * 365, 20 * 365))
    first, last = _first(rng, sex), _surname(rng)
    middle = _first(rng, sex) if rng.random() < 0.6 else ""
    county_slot = rng.randrange(len(COUNTIES))
    phone = f"{rng.randint(200, 999)}{rng.randint(200, 999)}{rng.randint(0, 9999):04d}" if rng.random() < 0.7 else ""
    street_alias = rng.choice(STREET_NAMES)
    n_records = 1 + min(int(rng.expovariate(1 / 2.2)), 12)

    def address(slot: int) -> tuple[str, str, str, str]:
        county, city = COUNTIES[slot]
        street = f"{rng.randint(10, 9999)} {rng.choice(STREETS)} {rng.choice(SUFFIXES)}"
        return street, city, f"9{slot}{rng.randint(100, 999)}", f"{county} County"

    home = address(county_slot)
    records: list[Record] = []
    for k in range(n_records):
        def chance(kind: str) -> bool:
            return rng.random() < rates[kind]

        source = rng.choices(SOURCES, weights=SOURCE_WEIGHTS)[0]
        tags: list[str] = []
        r_first, r_last, r_middle = first, last, middle
        aliases: list[str] = []
        r_birth: dt.date | None = birth
        age: int | None = None
        recorded = REFERENCE_DATE - dt.timedelta(days=rng.randint(0, max(1, (REFERENCE_DATE - birth).days - 3650)))
        if chance("nickname") and (nick := _nickname(rng, first, table)):
            r_first = nick
            tags.append("nickname")
        if chance("first_typo"):
            r_first = typo(rng, r_first)
            tags.append("first_typo")
        if chance("last_typo"):
            r_last = typo(rng, r_last)
            tags.append("last_typo")
        if chance("surname_change"):
            r_last = _surname(rng)
            if rng.random() < 0.5:
                aliases.append(f"{first} {last}")
            tags.append("surname_change")
        elif chance("hyphenated"):
            r_last = f"{r_last}-{_surname(rng)}"
            tags.append("hyphenated_surname")
        if chance("dob_swap") and birth.day <= 12 and birth.day != birth.month:
            r_birth = dt.date(birth.year, birth.day, birth.month)
            tags.append("dob_day_month_swapped")
        elif chance("dob_digit"):
            which = rng.choice(("year", "month", "day"))
            try:
                r_birth = birth.replace(**{which: getattr(birth, which) + rng.choice((-1, 1))})  # type: ignore[arg-type]
                tags.append("dob_digit")
            except ValueError:
                pass
        if chance("false_age"):
            r_birth, age = None, max(18, _age_on(birth, recorded) + rng.randint(2, 6))
            tags.append("false_age")
        elif chance("age_only"):
            r_birth, age = None, _age_on(birth, recorded)
            tags.append("age_only")
        if chance("street_alias"):
            aliases.append(street_alias)
            tags.append("street_alias")
        if chance("false_name"):
            # Arrested under another name: a street name or an invented one, the real first
            # name sometimes recorded as an alias, an adult age, no date of birth.
            r_first = street_alias if rng.random() < 0.5 else _first(rng, sex)
            if rng.random() < 0.5:
                r_last = _surname(rng)
            aliases = [first] if rng.random() < 0.6 else []
            r_birth, age, r_middle = None, max(18, _age_on(birth, recorded) + rng.randint(1, 5)), ""
            tags.append("false_name")
        if chance("no_middle"):
            r_middle = ""
        if chance("moved"):
            home = address(rng.randrange(len(COUNTIES)) if rng.random() < 0.3 else county_slot)
            tags.append("moved")
        street, city, postcode, county = ("", "", "", "") if chance("no_address") else home
        if not street and rng.random() < 0.5:
            county = home[3]
        records.append(Record(
            record_id=f"{source[:3].upper()}-{seed}-{index}-{k}", person=index, source=source,
            first_name=r_first, middle_name=r_middle, last_name=r_last, aliases=tuple(aliases),
            birth_date=r_birth, age_stated=age, age_recorded_on=recorded if age is not None else None,
            sex="" if chance("no_sex") else sex, street_address=street, city=city, postcode=postcode,
            county=county, phone="" if chance("no_phone") else phone, noise=tuple(tags),
        ))
    return records


def population(seed: int, people: int, noise: str = "standard", start: int = 0) -> Iterator[Record]:
    """The records of children ``start`` .. ``start + people - 1``, in order."""
    table = nickname_table().by_name
    for index in range(start, start + people):
        yield from person_records(seed, index, noise, table)


def write_population(out: Path, seed: int, people: int, noise: str = "standard") -> tuple[Path, Path, int]:
    """Write ``records.csv`` (link-file columns) and ``truth.csv`` (record_id,person) to ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    records_path, truth_path = out / "records.csv", out / "truth.csv"
    count = 0
    with records_path.open("w", newline="") as rf, truth_path.open("w", newline="") as tf:
        writer = csv.DictWriter(rf, fieldnames=COLUMNS)
        writer.writeheader()
        truth = csv.writer(tf)
        truth.writerow(["record_id", "person", "noise"])
        for record in population(seed, people, noise):
            writer.writerow(record.row())
            truth.writerow([record.record_id, record.person, ";".join(record.noise)])
            count += 1
    return records_path, truth_path, count
