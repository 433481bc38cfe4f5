"""Screening content is data: it validates, resolves to the core bank, and names its errors."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from nowrongdoor.screening import instruments as loader

CONTENT = Path(loader.__file__).parent / "instruments"
SETTINGS = {"child_welfare", "probation", "health", "education", "community", "law_enforcement"}


def packaged() -> tuple[str, dict[str, str]]:
    texts = {p.name: p.read_text() for p in CONTENT.glob("*.yaml") if p.name != loader.BANK_FILE}
    return (CONTENT / loader.BANK_FILE).read_text(), texts


def test_every_packaged_instrument_validates_and_every_setting_has_one():
    found = loader.instruments()
    assert {i.setting for i in found.values()} == SETTINGS


@pytest.mark.parametrize("instrument_id", sorted(loader.instruments()))
def test_forms_are_short_and_every_item_resolves_to_the_bank_or_is_setting_specific(instrument_id):
    inst = loader.instrument(instrument_id)
    bank = yaml.safe_load((CONTENT / loader.BANK_FILE).read_text())["items"]
    assert len(inst.forms["short"]) <= 12
    assert set(inst.forms["short"]) <= set(inst.forms["full"]), "a short form can grow into the full one"
    for item_id in {*inst.forms["short"], *inst.forms["full"]}:
        item = inst.items[item_id]
        assert item.setting_specific or item_id in bank, item_id
        assert item.text["en"] and item.text["es"], item_id
        assert item.source, item_id
    kinds = {inst.items[i].kind for i in inst.forms["short"]}
    assert "immediate_safety" in kinds, "every first-contact form asks about safety now"


@pytest.mark.parametrize("instrument_id", sorted(loader.instruments()))
def test_next_steps_exist_for_every_level_in_both_languages(instrument_id):
    inst = loader.instrument(instrument_id)
    for level in ("no_concern", "at_risk", "possible_exploitation", "clear_indicators", "immediate_safety"):
        assert inst.next_steps[level]["en"] and inst.next_steps[level]["es"], level


def test_a_broken_instrument_is_refused_with_file_item_and_problem_named():
    bank, texts = packaged()
    name = sorted(texts)[0]
    doc = yaml.safe_load(texts[name])
    doc["forms"]["short"] = [*doc["forms"]["short"][:2], "no_such_item"]
    doc["version"] = 0
    with pytest.raises(loader.InstrumentInvalid) as invalid:
        loader.parse(bank, {**texts, name: yaml.safe_dump(doc)})
    message = str(invalid.value)
    assert name in message and "version" in message

    doc["version"] = 1
    with pytest.raises(loader.InstrumentInvalid) as invalid:
        loader.parse(bank, {**texts, name: yaml.safe_dump(doc)})
    assert f"{name}: forms.short: unknown item 'no_such_item'" in str(invalid.value)


def test_a_bank_item_with_a_bad_domain_or_contact_code_is_named():
    bank, texts = packaged()
    doc = yaml.safe_load(bank)
    item_id = sorted(doc["items"])[0]
    doc["items"][item_id]["domain"] = "astrology"
    doc["items"][item_id]["known_from"] = {"contact_type": "health_visit", "details": {"reason": "palm_reading"}}
    with pytest.raises(loader.InstrumentInvalid) as invalid:
        loader.parse(yaml.safe_dump(doc), texts)
    message = str(invalid.value)
    assert f"items.{item_id}: unknown domain 'astrology'" in message
    assert "palm_reading" in message


def test_a_short_form_over_twelve_items_is_refused():
    bank, texts = packaged()
    name = sorted(texts)[0]
    doc = yaml.safe_load(texts[name])
    doc["forms"]["short"] = [f"item_{n}" for n in range(13)]
    with pytest.raises(loader.InstrumentInvalid) as invalid:
        loader.parse(bank, {**texts, name: yaml.safe_dump(doc)})
    assert "forms.short" in str(invalid.value)
