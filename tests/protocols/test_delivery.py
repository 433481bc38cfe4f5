"""Events from agency systems trigger protocols like a form does, and escalations reach
people by e-mail when the operator configured it — once, and without youth details."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.core import mail

from nowrongdoor import clock
from nowrongdoor.access.services import issue_token
from nowrongdoor.protocols.models import Notification, Task, TriggerEvent
from tests.api.http import post
from tests.protocols.conftest import T0, County_, contact, run_tick, tasks


def test_a_contact_posted_by_an_agency_system_opens_the_protocol_tasks(
    world: County_, client: Any, django_capture_on_commit_callbacks: Any
) -> None:
    admin = world.user("child_welfare", "agency_admin")
    token = issue_token(actor=admin, agency=world.agencies["child_welfare"], name="CWS system (synthetic)",
                        role="case_manager").secret
    with clock.frozen(T0), django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/api/contacts", data=json.dumps({
                "source_record_id": str(world.record("child_welfare").public_id), "contact_type": "absence_start",
                "occurred_at": T0.isoformat(), "local_id": "CWS-SYN-1"}),
            content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 201, response.content
    event = TriggerEvent.objects.get()
    assert event.evaluated_at is not None
    assert sorted(tasks(event=event)) == ["report_missing_to_law_enforcement", "report_missing_to_ncmec"]


def test_a_rejected_contact_opens_nothing(world: County_, client: Any) -> None:
    client.force_login(world.user("child_welfare", "case_manager"))
    with clock.frozen(T0):
        response = post(client, "/api/contacts", {
            "source_record_id": str(world.record("child_welfare").public_id), "contact_type": "absence_start",
            "occurred_at": (T0 + dt.timedelta(days=2)).isoformat()})  # in the future
    assert response.status_code == 422
    assert not TriggerEvent.objects.exists() and not Task.objects.exists()


def test_escalations_are_emailed_once_without_youth_details(world: County_, settings: Any) -> None:
    settings.NOWRONGDOOR_EMAIL_NOTIFICATIONS = True
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    supervisor = world.user("child_welfare", "supervisor")
    supervisor.email = "supervisor@example.invalid"
    supervisor.save()
    contact(world, "child_welfare", "absence_start")
    run_tick()
    result = run_tick(T0 + dt.timedelta(hours=25))
    assert result.emailed == 2 == len(mail.outbox)
    assert {m.to[0] for m in mail.outbox} == {"supervisor@example.invalid"}
    record = world.record("child_welfare")
    for message in mail.outbox:
        assert record.last_name not in message.body and record.first_name not in message.body
        assert str(record.youth.public_id) not in message.body
    run_tick(T0 + dt.timedelta(hours=26))
    assert len(mail.outbox) == 2
    assert Notification.objects.filter(recipient=supervisor, emailed_at__isnull=False).count() == 2
