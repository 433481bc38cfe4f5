"""A web request is one access scope: its read events are appended together, its access
contexts are shared, and neither may lose an event or keep a decision past a change."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import transaction

from nowrongdoor.access.audit import record_event, verify_chain
from nowrongdoor.access.decisions import context, request_scope
from nowrongdoor.access.models import AuditEvent
from nowrongdoor.access.services import open_break_glass
from nowrongdoor.directory.models import Agency, User

pytestmark = pytest.mark.django_db(transaction=True)

JUSTIFICATION = "Synthetic emergency: youth reported missing, seen with an adult."


def actions() -> list[str]:
    return list(AuditEvent.objects.order_by("seq").values_list("action", flat=True))


def test_reads_outside_a_transaction_wait_for_the_end_of_the_request_and_chain_in_order(
    make_agency: Callable[..., Agency], make_user: Callable[..., User]
) -> None:
    actor = make_user("screener", make_agency("probation"))
    before = AuditEvent.objects.count()
    with request_scope():
        record_event(actor=actor, action="read", object_id="first")
        record_event(actor=actor, action="read", object_id="second")
        assert AuditEvent.objects.count() == before
    after = list(AuditEvent.objects.order_by("seq"))[before:]
    assert [e.object_id for e in after] == ["first", "second"]
    assert [e.seq for e in after] == [after[0].seq, after[0].seq + 1]
    assert verify_chain().ok


def test_without_a_request_scope_every_event_is_appended_at_once(
    make_agency: Callable[..., Agency], make_user: Callable[..., User]
) -> None:
    actor = make_user("screener", make_agency("probation"))
    before = AuditEvent.objects.count()
    record_event(actor=actor, action="read")
    assert AuditEvent.objects.count() == before + 1


def test_a_refusal_is_appended_at_once_and_survives_the_request_failing(
    make_agency: Callable[..., Agency], make_user: Callable[..., User]
) -> None:
    actor = make_user("screener", make_agency("probation"))
    before = AuditEvent.objects.count()
    with pytest.raises(RuntimeError), request_scope():
        record_event(actor=actor, action="read", object_id="allowed read")
        record_event(actor=actor, action="read", allowed=False, reason="no agreement")
        assert AuditEvent.objects.count() == before + 1  # the refusal did not wait
        raise RuntimeError("the view failed after reading")
    assert actions()[before:] == ["read", "read"]
    assert verify_chain().ok


def test_held_reads_commit_with_the_requests_write_in_its_transaction(
    make_agency: Callable[..., Agency], make_user: Callable[..., User]
) -> None:
    actor = make_user("screener", make_agency("probation"))
    before = AuditEvent.objects.count()
    with request_scope():
        record_event(actor=actor, action="read")
        with transaction.atomic():
            record_event(actor=actor, action="create")
        assert actions()[before:] == ["read", "create"]
    assert actions()[before:] == ["read", "create"]


def test_a_write_that_rolls_back_takes_its_audit_rows_with_it(
    make_agency: Callable[..., Agency], make_user: Callable[..., User]
) -> None:
    actor = make_user("screener", make_agency("probation"))
    before = AuditEvent.objects.count()
    with request_scope():
        with pytest.raises(RuntimeError), transaction.atomic():
            record_event(actor=actor, action="create")
            raise RuntimeError("the write failed")
        record_event(actor=actor, action="read")
    assert actions()[before:] == ["read"]
    assert verify_chain().ok


def test_contexts_are_shared_within_a_request_and_fresh_outside_one(
    make_agency: Callable[..., Agency], make_user: Callable[..., User]
) -> None:
    actor = make_user("screener", make_agency("probation"))
    assert context(actor, "screening") is not context(actor, "screening")
    with request_scope():
        assert context(actor, "screening") is context(actor, "screening")
        assert context(actor, "screening") is not context(actor, "case_coordination")
    with request_scope():
        first = context(actor, "screening")
    with request_scope():
        assert context(actor, "screening") is not first


def test_break_glass_opened_in_a_request_counts_for_the_rest_of_that_request(
    make_agency: Callable[..., Agency], make_user: Callable[..., User], make_record: Callable[..., Any]
) -> None:
    clinic, police = make_agency("health"), make_agency("law_enforcement")
    record = make_record(make_user("screener", clinic))
    supervisor = make_user("supervisor", police)
    officer = make_user("screener", police, supervisor=supervisor)
    with request_scope():
        decide = lambda: context(officer, "screening").decide(  # noqa: E731
            youth_id=record.youth_id, category="identity", owner_agency_id=clinic.pk
        )
        assert not decide().allowed
        open_break_glass(actor=officer, youth_public_id=str(record.youth.public_id), justification=JUSTIFICATION)
        assert decide().allowed
