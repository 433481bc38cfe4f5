"""Exactly once: replayed events open no second task, a killed tick re-run notifies no
one twice, and two ticks at once do not double-escalate. Also county overrides, the
evidence rules, and who may work a task."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nowrongdoor import clock
from nowrongdoor.access.audit import verify_chain
from nowrongdoor.errors import AccessDenied, Immutable, NotFound, StaleEdit, ValidationFailed
from nowrongdoor.protocols import services
from nowrongdoor.protocols.models import Notification, Task, TriggerEvent
from nowrongdoor.protocols.services import complete_task, evaluate, record_trigger, tick, waive_task
from tests.protocols.conftest import T0, County_, contact, run_tick, tasks

H = dt.timedelta(hours=1)


def snapshot() -> list[tuple[str, str, dt.datetime, str]]:
    return sorted(Task.objects.values_list("key", "status", "due_at", "protocol_version"))


def test_the_outbox_row_commits_with_the_contact_and_is_evaluated_after_commit(
    world: County_, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        made = contact(world, "child_welfare", "absence_start")
    event = TriggerEvent.objects.get(key=f"contact:{made.public_id}")
    assert event.evaluated_at is not None
    assert Task.objects.filter(event=event).count() == 2


def test_an_event_left_unevaluated_by_a_stopped_process_is_picked_up_by_the_tick(world: County_) -> None:
    contact(world, "child_welfare", "absence_start")  # on-commit evaluation never ran
    assert not Task.objects.exists()
    result = run_tick()
    assert result.events_evaluated == 1
    assert Task.objects.count() == 2


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(["absence_start", "absence_return", "arrest", "placement_start", "clear"]),
                min_size=1, max_size=4))
def test_replaying_every_event_twice_yields_the_same_tasks(world: County_, kinds: list[str]) -> None:
    from tests.protocols.conftest import screen

    Task.objects.all().delete()
    TriggerEvent.objects.all().delete()
    for n, kind in enumerate(kinds):
        at = T0 + n * H
        if kind == "clear":
            screen(world, "probation", clear=True, at=at)
        elif kind == "arrest":
            contact(world, "law_enforcement", "arrest", at=at, offence_category="prostitution_related")
        elif kind == "placement_start":
            contact(world, "child_welfare", kind, at=at, placement_type="relative")
        else:
            contact(world, "child_welfare", kind, at=at)
    run_tick()
    first = snapshot()
    assert first
    for event in TriggerEvent.objects.all():
        # the same event delivered again (a retry, a re-post), and evaluated again
        record_trigger(key=event.key, event_type=event.event_type, youth_id=event.youth_id,
                       agency_id=event.agency_id, actor_id=event.actor_id, occurred_at=event.occurred_at,
                       facts=event.facts)
        evaluate(event.pk)
        TriggerEvent.objects.filter(pk=event.pk).update(evaluated_at=None)
        evaluate(event.pk)  # even re-evaluated from scratch: the unique keys hold
    run_tick()
    assert snapshot() == first


def _overdue_world(world: County_, n: int) -> list[Task]:
    for k in range(n):
        contact(world, "child_welfare", "absence_start", at=T0 + k * dt.timedelta(minutes=1))
    run_tick()
    return list(Task.objects.filter(protocol_id="missing_from_placement"))


def test_a_tick_killed_mid_run_and_rerun_notifies_no_one_twice(world: County_, monkeypatch: Any) -> None:
    opened = _overdue_world(world, 6)
    original = Notification.objects.bulk_create
    calls = {"n": 0}

    def dies_on_second_batch(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt("the tick process is killed")
        return original(*args, **kwargs)

    later = T0 + 2 * 24 * H
    monkeypatch.setattr(Notification.objects, "bulk_create", dies_on_second_batch)
    with clock.frozen(later), pytest.raises(KeyboardInterrupt):
        tick(batch=3)
    monkeypatch.setattr(Notification.objects, "bulk_create", original)
    with clock.frozen(later):
        tick(batch=3)
        tick(batch=3)
    levels = {(t.pk, lvl) for t in opened for lvl in (1, 2)}
    recipients = {world.user("child_welfare", "supervisor").pk, world.user("child_welfare", "agency_admin").pk}
    got = list(Notification.objects.values_list("task_id", "level", "recipient_id"))
    assert len(got) == len(set(got)) == len(levels)
    assert {(t, lvl) for t, lvl, _ in got} == levels
    assert {r for _, _, r in got} == recipients
    assert verify_chain().ok


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif("connection.vendor != 'postgresql'",
                    reason="needs two real connections: the SQLite test database is in memory (shared cache), "
                           "where a second writer fails at once instead of waiting; the PostgreSQL run covers it")
def test_two_ticks_at_once_escalate_each_task_once(world: County_) -> None:
    opened = _overdue_world(world, 8)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            with clock.frozen(T0 + 40 * H):  # past due (24 h) and the second level (+12 h)
                tick(batch=2)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    got = list(Notification.objects.values_list("task_id", "level", "recipient_id"))
    assert len(got) == len(set(got)) == len(opened) * 2  # two levels by 30 h after, one person each
    assert set(Task.objects.values_list("escalation_level", flat=True)) == {2}


def test_a_county_override_changes_a_clock_and_the_task_records_the_effective_version(
    world: County_, tmp_path: Path, monkeypatch: Any
) -> None:
    (tmp_path / "test.yaml").write_text(yaml.safe_dump({
        "county": world.county.name, "version": 3, "source": "synthetic test county",
        "protocols": {"missing_from_placement": {"steps": {
            "report_missing_to_ncmec": {"due": {"hours": 12}, "source": "county protocol, synthetic"}}}},
    }))
    monkeypatch.setenv("NOWRONGDOOR_PROTOCOL_DIR", str(tmp_path))
    from nowrongdoor.protocols import library

    library.all_rules.cache_clear()
    contact(world, "child_welfare", "absence_start")
    run_tick()
    opened = tasks(protocol_id="missing_from_placement")
    assert opened["report_missing_to_ncmec"].due_at == T0 + 12 * H
    assert opened["report_missing_to_law_enforcement"].due_at == T0 + 24 * H
    assert {t.protocol_version for t in opened.values()} == {"missing_from_placement@1+test@3"}
    other = TriggerEvent.objects.get()
    assert other.key.startswith("contact:")


def test_a_county_can_switch_on_the_optional_advocate_on_scene_step(
    world: County_, tmp_path: Path, monkeypatch: Any
) -> None:
    (tmp_path / "c.yaml").write_text(yaml.safe_dump({
        "county": world.county.name, "version": 1, "source": "synthetic", "enable": ["advocate_on_scene"]}))
    monkeypatch.setenv("NOWRONGDOOR_PROTOCOL_DIR", str(tmp_path))
    from nowrongdoor.protocols import library

    library.all_rules.cache_clear()
    contact(world, "law_enforcement", "arrest", offence_category="prostitution_related")
    run_tick()
    [task] = Task.objects.filter(protocol_id="advocate_on_scene")
    assert (task.due_at, task.agency.agency_type) == (T0 + dt.timedelta(minutes=90), "community_provider")


def _one_task(world: County_) -> Task:
    contact(world, "child_welfare", "absence_start")
    run_tick()
    return tasks(protocol_id="missing_from_placement")["report_missing_to_law_enforcement"]


def test_completing_needs_the_evidence_named_field_by_field(world: County_) -> None:
    task = _one_task(world)
    worker = world.user("child_welfare", "case_manager")
    with pytest.raises(ValidationFailed) as failed:
        complete_task(actor=worker, task_public_id=str(task.public_id), expected_version=task.version,
                      evidence={"made_up": "x"})
    assert set(failed.value.errors) == {"evidence.made_up"} | {
        f"evidence.{e['id']}" for e in task.evidence_spec if e["required"]}
    assert Task.objects.get(pk=task.pk).status == Task.OPEN
    evidence = {e["id"]: "LE-SYN-2026-0042" for e in task.evidence_spec if e["required"]}
    with clock.frozen(T0 + 3 * H):
        done = complete_task(actor=worker, task_public_id=str(task.public_id), expected_version=task.version,
                             evidence=evidence)
    assert (done.status, done.closed_by, done.evidence) == (Task.DONE, worker, evidence)
    with pytest.raises(Immutable):
        complete_task(actor=worker, task_public_id=str(task.public_id), expected_version=done.version,
                      evidence=evidence)


def test_a_stale_edit_is_refused(world: County_) -> None:
    task = _one_task(world)
    worker = world.user("child_welfare", "case_manager")
    waive_task(actor=world.user("child_welfare", "supervisor"), task_public_id=str(task.public_id),
               expected_version=task.version, reason="Youth found within the hour, synthetic case.")
    with pytest.raises((StaleEdit, Immutable)):
        waive_task(actor=worker, task_public_id=str(task.public_id), expected_version=task.version,
                   reason="a second, stale waiver")


def test_waiving_needs_a_reason(world: County_) -> None:
    task = _one_task(world)
    with pytest.raises(ValidationFailed) as failed:
        waive_task(actor=world.user("child_welfare", "case_manager"), task_public_id=str(task.public_id),
                   expected_version=task.version, reason="no")
    assert set(failed.value.errors) == {"reason"}


@pytest.mark.parametrize(("agency_type", "role", "error"), [
    ("child_welfare", "screener", AccessDenied),  # the task is the case manager's
    ("child_welfare", "mdt_coordinator", AccessDenied),
    ("probation", "supervisor", NotFound),  # another agency never works it
    ("law_enforcement", "case_manager", NotFound),
])
def test_only_the_owning_role_or_its_supervisor_works_a_task(
    world: County_, agency_type: str, role: str, error: type[Exception]
) -> None:
    task = _one_task(world)
    with pytest.raises(error):
        waive_task(actor=world.user(agency_type, role), task_public_id=str(task.public_id),
                   expected_version=task.version, reason="Not ours to waive, synthetic.")
    assert Task.objects.get(pk=task.pk).status == Task.OPEN


def test_evidence_dates_must_be_real_and_not_in_the_future() -> None:
    spec = [{"id": "met_on", "kind": "date", "label": {"en": "x", "es": "x"}, "required": True},
            {"id": "arrived_at", "kind": "datetime", "label": {"en": "x", "es": "x"}, "required": False}]
    with clock.frozen(T0):
        assert services.check_evidence(spec, {"met_on": "2026-13-01"}) == {"evidence.met_on": [
            "must be a date (YYYY-MM-DD)"]}
        assert services.check_evidence(spec, {"met_on": "2027-01-01"}) == {"evidence.met_on": ["is in the future"]}
        assert services.check_evidence(spec, {"met_on": "2026-11-20", "arrived_at": "soon"}) == {
            "evidence.arrived_at": ["must be a date and time (YYYY-MM-DDTHH:MM)"]}
        assert services.check_evidence(spec, {"met_on": "2026-11-20", "arrived_at": "2026-11-20T21:30"}) == {}


def test_a_later_event_cancels_a_step_that_no_longer_applies(world: County_, tmp_path: Path, monkeypatch: Any
                                                             ) -> None:
    (tmp_path / "c.yaml").write_text(yaml.safe_dump({
        "county": world.county.name, "version": 1, "source": "synthetic",
        "protocols": {"missing_from_placement": {"add_steps": [{
            "id": "daily_search", "kind": "search", "title": {"en": "Search", "es": "Buscar"},
            "instructions": {"en": "Contact the places the youth may be.", "es": "Contacte los lugares."},
            "owner": {"agency": "child_welfare", "role": "case_manager"}, "due": {"days": 1},
            "repeat": {"every": {"days": 1}, "count": 5},
            "cancelled_by": {"event": "contact_recorded", "when": {"contact_type": ["absence_return"]}},
            "source": "county practice (synthetic)"}]}},
    }))
    monkeypatch.setenv("NOWRONGDOOR_PROTOCOL_DIR", str(tmp_path))
    from nowrongdoor.protocols import library

    library.all_rules.cache_clear()
    contact(world, "child_welfare", "absence_start")
    run_tick()
    with clock.frozen(T0 + 30 * H):
        services.complete_task(
            actor=world.user("child_welfare", "case_manager"),
            task_public_id=str(tasks(step_id="daily_search")["daily_search#1"].public_id), expected_version=1,
            evidence={})
    contact(world, "child_welfare", "absence_return", at=T0 + 40 * H)
    run_tick(T0 + 41 * H)
    statuses = {k: t.status for k, t in tasks(step_id="daily_search").items()}
    assert statuses == {"daily_search#1": Task.DONE, **{f"daily_search#{n}": Task.CANCELLED for n in range(2, 6)}}
    reports = tasks(protocol_id="missing_from_placement", step_id__startswith="report")
    assert {t.status for t in reports.values()} == {Task.OPEN}  # the legal reports still stand
