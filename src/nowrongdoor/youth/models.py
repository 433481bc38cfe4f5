"""Youth, the records agencies keep of them, and the events those records describe.

- ``Youth`` is the network's person: one child, however many agencies know them and
  under whatever names. It holds no identifiers of its own; identity lives in the
  agencies' records, so a wrong link can be undone without losing anything.
- ``SourceRecord`` is one agency's own record of a youth, exactly as that agency
  recorded it (names, aliases, date of birth or an estimated age, sex and the optional
  sensitive fields).
- ``Contact`` is a dated event one agency recorded: a hotline report, a placement, an
  absence from placement, an arrest, a clinic visit, a school event.

Nothing outside ``nowrongdoor.youth.selectors`` and ``services`` queries these models
(ARCHITECTURE.md rule 1): every read and write goes through ``nowrongdoor.access``.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from nowrongdoor.directory.models import Agency, County


class Youth(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    created_at = models.DateTimeField()
    merged_into = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                    help_text="Set when identity resolution merged this youth into another")

    class Meta:
        verbose_name_plural = "youth"

    def __str__(self) -> str:
        return f"Youth {self.public_id}"


class SourceRecord(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    youth = models.ForeignKey(Youth, on_delete=models.PROTECT, related_name="source_records")
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="source_records")
    local_id = models.CharField(max_length=64, help_text="The agency's own identifier for this record.")
    first_name = models.CharField(max_length=100)
    middle_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100)
    aliases = models.JSONField(default=list, blank=True)
    search_name = models.CharField(
        max_length=600, editable=False, help_text="Lower-case, accent-free names and aliases, for search."
    )
    date_of_birth = models.DateField(null=True, blank=True)
    estimated_age = models.PositiveSmallIntegerField(null=True, blank=True)
    age_recorded_on = models.DateField(null=True, blank=True)
    sex = models.CharField(max_length=20, default="unknown")
    gender_identity = models.CharField(max_length=30, blank=True)
    sexual_orientation = models.CharField(max_length=30, blank=True)
    race_ethnicity = models.CharField(max_length=40, default="unknown")
    language = models.CharField(max_length=10, blank=True)
    residence_county = models.ForeignKey(County, on_delete=models.PROTECT, null=True, blank=True)
    residence_zip = models.CharField(max_length=10, blank=True)
    recorded_at = models.DateTimeField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    version = models.PositiveIntegerField(default=1)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["agency", "local_id"], name="source_record_unique_local_id"),
            models.CheckConstraint(
                condition=models.Q(date_of_birth__isnull=False) | models.Q(estimated_age__isnull=False),
                name="source_record_has_dob_or_age",
            ),
        ]
        indexes = [
            models.Index(fields=["last_name", "first_name"]),
            models.Index(fields=["youth", "agency"]),
        ]

    def __str__(self) -> str:
        return f"{self.agency_id}:{self.local_id}"


class Contact(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    youth = models.ForeignKey(Youth, on_delete=models.PROTECT, related_name="contacts")
    source_record = models.ForeignKey(SourceRecord, on_delete=models.PROTECT, related_name="contacts")
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="contacts")
    contact_type = models.CharField(max_length=40)
    category = models.CharField(max_length=40)
    occurred_at = models.DateTimeField()
    details = models.JSONField(default=dict, blank=True)
    local_id = models.CharField(max_length=64, blank=True)
    recorded_at = models.DateTimeField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["occurred_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "local_id"],
                condition=~models.Q(local_id=""),
                name="contact_unique_local_id",
            ),
        ]
        indexes = [
            models.Index(fields=["youth", "occurred_at"]),
            models.Index(fields=["agency", "category"]),
        ]

    def __str__(self) -> str:
        return f"{self.contact_type} {self.occurred_at:%Y-%m-%d}"


class ImportRun(models.Model):
    """One extract an agency loaded (or tried to): the file by name and SHA-256, what was
    created, updated or left unchanged, or, when it was rejected, the row-by-row report."""

    LOADED, REJECTED = "loaded", "rejected"

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="imports")
    imported_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    file_name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, default="source_records", help_text="source_records or contacts")
    sha256 = models.CharField(max_length=64)
    mapping_version = models.PositiveIntegerField()
    status = models.CharField(max_length=10)
    rows = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    problem_count = models.PositiveIntegerField(default=0)
    report = models.JSONField(default=list, blank=True, help_text="The first problems: row, column, problem")
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.status})"
