"""Jurisdiction profiles: a working model from the report, as one validated bundle of
content that a county applies (PRODUCT.md A1, B1, B9, C1; issue 10).

A **profile** (``content/profiles/*.yaml``, or any ``*.yaml`` in the directory named by
``NOWRONGDOOR_PROFILE_DIR``) has an id, a version, what it does in plain words, the
report sections it follows, optionally a ``base`` profile it builds on, and any of these
sections, each changing the deployment's default content:

- ``screening``: which instruments each type of agency uses (``instruments``) and which
  form it starts on (``default_form``: ``short`` or ``full``);
- ``protocols``: changes to the protocol library in the county-file format
  (``enable``/``disable`` optional protocols, ``protocols.<id>`` to change a trigger or
  steps, ``add_protocols``);
- ``mdt``: the multidisciplinary team's sharing window (``window_days``,
  ``max_extension_days``, ``purposes``, ``categories``);
- ``diversion``: the diversion / safe-harbour rule set (``content/diversion``) the county
  evaluates youth against;
- ``placement``: placement matching settings (any part of ``matching.yaml``: a hard
  rule's numbers, a soft score's points, hold lengths);
- ``programmes``: the prevention programmes the county offers (``offer``, a subset of the
  catalogue; ``add``, its own entries);
- ``pathways``: service pathways added to the case page's suggestions (``add``).

**In force** for a county: the library and default content, then the base profile, the
profile, the county's own protocol file (``protocols/counties``), and the overrides the
county gave when it applied the profile (same sections), a later layer winning. Every
task and screening records the label in force (``connecticut@1``, or
``connecticut@1+overrides@3`` when the county's revision 3 added overrides). Open tasks
keep the version they were opened under: a task is a snapshot of its step.

Every problem names the file (or ``overrides``) and the failing key.
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from nowrongdoor.cases.content import (
    ContentInvalid,
    MdtRules,
    Pathway,
    mdt_rules,
    parse_mdt,
    parse_pathways,
    pathways,
    pathways_document,
    rules_document,
)
from nowrongdoor.dictionary import vocabulary
from nowrongdoor.jurisdiction.diversion import RuleSet, rule_sets
from nowrongdoor.placements import matching
from nowrongdoor.prevention import catalogue as programme_catalogue
from nowrongdoor.protocols import library
from nowrongdoor.protocols.library import CountyRules, Layer, ProtocolInvalid
from nowrongdoor.screening.instruments import instruments

SECTIONS = ("screening", "protocols", "mdt", "diversion", "placement", "programmes", "pathways")
FORMS = ("short", "full")


def _protocol_schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(resources.files("nowrongdoor.protocols").joinpath("schema.json").read_text())
    return schema


@cache
def schema() -> dict[str, Any]:
    """The profile schema; its ``protocols`` part is the county-file format."""
    protocol = _protocol_schema()
    county = protocol["$defs"]["county"]["properties"]
    code = {"type": "string", "pattern": "^[a-z][a-z0-9_]*$", "maxLength": 60}
    text = {"type": "object", "required": ["en"], "additionalProperties": False,
            "properties": {"en": {"type": "string", "minLength": 3}, "es": {"type": "string", "minLength": 3}}}
    sections: dict[str, Any] = {
        "screening": {"type": "object", "additionalProperties": False, "minProperties": 1, "properties": {
            "instruments": {"type": "object", "propertyNames": code,
                            "additionalProperties": {"type": "array", "items": code, "minItems": 1}},
            "default_form": {"type": "object", "propertyNames": code, "additionalProperties": {"enum": list(FORMS)}},
        }},
        "protocols": {"type": "object", "additionalProperties": False, "minProperties": 1, "properties": {
            key: county[key] for key in ("enable", "disable", "protocols", "add_protocols")}},
        "mdt": {"type": "object", "additionalProperties": False, "minProperties": 1, "properties": {
            "window_days": {"type": "integer"}, "max_extension_days": {"type": "integer"},
            "purposes": {"type": "array", "items": code}, "categories": {"type": "array", "items": code}}},
        "diversion": code,
        "placement": {"type": "object", "additionalProperties": False, "minProperties": 1, "properties": {
            key: {"type": "object"} for key in ("hard_rules", "soft_scores", "holds")}},
        "programmes": {"type": "object", "additionalProperties": False, "minProperties": 1, "properties": {
            "offer": {"type": "array", "items": code},
            "add": {"type": "object", "propertyNames": code, "additionalProperties": {"type": "object"}}}},
        "pathways": {"type": "object", "additionalProperties": False, "required": ["add"], "properties": {
            "add": {"type": "object", "propertyNames": code, "additionalProperties": {"type": "object"}}}},
    }
    return {
        "$defs": protocol["$defs"],
        "overrides": {"type": "object", "additionalProperties": False, "properties": sections},
        "type": "object", "additionalProperties": False,
        "required": ["id", "version", "title", "summary", "sources"],
        "properties": {
            "id": code, "version": {"type": "integer", "minimum": 1}, "title": text, "summary": text,
            "sources": {"type": "array", "minItems": 1, "items": {"type": "string", "pattern": "^report "}},
            "base": code, **sections,
        },
    }


class ProfileInvalid(ValueError):
    """A profile (or a county's overrides) breaks the schema or names what does not exist."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Profile:
    id: str
    version: int
    title: dict[str, str]
    summary: dict[str, str]
    sources: tuple[str, ...]
    base: str
    sections: dict[str, Any]
    file: str

    @property
    def label(self) -> str:
        return f"{self.id}@{self.version}"

    def settings(self) -> dict[str, int]:
        """How many steps and rules each section sets (the issue's figure)."""
        return count_settings(self.sections)


def count_settings(sections: Mapping[str, Any]) -> dict[str, int]:
    out: dict[str, int] = {}
    screening = sections.get("screening") or {}
    out["screening"] = len(screening.get("instruments", {})) + len(screening.get("default_form", {}))
    p = sections.get("protocols") or {}
    steps = len(p.get("enable", [])) + len(p.get("disable", []))
    for change in (p.get("protocols") or {}).values():
        steps += (len(change.get("steps") or {}) + len(change.get("add_steps") or [])
                  + len(change.get("remove_steps") or []) + (1 if change.get("trigger") else 0))
    steps += sum(len(raw["steps"]) for raw in p.get("add_protocols") or [])
    out["protocols"] = steps
    out["mdt"] = len(sections.get("mdt") or {})
    rule_set = rule_sets().get(sections.get("diversion") or "")
    out["diversion"] = (0 if rule_set is None else
                        sum(x is not None for x in (rule_set.not_chargeable_below, rule_set.presumed_victim_below))
                        + sum(len(s.conditions) for s in rule_set.sets))
    out["placement"] = sum(_leaves(v) for v in (sections.get("placement") or {}).values())
    programmes = sections.get("programmes") or {}
    out["programmes"] = len(programmes.get("offer", [])) + len(programmes.get("add", {}))
    out["pathways"] = len((sections.get("pathways") or {}).get("add", {}))
    return out


def _leaves(node: Any) -> int:
    if isinstance(node, Mapping):
        return sum(_leaves(v) for k, v in node.items() if k != "label")
    return 1


# -- loading and checking --------------------------------------------------------
def _where(path: list[Any]) -> str:
    return ".".join(str(p) for p in path) or "(top)"


def _schema_problems(name: str, document: Any, *, overrides: bool = False) -> list[str]:
    full = schema()
    sub = {**full["overrides"], "$defs": full["$defs"]} if overrides else full
    errors = sorted(jsonschema.Draft202012Validator(sub).iter_errors(document), key=lambda e: list(e.path))
    return [f"{name}: {_where(list(e.path))}: {e.message}" for e in errors]


def _profile_files() -> list[Any]:
    files = [f for f in resources.files(__package__).joinpath("content/profiles").iterdir()
             if f.name.endswith(".yaml")]
    extra = os.environ.get("NOWRONGDOOR_PROFILE_DIR")
    if extra:
        files += sorted(Path(extra).glob("*.yaml"))
    return sorted(files, key=lambda f: f.name)


def _read(path: Any) -> tuple[str, Any]:
    name = getattr(path, "name", str(path))
    try:
        return name, library._normalise(yaml.safe_load(path.read_text()))
    except yaml.YAMLError as exc:
        raise ProfileInvalid([f"{name}: not valid YAML: {exc}"]) from exc


def parse_files(files: list[Any]) -> dict[str, Profile]:
    """Every profile in these files, each checked on its own and over its base."""
    found: dict[str, Profile] = {}
    problems: list[str] = []
    for path in files:
        name, document = _read(path)
        schema_problems = _schema_problems(name, document)
        if schema_problems:
            problems += schema_problems
            continue
        if document["id"] in found:
            problems.append(f"{name}: id: {document['id']!r} is used by {found[document['id']].file}")
            continue
        found[document["id"]] = Profile(
            id=document["id"], version=int(document["version"]), title=document["title"],
            summary=document["summary"], sources=tuple(document["sources"]), base=document.get("base", ""),
            sections={k: document[k] for k in SECTIONS if k in document}, file=name,
        )
    for profile in found.values():
        if profile.base and profile.base not in found:
            problems.append(f"{profile.file}: base: no profile {profile.base!r}")
        elif profile.base and found[profile.base].base:
            problems.append(f"{profile.file}: base: {profile.base!r} has a base itself (one level only)")
    if not problems:
        for profile in found.values():
            base = found[profile.base] if profile.base else None
            try:
                compile_settings(base, profile, None, county="", revision=0)
            except ProfileInvalid as exc:
                problems += exc.problems
    if problems:
        raise ProfileInvalid(problems)
    return found


@cache
def profiles() -> dict[str, Profile]:
    """The shipped profiles (and an operator's, from ``NOWRONGDOOR_PROFILE_DIR``), by id."""
    return parse_files(_profile_files())


def profile(profile_id: str) -> Profile:
    try:
        return profiles()[profile_id]
    except KeyError:
        raise ProfileInvalid([f"profile: no profile {profile_id!r}"]) from None


def check_overrides(profile_id: str, overrides: Mapping[str, Any], county: str = "") -> None:
    """Refuse overrides that break the schema or do not apply over the profile."""
    problems = _schema_problems("overrides", dict(overrides), overrides=True)
    if problems:
        raise ProfileInvalid(problems)
    chosen = profile(profile_id)
    compile_settings(profiles().get(chosen.base), chosen, overrides, county=county, revision=0)


# -- what is in force -------------------------------------------------------------
@dataclass(frozen=True)
class InForce:
    """Everything a county's profile decides, compiled."""

    label: str  # "" when the county follows the plain defaults
    profile_id: str
    protocols: CountyRules
    instruments: dict[str, tuple[str, ...]]  # agency type -> instrument ids ({} = every one made for it)
    default_form: dict[str, str]
    mdt: MdtRules
    diversion: RuleSet | None
    placement: matching.Rules
    programmes: programme_catalogue.Catalogue
    pathways: dict[str, Pathway]
    counts: dict[str, int] = field(default_factory=dict)

    def instruments_for(self, agency_type: str) -> list[Any]:
        """The instruments an agency of this type may use here."""
        made_for = [i for i in instruments().values() if agency_type in i.agency_types]
        chosen = self.instruments.get(agency_type)
        return [i for i in made_for if i.id in chosen] if chosen else made_for

    def form_for(self, agency_type: str) -> str:
        return self.default_form.get(agency_type) or self.default_form.get("all") or "short"


def _merge(base: Any, change: Any) -> Any:
    """``change`` laid over ``base``: mappings merge key by key, anything else replaces."""
    if isinstance(base, Mapping) and isinstance(change, Mapping):
        out = dict(base)
        for key, value in change.items():
            out[key] = _merge(base.get(key), value)
        return out
    return copy.deepcopy(change)


def compile_settings(base: Profile | None, chosen: Profile | None, overrides: Mapping[str, Any] | None, *,
                     county: str, revision: int) -> InForce:
    """The settings of base, profile, county file and overrides, checked section by
    section; every problem names where it comes from."""
    layers: list[tuple[str, str, int, Mapping[str, Any]]] = []  # (name, tag, version, sections)
    for p in (base, chosen):
        if p is not None:
            layers.append((p.file, p.id, p.version, p.sections))
    if overrides:
        layers.append(("overrides", "overrides", revision, overrides))
    problems: list[str] = []

    # Screening: the later layer's choice for an agency type replaces the earlier one.
    chosen_instruments: dict[str, tuple[str, ...]] = {}
    forms: dict[str, str] = {}
    agency_types = set(vocabulary().agency_types)
    for name, _tag, _v, sections in layers:
        screening = sections.get("screening") or {}
        for agency_type, ids in (screening.get("instruments") or {}).items():
            if agency_type not in agency_types:
                problems.append(f"{name}: screening.instruments.{agency_type}: unknown agency type")
                continue
            for instrument_id in ids:
                found = instruments().get(instrument_id)
                if found is None:
                    problems.append(f"{name}: screening.instruments.{agency_type}: no instrument {instrument_id!r}")
                elif agency_type not in found.agency_types:
                    problems.append(f"{name}: screening.instruments.{agency_type}: {instrument_id!r} is not "
                                    f"made for a {agency_type} setting")
            chosen_instruments[agency_type] = tuple(ids)
        for agency_type, form in (screening.get("default_form") or {}).items():
            if agency_type != "all" and agency_type not in agency_types:
                problems.append(f"{name}: screening.default_form.{agency_type}: unknown agency type (or 'all')")
            forms[agency_type] = form

    # Protocols: the library, then each layer; the county's own file goes before the overrides.
    protocol_layers = [Layer(f"{name}: protocols", tag, v, sections["protocols"])
                       for name, tag, v, sections in layers if sections.get("protocols") and name != "overrides"]
    county_file = library.county_layers().get(county) if county else None
    holidays: tuple[str, ...] = ()
    if county_file:
        protocol_layers.append(county_file[0])
        holidays = county_file[1]
    if overrides and overrides.get("protocols"):
        protocol_layers.append(Layer("overrides: protocols", "overrides", revision, overrides["protocols"]))
    rules: CountyRules | None = None
    try:
        rules = library.compose(library.library_documents(), protocol_layers, county=county,
                                holidays=list(holidays), name=county_file[0].name if county_file else "")
    except ProtocolInvalid as exc:
        problems += exc.problems

    # MDT sharing rules, placement settings, programmes and pathways: each merged, then parsed.
    mdt_doc: Any = rules_document()["mdt"]
    placement_doc: Any = matching.document()
    programmes_doc: Any = programme_catalogue.document()
    pathway_doc: dict[str, Any] = dict(pathways_document()["pathways"])
    diversion = ""
    for name, _tag, _v, sections in layers:
        if "mdt" in sections:
            mdt_doc = _merge(mdt_doc, sections["mdt"])
        if "placement" in sections:
            placement_doc = _merge(placement_doc, sections["placement"])
        if "diversion" in sections:
            diversion = sections["diversion"]
            if diversion not in rule_sets():
                have = ", ".join(sorted(rule_sets()))
                problems.append(f"{name}: diversion: no rule set {diversion!r} (have: {have})")
        offered = sections.get("programmes") or {}
        if offered:
            known = programmes_doc["programmes"]
            added = offered.get("add") or {}
            bad = [c for c in offered.get("offer", []) if c not in known and c not in added]
            problems += [f"{name}: programmes.offer: no programme {c!r}" for c in bad]
            clash = [c for c in added if c in known]
            problems += [f"{name}: programmes.add.{c}: the catalogue already has this code" for c in clash]
            merged = {**known, **added}
            keep = set(offered.get("offer") or merged) | set(added)
            programmes_doc = {**programmes_doc, "programmes": {c: p for c, p in merged.items() if c in keep}}
        for code, spec in ((sections.get("pathways") or {}).get("add") or {}).items():
            if code in pathway_doc:
                problems.append(f"{name}: pathways.add.{code}: a pathway with this code exists")
            pathway_doc[code] = spec
    try:
        mdt = parse_mdt(mdt_doc, "mdt")
    except ContentInvalid as exc:
        problems.append(f"{_blame(layers, 'mdt')}: {exc}")
        mdt = mdt_rules()
    try:
        placement = matching.parse_rules(placement_doc)
    except matching.RulesInvalid as exc:
        problems += [f"{_blame(layers, 'placement')}: placement.{p}" for p in str(exc).split("; ")]
        placement = matching.rules()
    try:
        programmes = programme_catalogue.parse(programmes_doc, "programmes")
    except programme_catalogue.ProgrammesInvalid as exc:
        problems.append(f"{_blame(layers, 'programmes')}: {exc}")
        programmes = programme_catalogue.catalogue()
    try:
        found_pathways = parse_pathways(pathway_doc, "pathways.add")
    except ContentInvalid as exc:
        problems.append(f"{_blame(layers, 'pathways')}: {exc}")
        found_pathways = pathways()
    if problems or rules is None:
        raise ProfileInvalid(problems)
    label = label_of(chosen, revision, bool(overrides))
    counts: dict[str, int] = {}
    for _name, _tag, _v, sections in layers:
        for key, n in count_settings(sections).items():
            counts[key] = counts.get(key, 0) + n
    return InForce(
        label=label, profile_id=chosen.id if chosen else "", protocols=rules, instruments=chosen_instruments,
        default_form=forms, mdt=mdt, diversion=rule_sets().get(diversion) if diversion else None,
        placement=placement, programmes=programmes, pathways=found_pathways, counts=counts,
    )


def label_of(chosen: Profile | None, revision: int, overridden: bool) -> str:
    """What tasks and screenings record: ``connecticut@1``, ``connecticut@1+overrides@3``,
    or "" for the defaults."""
    if chosen is None:
        return ""
    return chosen.label + (f"+overrides@{revision}" if overridden else "")


def _blame(layers: list[tuple[str, str, int, Mapping[str, Any]]], section: str) -> str:
    names = [name for name, _t, _v, sections in layers if section in sections]
    return names[-1] if names else "defaults"


@cache
def profile_settings(profile_id: str) -> InForce:
    """A shipped profile's own settings (over its base, with no county), compiled once."""
    chosen = profile(profile_id)
    return compile_settings(profiles().get(chosen.base), chosen, None, county="", revision=0)


@lru_cache(maxsize=256)
def _compiled(county: str, profile_id: str, revision: int, overrides_json: str) -> InForce:
    overrides = json.loads(overrides_json) if overrides_json else None
    if not profile_id:
        return default_in_force(county)
    chosen = profiles().get(profile_id)
    if chosen is None:  # the profile was removed from the deployment: the defaults hold
        return default_in_force(county)
    return compile_settings(profiles().get(chosen.base), chosen, overrides, county=county, revision=revision)


def default_in_force(county: str) -> InForce:
    """A county without a profile: the deployment's defaults and its own protocol file."""
    return InForce(
        label="", profile_id="", protocols=library.rules_for(county), instruments={}, default_form={},
        mdt=mdt_rules(), diversion=None, placement=matching.rules(), programmes=programme_catalogue.catalogue(),
        pathways=pathways(),
    )


def in_force(county: Any) -> InForce:
    """What the county's current profile decides (one indexed query, then a cache)."""
    from nowrongdoor.jurisdiction.models import ProfileAssignment

    if county is None:
        return default_in_force("")
    current = ProfileAssignment.objects.filter(county_id=county.pk).order_by("-revision").values_list(
        "profile_id", "revision", "overrides").first()
    if current is None or not current[0]:
        return default_in_force(county.name)
    profile_id, revision, overrides = current
    return _compiled(county.name, profile_id, revision, json.dumps(overrides, sort_keys=True) if overrides else "")


@cache
def every_programme() -> dict[str, programme_catalogue.Programme]:
    """The catalogue and every programme any profile adds (a cohort keeps its programme
    after its county changes profile)."""
    merged = dict(programme_catalogue.document()["programmes"])
    for p in profiles().values():
        merged.update((p.sections.get("programmes") or {}).get("add") or {})
    return programme_catalogue.parse({**programme_catalogue.document(), "programmes": merged}, "programmes").programmes


def clear_caches() -> None:
    """For tests and operators that change profile files at run time."""
    profiles.cache_clear()
    profile_settings.cache_clear()
    every_programme.cache_clear()
    _compiled.cache_clear()
    schema.cache_clear()
