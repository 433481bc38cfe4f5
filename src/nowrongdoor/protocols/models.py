"""Trigger events, tasks and notifications: the response protocols' state, all in the
database, so a restart loses nothing and a replayed event or a re-run tick does nothing
twice.

- ``TriggerEvent`` is an outbox: written in the same transaction as the screening or
  contact that caused it, evaluated right after commit, and swept up by the tick if the
  process stopped in between.
- ``Task`` is one step of an effective protocol for one youth: owner (agency, role and
  optionally a person), legal clock, the evidence that closes it, and its escalations.
  ``key`` (event, protocol, step, occurrence) is unique: the same event never opens the
  same step twice.
- ``Notification`` tells a person that a task concerns them (escalated when overdue);
  unique per (task, escalation level, person), so no one is told twice.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from nowrongdoor.directory.models import Agency, County
from nowrongdoor.youth.models import Youth


class TriggerEvent(models.Model):
    key = models.CharField(max_length=120, unique=True)
    event_type = models.CharField(max_length=40)
    youth = models.ForeignKey(Youth, on_delete=models.PROTECT, related_name="trigger_events")
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="trigger_events")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                              related_name="+")
    occurred_at = models.DateTimeField()
    recorded_at = models.DateTimeField()
    facts = models.JSONField(default=dict)
    evaluated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["evaluated_at", "recorded_at"]), models.Index(fields=["youth", "occurred_at"])]

    def __str__(self) -> str:
        return self.key


class Task(models.Model):
    OPEN = "open"
    DONE = "done"
    WAIVED = "waived"
    CANCELLED = "cancelled"
    STATUSES = [(OPEN, "Open"), (DONE, "Done"), (WAIVED, "Waived"), (CANCELLED, "Cancelled")]

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    key = models.CharField(max_length=200, unique=True)
    event = models.ForeignKey(TriggerEvent, on_delete=models.PROTECT, related_name="tasks")
    youth = models.ForeignKey(Youth, on_delete=models.PROTECT, related_name="tasks")
    county = models.ForeignKey(County, on_delete=models.PROTECT, related_name="tasks")
    protocol_id = models.CharField(max_length=60)
    protocol_version = models.CharField(max_length=120,
                                        help_text="The effective protocol, e.g. csec_identified@1+alder@2")
    profile_version = models.CharField(
        max_length=120, blank=True, help_text="The county's jurisdiction profile in force when the task opened")
    step_id = models.CharField(max_length=60)
    occurrence = models.PositiveSmallIntegerField(default=1)
    kind = models.CharField(max_length=60)
    title = models.JSONField(help_text="Title by language, as the effective protocol worded it")
    instructions = models.JSONField(default=dict)
    category = models.CharField(max_length=40, help_text="The data category the task belongs to (for access)")
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="tasks",
                               help_text="The owning agency (the source agency when the county has none of the type)")
    agency_type = models.CharField(max_length=40)
    role = models.CharField(max_length=40)
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                 related_name="assigned_tasks")
    created_at = models.DateTimeField()
    due_at = models.DateTimeField()
    evidence_spec = models.JSONField(default=list)
    completes_on = models.JSONField(null=True, blank=True)
    cancels_on = models.JSONField(null=True, blank=True)
    escalations = models.JSONField(default=list, help_text="[[iso time, role], ...] in order")
    escalation_level = models.PositiveSmallIntegerField(default=0)
    next_escalation_at = models.DateTimeField(null=True, blank=True)
    overdue_since = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=STATUSES, default=OPEN)
    evidence = models.JSONField(default=dict, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                  related_name="+")
    closed_by_event = models.ForeignKey(TriggerEvent, on_delete=models.SET_NULL, null=True, blank=True,
                                        related_name="closed_tasks")
    reason = models.TextField(blank=True, help_text="Why it was waived or cancelled")
    version = models.PositiveIntegerField(default=1)

    class Meta:
        indexes = [
            models.Index(fields=["status", "next_escalation_at"]),
            models.Index(fields=["status", "due_at"]),
            models.Index(fields=["agency", "status", "due_at"]),
            models.Index(fields=["youth", "status"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status="open", closed_at__isnull=True)
                | (~models.Q(status="open") & models.Q(closed_at__isnull=False)),
                name="task_closed_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"task {self.key} ({self.status})"


class Notification(models.Model):
    ESCALATED = "escalated"

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=20, default=ESCALATED)
    level = models.PositiveSmallIntegerField()
    created_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["task", "level", "recipient"], name="one_notification_per_level"),
        ]
        indexes = [models.Index(fields=["recipient", "read_at"])]

    def __str__(self) -> str:
        return f"notification {self.kind} {self.task_id}→{self.recipient_id}"
