"""The canonical data dictionary: the packaged file is valid, and a broken one is refused by name."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from importlib import resources
from typing import Any

import jsonschema
import pytest
import yaml

from nowrongdoor import dictionary
from nowrongdoor.dictionary import DictionaryInvalid, parse, vocabulary


def packaged_text() -> str:
    return resources.files(dictionary).joinpath("data_dictionary.yaml").read_text()


def packaged() -> dict[str, Any]:
    return yaml.safe_load(packaged_text())


def broken(change: Callable[[dict[str, Any]], None]) -> str:
    """The packaged dictionary with one change, as YAML text."""
    raw = copy.deepcopy(packaged())
    change(raw)
    return yaml.safe_dump(raw, sort_keys=False)


def refusal(change: Callable[[dict[str, Any]], None]) -> str:
    with pytest.raises(DictionaryInvalid) as caught:
        parse(broken(change))
    return str(caught.value)


# -- the packaged dictionary ------------------------------------------------------------


def test_the_packaged_dictionary_loads():
    v = vocabulary()
    assert v.version >= 1
    assert v.raw == packaged()
    assert {"screening", "case_coordination", "mdt", "analytics"} <= set(v.purposes)


def test_the_packaged_dictionary_validates_against_its_schema():
    schema = json.loads(resources.files(dictionary).joinpath("schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    assert list(jsonschema.Draft202012Validator(schema).iter_errors(packaged())) == []


def test_parsing_an_unchanged_copy_gives_the_same_vocabulary():
    assert parse(broken(lambda raw: None)).raw == vocabulary().raw


def test_every_role_acts_only_for_purposes_that_exist():
    v = vocabulary()
    assert {role: sorted(v.role_purposes(role) - set(v.purposes)) for role in v.roles} == {r: [] for r in v.roles}


def test_every_purpose_uses_only_categories_that_exist():
    v = vocabulary()
    unknown = {p: sorted(v.purpose_categories(p) - set(v.data_categories)) for p in v.purposes}
    assert unknown == {p: [] for p in v.purposes}


def test_every_contact_type_belongs_to_a_category_that_exists():
    v = vocabulary()
    assert {
        code: v.contact_type(code).category
        for code in v.contact_types
        if v.contact_type(code).category not in v.data_categories
    } == {}


def test_every_contact_field_uses_a_code_list_or_category_that_exists():
    v = vocabulary()
    code_lists = set(v.raw["code_lists"])
    for code in v.contact_types:
        for f in v.contact_type(code).fields:
            assert (f.code_list is None) == f.text, f"{code}.{f.name}: needs exactly one of code_list or text"
            assert f.code_list is None or f.code_list in code_lists, f"{code}.{f.name}: {f.code_list}"
            assert f.category is None or f.category in v.data_categories, f"{code}.{f.name}: {f.category}"


def test_every_role_that_works_with_youth_has_a_purpose_and_admins_read_the_audit():
    v = vocabulary()
    staff_data_only = {"training_coordinator", "oversight_member"}  # staff training records, the tracker
    for role in v.roles:
        assert v.role_purposes(role) or v.role_reads_audit(role) or role in staff_data_only, f"{role} can do nothing"
    assert not any(v.role_purposes(r) for r in staff_data_only)


# -- a broken dictionary is refused, naming the problem -----------------------------------------


def test_a_document_that_is_not_a_mapping_is_refused():
    with pytest.raises(DictionaryInvalid, match=r"\(top\)"):
        parse("- just\n- a list\n")


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (lambda raw: raw["roles"]["screener"].pop("purposes"), ["roles.screener", "'purposes' is a required"]),
        (lambda raw: raw.pop("code_lists"), ["(top)", "'code_lists' is a required"]),
        (lambda raw: raw.update(version=0), ["version", "minimum"]),
        (lambda raw: raw.update(colour="blue"), ["(top)", "colour"]),
        (lambda raw: raw["contact_types"].update({"Bad-Code": raw["contact_types"]["arrest"]}), ["Bad-Code"]),
        (
            lambda raw: raw["data_categories"]["health"].update(requires_consent="yes"),
            ["data_categories.health.requires_consent", "'yes'"],
        ),
        (
            lambda raw: raw["roles"]["analyst"].update(reads_audit="everything"),
            ["roles.analyst.reads_audit", "'everything'"],
        ),
    ],
    ids=[
        "role-without-purposes",
        "no-code-lists",
        "version-zero",
        "unknown-section",
        "bad-code",
        "consent-not-boolean",
        "bad-audit-scope",
    ],
)
def test_a_document_breaking_the_schema_is_refused(change, named):
    message = refusal(change)
    assert [part for part in named if part not in message] == [], message


def test_a_role_with_an_unknown_purpose_is_refused():
    message = refusal(lambda raw: raw["roles"]["screener"]["purposes"].append("gossip"))
    assert "roles.screener: unknown purpose 'gossip'" in message


def test_a_purpose_with_an_unknown_category_is_refused():
    message = refusal(lambda raw: raw["purposes"]["screening"]["categories"].append("astrology"))
    assert "purposes.screening: unknown category 'astrology'" in message


def test_a_contact_type_in_an_unknown_category_is_refused():
    message = refusal(lambda raw: raw["contact_types"]["arrest"].update(category="parking"))
    assert "contact_types.arrest: unknown category 'parking'" in message


def test_a_contact_field_with_an_unknown_code_list_is_refused():
    def change(raw: dict[str, Any]) -> None:
        raw["contact_types"]["arrest"]["fields"]["offence_category"]["code_list"] = "offence_kinds"

    message = refusal(change)
    assert "contact_types.arrest.fields.offence_category: unknown code list 'offence_kinds'" in message


def test_a_contact_field_in_an_unknown_category_is_refused():
    def change(raw: dict[str, Any]) -> None:
        raw["contact_types"]["placement_start"]["fields"]["address"]["category"] = "home_address"

    message = refusal(change)
    assert "contact_types.placement_start.fields.address: unknown category 'home_address'" in message


@pytest.mark.parametrize("field", [{"code_list": "offence_category", "text": True}, {}], ids=["both", "neither"])
def test_a_contact_field_needs_exactly_one_of_code_list_or_text(field):
    message = refusal(lambda raw: raw["contact_types"]["arrest"]["fields"].update(note=field))
    assert "contact_types.arrest.fields.note: needs exactly one of code_list or text" in message


def test_every_problem_is_named_not_just_the_first():
    def change(raw: dict[str, Any]) -> None:
        raw["roles"]["screener"]["purposes"].append("gossip")
        raw["purposes"]["mdt"]["categories"].append("astrology")

    message = refusal(change)
    assert "unknown purpose 'gossip'" in message
    assert "unknown category 'astrology'" in message
