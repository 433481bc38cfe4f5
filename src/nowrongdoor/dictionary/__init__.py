"""The canonical data dictionary: one vocabulary shared by every system (PRODUCT.md E1).

The dictionary is content, not code (ARCHITECTURE.md rule 3): ``data_dictionary.yaml``
is validated against ``schema.json`` and cross-checked (every code it refers to exists)
when first loaded. Everything else asks it for codes and labels through ``vocabulary()``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import jsonschema
import yaml


class DictionaryInvalid(ValueError):
    """The data dictionary file breaks its schema or refers to a code it does not define."""


@dataclass(frozen=True)
class FieldSpec:
    name: str
    code_list: str | None
    many: bool
    required: bool
    text: bool
    max_length: int | None
    category: str | None  # a field that belongs to another data category (field-level access)


@dataclass(frozen=True)
class ContactTypeSpec:
    code: str
    label: str
    category: str
    fields: tuple[FieldSpec, ...]


@dataclass(frozen=True)
class Vocabulary:
    version: int
    raw: dict[str, Any]

    # -- codes and labels -------------------------------------------------
    def codes(self, code_list: str) -> list[str]:
        return list(self.raw["code_lists"][code_list])

    def is_code(self, code_list: str, value: object) -> bool:
        """``value in codes(code_list)`` without building the list (a dict lookup)."""
        return isinstance(value, str) and value in self.raw["code_lists"][code_list]

    def label(self, code_list: str, code: str) -> str:
        return str(self.raw["code_lists"][code_list].get(code, code))

    def choices(self, code_list: str) -> list[tuple[str, str]]:
        return [(code, str(label)) for code, label in self.raw["code_lists"][code_list].items()]

    @property
    def agency_types(self) -> dict[str, str]:
        return {code: spec["label"] for code, spec in self.raw["agency_types"].items()}

    @property
    def roles(self) -> dict[str, str]:
        return {code: spec["label"] for code, spec in self.raw["roles"].items()}

    @property
    def purposes(self) -> dict[str, str]:
        return {code: spec["label"] for code, spec in self.raw["purposes"].items()}

    @property
    def data_categories(self) -> dict[str, str]:
        return {code: spec["label"] for code, spec in self.raw["data_categories"].items()}

    @property
    def legal_bases(self) -> dict[str, str]:
        return {code: spec["label"] for code, spec in self.raw["legal_bases"].items()}

    # -- access vocabulary --------------------------------------------------
    def role_purposes(self, role: str) -> frozenset[str]:
        spec = self.raw["roles"].get(role)
        return frozenset(spec["purposes"]) if spec else frozenset()

    def role_reads_audit(self, role: str) -> str | None:
        spec = self.raw["roles"].get(role) or {}
        value = spec.get("reads_audit")
        return str(value) if value else None

    def role_reviews_break_glass(self, role: str) -> bool:
        return bool((self.raw["roles"].get(role) or {}).get("reviews_break_glass"))

    def purpose_categories(self, purpose: str) -> frozenset[str]:
        spec = self.raw["purposes"].get(purpose)
        return frozenset(spec["categories"]) if spec else frozenset()

    def requires_consent(self, category: str) -> bool:
        return bool(self.raw["data_categories"][category]["requires_consent"])

    # -- contacts -------------------------------------------------------------
    def contact_type(self, code: str) -> ContactTypeSpec:
        spec = self.raw["contact_types"][code]
        fields = tuple(
            FieldSpec(
                name=name,
                code_list=f.get("code_list"),
                many=bool(f.get("many")),
                required=bool(f.get("required")),
                text=bool(f.get("text")),
                max_length=f.get("max_length"),
                category=f.get("category"),
            )
            for name, f in spec["fields"].items()
        )
        return ContactTypeSpec(code=code, label=spec["label"], category=spec["category"], fields=fields)

    @property
    def contact_types(self) -> dict[str, str]:
        return {code: spec["label"] for code, spec in self.raw["contact_types"].items()}


def _cross_check(raw: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    categories = set(raw["data_categories"])
    purposes = set(raw["purposes"])
    code_lists = set(raw["code_lists"])
    for role, spec in raw["roles"].items():
        problems += [f"roles.{role}: unknown purpose {p!r}" for p in spec["purposes"] if p not in purposes]
    for purpose, spec in raw["purposes"].items():
        problems += [
            f"purposes.{purpose}: unknown category {c!r}" for c in spec["categories"] if c not in categories
        ]
    for code, spec in raw["contact_types"].items():
        if spec["category"] not in categories:
            problems.append(f"contact_types.{code}: unknown category {spec['category']!r}")
        for name, field in spec["fields"].items():
            if "code_list" in field and field["code_list"] not in code_lists:
                problems.append(f"contact_types.{code}.fields.{name}: unknown code list {field['code_list']!r}")
            if "category" in field and field["category"] not in categories:
                problems.append(f"contact_types.{code}.fields.{name}: unknown category {field['category']!r}")
            if ("code_list" in field) == bool(field.get("text")):
                problems.append(f"contact_types.{code}.fields.{name}: needs exactly one of code_list or text")
    return problems


def parse(text: str) -> Vocabulary:
    """Validate a dictionary document; raise ``DictionaryInvalid`` naming every problem."""
    raw = yaml.safe_load(text)
    schema = json.loads(resources.files(__package__).joinpath("schema.json").read_text())
    errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(raw), key=lambda e: list(e.path))
    problems = [f"{'.'.join(str(p) for p in e.path) or '(top)'}: {e.message}" for e in errors]
    if not problems:
        problems = _cross_check(raw)
    if problems:
        raise DictionaryInvalid("; ".join(problems))
    return Vocabulary(version=int(raw["version"]), raw=raw)


@cache
def vocabulary() -> Vocabulary:
    """The packaged data dictionary, validated once per process."""
    return parse(resources.files(__package__).joinpath("data_dictionary.yaml").read_text())
