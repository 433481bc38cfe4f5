"""Shared fixtures. People in tests come from the synthetic generator, never typed by hand."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable
from typing import Any

import pytest

from nowrongdoor.directory.models import Agency, County, User

_counter = itertools.count(1)


def run_background_tasks() -> None:
    """Run every queued background task with the real database worker's ``run_task``, as
    ``nowrongdoor worker --batch`` does; in this thread, without the worker loop (which
    closes database connections between tasks, and with them a test's transaction)."""
    from django_tasks_db.management.commands.db_worker import Worker
    from django_tasks_db.models import DBTaskResult

    worker = Worker(queue_names=["default"], interval=0, batch=True, backend_name="default", startup_delay=False,
                    max_tasks=None, worker_id="test-worker", excluded_queue_names=[])
    while (task := DBTaskResult.objects.ready().filter(backend_name="default").first()):
        task.claim(worker.worker_id)
        worker.run_task(task)


@pytest.fixture(autouse=True)
def _fast_passwords(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def county(db: None) -> County:
    return County.objects.create(name=f"Test County {next(_counter)} (synthetic)")


@pytest.fixture
def make_agency(county: County) -> Callable[..., Agency]:
    def make(agency_type: str, *, in_county: County | None = None, name: str = "") -> Agency:
        return Agency.objects.create(
            county=in_county or county, agency_type=agency_type,
            name=name or f"{agency_type} agency {next(_counter)}",
        )

    return make


@pytest.fixture
def make_user(db: None) -> Callable[..., User]:
    def make(role: str, agency: Agency | None, **extra: Any) -> User:
        user = User.objects.create(username=f"{role}-{next(_counter)}", role=role, agency=agency, **extra)
        user.set_password("a-long-test-password")
        user.save()
        return user

    return make


@pytest.fixture
def make_record() -> Callable[..., Any]:
    """Create a source record through the real service, with a synthetic person's identity."""
    from nowrongdoor.synth.generator import plan_person
    from nowrongdoor.youth.services import create_source_record

    def make(actor: User, *, seed: int = 1, index: int | None = None, **overrides: Any) -> Any:
        plan = plan_person(seed, next(_counter) if index is None else index)
        data: dict[str, Any] = {
            "local_id": f"T-{next(_counter)}", "first_name": plan.records[0].first_name,
            "last_name": plan.records[0].last_name, "date_of_birth": plan.birth_date, "sex": plan.sex,
            "race_ethnicity": plan.race_ethnicity,
        }
        data.update(overrides)
        return create_source_record(actor=actor, **data)

    return make


@pytest.fixture
def make_contact() -> Callable[..., Any]:
    from nowrongdoor.youth.services import create_contact

    def make(actor: User, record: Any, contact_type: str, **details: Any) -> Any:
        return create_contact(
            actor=actor, source_record_public_id=str(record.public_id), contact_type=contact_type,
            occurred_at=dt.datetime(2025, 3, 1, 10, 0, tzinfo=dt.UTC), details=details,
        )

    return make


@pytest.fixture
def link_records() -> Callable[..., None]:
    """Put ``record`` on ``target``'s youth, as identity resolution will (test set-up only)."""
    from nowrongdoor.youth.models import Contact, SourceRecord

    def link(record: Any, target: Any) -> None:
        SourceRecord.objects.filter(pk=record.pk).update(youth_id=target.youth_id)
        Contact.objects.filter(source_record_id=record.pk).update(youth_id=target.youth_id)
        record.refresh_from_db()

    return link
