"""A screening: one professional's structured look for signs of exploitation or risk.

It records who screened, at which agency and in which setting, which youth, the
instrument and form with their versions, the answers, and — once completed — the
result. A draft can be saved and finished in a later session. A completed screening is
never changed; a correction is a new screening that points to the one it corrects.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from nowrongdoor.directory.models import Agency
from nowrongdoor.youth.models import Youth


class Screening(models.Model):
    DRAFT = "draft"
    COMPLETED = "completed"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    youth = models.ForeignKey(Youth, on_delete=models.PROTECT, related_name="screenings")
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="screenings")
    screener = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="screenings")
    instrument_id = models.CharField(max_length=60)
    instrument_version = models.PositiveIntegerField()
    bank_version = models.PositiveIntegerField()
    setting = models.CharField(max_length=40)
    profile_version = models.CharField(
        max_length=120, blank=True, help_text="The county's jurisdiction profile in force when the screening began")
    form = models.CharField(max_length=10)
    status = models.CharField(max_length=10, default=DRAFT)
    answers = models.JSONField(default=dict, blank=True)
    known = models.JSONField(
        default=dict, blank=True, help_text="Answers taken from other agencies' shared records, with their source."
    )
    result = models.JSONField(null=True, blank=True)
    level = models.CharField(max_length=30, blank=True)
    immediate_safety = models.BooleanField(default=False)
    notes = models.TextField(blank=True, help_text="Case notes: shown only where case notes may be shared.")
    corrects = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="corrections")
    started_at = models.DateTimeField()
    completed_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        indexes = [models.Index(fields=["youth", "completed_at"]), models.Index(fields=["agency", "status"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status="draft", completed_at__isnull=True)
                | models.Q(status="completed", completed_at__isnull=False),
                name="screening_completed_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"screening {self.public_id} ({self.status})"
