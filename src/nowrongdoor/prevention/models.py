"""Prevention programmes run in a county: cohorts (a programme run by an agency in a
setting), the youth enrolled (with the consent to take part), and attendance per
session. Enrolment and attendance are youth data of the running agency (category by
its agency type) and go through ``access`` like every other record."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_noop as _n

from nowrongdoor.directory.models import Agency
from nowrongdoor.youth.models import Youth


class Cohort(models.Model):
    OPEN, CLOSED = "open", "closed"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    programme = models.CharField(max_length=60, help_text="Code of a programme of the prevention catalogue")
    catalogue_version = models.PositiveIntegerField()
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="prevention_cohorts")
    setting = models.CharField(max_length=20)
    name = models.CharField(max_length=120, help_text="e.g. 'Spring group, North High School'")
    facilitator = models.CharField(max_length=120, blank=True)
    starts_on = models.DateField()
    status = models.CharField(max_length=10, default=OPEN)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-starts_on", "id"]

    def __str__(self) -> str:
        return f"{self.programme}: {self.name}"


class Enrolment(models.Model):
    ENROLLED, COMPLETED, WITHDRAWN = "enrolled", "completed", "withdrawn"
    CONSENT_BY = [("youth", "the youth"), ("guardian", "a parent or guardian"), ("both", "the youth and a guardian")]

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    cohort = models.ForeignKey(Cohort, on_delete=models.PROTECT, related_name="enrolments")
    youth = models.ForeignKey(Youth, on_delete=models.PROTECT, related_name="+")
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    consent_on = models.DateField(help_text="The day consent to take part was given")
    consent_by = models.CharField(max_length=10, choices=CONSENT_BY)
    status = models.CharField(max_length=10, default=ENROLLED)
    completed_on = models.DateField(null=True, blank=True)
    enrolled_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    enrolled_at = models.DateTimeField()
    version = models.PositiveIntegerField(default=1)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["cohort", "youth"], name="enrolment_once_per_cohort")]

    def __str__(self) -> str:
        return f"enrolment {self.pk} ({self.status})"


class Attendance(models.Model):
    enrolment = models.ForeignKey(Enrolment, on_delete=models.PROTECT, related_name="attendance")
    session = models.PositiveSmallIntegerField()
    held_on = models.DateField()
    present = models.BooleanField()
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["session"]
        constraints = [models.UniqueConstraint(fields=["enrolment", "session"], name="attendance_once_per_session")]

    def __str__(self) -> str:
        return f"session {self.session}: {'present' if self.present else 'absent'}"


# Labels the pages translate at run time (who consented).
_LABELS = [_n("the youth"), _n("a parent or guardian"), _n("the youth and a guardian")]
