"""Case content: the stages-of-change guidance (report app. B, in our own words) and the
county's MDT sharing rules. Both are YAML in ``content/``, checked when they load."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import jsonschema
import yaml

from nowrongdoor.dictionary import vocabulary

STAGES = ["precontemplation", "contemplation", "preparation", "action", "maintenance", "relapse"]

_TEXTS = {"type": "object", "required": ["en", "es"], "additionalProperties": False,
          "properties": {"en": {"type": "string", "minLength": 1}, "es": {"type": "string", "minLength": 1}}}
_LISTS = {"type": "object", "required": ["en", "es"], "additionalProperties": False,
          "properties": {"en": {"type": "array", "items": {"type": "string"}, "minItems": 1},
                         "es": {"type": "array", "items": {"type": "string"}, "minItems": 1}}}
STAGES_SCHEMA = {
    "type": "object", "required": ["version", "source", "stages"],
    "properties": {
        "version": {"type": "integer", "minimum": 1}, "source": {"type": "string"},
        "stages": {
            "type": "object", "required": STAGES, "additionalProperties": False,
            "patternProperties": {"^[a-z]+$": {
                "type": "object", "additionalProperties": False,
                "required": ["order", "label", "description", "counsellor_goals", "supportive_phrases", "avoid"],
                "properties": {"order": {"type": "integer"}, "label": _TEXTS, "description": _TEXTS,
                               "counsellor_goals": _LISTS, "supportive_phrases": _LISTS, "avoid": _LISTS},
            }},
        },
    },
}
RULES_SCHEMA = {
    "type": "object", "required": ["version", "source", "mdt"],
    "properties": {
        "version": {"type": "integer"}, "source": {"type": "string"},
        "mdt": {"type": "object", "required": ["window_days", "max_extension_days", "purposes", "categories"],
                "additionalProperties": False,
                "properties": {"window_days": {"type": "integer", "minimum": 1, "maximum": 365},
                               "max_extension_days": {"type": "integer", "minimum": 0, "maximum": 730},
                               "purposes": {"type": "array", "items": {"type": "string"}, "minItems": 1},
                               "categories": {"type": "array", "items": {"type": "string"}, "minItems": 1}}},
    },
}


class ContentInvalid(ValueError):
    pass


def _load(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(resources.files(__package__).joinpath(f"content/{name}").read_text())
    errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(document), key=lambda e: list(e.path))
    if errors:
        raise ContentInvalid("; ".join(f"{name}: {'.'.join(map(str, e.path)) or '(top)'}: {e.message}"
                                       for e in errors))
    return document


@dataclass(frozen=True)
class Stage:
    code: str
    order: int
    label: dict[str, str]
    description: dict[str, str]
    counsellor_goals: dict[str, list[str]]
    supportive_phrases: dict[str, list[str]]
    avoid: dict[str, list[str]]


@cache
def stages() -> dict[str, Stage]:
    """The six stages, in order, with the worker's goals and words for each."""
    document = _load("stages_of_change.yaml", STAGES_SCHEMA)
    out = {}
    for code in STAGES:
        raw = document["stages"][code]
        for key in ("counsellor_goals", "supportive_phrases", "avoid"):
            if len(raw[key]["en"]) != len(raw[key]["es"]):
                raise ContentInvalid(
                    f"stages_of_change.yaml: stages.{code}.{key}: English and Spanish differ in length")
        out[code] = Stage(code, raw["order"], raw["label"], raw["description"], raw["counsellor_goals"],
                          raw["supportive_phrases"], raw["avoid"])
    return out


@dataclass(frozen=True)
class MdtRules:
    window_days: int
    max_extension_days: int
    purposes: tuple[str, ...]
    categories: tuple[str, ...]


@cache
def rules_document() -> dict[str, Any]:
    """``rules.yaml`` as written (a jurisdiction profile may change its ``mdt`` part)."""
    return _load("rules.yaml", RULES_SCHEMA)


def parse_mdt(raw: Mapping[str, Any], name: str = "rules.yaml: mdt") -> MdtRules:
    """MDT sharing rules from their document, the purposes and categories checked."""
    mdt_schema: dict[str, Any] = RULES_SCHEMA["properties"]["mdt"]  # type: ignore[index]
    errors = sorted(jsonschema.Draft202012Validator(mdt_schema).iter_errors(raw),
                    key=lambda e: list(e.path))
    if errors:
        raise ContentInvalid("; ".join(f"{name}.{'.'.join(map(str, e.path))}: {e.message}".rstrip(".")
                                       for e in errors))
    v = vocabulary()
    bad = [p for p in raw["purposes"] if p not in v.purposes] + [c for c in raw["categories"]
                                                                 if c not in v.data_categories]
    if bad:
        raise ContentInvalid(f"{name}: unknown purposes or categories {bad}")
    return MdtRules(raw["window_days"], raw["max_extension_days"], tuple(raw["purposes"]), tuple(raw["categories"]))


@cache
def mdt_rules() -> MdtRules:
    """The deployment's MDT sharing rules (a county's profile may change them:
    ``jurisdiction.profiles.in_force(county).mdt``)."""
    return parse_mdt(rules_document()["mdt"])


@dataclass(frozen=True)
class Pathway:
    code: str
    title: dict[str, str]
    services: tuple[str, ...]


@cache
def pathways_document() -> dict[str, Any]:
    """``pathways.yaml`` as written (a jurisdiction profile may add pathways)."""
    raw: dict[str, Any] = yaml.safe_load(resources.files(__package__).joinpath("content/pathways.yaml").read_text())
    return raw


def parse_pathways(raw: Mapping[str, Any], name: str = "pathways.yaml: pathways") -> dict[str, Pathway]:
    known = set(vocabulary().codes("service_type"))
    out = {}
    for code, spec in raw.items():
        if not isinstance(spec, Mapping) or not isinstance(spec.get("title"), Mapping) \
                or not isinstance(spec.get("services"), list):
            raise ContentInvalid(f"{name}.{code}: needs a title (en, es) and a list of services")
        bad = [s for s in spec["services"] if s not in known]
        if bad or set(spec["title"]) != {"en", "es"}:
            raise ContentInvalid(f"{name}.{code}: unknown services {bad} or titles not en+es")
        out[code] = Pathway(code, dict(spec["title"]), tuple(spec["services"]))
    return out


@cache
def pathways() -> dict[str, Pathway]:
    """Named bundles of referrals for common situations (content/pathways.yaml)."""
    return parse_pathways(pathways_document()["pathways"])
