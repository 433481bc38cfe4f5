"""The report's recommendations as data (``content/recommendations.yaml``), checked
against a schema when they load. See the file's header for the ids and areas."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import jsonschema
import yaml
from django.utils.translation import gettext_noop as _n

PRIORITY_AREAS = ("placement", "identification", "training", "data", "other")
FOCUS_AREAS = ("global", "priority", "prevalence", "identification", "intervention", "prevention", "legislation")
SCHEMA: dict[str, Any] = {
    "type": "object", "additionalProperties": False, "required": ["version", "source", "recommendations"],
    "properties": {
        "version": {"type": "integer", "minimum": 1}, "source": {"type": "string"},
        "recommendations": {"type": "array", "minItems": 1, "items": {
            "type": "object", "additionalProperties": False,
            "required": ["id", "title", "priority_area", "focus_area", "source"],
            "properties": {"id": {"type": "string", "pattern": "^[A-Z]+-?[0-9]+$"},
                           "title": {"type": "string", "minLength": 10, "maxLength": 200},
                           "priority_area": {"enum": list(PRIORITY_AREAS)},
                           "focus_area": {"enum": list(FOCUS_AREAS)},
                           "source": {"type": "string", "pattern": "^ch\\. [0-9]"},
                           "lead": {"type": "string"}}}},
    },
}


class RecommendationsInvalid(ValueError):
    pass


@dataclass(frozen=True)
class Recommendation:
    id: str
    title: str
    priority_area: str
    focus_area: str
    source: str
    lead: str


def parse(document: Any, name: str = "recommendations.yaml") -> tuple[int, dict[str, Recommendation]]:
    errors = sorted(jsonschema.Draft202012Validator(SCHEMA).iter_errors(document), key=lambda e: list(e.path))
    if errors:
        raise RecommendationsInvalid("; ".join(f"{name}: {'.'.join(map(str, e.path)) or '(top)'}: {e.message}"
                                               for e in errors))
    out: dict[str, Recommendation] = {}
    for i, item in enumerate(document["recommendations"]):
        if item["id"] in out:
            raise RecommendationsInvalid(f"{name}: recommendations.{i}.id: {item['id']!r} is used twice")
        out[item["id"]] = Recommendation(item["id"], item["title"], item["priority_area"], item["focus_area"],
                                         item["source"], item.get("lead", ""))
    return document["version"], out


@cache
def recommendations() -> dict[str, Recommendation]:
    text = resources.files(__package__).joinpath("content/recommendations.yaml").read_text()
    return parse(yaml.safe_load(text))[1]


# Labels the tracker's pages translate at run time (statuses and priority areas).
_LABELS = [_n("not started"), _n("in progress"), _n("done"), _n("dropped"), _n("placement"), _n("identification"),
           _n("training"), _n("data"), _n("other")]
