"""Training records: completions (a certificate) and assignments (a course someone must
take by a date, including the renewal reminders opened before a certificate expires).

A record belongs to exactly one person: a staff member (``user``) or a caregiver of a
placement resource (``caregiver``). Staff training records are personal data of staff:
the staff member, their agency's administrators and the county's training coordinators
see them (``training.selectors``), and every look and change is audited."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from nowrongdoor.placements.models import Caregiver

_ONE_PERSON = (Q(user__isnull=False) & Q(caregiver__isnull=True)) | (Q(user__isnull=True) & Q(caregiver__isnull=False))


class Completion(models.Model):
    RECORDED, IMPORTED = "recorded", "imported"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                             related_name="training_completions")
    caregiver = models.ForeignKey(Caregiver, on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="training_completions")
    course = models.CharField(max_length=60, help_text="Code of a course of the training catalogue")
    completed_on = models.DateField()
    expires_on = models.DateField(null=True, blank=True, help_text="From the course's renewal period; none: lasts")
    certificate = models.CharField(max_length=100, blank=True, help_text="Certificate number or reference")
    catalogue_version = models.PositiveIntegerField()
    source = models.CharField(max_length=10, default=RECORDED)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["-completed_on", "-id"]
        constraints = [
            models.CheckConstraint(condition=_ONE_PERSON, name="completion_one_person"),
            models.UniqueConstraint(fields=["user", "course", "completed_on"], condition=Q(user__isnull=False),
                                    name="completion_once_a_day_staff"),
            models.UniqueConstraint(fields=["caregiver", "course", "completed_on"],
                                    condition=Q(caregiver__isnull=False), name="completion_once_a_day_caregiver"),
        ]
        indexes = [models.Index(fields=["course", "expires_on"])]

    def __str__(self) -> str:
        return f"{self.course} completed {self.completed_on}"


class Assignment(models.Model):
    """A course a person must take by ``due_on``: assigned by an administrator, or opened
    by the tick as a renewal reminder before a certificate expires. Closed by the
    completion that satisfies it."""

    ASSIGNED, RENEWAL = "assigned", "renewal"
    OPEN, DONE, CANCELLED = "open", "done", "cancelled"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                             related_name="training_assignments")
    caregiver = models.ForeignKey(Caregiver, on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="training_assignments")
    course = models.CharField(max_length=60)
    reason = models.CharField(max_length=10, default=ASSIGNED)
    due_on = models.DateField()
    status = models.CharField(max_length=10, default=OPEN)
    assigned_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    assigned_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(Completion, on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["due_on", "id"]
        constraints = [
            models.CheckConstraint(condition=_ONE_PERSON, name="assignment_one_person"),
            models.UniqueConstraint(fields=["user", "course"], condition=Q(status="open", user__isnull=False),
                                    name="assignment_one_open_per_course_staff"),
            models.UniqueConstraint(fields=["caregiver", "course"],
                                    condition=Q(status="open", caregiver__isnull=False),
                                    name="assignment_one_open_per_course_caregiver"),
        ]

    def __str__(self) -> str:
        return f"{self.course} due {self.due_on} ({self.status})"
