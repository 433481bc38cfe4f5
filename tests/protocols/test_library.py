"""The protocol files: the library and county files load, and broken files are
rejected with the file, the protocol step and the problem named."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from nowrongdoor.dictionary import vocabulary
from nowrongdoor.protocols import library
from nowrongdoor.protocols.library import ProtocolInvalid, apply_county, load_library

LIBRARY = Path(library.__file__).parent / "library"


def test_the_library_and_every_county_file_load() -> None:
    docs = load_library()
    assert {"csec_identified", "missing_from_placement", "return_from_absence", "prostitution_related_charge",
            "rescreening_triggers", "universal_intake_screening", "immediate_safety", "post_placement_follow_up",
            "advocate_on_scene"} <= set(docs)
    counties, plain = library.all_rules()
    assert "advocate_on_scene" not in {p.id for p in plain.protocols}  # optional: off unless enabled
    assert counties, "the synthetic demo county ships a county file"


def test_every_step_cites_its_source_and_speaks_english_and_spanish() -> None:
    for doc in load_library().values():
        for step in doc["steps"]:
            assert len(step["source"]) > 10, (doc["id"], step["id"])
            assert step["title"]["en"] and step["title"]["es"] and step["instructions"]["es"]


def test_the_library_uses_victim_centred_words() -> None:
    text = " ".join(p.read_text().lower() for p in LIBRARY.glob("*.yaml"))
    for word in ("child prostitute", "juvenile prostitute", "john", "pimp"):
        assert word not in text, word


def _broken(tmp_path: Path, change: Any) -> list[str]:
    doc = yaml.safe_load((LIBRARY / "missing_from_placement.yaml").read_text())
    change(doc)
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True))
    with pytest.raises(ProtocolInvalid) as failed:
        load_library([path])
    return failed.value.problems


def _step(doc: dict[str, Any], step_id: str) -> dict[str, Any]:
    return next(s for s in doc["steps"] if s["id"] == step_id)


@pytest.mark.parametrize(("change", "expected"), [
    (lambda d: _step(d, "report_missing_to_ncmec").pop("due"),
     "broken.yaml: steps[report_missing_to_ncmec]: 'due' is a required property"),
    (lambda d: _step(d, "report_missing_to_ncmec").update(due={"hours": -1}),
     "broken.yaml: steps[report_missing_to_ncmec].due.hours: -1 is less than the minimum of 0"),
    (lambda d: _step(d, "report_missing_to_ncmec")["owner"].update(role="sheriff"),
     "broken.yaml: steps[report_missing_to_ncmec].owner.role: unknown role 'sheriff'"),
    (lambda d: _step(d, "report_missing_to_ncmec")["owner"].update(agency="fire_department"),
     "broken.yaml: steps[report_missing_to_ncmec].owner.agency: 'fire_department' is neither 'source' nor an"
     " agency type"),
    (lambda d: d["trigger"].update(when={"contact_type": ["teleportation"]}),
     "broken.yaml: trigger.when.contact_type: unknown contact type 'teleportation'"),
    (lambda d: d["trigger"].update(when={"mood": ["sad"]}), "broken.yaml: trigger.when.mood: unknown fact 'mood'"),
    (lambda d: d["steps"].append(copy.deepcopy(d["steps"][0])),
     "broken.yaml: steps[report_missing_to_law_enforcement]: step id repeats"),
    (lambda d: _step(d, "report_missing_to_ncmec")["title"].pop("es"),
     "broken.yaml: steps[report_missing_to_ncmec].title: 'es' is a required property"),
])
def test_a_broken_protocol_names_the_file_the_step_and_the_problem(tmp_path: Path, change: Any, expected: str
                                                                    ) -> None:
    problems = _broken(tmp_path, change)
    assert any(p.startswith(expected) for p in problems), problems


def test_bad_yaml_is_named(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("id: [unclosed\n")
    with pytest.raises(ProtocolInvalid) as failed:
        load_library([path])
    assert failed.value.problems[0].startswith("bad.yaml: not valid YAML")


@pytest.mark.parametrize(("county", "expected"), [
    ({"protocols": {"no_such": {"steps": {}}}}, "c.yaml: protocols.no_such: no library protocol 'no_such'"),
    ({"protocols": {"missing_from_placement": {"steps": {"nope": {"due": {"hours": 1}}}}}},
     "c.yaml: protocols.missing_from_placement.steps.nope: protocol 'missing_from_placement' has no step 'nope'"),
    ({"protocols": {"missing_from_placement": {"steps": {"report_missing_to_ncmec": {"owner": {
        "agency": "child_welfare", "role": "janitor"}}}}}},
     "c.yaml: protocols.missing_from_placement.steps[report_missing_to_ncmec].owner.role: unknown role 'janitor'"),
    ({"enable": ["nothing_like_it"]}, "c.yaml: enable/disable: no library protocol 'nothing_like_it'"),
])
def test_a_broken_county_file_names_the_file_the_step_and_the_problem(county: dict[str, Any], expected: str
                                                                      ) -> None:
    doc = {"county": "Test County (synthetic)", "version": 1, "source": "test", **county}
    with pytest.raises(ProtocolInvalid) as failed:
        apply_county(load_library(), "c.yaml", doc)
    assert expected in failed.value.problems, failed.value.problems


def test_a_county_removes_and_adds_steps_and_lists_holidays() -> None:
    rules = apply_county(load_library(), "c.yaml", {
        "county": "Test County (synthetic)", "version": 2, "source": "test", "holidays": ["2026-12-25"],
        "protocols": {"missing_from_placement": {
            "remove_steps": ["report_missing_to_ncmec"],
            "add_steps": [{
                "id": "tell_the_liaison", "kind": "notify", "title": {"en": "Tell the liaison", "es": "Avise"},
                "instructions": {"en": "Call.", "es": "Llame."}, "owner": {"agency": "child_welfare",
                                                                           "role": "case_manager"},
                "due": {"hours": 2}, "source": "county practice (synthetic)"}],
        }},
    })
    [missing] = [p for p in rules.protocols if p.id == "missing_from_placement"]
    assert [s.id for s in missing.steps] == ["report_missing_to_law_enforcement", "tell_the_liaison"]
    assert missing.version_label == "missing_from_placement@1+test@2"
    assert {p.version_label for p in rules.protocols if p.id != "missing_from_placement"} == {
        f"{p.id}@{p.version}" for p in rules.protocols if p.id != "missing_from_placement"}
    assert [str(d) for d in rules.holidays] == ["2026-12-25"]


def test_every_fact_a_trigger_may_use_is_known_to_the_dictionary_or_the_engine() -> None:
    v = vocabulary()
    contact_fields = {f.name for t in v.contact_types for f in v.contact_type(t).fields}
    engine_facts = {"level", "immediate_safety", "setting", "contact_type", "source_agency_type", "age",
                    "prior_count", "identified", "previously_identified"}
    assert contact_fields | engine_facts >= library.FACTS


@pytest.mark.parametrize(("when", "expected"), [
    ({"level": ["clear_indicator"]}, "trigger.when.level: unknown level 'clear_indicator'"),
    ({"offence_category": ["prostitution"]}, "trigger.when.offence_category: unknown offence category 'prostitution'"),
    ({"source_agency_type": ["school"]}, "trigger.when.source_agency_type: unknown source agency type 'school'"),
])
def test_a_condition_value_that_can_never_match_is_rejected(tmp_path: Path, when: dict[str, Any], expected: str
                                                             ) -> None:
    problems = _broken(tmp_path, lambda d: d["trigger"].update(when=when))
    assert f"broken.yaml: {expected}" in problems, problems


def test_a_holiday_that_is_not_a_date_is_named() -> None:
    doc = {"county": "Test County (synthetic)", "version": 1, "source": "test", "holidays": ["2026-02-30"]}
    with pytest.raises(ProtocolInvalid) as failed:
        apply_county(load_library(), "c.yaml", doc)
    assert failed.value.problems == ["c.yaml: holidays: '2026-02-30' is not a date (YYYY-MM-DD)"]
