"""The CSEC training catalogue (``content/catalogue.yaml``): courses, professions and the
requirements that say who must take what, checked against a schema and the data
dictionary when it loads.

**Requirement resolution.** A person's required courses are the courses of every
requirement they match. A requirement matches when the person fits each selector it
has: ``professions`` (the person's profession), ``roles`` (their role on the platform)
and ``agency_types`` (their agency's type). A staff member with no profession recorded
is taken to hold their agency type's usual one, if their role meets youth. A caregiver's
profession follows the kind of placement resource they care in, and caregivers have no
role. **Expiry**: a certificate lasts the course's ``renewal_months`` from the day it was
completed (to the same day of the month, or the month's last day); a course without a
renewal period never expires.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import jsonschema
import yaml

from nowrongdoor.dictionary import vocabulary

_TEXT = {"type": "object", "required": ["en", "es"], "additionalProperties": False,
         "properties": {"en": {"type": "string", "minLength": 1}, "es": {"type": "string", "minLength": 1}}}
_CODES = {"type": "array", "items": {"type": "string", "pattern": "^[a-z_]+$"}, "uniqueItems": True}
SCHEMA: dict[str, Any] = {
    "type": "object", "additionalProperties": False,
    "required": ["version", "source", "reminder_days", "new_staff_days", "courses", "professions",
                 "default_profession", "roles_meeting_youth", "caregiver_profession", "requirements"],
    "properties": {
        "version": {"type": "integer", "minimum": 1},
        "source": {"type": "string", "minLength": 1},
        "reminder_days": {"type": "integer", "minimum": 1, "maximum": 365},
        "new_staff_days": {"type": "integer", "minimum": 0, "maximum": 365},
        "courses": {"type": "object", "minProperties": 1, "additionalProperties": False, "patternProperties": {
            "^[a-z_]+$": {"type": "object", "additionalProperties": False,
                          "required": ["title", "topic", "hours", "delivery", "renewal_months"],
                          "properties": {"title": _TEXT, "topic": _TEXT,
                                         "hours": {"type": "number", "exclusiveMinimum": 0, "maximum": 200},
                                         "delivery": {"enum": ["online", "classroom", "blended"]},
                                         "renewal_months": {"type": ["integer", "null"], "minimum": 1,
                                                            "maximum": 120}}}}},
        "professions": {"type": "object", "minProperties": 1, "additionalProperties": False,
                        "patternProperties": {"^[a-z_]+$": _TEXT}},
        "default_profession": {"type": "object", "additionalProperties": {"type": "string"}},
        "roles_meeting_youth": _CODES,
        "caregiver_profession": {"type": "object", "additionalProperties": {"type": "string"}},
        "requirements": {"type": "array", "minItems": 1, "items": {
            "type": "object", "additionalProperties": False, "required": ["id", "title", "courses"],
            "anyOf": [{"required": ["professions"]}, {"required": ["roles"]}, {"required": ["agency_types"]}],
            "properties": {"id": {"type": "string", "pattern": "^[a-z_]+$"}, "title": _TEXT,
                           "professions": {**_CODES, "minItems": 1}, "roles": {**_CODES, "minItems": 1},
                           "agency_types": {**_CODES, "minItems": 1}, "courses": {**_CODES, "minItems": 1},
                           "gates": {"type": "array", "items": {"enum": ["screening", "placement"]},
                                     "uniqueItems": True}}}},
    },
}

GATES = ("screening", "placement")


class CatalogueInvalid(ValueError):
    """The catalogue breaks the schema or names something that does not exist; each
    problem names the file and the key."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Course:
    code: str
    title: dict[str, str]
    topic: dict[str, str]
    hours: float
    delivery: str
    renewal_months: int | None

    def expires_on(self, completed_on: dt.date) -> dt.date | None:
        if self.renewal_months is None:
            return None
        months = completed_on.month - 1 + self.renewal_months
        year, month = completed_on.year + months // 12, months % 12 + 1
        return dt.date(year, month, min(completed_on.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class Requirement:
    id: str
    title: dict[str, str]
    professions: frozenset[str] | None
    roles: frozenset[str] | None
    agency_types: frozenset[str] | None
    courses: tuple[str, ...]
    gates: frozenset[str]

    def applies(self, profession: str | None, role: str, agency_type: str | None) -> bool:
        return ((self.professions is None or profession in self.professions)
                and (self.roles is None or role in self.roles)
                and (self.agency_types is None or agency_type in self.agency_types))


@dataclass(frozen=True)
class Catalogue:
    version: int
    source: str
    reminder_days: int
    new_staff_days: int
    courses: dict[str, Course]
    professions: dict[str, dict[str, str]]
    default_profession: dict[str, str]
    roles_meeting_youth: frozenset[str]
    caregiver_profession: dict[str, str]
    requirements: tuple[Requirement, ...]

    def staff_profession(self, profession: str, role: str, agency_type: str | None) -> str | None:
        """The profession training is resolved for: the one recorded, else the usual one
        of the agency's type for a role that meets youth, else none."""
        if profession:
            return profession
        if role in self.roles_meeting_youth and agency_type:
            return self.default_profession.get(agency_type)
        return None

    def required(self, *, profession: str | None, role: str = "", agency_type: str | None = None,
                 gate: str | None = None) -> dict[str, list[str]]:
        """Course code -> the ids of the requirements that ask for it (only those with
        ``gate`` when given), in catalogue order."""
        out: dict[str, list[str]] = {}
        for requirement in self.requirements:
            if gate is not None and gate not in requirement.gates:
                continue
            if requirement.applies(profession, role, agency_type):
                for course in requirement.courses:
                    out.setdefault(course, []).append(requirement.id)
        return out


def parse(document: Any, name: str = "catalogue.yaml") -> Catalogue:
    """A catalogue from its parsed YAML, or CatalogueInvalid naming ``name`` and each key."""
    errors = sorted(jsonschema.Draft202012Validator(SCHEMA).iter_errors(document), key=lambda e: list(e.path))
    if errors:
        raise CatalogueInvalid([f"{name}: {'.'.join(map(str, e.path)) or '(top)'}: {e.message}" for e in errors])
    v = vocabulary()
    problems: list[str] = []
    courses, professions = document["courses"], document["professions"]

    def check(path: str, values: list[str], known: Any, what: str) -> None:
        for value in values:
            if value not in known:
                problems.append(f"{name}: {path}: unknown {what} {value!r}")

    check("default_profession", list(document["default_profession"]), v.agency_types, "agency type")
    check("default_profession", list(document["default_profession"].values()), professions, "profession")
    check("roles_meeting_youth", document["roles_meeting_youth"], v.roles, "role")
    check("caregiver_profession", list(document["caregiver_profession"]), v.codes("placement_type"),
          "placement type")
    check("caregiver_profession", list(document["caregiver_profession"].values()), professions, "profession")
    seen: set[str] = set()
    for i, item in enumerate(document["requirements"]):
        path = f"requirements.{i}"
        if item["id"] in seen:
            problems.append(f"{name}: {path}.id: {item['id']!r} is used twice")
        seen.add(item["id"])
        check(f"{path}.courses", item["courses"], courses, "course")
        check(f"{path}.professions", item.get("professions", []), professions, "profession")
        check(f"{path}.roles", item.get("roles", []), v.roles, "role")
        check(f"{path}.agency_types", item.get("agency_types", []), v.agency_types, "agency type")
    if problems:
        raise CatalogueInvalid(problems)

    def codes(item: dict[str, Any], key: str) -> frozenset[str] | None:
        return frozenset(item[key]) if key in item else None

    return Catalogue(
        version=document["version"], source=document["source"], reminder_days=document["reminder_days"],
        new_staff_days=document["new_staff_days"],
        courses={code: Course(code, c["title"], c["topic"], float(c["hours"]), c["delivery"], c["renewal_months"])
                 for code, c in courses.items()},
        professions=dict(professions), default_profession=dict(document["default_profession"]),
        roles_meeting_youth=frozenset(document["roles_meeting_youth"]),
        caregiver_profession=dict(document["caregiver_profession"]),
        requirements=tuple(Requirement(item["id"], item["title"], codes(item, "professions"), codes(item, "roles"),
                                       codes(item, "agency_types"), tuple(item["courses"]),
                                       frozenset(item.get("gates", ())))
                           for item in document["requirements"]),
    )


@cache
def catalogue() -> Catalogue:
    """The catalogue shipped in the package (validated once per process)."""
    text = resources.files(__package__).joinpath("content/catalogue.yaml").read_text()
    return parse(yaml.safe_load(text))
