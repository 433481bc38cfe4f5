"""Prevention programmes as data (``content/programmes.yaml``), checked when they load."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import jsonschema
import yaml

SETTINGS = ("school", "group_home", "juvenile_hall", "community")
GENDERS = ("girls", "boys", "nonbinary")
POPULATIONS = ("foster_youth", "juvenile_justice", "runaway", "lgbtq", "homeless")
_TEXT = {"type": "object", "required": ["en", "es"], "additionalProperties": False,
         "properties": {"en": {"type": "string", "minLength": 1}, "es": {"type": "string", "minLength": 1}}}
SCHEMA: dict[str, Any] = {
    "type": "object", "additionalProperties": False,
    "required": ["version", "source", "completion_share", "programmes"],
    "properties": {
        "version": {"type": "integer", "minimum": 1}, "source": {"type": "string"},
        "completion_share": {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
        "programmes": {"type": "object", "minProperties": 1, "additionalProperties": False, "patternProperties": {
            "^[a-z_]+$": {"type": "object", "additionalProperties": False,
                          "required": ["title", "about", "sessions", "ages", "genders", "settings", "source"],
                          "properties": {
                              "title": _TEXT, "about": _TEXT,
                              "sessions": {"type": "integer", "minimum": 1, "maximum": 100},
                              "ages": {"type": "array", "items": {"type": "integer", "minimum": 5, "maximum": 24},
                                       "minItems": 2, "maxItems": 2},
                              "genders": {"type": "array", "items": {"enum": list(GENDERS)}, "minItems": 1},
                              "populations": {"type": "array", "items": {"enum": list(POPULATIONS)}},
                              "settings": {"type": "array", "items": {"enum": list(SETTINGS)}, "minItems": 1},
                              "source": {"type": "string", "minLength": 1}}}}},
    },
}


class ProgrammesInvalid(ValueError):
    pass


@dataclass(frozen=True)
class Programme:
    code: str
    title: dict[str, str]
    about: dict[str, str]
    sessions: int
    ages: tuple[int, int]
    genders: tuple[str, ...]
    populations: tuple[str, ...]
    settings: tuple[str, ...]
    source: str


@dataclass(frozen=True)
class Catalogue:
    version: int
    completion_share: float
    programmes: dict[str, Programme]

    def sessions_to_complete(self, code: str) -> int:
        """Sessions a youth attends to complete the programme (at least one)."""
        import math

        return max(1, math.ceil(self.programmes[code].sessions * self.completion_share - 1e-9))


def parse(document: Any, name: str = "programmes.yaml") -> Catalogue:
    errors = sorted(jsonschema.Draft202012Validator(SCHEMA).iter_errors(document), key=lambda e: list(e.path))
    if errors:
        raise ProgrammesInvalid("; ".join(f"{name}: {'.'.join(map(str, e.path)) or '(top)'}: {e.message}"
                                          for e in errors))
    programmes = {}
    for code, p in document["programmes"].items():
        low, high = p["ages"]
        if low > high:
            raise ProgrammesInvalid(f"{name}: programmes.{code}.ages: {low} is above {high}")
        programmes[code] = Programme(code, p["title"], p["about"], p["sessions"], (low, high), tuple(p["genders"]),
                                     tuple(p.get("populations", ())), tuple(p["settings"]), p["source"])
    return Catalogue(document["version"], float(document["completion_share"]), programmes)


@cache
def document() -> dict[str, Any]:
    """``programmes.yaml`` as written (a jurisdiction profile may pick from it and add)."""
    raw: dict[str, Any] = yaml.safe_load(resources.files(__package__).joinpath("content/programmes.yaml").read_text())
    return raw


@cache
def catalogue() -> Catalogue:
    """Every programme the deployment ships (a county offers the ones its profile picks:
    ``jurisdiction.profiles.in_force(county).programmes``)."""
    return parse(document())
