"""The task pages: "My work", one task with its evidence form, the supervisor's agency
board, the youth page's protocol tasks, and the Spanish interface. The world is the
synthetic county of ``tests/protocols/conftest.py``."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest

from nowrongdoor import clock
from nowrongdoor.protocols.models import Notification, Task
from tests.protocols import conftest as protocol_world
from tests.protocols.conftest import T0, County_, contact, run_tick, screen, tasks

# The synthetic county of the protocol tests, and its rule-cache reset, as fixtures here too.
world = protocol_world.world
_fresh_rules = protocol_world._fresh_rules

H = dt.timedelta(hours=1)
LE_TITLE = "Report the missing youth to law enforcement"
LE_TITLE_ES = "Reportar la ausencia a la policía"


def missing_reports(w: County_, at: dt.datetime = T0) -> dict[str, Task]:
    """Child welfare's two 24-hour reports (case manager) after an absence from placement."""
    contact(w, "child_welfare", "absence_start", at=at)
    run_tick(at + dt.timedelta(minutes=1))
    return tasks(protocol_id="missing_from_placement")


def section(body: str, start_id: str, end_id: str | None) -> str:
    """The part of the page between the heading ``start_id`` and the heading ``end_id``."""
    start = body.index(f'id="{start_id}"')
    end = body.index(f'id="{end_id}"', start) if end_id else len(body)
    return body[start:end]


def tasks_div(body: str) -> str:
    start = body.index('<div id="tasks">')
    return body[start:body.index("</div>", start)]


def fresh(task: Task) -> Task:
    return Task.objects.get(pk=task.pk)


@pytest.fixture
def web(client: Any) -> Any:
    client.raise_request_exception = False  # a bug shows up as the 500 a real user would get
    return client


# -- My work ---------------------------------------------------------------------------


def test_my_work_shows_a_case_managers_overdue_task_under_overdue(world: County_, web: Any) -> None:
    opened = missing_reports(world)
    task = opened["report_missing_to_law_enforcement"]
    web.force_login(world.user("child_welfare", "case_manager"))
    with clock.frozen(T0 + 30 * H):
        page = web.get("/work/")
    assert page.status_code == 200
    body = page.content.decode()
    overdue = section(body, "overdue", "due-soon")
    assert LE_TITLE in overdue
    assert f'href="/tasks/{task.public_id}/"' in overdue
    assert 'class="nwd-overdue"' in overdue
    for start, end in (("due-soon", "later"), ("later", "done"), ("done", None)):
        assert f"/tasks/{task.public_id}/" not in section(body, start, end)


def test_my_work_before_the_due_time_shows_the_task_as_due_soon(world: County_, web: Any) -> None:
    task = missing_reports(world)["report_missing_to_law_enforcement"]
    web.force_login(world.user("child_welfare", "case_manager"))
    with clock.frozen(T0 + 2 * H):
        body = web.get("/work/").content.decode()
    assert f"/tasks/{task.public_id}/" not in section(body, "overdue", "due-soon")
    assert f"/tasks/{task.public_id}/" in section(body, "due-soon", "later")


def test_my_work_of_another_role_does_not_list_the_case_managers_task(world: County_, web: Any) -> None:
    task = missing_reports(world)["report_missing_to_law_enforcement"]
    web.force_login(world.user("child_welfare", "mdt_coordinator"))
    with clock.frozen(T0 + 30 * H):
        page = web.get("/work/")
    assert page.status_code == 200
    assert f"/tasks/{task.public_id}/" not in page.content.decode()


# -- one task ---------------------------------------------------------------------------


def test_the_task_page_shows_the_evidence_form_to_the_owner(world: County_, web: Any) -> None:
    task = missing_reports(world)["report_missing_to_law_enforcement"]
    web.force_login(world.user("child_welfare", "case_manager"))
    with clock.frozen(T0 + 2 * H):
        page = web.get(f"/tasks/{task.public_id}/")
    assert page.status_code == 200
    body = page.content.decode()
    assert f"<h1>{LE_TITLE}</h1>" in body
    assert 'name="evidence_law_enforcement_report_number"' in body
    assert 'value="complete"' in body and 'value="waive"' in body
    assert f'name="version" value="{task.version}"' in body
    assert 'name="assignee"' not in body  # reassigning is for supervisors


def test_the_task_page_hides_the_form_from_another_role_of_the_same_agency(world: County_, web: Any) -> None:
    task = missing_reports(world)["report_missing_to_law_enforcement"]
    web.force_login(world.user("child_welfare", "screener"))
    with clock.frozen(T0 + 2 * H):
        page = web.get(f"/tasks/{task.public_id}/")
    assert page.status_code == 200
    body = page.content.decode()
    assert f"<h1>{LE_TITLE}</h1>" in body  # the agency's own task: readable
    assert 'name="evidence_law_enforcement_report_number"' not in body
    assert 'value="complete"' not in body and 'value="waive"' not in body


def test_a_forged_post_by_another_role_is_refused_and_the_task_stays_open(world: County_, web: Any) -> None:
    task = missing_reports(world)["report_missing_to_law_enforcement"]
    web.force_login(world.user("child_welfare", "screener"))
    with clock.frozen(T0 + 2 * H):
        response = web.post(f"/tasks/{task.public_id}/", {
            "action": "complete", "version": str(task.version), "evidence_law_enforcement_report_number": "LE-SYN-1"})
    assert response.status_code == 403
    assert fresh(task).status == Task.OPEN


def test_another_agency_gets_404_for_an_unshared_task_page_and_its_post(world: County_, web: Any) -> None:
    task = missing_reports(world)["report_missing_to_law_enforcement"]
    web.force_login(world.user("probation", "supervisor"))
    with clock.frozen(T0 + 2 * H):
        assert web.get(f"/tasks/{task.public_id}/").status_code == 404
        response = web.post(f"/tasks/{task.public_id}/", {
            "action": "waive", "version": str(task.version), "reason": "Not ours, synthetic case, refused."})
    assert response.status_code == 404
    assert fresh(task).status == Task.OPEN


def test_posting_without_the_evidence_re_renders_with_the_field_error(world: County_, web: Any) -> None:
    task = missing_reports(world)["report_missing_to_law_enforcement"]
    web.force_login(world.user("child_welfare", "case_manager"))
    with clock.frozen(T0 + 2 * H):
        response = web.post(f"/tasks/{task.public_id}/", {
            "action": "complete", "version": str(task.version), "evidence_law_enforcement_report_number": "  "})
    assert response.status_code == 200
    body = response.content.decode()
    group = re.search(r'<div class="usa-form-group usa-form-group--error">(.*?)</div>', body, re.S)
    assert group is not None
    assert 'for="evidence_law_enforcement_report_number"' in group.group(1)
    assert "is required to close this task" in group.group(1)
    assert "usa-input--error" in group.group(1)
    again = fresh(task)
    assert (again.status, again.evidence, again.version) == (Task.OPEN, {}, task.version)


def test_a_correct_post_closes_the_task_and_redirects(world: County_, web: Any) -> None:
    task = missing_reports(world)["report_missing_to_law_enforcement"]
    worker = world.user("child_welfare", "case_manager")
    web.force_login(worker)
    with clock.frozen(T0 + 2 * H):
        response = web.post(f"/tasks/{task.public_id}/", {
            "action": "complete", "version": str(task.version),
            "evidence_law_enforcement_report_number": " LE-SYN-2026-0042 "})
    assert response.status_code == 302
    assert response["Location"] == f"/tasks/{task.public_id}/"
    done = fresh(task)
    assert (done.status, done.closed_by, done.evidence) == (
        Task.DONE, worker, {"law_enforcement_report_number": "LE-SYN-2026-0042"})
    assert done.closed_at == T0 + 2 * H
    with clock.frozen(T0 + 3 * H):
        page = web.get(response["Location"])
    body = page.content.decode()
    assert page.status_code == 200
    assert "LE-SYN-2026-0042" in section(body, "evidence", None)
    assert 'value="complete"' not in body  # closed: no form any more


def test_waiving_without_a_reason_shows_the_error(world: County_, web: Any) -> None:
    task = missing_reports(world)["report_missing_to_law_enforcement"]
    web.force_login(world.user("child_welfare", "case_manager"))
    with clock.frozen(T0 + 2 * H):
        response = web.post(f"/tasks/{task.public_id}/", {"action": "waive", "version": str(task.version),
                                                          "reason": "  "})
    assert response.status_code == 200
    body = response.content.decode()
    group = re.search(r'<div class="usa-form-group usa-form-group--error">(.*?)</div>', body, re.S)
    assert group is not None
    assert 'for="reason"' in group.group(1)
    assert "write at least 10 characters" in group.group(1)
    assert fresh(task).status == Task.OPEN


def test_waiving_with_a_reason_closes_the_task(world: County_, web: Any) -> None:
    task = missing_reports(world)["report_missing_to_law_enforcement"]
    web.force_login(world.user("child_welfare", "supervisor"))
    with clock.frozen(T0 + 2 * H):
        response = web.post(f"/tasks/{task.public_id}/", {
            "action": "waive", "version": str(task.version), "reason": "Youth found within the hour, synthetic."})
    assert response.status_code == 302
    waived = fresh(task)
    assert (waived.status, waived.reason) == (Task.WAIVED, "Youth found within the hour, synthetic.")


def test_a_stale_form_is_refused_with_409_and_changes_nothing(world: County_, web: Any) -> None:
    task = missing_reports(world)["report_missing_to_law_enforcement"]
    supervisor = world.user("child_welfare", "supervisor")
    web.force_login(supervisor)
    with clock.frozen(T0 + 2 * H):
        assigned = web.post(f"/tasks/{task.public_id}/", {
            "action": "assign", "version": str(task.version),
            "assignee": world.user("child_welfare", "screener").username})
        assert assigned.status_code == 302
        stale = web.post(f"/tasks/{task.public_id}/", {
            "action": "complete", "version": str(task.version),
            "evidence_law_enforcement_report_number": "LE-SYN-1"})
    assert stale.status_code == 409
    again = fresh(task)
    assert (again.status, again.assignee, again.version) == (
        Task.OPEN, world.user("child_welfare", "screener"), task.version + 1)


def test_submitting_the_form_twice_does_not_crash(world: County_, web: Any) -> None:
    task = missing_reports(world)["report_missing_to_law_enforcement"]
    web.force_login(world.user("child_welfare", "case_manager"))
    form = {"action": "complete", "version": str(task.version), "evidence_law_enforcement_report_number": "LE-SYN-1"}
    with clock.frozen(T0 + 2 * H):
        assert web.post(f"/tasks/{task.public_id}/", form).status_code == 302
        again = web.post(f"/tasks/{task.public_id}/", form)  # the same form, sent again
    assert again.status_code in (302, 409)
    assert fresh(task).evidence == {"law_enforcement_report_number": "LE-SYN-1"}


def test_a_malformed_version_field_is_not_a_server_error(world: County_, web: Any) -> None:
    task = missing_reports(world)["report_missing_to_law_enforcement"]
    web.force_login(world.user("child_welfare", "case_manager"))
    with clock.frozen(T0 + 2 * H):
        response = web.post(f"/tasks/{task.public_id}/", {
            "action": "complete", "version": "one", "evidence_law_enforcement_report_number": "LE-SYN-1"})
    assert 400 <= response.status_code < 500
    assert fresh(task).status == Task.OPEN


def test_an_agency_admin_escalated_to_sees_the_notice_on_my_work(world: County_, web: Any) -> None:
    task = missing_reports(world)["report_missing_to_law_enforcement"]
    run_tick(T0 + 40 * H)  # past due (24 h) and the agency administrator's level (+12 h)
    admin = world.user("child_welfare", "agency_admin")
    assert Notification.objects.filter(recipient=admin, task=task, level=2).exists(), "set-up"
    web.force_login(admin)
    with clock.frozen(T0 + 41 * H):
        page = web.get("/work/")
    assert page.status_code == 200
    notices = section(page.content.decode(), "notices", "overdue")
    assert LE_TITLE in notices


def test_a_supervisor_escalated_to_sees_the_notice_on_my_work(world: County_, web: Any) -> None:
    task = missing_reports(world)["report_missing_to_law_enforcement"]
    run_tick(T0 + 25 * H)
    supervisor = world.user("child_welfare", "supervisor")
    assert Notification.objects.filter(recipient=supervisor, task=task, level=1).exists(), "set-up"
    web.force_login(supervisor)
    with clock.frozen(T0 + 26 * H):
        page = web.get("/work/")
    assert page.status_code == 200
    notices = section(page.content.decode(), "notices", "overdue")
    assert LE_TITLE in notices and f"/tasks/{task.public_id}/" in notices
    # the case manager, not escalated to, has no notices
    web.force_login(world.user("child_welfare", "case_manager"))
    with clock.frozen(T0 + 26 * H):
        assert 'id="notices"' not in web.get("/work/").content.decode()


# -- the agency board ----------------------------------------------------------------------


@pytest.mark.parametrize("role", ["screener", "case_manager", "mdt_coordinator", "agency_admin"])
def test_the_agency_board_is_403_for_a_non_supervisor(world: County_, web: Any, role: str) -> None:
    missing_reports(world)
    web.force_login(world.user("child_welfare", role))
    with clock.frozen(T0 + 30 * H):
        assert web.get("/work/agency/").status_code == 403


def test_the_agency_board_renders_for_a_supervisor_with_overdue_first(world: County_, web: Any) -> None:
    screen(world, "probation", clear=True)  # child welfare's 48-hour steps
    run_tick()
    late = missing_reports(world, at=T0 + 10 * H)  # due T0 + 34 h
    assessment = tasks(protocol_id="csec_identified")["medical_assessment"]  # due T0 + 48 h
    web.force_login(world.user("child_welfare", "supervisor"))
    with clock.frozen(T0 + 40 * H):
        page = web.get("/work/agency/")
    assert page.status_code == 200
    body = page.content.decode()
    overdue, due_soon = section(body, "overdue", "due-soon"), section(body, "due-soon", "by-kind")
    for task in late.values():
        assert f"/tasks/{task.public_id}/" in overdue
    assert f"/tasks/{assessment.public_id}/" in due_soon
    assert f"/tasks/{assessment.public_id}/" not in overdue
    assert body.index(f"/tasks/{late['report_missing_to_ncmec'].public_id}/") < body.index(
        f"/tasks/{assessment.public_id}/")
    assert "20 open tasks in your agency." in body


# -- the youth page --------------------------------------------------------------------------


def test_the_youth_page_lists_only_the_tasks_the_reader_may_see(world: County_, web: Any) -> None:
    screen(world, "probation", clear=True)
    run_tick()
    opened = tasks(protocol_id="csec_identified")
    web.force_login(world.user("probation", "screener"))
    with clock.frozen(T0 + 2 * H):
        page = web.get(f"/youth/{world.youth.public_id}/")
    assert page.status_code == 200
    listed = tasks_div(page.content.decode())
    for step in ("report_hotline", "report_law_enforcement"):  # probation's own
        assert f"/tasks/{opened[step].public_id}/" in listed
    for step in ("medical_assessment", "convene_mdt", "liaison_checkin#1"):  # child welfare's, not shared
        assert f"/tasks/{opened[step].public_id}/" not in listed
    assert "Report to the child-abuse hotline" in listed


def test_the_youth_page_for_child_welfare_lists_its_tasks_and_not_probations(world: County_, web: Any) -> None:
    screen(world, "probation", clear=True)
    run_tick()
    opened = tasks(protocol_id="csec_identified")
    web.force_login(world.user("child_welfare", "case_manager"))
    with clock.frozen(T0 + 2 * H):
        page = web.get(f"/youth/{world.youth.public_id}/")
    assert page.status_code == 200
    listed = tasks_div(page.content.decode())
    assert f"/tasks/{opened['convene_mdt'].public_id}/" in listed  # the agency's, though another role's
    assert f"/tasks/{opened['medical_assessment'].public_id}/" in listed
    assert f"/tasks/{opened['report_hotline'].public_id}/" not in listed


# -- Spanish --------------------------------------------------------------------------------


def test_the_spanish_interface_shows_the_spanish_task_title(world: County_, web: Any) -> None:
    task = missing_reports(world)["report_missing_to_law_enforcement"]
    web.force_login(world.user("child_welfare", "case_manager"))
    web.cookies["django_language"] = "es"
    with clock.frozen(T0 + 30 * H):
        detail = web.get(f"/tasks/{task.public_id}/").content.decode()
        work = web.get("/work/").content.decode()
    assert 'lang="es"' in detail
    assert f"<h1>{LE_TITLE_ES}</h1>" in detail
    assert "Número del reporte policial" in detail  # the evidence label too
    assert LE_TITLE not in detail
    assert LE_TITLE_ES in section(work, "overdue", "due-soon")
    assert "Vencidas" in work
