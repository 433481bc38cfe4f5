"""Loading screening instruments: YAML content, validated, resolved against the core bank.

Instruments are content (ARCHITECTURE.md rule 3): ``instruments/core_bank.yaml`` holds
the domains (with interviewing guidance) and the core items every setting shares, so
results are comparable across doors; each ``instruments/<setting>.yaml`` picks items for
a short and a full form, may add setting-specific items, and sets its scoring thresholds
and next steps. A county changes an instrument by editing its file and bumping
``version``. Every problem is reported with the file, the item and what is wrong.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from nowrongdoor.dictionary import vocabulary
from nowrongdoor.screening.engine import Instrument, Item, Scoring

BANK_FILE = "core_bank.yaml"


class InstrumentInvalid(ValueError):
    """A screening content file breaks its schema or refers to something that does not exist."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def _schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(resources.files(__package__).joinpath("instruments/schema.json").read_text())
    return schema


def _schema_problems(name: str, document: Any) -> list[str]:
    validator = jsonschema.Draft202012Validator(_schema())
    errors = list(validator.iter_errors(document))
    if not errors:
        return []
    # oneOf hides the useful message: re-check against the branch the document meant.
    branch = 0 if isinstance(document, dict) and "bank_version" in document else 1
    sub = {**_schema()["oneOf"][branch], "$defs": _schema()["$defs"]}
    problems = []
    for e in sorted(jsonschema.Draft202012Validator(sub).iter_errors(document), key=lambda e: list(e.path)):
        where = ".".join(str(p) for p in e.path) or "(top)"
        problems.append(f"{name}: {where}: {e.message}")
    return problems or [f"{name}: {errors[0].message}"]


def _item(item_id: str, raw: Mapping[str, Any], *, setting_specific: bool) -> Item:
    options = raw.get("options", [])
    return Item(
        id=item_id, domain=raw["domain"], kind=raw["kind"], weight=int(raw["weight"]), answer=raw["answer"],
        positive_options=frozenset(o["id"] for o in options if o["positive"]),
        options=tuple(o["id"] for o in options), positive_at=raw.get("positive_at"),
        setting_specific=setting_specific, known_from=raw.get("known_from"), text=raw["text"],
        help=raw.get("help", {}), option_texts={o["id"]: o["text"] for o in options}, source=raw["source"],
    )


def _known_from_problems(name: str, item_id: str, known: Mapping[str, Any] | None) -> list[str]:
    if not known:
        return []
    v = vocabulary()
    contact_type = known["contact_type"]
    if contact_type not in v.contact_types:
        return [f"{name}: items.{item_id}.known_from: unknown contact type {contact_type!r}"]
    fields = {f.name: f for f in v.contact_type(contact_type).fields}
    problems = []
    for field_name, code in (known.get("details") or {}).items():
        spec = fields.get(field_name)
        if spec is None or spec.code_list is None or code not in v.codes(spec.code_list):
            problems.append(
                f"{name}: items.{item_id}.known_from: {field_name}={code!r} is not a code of {contact_type}"
            )
    return problems


def parse(bank_text: str, instrument_texts: Mapping[str, str]) -> dict[str, Instrument]:
    """Validate the bank and every instrument together; raise ``InstrumentInvalid`` naming
    each problem, or return the instruments by id."""
    problems: list[str] = []
    bank = yaml.safe_load(bank_text)
    problems += _schema_problems(BANK_FILE, bank)
    if problems:
        raise InstrumentInvalid(problems)
    domains = bank["domains"]
    core = {item_id: _item(item_id, raw, setting_specific=False) for item_id, raw in bank["items"].items()}
    for item_id, raw in bank["items"].items():
        if raw["domain"] not in domains:
            problems.append(f"{BANK_FILE}: items.{item_id}: unknown domain {raw['domain']!r}")
        problems += _known_from_problems(BANK_FILE, item_id, raw.get("known_from"))

    instruments: dict[str, Instrument] = {}
    for name, text in sorted(instrument_texts.items()):
        doc = yaml.safe_load(text)
        schema_problems = _schema_problems(name, doc)
        if schema_problems:
            problems += schema_problems
            continue
        own = {item_id: _item(item_id, raw, setting_specific=True) for item_id, raw in (doc.get("items") or {}).items()}
        for item_id, raw in (doc.get("items") or {}).items():
            if item_id in core:
                problems.append(f"{name}: items.{item_id}: collides with a core bank item")
            if raw["domain"] not in domains:
                problems.append(f"{name}: items.{item_id}: unknown domain {raw['domain']!r}")
            problems += _known_from_problems(name, item_id, raw.get("known_from"))
        items = {**core, **own}
        for form, ids in doc["forms"].items():
            problems += [f"{name}: forms.{form}: unknown item {i!r}" for i in ids if i not in items]
        unknown_types = [t for t in doc["agency_types"] if t not in vocabulary().agency_types]
        problems += [f"{name}: agency_types: unknown agency type {t!r}" for t in unknown_types]
        domain_rules = doc["scoring"]["possible_exploitation"].get("domain_weight", {})
        problems += [f"{name}: scoring: unknown domain {d!r}" for d in domain_rules if d not in domains]
        if doc["id"] in instruments:
            problems.append(f"{name}: id {doc['id']!r} is used by another instrument")
        used = {i for ids in doc["forms"].values() for i in ids}
        instruments[doc["id"]] = Instrument(
            id=doc["id"], version=int(doc["version"]), bank_version=int(bank["bank_version"]),
            setting=doc["setting"], agency_types=tuple(doc["agency_types"]),
            forms={form: tuple(ids) for form, ids in doc["forms"].items()},
            items={i: items[i] for i in sorted(used) if i in items},
            scoring=Scoring(
                total_indicator_weight=doc["scoring"]["possible_exploitation"].get("total_indicator_weight"),
                domain_weight=domain_rules,
                risk_factor_weight=int(doc["scoring"]["at_risk"]["risk_factor_weight"]),
            ),
            domains=domains, title=doc["title"], introduction=doc["introduction"], next_steps=doc["next_steps"],
        )
    if problems:
        raise InstrumentInvalid(problems)
    return instruments


def _content_dir() -> Path:
    return Path(str(resources.files(__package__).joinpath("instruments")))


@cache
def instruments() -> dict[str, Instrument]:
    """Every packaged instrument, validated once per process."""
    folder = _content_dir()
    texts = {p.name: p.read_text() for p in sorted(folder.glob("*.yaml")) if p.name != BANK_FILE}
    return parse((folder / BANK_FILE).read_text(), texts)


def instrument(instrument_id: str) -> Instrument:
    return instruments()[instrument_id]


def for_agency_type(agency_type: str) -> list[Instrument]:
    """The instruments made for an agency's setting (a county may use several)."""
    return [i for i in instruments().values() if agency_type in i.agency_types]
