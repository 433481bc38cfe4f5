"""Linkage runs as background work: queued from the web, carried out by the task worker,
reporting progress, and never two at once.

What this file proves:

- ``request_linkage`` queues one run and one task, in one transaction; asking again while
  it is queued returns the same run; a screener cannot queue one (refused and audited);
- the task carries the run out once: a task delivered twice does not link twice;
- a run reports its stages in order (reading with a known size, linking, then merging or
  queueing) to the caller and to its row, which ends with the stage cleared;
- the command-line run refuses to start while another run is under way, and a run whose
  worker died (no progress for an hour) stops blocking and is recorded as failed.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.tasks import TaskResultStatus, task_backends
from django_tasks_db.models import DBTaskResult

from nowrongdoor import clock
from nowrongdoor.access.models import AuditEvent
from nowrongdoor.errors import AccessDenied, ValidationFailed
from nowrongdoor.identity import services
from nowrongdoor.identity.models import LinkageRun
from nowrongdoor.identity.tasks import link_records
from nowrongdoor.youth.models import SourceRecord
from tests.conftest import run_background_tasks
from tests.identity.conftest import IdentityWorld

pytestmark = pytest.mark.django_db

QUENBY = ("Quenby", "Marlowitz", dt.date(2012, 3, 4))


def two_records_of_one_girl(w: IdentityWorld) -> tuple[SourceRecord, SourceRecord]:
    first, last, dob = QUENBY
    a = w.record(w.cws, first, last, dob, residence_zip="96123")
    b = w.record(w.police, first, last, dob.replace(month=dob.day, day=dob.month), residence_zip="96123")
    return a, b


def test_a_request_queues_one_run_and_one_task_and_asking_again_returns_it(world: IdentityWorld) -> None:
    w = world

    run = services.request_linkage(actor=w.steward)
    again = services.request_linkage(actor=w.admin)

    assert again.pk == run.pk and LinkageRun.objects.count() == 1
    assert DBTaskResult.objects.count() == 1
    assert task_backends["default"].get_result(run.task_id).status == TaskResultStatus.READY
    assert AuditEvent.objects.filter(action="identity.link_requested", object_id=str(run.pk)).count() == 1


def test_a_screener_cannot_queue_a_run(world: IdentityWorld) -> None:
    screener = world.clerks[world.cws.pk]

    with pytest.raises(AccessDenied):
        services.request_linkage(actor=screener)

    assert not LinkageRun.objects.exists() and not DBTaskResult.objects.exists()
    assert AuditEvent.objects.filter(action="identity.link_run", allowed=False, actor=screener).exists()


def test_the_worker_carries_the_run_out_once(world: IdentityWorld) -> None:
    w = world
    a, b = two_records_of_one_girl(w)
    run = services.request_linkage(actor=w.steward)

    run_background_tasks()
    link_records.call(run.pk)  # the same task delivered a second time

    run.refresh_from_db()
    assert (run.status, run.kind, run.merges, run.stage) == (LinkageRun.DONE, LinkageRun.FULL, 1, "")
    assert SourceRecord.objects.get(pk=a.pk).youth_id == SourceRecord.objects.get(pk=b.pk).youth_id
    assert LinkageRun.objects.count() == 1
    assert AuditEvent.objects.filter(action="identity.link_run", object_id=str(run.pk)).count() == 1
    assert task_backends["default"].get_result(run.task_id).status == TaskResultStatus.SUCCESSFUL


def test_a_run_reports_its_stages_in_order(world: IdentityWorld) -> None:
    w = world
    two_records_of_one_girl(w)
    seen: list[tuple[str, int, int]] = []

    run = services.run_linkage(actor=w.steward, progress=lambda *report: seen.append(report))

    stages = list(dict.fromkeys(stage for stage, _, _ in seen))
    assert stages[:2] == [LinkageRun.READING, LinkageRun.LINKING]
    assert set(stages[2:]) <= {LinkageRun.MERGING, LinkageRun.QUEUEING} and LinkageRun.MERGING in stages
    records = SourceRecord.objects.count()
    assert seen[0] == (LinkageRun.READING, 0, records) and (LinkageRun.READING, records, records) in seen
    run.refresh_from_db()
    assert run.stage == "" and run.heartbeat is not None


def test_the_command_line_run_waits_for_a_run_under_way(world: IdentityWorld) -> None:
    w = world
    queued = services.request_linkage(actor=w.steward)

    with pytest.raises(ValidationFailed, match=f"linkage run {queued.pk} is already queued"):
        services.run_linkage(actor=w.admin)

    assert LinkageRun.objects.count() == 1


def test_a_run_without_progress_for_an_hour_is_failed_and_no_longer_blocks(world: IdentityWorld) -> None:
    w = world
    queued = services.request_linkage(actor=w.steward)
    later = clock.now() + services.STALE_AFTER + dt.timedelta(minutes=1)

    with clock.frozen(later):
        run = services.run_linkage(actor=w.admin)

    queued.refresh_from_db()
    assert queued.status == LinkageRun.FAILED and "no progress for an hour" in queued.error
    assert run.status == LinkageRun.DONE and run.pk != queued.pk
