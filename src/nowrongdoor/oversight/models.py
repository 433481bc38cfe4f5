"""The oversight committee's tracker: progress on each of the report's recommendations
(status, lead, owner), milestones with dates, and evidence links. The recommendations
themselves are content (``content/recommendations.yaml``); rows here refer to them by id."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from nowrongdoor.directory.models import Agency


class Progress(models.Model):
    NOT_STARTED, IN_PROGRESS, DONE, DROPPED = "not_started", "in_progress", "done", "dropped"
    STATUSES = [(NOT_STARTED, "not started"), (IN_PROGRESS, "in progress"), (DONE, "done"), (DROPPED, "dropped")]

    recommendation = models.CharField(max_length=10, unique=True)
    status = models.CharField(max_length=12, choices=STATUSES, default=NOT_STARTED)
    lead_agency = models.ForeignKey(Agency, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    owner = models.CharField(max_length=200, blank=True, help_text="The person or body answerable for it")
    note = models.TextField(blank=True)
    version = models.PositiveIntegerField(default=1)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.recommendation}: {self.status}"


class Milestone(models.Model):
    recommendation = models.CharField(max_length=10)
    title = models.CharField(max_length=200)
    due_on = models.DateField()
    done_on = models.DateField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["due_on", "id"]
        indexes = [models.Index(fields=["recommendation"])]

    def __str__(self) -> str:
        return f"{self.recommendation}: {self.title} by {self.due_on}"


class Evidence(models.Model):
    recommendation = models.CharField(max_length=10)
    title = models.CharField(max_length=200)
    url = models.URLField(max_length=500)
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    added_at = models.DateTimeField()

    class Meta:
        ordering = ["-added_at", "-id"]
        indexes = [models.Index(fields=["recommendation"])]

    def __str__(self) -> str:
        return f"{self.recommendation}: {self.title}"
