"""Loading response protocols: the default library and each county's overrides.

Protocols are content (ARCHITECTURE.md rule 3). ``library/*.yaml`` holds the default
protocols, each step citing its source. A county's file (``counties/*.yaml`` in the
package, or any ``*.yaml`` in the directory named by ``NOWRONGDOOR_PROTOCOL_DIR``) may
change a step's clock, owner, evidence or escalation, add or remove steps, add its own
protocols, switch optional library protocols on or off, and list its holidays for
business-day clocks. Every problem names the file, the protocol and step, and what is
wrong; a broken file stops the loading rather than leaving a county without a step.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from nowrongdoor.dictionary import vocabulary
from nowrongdoor.protocols.engine import (
    SOURCE_AGENCY,
    Condition,
    Escalation,
    Evidence,
    Offset,
    Protocol,
    Step,
)

# The data category of a task follows the agency that owns it: a probation task is
# probation data, a clinic's task is health data (and needs consent to be shared).
CATEGORY_OF_AGENCY_TYPE = {
    "child_welfare": "child_welfare", "probation": "probation", "juvenile_court": "juvenile_court",
    "law_enforcement": "law_enforcement", "health": "health", "mental_health": "mental_health",
    "education": "education", "community_provider": "community_services",
}

# Facts an event carries, for triggers and step conditions.
FACTS = {
    "level", "immediate_safety", "setting", "contact_type", "offence_category", "reason", "event",
    "placement_type", "source_agency_type", "age", "prior_count", "identified", "previously_identified",
    "allegations",
}


class ProtocolInvalid(ValueError):
    """A protocol or county file breaks the schema or names something that does not exist."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class CountyRules:
    """The protocols in force in one county, and its days off for business-day clocks."""

    county: str
    protocols: tuple[Protocol, ...]
    holidays: frozenset[Any]
    version: str  # "" for the plain library


def _schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(resources.files(__package__).joinpath("schema.json").read_text())
    return schema


def _normalise(document: Any) -> Any:
    """YAML reads 2026-11-26 as a date; the schema (and JSON) speak strings."""
    if isinstance(document, dict):
        return {k: _normalise(v) for k, v in document.items()}
    if isinstance(document, list):
        return [_normalise(v) for v in document]
    if hasattr(document, "isoformat") and not isinstance(document, str):
        return document.isoformat()
    return document


def _schema_problems(name: str, document: Any) -> list[str]:
    schema = _schema()
    if jsonschema.Draft202012Validator(schema).is_valid(document):
        return []
    branch = "county" if isinstance(document, dict) and "county" in document else "protocol"
    sub = {**schema["$defs"][branch], "$defs": schema["$defs"]}
    problems = []
    for e in sorted(jsonschema.Draft202012Validator(sub).iter_errors(document), key=lambda e: list(e.path)):
        where = _where(document, list(e.path))
        problems.append(f"{name}: {where}: {e.message}")
    return problems or [f"{name}: not a protocol or county file"]


def _where(document: Any, path: list[Any]) -> str:
    """A path that names steps by id (``steps[report_hotline].due``), not by position."""
    parts: list[str] = []
    node = document
    for key in path:
        if isinstance(node, list) and isinstance(key, int) and key < len(node):
            item = node[key]
            label = item.get("id") if isinstance(item, dict) else None
            parts[-1 if parts else 0:] = [f"{parts[-1] if parts else ''}[{label or key}]"]
            node = item
        else:
            parts.append(str(key))
            node = node.get(key) if isinstance(node, dict) else None
    return ".".join(parts) or "(top)"


def _read(path: Path | Any) -> tuple[str, Any]:
    name = getattr(path, "name", str(path))
    try:
        return name, _normalise(yaml.safe_load(path.read_text()))
    except yaml.YAMLError as exc:
        raise ProtocolInvalid([f"{name}: not valid YAML: {exc}"]) from exc


def _step_problems(where: str, raw: Mapping[str, Any]) -> list[str]:
    v = vocabulary()
    problems = []
    owner = raw.get("owner", {})
    agency = owner.get("agency")
    if agency is not None and agency != SOURCE_AGENCY and agency not in v.agency_types:
        problems.append(f"{where}.owner.agency: {agency!r} is neither 'source' nor an agency type")
    role = owner.get("role")
    if role is not None and role not in v.roles:
        problems.append(f"{where}.owner.role: unknown role {role!r}")
    for n, e in enumerate(raw.get("escalate", [])):
        if e["role"] not in v.roles:
            problems.append(f"{where}.escalate[{n}].role: unknown role {e['role']!r}")
    category = raw.get("category")
    if category and category not in v.data_categories:
        problems.append(f"{where}.category: unknown data category {category!r}")
    ids = [e["id"] for e in raw.get("evidence", [])]
    if len(ids) != len(set(ids)):
        problems.append(f"{where}.evidence: evidence ids repeat")
    for key in ("when",):
        problems += _condition_problems(f"{where}.{key}", raw.get(key) or {})
    for key in ("completed_by", "cancelled_by"):
        if raw.get(key):
            problems += _condition_problems(f"{where}.{key}.when", raw[key].get("when") or {})
    return problems


def _condition_problems(where: str, when: Mapping[str, Any]) -> list[str]:
    problems = []
    for name in when:
        fact = name.removesuffix("_at_least").removesuffix("_under")
        if fact not in FACTS:
            problems.append(f"{where}.{name}: unknown fact {fact!r} (known: {', '.join(sorted(FACTS))})")
    for name, allowed in _fact_codes().items():
        wanted = when.get(name)
        for code in wanted if isinstance(wanted, list) else [wanted] if wanted is not None else []:
            if code not in allowed:
                problems.append(f"{where}.{name}: unknown {name.replace('_', ' ')} {code!r}")
    return problems


def _fact_codes() -> dict[str, set[Any]]:
    """The values a coded fact can take, so a typo in a condition is caught at load time
    rather than silently never matching."""
    v = vocabulary()
    codes: dict[str, set[Any]] = {
        "contact_type": set(v.contact_types), "source_agency_type": set(v.agency_types),
        "level": {"no_concern", "at_risk", "possible_exploitation", "clear_indicators"},
        "immediate_safety": {True, False}, "identified": {True, False}, "previously_identified": {True, False},
    }
    for contact_type in v.contact_types:
        for spec in v.contact_type(contact_type).fields:
            if spec.name in FACTS and spec.code_list:
                codes.setdefault(spec.name, set()).update(v.codes(spec.code_list))
    return codes


def _protocol_problems(name: str, raw: Mapping[str, Any]) -> list[str]:
    problems = _condition_problems(f"{name}: trigger.when", raw["trigger"].get("when") or {})
    seen: set[str] = set()
    for step in raw["steps"]:
        where = f"{name}: steps[{step['id']}]"
        if step["id"] in seen:
            problems.append(f"{where}: step id repeats")
        seen.add(step["id"])
        problems += _step_problems(where, step)
    return problems


def _step(raw: Mapping[str, Any]) -> Step:
    repeat = raw.get("repeat")
    return Step(
        id=raw["id"], kind=raw["kind"], title=dict(raw["title"]), instructions=dict(raw["instructions"]),
        agency=raw["owner"]["agency"], role=raw["owner"]["role"],
        assign_to_actor=bool(raw["owner"].get("assign_to_actor", False)),
        due=Offset.parse(raw["due"]), category=raw.get("category", ""),
        evidence=tuple(Evidence(e["id"], e["kind"], dict(e["label"]), bool(e.get("required", True)))
                       for e in raw.get("evidence", [])),
        escalate=tuple(Escalation(Offset.parse(e["after"]), e["role"]) for e in raw.get("escalate", [])),
        source=raw["source"], when=dict(raw.get("when") or {}),
        repeat_every=Offset.parse(repeat["every"]) if repeat else None,
        repeat_count=int(repeat["count"]) if repeat else 1,
        completed_by=Condition(raw["completed_by"]["event"], dict(raw["completed_by"].get("when") or {}))
        if raw.get("completed_by") else None,
        cancelled_by=Condition(raw["cancelled_by"]["event"], dict(raw["cancelled_by"].get("when") or {}))
        if raw.get("cancelled_by") else None,
    )


def _protocol(raw: Mapping[str, Any], effective_version: str = "") -> Protocol:
    return Protocol(
        id=raw["id"], version=int(raw["version"]), title=dict(raw["title"]),
        trigger=Condition(raw["trigger"]["event"], dict(raw["trigger"].get("when") or {})),
        steps=tuple(_step(s) for s in raw["steps"]), source=raw["source"], effective_version=effective_version,
    )


def load_library(files: list[Any] | None = None) -> dict[str, dict[str, Any]]:
    """The library's protocol documents by id, validated."""
    if files is None:
        files = sorted((f for f in resources.files(__package__).joinpath("library").iterdir()
                        if f.name.endswith(".yaml")), key=lambda f: f.name)
    documents: dict[str, dict[str, Any]] = {}
    problems: list[str] = []
    for path in files:
        name, document = _read(path)
        found = _schema_problems(name, document)
        if not found and "county" in document:
            found = [f"{name}: a county file does not belong in the library"]
        if not found:
            found = _protocol_problems(name, document)
            if document["id"] in documents:
                found.append(f"{name}: protocol id {document['id']!r} is used by another file")
        problems += found
        if not found:
            documents[document["id"]] = document
    if problems:
        raise ProtocolInvalid(problems)
    return documents


def apply_county(library: Mapping[str, Mapping[str, Any]], name: str, county: Mapping[str, Any]) -> CountyRules:
    """The effective protocols of one county: the library with its overrides applied."""
    return compose(library, [Layer(name, _county_tag(county["county"]), int(county["version"]), county)],
                   county=county["county"], holidays=county.get("holidays", []), name=name)


@dataclass(frozen=True)
class Layer:
    """One set of changes to the library: a county file, a jurisdiction profile, or the
    overrides a county added when it applied a profile. ``tag@version`` is appended to the
    version of every protocol the layer changes (``csec_identified@1+connecticut@1``)."""

    name: str  # for messages: the file (and key) the changes come from
    tag: str
    version: int
    changes: Mapping[str, Any]


def overlay_problems(library: Mapping[str, Mapping[str, Any]], layers: list[Layer]) -> list[str]:
    """What is wrong with these layers on this library (empty when they apply)."""
    try:
        compose(library, layers, county="", holidays=[], name="")
    except ProtocolInvalid as exc:
        return exc.problems
    return []


def compose(library: Mapping[str, Mapping[str, Any]], layers: list[Layer], *, county: str,
            holidays: list[str], name: str) -> CountyRules:
    """The library with each layer's changes applied in order (a later layer wins)."""
    documents = {pid: copy.deepcopy(dict(doc)) for pid, doc in library.items()}
    enabled = {pid for pid, doc in documents.items() if not doc.get("optional")}
    changed: dict[str, list[str]] = {}
    problems: list[str] = []
    for layer in layers:
        problems += _apply_layer(documents, enabled, changed, layer)
    if problems:
        raise ProtocolInvalid(problems)
    protocols = tuple(
        _protocol(doc, "+".join([f"{pid}@{doc['version']}", *changed[pid]]) if pid in changed else "")
        for pid, doc in sorted(documents.items()) if pid in enabled
    )
    days = set()
    for day in holidays:
        try:
            days.add(dt.date.fromisoformat(day))
        except ValueError:
            problems.append(f"{name}: holidays: {day!r} is not a date (YYYY-MM-DD)")
    if problems:
        raise ProtocolInvalid(problems)
    return CountyRules(county, protocols, frozenset(days), "+".join(f"{x.tag}@{x.version}" for x in layers))


def _apply_layer(documents: dict[str, dict[str, Any]], enabled: set[str], changed: dict[str, list[str]],
                 layer: Layer) -> list[str]:
    name, change_set = layer.name, layer.changes
    label = f"{layer.tag}@{layer.version}"
    problems: list[str] = []
    for pid in [*change_set.get("enable", []), *change_set.get("disable", [])]:
        if pid not in documents:
            problems.append(f"{name}: enable/disable: no library protocol {pid!r}")
    enabled |= {pid for pid in change_set.get("enable", []) if pid in documents}
    enabled -= set(change_set.get("disable", []))
    touched: set[str] = set()
    for pid, change in (change_set.get("protocols") or {}).items():
        doc = documents.get(pid)
        if doc is None:
            problems.append(f"{name}: protocols.{pid}: no library protocol {pid!r}")
            continue
        touched.add(pid)
        if change.get("trigger"):
            doc["trigger"] = copy.deepcopy(dict(change["trigger"]))
            problems += _condition_problems(f"{name}: protocols.{pid}.trigger.when", doc["trigger"].get("when") or {})
        steps = {s["id"]: s for s in doc["steps"]}
        for sid, override in (change.get("steps") or {}).items():
            if sid not in steps:
                problems.append(f"{name}: protocols.{pid}.steps.{sid}: protocol {pid!r} has no step {sid!r}")
                continue
            steps[sid].update(copy.deepcopy(dict(override)))
            problems += _step_problems(f"{name}: protocols.{pid}.steps[{sid}]", steps[sid])
        for sid in change.get("remove_steps") or []:
            if sid not in steps:
                problems.append(f"{name}: protocols.{pid}.remove_steps: protocol {pid!r} has no step {sid!r}")
            steps.pop(sid, None)
        for step in change.get("add_steps") or []:
            where = f"{name}: protocols.{pid}.add_steps[{step['id']}]"
            if step["id"] in steps:
                problems.append(f"{where}: step id already in the protocol (change it under 'steps')")
            problems += _step_problems(where, step)
            steps[step["id"]] = copy.deepcopy(dict(step))
        doc["steps"] = list(steps.values())
        if not doc["steps"]:
            problems.append(f"{name}: protocols.{pid}: no steps left")
    for raw in change_set.get("add_protocols") or []:
        if raw["id"] in documents:
            problems.append(f"{name}: add_protocols[{raw['id']}]: the library already has this id")
            continue
        problems += _protocol_problems(f"{name}: add_protocols[{raw['id']}]", raw)
        documents[raw["id"]] = copy.deepcopy(dict(raw))
        enabled.add(raw["id"])
        touched.add(raw["id"])
    for pid in touched:
        changed.setdefault(pid, []).append(label)
    return problems


def _county_tag(county: str) -> str:
    return "".join(c for c in county.lower().split(" county")[0] if c.isalnum() or c == "_") or "county"


def _county_files() -> list[Any]:
    files = [f for f in resources.files(__package__).joinpath("counties").iterdir() if f.name.endswith(".yaml")]
    extra = os.environ.get("NOWRONGDOOR_PROTOCOL_DIR")
    if extra:
        files += sorted(Path(extra).glob("*.yaml"))
    return sorted(files, key=lambda f: f.name)


@cache
def all_rules() -> tuple[tuple[CountyRules, ...], CountyRules]:
    """Every county file's rules, and the plain library for counties without a file."""
    library = load_library()
    counties: list[CountyRules] = []
    problems: list[str] = []
    for path in _county_files():
        name, document = _read(path)
        found = _schema_problems(name, document)
        if not found and "county" not in document:
            found = [f"{name}: a protocol belongs in the library, not among county files"]
        if found:
            problems += found
            continue
        try:
            counties.append(apply_county(library, name, document))
        except ProtocolInvalid as exc:
            problems += exc.problems
    if problems:
        raise ProtocolInvalid(problems)
    plain = CountyRules("", tuple(_protocol(doc) for pid, doc in sorted(library.items())
                                  if not doc.get("optional")), frozenset(), "")
    return tuple(counties), plain


def rules_for(county_name: str) -> CountyRules:
    """The protocols in force in the county of that name."""
    counties, plain = all_rules()
    for rules in counties:
        if rules.county == county_name:
            return rules
    return plain


def step_of(protocol_id: str, step_id: str, county_name: str) -> Step | None:
    for protocol in rules_for(county_name).protocols:
        if protocol.id == protocol_id:
            return next((s for s in protocol.steps if s.id == step_id), None)
    return None


@cache
def library_documents() -> dict[str, dict[str, Any]]:
    """The library's protocol documents, loaded and validated once per process."""
    return load_library()


def county_layers() -> dict[str, tuple[Layer, tuple[str, ...]]]:
    """Each county file as a layer, with its holidays, by county name (validated by
    ``all_rules``; read again on each call, which only compiling a profile makes)."""
    all_rules()
    out: dict[str, tuple[Layer, tuple[str, ...]]] = {}
    for path in _county_files():
        name, document = _read(path)
        out[document["county"]] = (Layer(name, _county_tag(document["county"]), int(document["version"]), document),
                                   tuple(document.get("holidays", [])))
    return out


def county_tag(county: str) -> str:
    """A short name for version labels: "Alder County (synthetic)" -> "alder"."""
    return _county_tag(county)
