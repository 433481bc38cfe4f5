"""Jurisdiction profiles: the format is checked (a broken profile names its file and the
failing key), applying one is for system administrators only, audited and versioned,
a change mid-case keeps open tasks on their version and applies the new profile to new
events, and each section reaches the part of the product it governs."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from nowrongdoor.access.models import AuditEvent
from nowrongdoor.directory.models import User
from nowrongdoor.errors import AccessDenied, StaleEdit, ValidationFailed
from nowrongdoor.jurisdiction import selectors, services
from nowrongdoor.jurisdiction.models import ProfileAssignment
from nowrongdoor.jurisdiction.profiles import ProfileInvalid, compile_settings, in_force, parse_files, profiles
from nowrongdoor.protocols.models import Task
from nowrongdoor.screening import services as screening_services
from tests.protocols.conftest import T0, County_, contact, run_tick, screen

H = dt.timedelta(hours=1)


@pytest.fixture
def admin(make_user: Callable[..., User]) -> User:
    return make_user("system_admin", None)


def apply(admin: User, w: County_, profile_id: str, revision: int, **extra: Any) -> ProfileAssignment:
    return services.apply_profile(actor=admin, county_name=w.county.name, profile_id=profile_id,
                                  reason="the county board chose this model", expected_revision=revision, **extra)


# -- the shipped profiles ------------------------------------------------------------
def test_eleven_profiles_ship_each_citing_the_report_and_setting_something() -> None:
    shipped = profiles()
    assert len(shipped) == 11
    for p in shipped.values():
        assert p.sources and all(s.startswith("report ") for s in p.sources), p.id
        assert len(p.summary["en"]) > 200, p.id
        assert sum(p.settings().values()) >= 2, p.id


# -- a broken profile names its file and key -------------------------------------------
GOOD = """
id: test_profile
version: 1
title: {en: "A test profile"}
summary: {en: "Changes one clock, for the tests."}
sources: ["report ch. 4, a section"]
"""


@pytest.mark.parametrize(("extra", "expected"), [
    ("protocls: {}\n", "broken.yaml: (top): Additional properties are not allowed ('protocls' was unexpected)"),
    ("sources: [\"a blog\"]\n", "broken.yaml: sources.0: 'a blog' does not match '^report '"),
    ("protocols:\n  protocols:\n    csec_identified:\n      steps:\n        no_such_step: {due: {hours: 1}}\n",
     "broken.yaml: protocols: protocols.csec_identified.steps.no_such_step: protocol 'csec_identified' has no step"),
    ("protocols:\n  protocols:\n    csec_identified:\n      steps:\n        convene_mdt: {owner: {agency: source, "
     "role: wizard}}\n", "broken.yaml: protocols: protocols.csec_identified.steps[convene_mdt].owner.role: "
     "unknown role 'wizard'"),
    ("screening:\n  instruments: {child_welfare: [school]}\n",
     "broken.yaml: screening.instruments.child_welfare: 'school' is not made for a child_welfare setting"),
    ("diversion: atlantis\n", "broken.yaml: diversion: no rule set 'atlantis'"),
    ("mdt: {window_days: 0}\n", "broken.yaml: mdt.window_days: 0 is less than the minimum of 1"),
    ("mdt: {purposes: [gossip]}\n", "broken.yaml: mdt: unknown purposes or categories ['gossip']"),
    ("placement:\n  holds: {default_days: 200}\n",
     "broken.yaml: placement.holds.default_days: must not exceed holds.max_days"),
    ("programmes: {offer: [chess_club]}\n", "broken.yaml: programmes.offer: no programme 'chess_club'"),
    ("pathways:\n  add:\n    x: {title: {en: a, es: b}, services: [astrology]}\n",
     "broken.yaml: pathways.add.x: unknown services ['astrology']"),
    ("base: nowhere\n", "broken.yaml: base: no profile 'nowhere'"),
])
def test_an_invalid_profile_names_the_file_and_the_failing_key(tmp_path: Path, extra: str, expected: str) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(GOOD + extra)
    with pytest.raises(ProfileInvalid) as caught:
        parse_files([path])
    assert any(p.startswith(expected) for p in caught.value.problems), caught.value.problems


def test_a_valid_file_with_a_base_builds_on_it(tmp_path: Path) -> None:
    (tmp_path / "base.yaml").write_text(GOOD.replace("test_profile", "base_one") + "diversion: connecticut\n")
    (tmp_path / "child.yaml").write_text(GOOD + "base: base_one\nmdt: {window_days: 45}\n")
    found = parse_files(sorted(tmp_path.glob("*.yaml")))
    force = compile_settings(found["base_one"], found["test_profile"], None, county="", revision=0)
    assert (force.mdt.window_days, force.diversion and force.diversion.id) == (45, "connecticut")


def test_two_files_with_one_id_are_refused(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(GOOD)
    (tmp_path / "b.yaml").write_text(GOOD)
    with pytest.raises(ProfileInvalid, match=r"b\.yaml: id: 'test_profile' is used by a\.yaml"):
        parse_files(sorted(tmp_path.glob("*.yaml")))


def test_an_operator_directory_adds_profiles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "ours.yaml").write_text(GOOD)
    monkeypatch.setenv("NOWRONGDOOR_PROFILE_DIR", str(tmp_path))
    profiles.cache_clear()
    assert "test_profile" in profiles() and "connecticut" in profiles()


# -- applying: who, audit, versions, conflicts ----------------------------------------
def test_only_a_system_administrator_applies_a_profile_and_a_refusal_is_audited(world: County_) -> None:
    supervisor = world.user("child_welfare", "supervisor")
    with pytest.raises(AccessDenied):
        services.apply_profile(actor=supervisor, county_name=world.county.name, profile_id="connecticut",
                               reason="I would like this one", expected_revision=0)
    assert not ProfileAssignment.objects.exists()
    refusal = AuditEvent.objects.filter(action="jurisdiction.profile_applied", allowed=False).get()
    assert refusal.actor_id == supervisor.pk
    assert in_force(world.county).label == ""


def test_applying_changing_and_removing_are_revisions_with_an_audit_event_each(world: County_, admin: User) -> None:
    first = apply(admin, world, "connecticut", 0)
    second = apply(admin, world, "florida", 1)
    third = services.remove_profile(actor=admin, county_name=world.county.name, reason="back to the defaults",
                                    expected_revision=2)
    assert [(r.revision, r.label) for r in (first, second, third)] == [
        (1, "connecticut@1"), (2, "florida@1"), (3, "")]
    events = AuditEvent.objects.filter(action__startswith="jurisdiction.profile_", allowed=True).order_by("pk")
    assert [(e.action, e.detail["label"], e.detail["revision"]) for e in events] == [
        ("jurisdiction.profile_applied", "connecticut@1", 1), ("jurisdiction.profile_applied", "florida@1", 2),
        ("jurisdiction.profile_removed", "", 3)]
    assert in_force(world.county).label == ""
    [county] = [c for c in selectors.county_profiles(actor=admin) if c.county == world.county]
    assert [h.revision for h in county.history] == [3, 2, 1]


def test_a_change_made_on_an_old_revision_is_refused(world: County_, admin: User) -> None:
    apply(admin, world, "connecticut", 0)
    with pytest.raises(StaleEdit):
        apply(admin, world, "florida", 0)  # read before the first change landed
    assert in_force(world.county).label == "connecticut@1"


@pytest.mark.parametrize(("fields", "named"), [
    ({"profile_id": "atlantis"}, "profile"),
    ({"reason": "no"}, "reason"),
    ({"overrides": {"mdt": {"window_days": "thirty"}}}, "overrides"),
    ({"overrides": {"protocols": {"disable": ["no_such_protocol"]}}}, "overrides"),
])
def test_bad_input_is_named_and_changes_nothing(world: County_, admin: User, fields: dict[str, Any],
                                                named: str) -> None:
    args: dict[str, Any] = {"actor": admin, "county_name": world.county.name, "profile_id": "connecticut",
                            "reason": "the county board chose this model", "expected_revision": 0, **fields}
    with pytest.raises(ValidationFailed) as caught:
        services.apply_profile(**args)
    assert named in caught.value.errors
    assert not ProfileAssignment.objects.exists()


def test_overrides_name_their_key(world: County_, admin: User) -> None:
    with pytest.raises(ValidationFailed) as caught:
        apply(admin, world, "connecticut", 0, overrides={"protocols": {"protocols": {"csec_identified": {
            "steps": {"convene_mdt": {"due": {"weeks": 1}}}}}}})
    [problem] = caught.value.errors["overrides"]
    assert problem.startswith("overrides: protocols.protocols.csec_identified.steps.convene_mdt.due")


# -- mid-case: open tasks keep their version ------------------------------------------
def test_changing_the_profile_mid_case_keeps_open_tasks_and_applies_the_new_one_to_new_events(
    world: County_, admin: User,
) -> None:
    apply(admin, world, "connecticut", 0)
    screen(world, "child_welfare", clear=True)
    run_tick()
    before = {t.step_id: (t.due_at, t.protocol_version, t.profile_version, t.version)
              for t in Task.objects.filter(occurrence=1)}
    assert before["medical_assessment"][0] == T0 + 72 * H
    assert before["medical_assessment"][1:3] == ("csec_identified@1+connecticut@1", "connecticut@1")

    apply(admin, world, "florida", 1)
    after = {t.step_id: (t.due_at, t.protocol_version, t.profile_version, t.version)
             for t in Task.objects.filter(occurrence=1)}
    assert after == before  # nothing about an open task changed

    contact(world, "child_welfare", "hotline_report", at=T0 + 2 * H, allegations=["sexual_exploitation"])
    run_tick(T0 + 2 * H + dt.timedelta(minutes=1))
    new = {t.step_id: t for t in Task.objects.filter(event__event_type="contact_recorded")}
    assert new["trafficking_staffing"].profile_version == "florida@1"
    assert new["trafficking_staffing"].due_at == T0 + 26 * H
    assert "assess_exploitation_report" not in new  # Connecticut's step: no longer in force


def test_overrides_over_a_profile_are_in_force_and_in_the_label(world: County_, admin: User) -> None:
    apply(admin, world, "connecticut", 0, overrides={
        "mdt": {"window_days": 45},
        "protocols": {"protocols": {"csec_identified": {"steps": {"convene_mdt": {"due": {"hours": 36}}}}}}})
    force = in_force(world.county)
    assert (force.label, force.mdt.window_days) == ("connecticut@1+overrides@1", 45)
    screen(world, "child_welfare", clear=True)
    run_tick()
    mdt = Task.objects.get(step_id="convene_mdt")
    assert mdt.due_at == T0 + 36 * H
    assert mdt.protocol_version == "csec_identified@1+connecticut@1+overrides@1"
    assert Task.objects.get(step_id="medical_assessment").due_at == T0 + 72 * H  # Connecticut's clock holds


# -- each section reaches its part of the product -------------------------------------
def test_screening_starts_on_the_profiles_form_and_records_the_profile(world: County_, admin: User) -> None:
    apply(admin, world, "illinois", 0)
    worker = world.user("child_welfare", "screener")
    [instrument] = screening_services.instruments_offered(worker)
    draft = screening_services.start_screening(actor=worker, youth_public_id=str(world.youth.public_id),
                                               instrument_id=instrument.id)
    assert (draft.form, draft.profile_version) == ("full", "illinois@1")
    school = world.user("education", "screener")
    other = screening_services.start_screening(actor=school, youth_public_id=str(world.youth.public_id),
                                               instrument_id=screening_services.instruments_offered(school)[0].id)
    assert other.form == "short"  # Illinois sets the child-welfare form only


def test_a_county_without_a_profile_screens_on_the_short_form(world: County_) -> None:
    worker = world.user("child_welfare", "screener")
    draft = screening_services.start_screening(actor=worker, youth_public_id=str(world.youth.public_id),
                                               instrument_id=screening_services.instruments_offered(worker)[0].id)
    assert (draft.form, draft.profile_version) == ("short", "")


def test_placement_programmes_and_pathways_follow_the_profile(world: County_, admin: User) -> None:
    from nowrongdoor.cases.selectors import pathways_for
    from nowrongdoor.placements.selectors import rules_for
    from nowrongdoor.prevention.selectors import known, offered

    worker = world.user("child_welfare", "case_manager")
    assert rules_for(worker).points("csec_trained") == 25
    assert len(offered(worker).programmes) == 5
    apply(admin, world, "connecticut", 0)
    assert rules_for(worker).points("csec_trained") == 40
    assert sorted(offered(worker).programmes) == ["man_up", "my_life_my_choice"]
    assert "powerful_voices" in known(worker).programmes  # a cohort begun earlier keeps its programme
    apply(admin, world, "illinois", 1)
    assert "international_trafficking_victim" in pathways_for(worker)
    apply(admin, world, "alameda", 2)
    assert "young_womens_saturday_program" in offered(worker).programmes
    assert "international_trafficking_victim" not in pathways_for(worker)


def test_the_mdt_window_follows_the_countys_overrides(world: County_, admin: User) -> None:
    from nowrongdoor.cases import services as case_services

    apply(admin, world, "georgia", 0, overrides={"mdt": {"window_days": 10}})
    lead = world.user("child_welfare", "case_manager")
    case = case_services.open_case(actor=lead, youth_public_id=str(world.youth.public_id),
                                   reason="identified at a child welfare screening")
    member = case_services.add_member(actor=lead, case_public_id=str(case.public_id),
                                      member_username=world.user("probation", "case_manager").username,
                                      role_in_team="probation officer")
    assert (member.share.valid_until - member.share.valid_from).days == 9


# -- the diversion check and the comparison ---------------------------------------------
def test_the_diversion_check_uses_the_countys_rule_set(world: County_, admin: User) -> None:
    officer = world.user("probation", "case_manager")
    with pytest.raises(ValidationFailed, match="profile"):
        selectors.diversion_check(actor=officer, facts={"age": 16})
    apply(admin, world, "minnesota_no_wrong_door", 0)
    facts = {"age": 16, "prior_prostitution_adjudications": 0, "prior_prostitution_diversions": 0,
             "prior_prostitution_probation": False, "prior_prostitution_protection_finding": False,
             "agrees_to_diversion": True}
    assert selectors.diversion_check(actor=officer, facts=facts).outcome == "eligible"
    assert selectors.diversion_check(actor=officer, facts={**facts, "age": 15}).outcome == "not_chargeable"
    with pytest.raises(ValidationFailed) as caught:
        selectors.diversion_check(actor=officer, facts={"age": "sixteen", "height": 3})
    assert {"age", "height", "agrees_to_diversion"} <= set(caught.value.errors)


def test_compare_lines_up_two_profiles_step_by_step(world: County_) -> None:
    reader = world.user("child_welfare", "screener")
    found = selectors.compare(actor=reader, left="connecticut", right="florida", event="clear_indicators")
    rows = {r.key: r for r in found.rows}
    assert rows["csec_identified:convene_mdt"].verdict == "different"
    assert (rows["csec_identified:convene_mdt"].left.due, rows["csec_identified:convene_mdt"].right.due) == (
        "72 h", "24 h")
    assert rows["csec_identified:report_law_enforcement"].verdict == "same"
    la = selectors.compare(actor=reader, left="defaults", right="los_angeles_first_48",
                           event="prostitution_detention")
    assert {r.key for r in la.rows if r.verdict == "only_right"} == {
        "first_48_response:first48_medical_assessment", "first_48_response:first48_mental_health_assessment",
        "first_48_response:first48_advocate_meeting", "first_48_response:first48_placement_survey",
        "prostitution_related_charge:offer_first_step_diversion"}
    with pytest.raises(ValidationFailed):
        selectors.compare(actor=reader, left="connecticut", right="atlantis", event="clear_indicators")
    with pytest.raises(ValidationFailed):
        selectors.compare(actor=reader, left="connecticut", right="florida", event="a_meteor")
