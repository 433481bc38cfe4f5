"""Case coordination: a youth's exploitation status, the case that coordinates their
response, its multidisciplinary team, and the youth's stage of change.

- ``ExploitationStatus`` is a dated history of the categories California's child-welfare
  system records (at risk; victim before / during foster care; in an open case not in
  care; while absent from placement; closed case with independent-living services) and
  "assessed: not a victim", each with the agency that recorded it.
- ``Case``: the lead agency and assigned worker, opened and closed with reasons (closing
  needs a supervisor's approval; relapse is never a reason), its continuum-of-care phase
  with dates, and the counties of residence and of exploitation.
- ``TeamMember``: staff of any agency on the youth's MDT. Joining opens an
  ``access.TeamShare`` for the window the county's MDT rules allow.
- ``StageChange``: the youth's path through the stages of change; relapse is a stage,
  part of the cycle, not an exit.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from nowrongdoor.access.models import TeamShare
from nowrongdoor.directory.models import Agency, County
from nowrongdoor.youth.models import Youth


class ExploitationStatus(models.Model):
    youth = models.ForeignKey(Youth, on_delete=models.PROTECT, related_name="exploitation_statuses")
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=40)
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["youth", "start_date"])]
        constraints = [
            models.CheckConstraint(condition=models.Q(end_date__isnull=True) | models.Q(end_date__gte=models.F(
                "start_date")), name="status_end_after_start"),
        ]

    def __str__(self) -> str:
        return f"{self.status} from {self.start_date}"


class Case(models.Model):
    OPEN = "open"
    CLOSING = "closing"  # closure requested, waiting for a supervisor
    CLOSED = "closed"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    youth = models.ForeignKey(Youth, on_delete=models.PROTECT, related_name="cases")
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="cases", help_text="Lead agency")
    worker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                               related_name="cases")
    status = models.CharField(max_length=10, default=OPEN)
    opened_on = models.DateField()
    open_reason = models.TextField()
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    phase = models.CharField(max_length=30, default="crisis_assessment")
    phase_since = models.DateField()
    county_of_residence = models.ForeignKey(County, on_delete=models.PROTECT, related_name="+")
    county_of_exploitation = models.ForeignKey(County, on_delete=models.PROTECT, null=True, blank=True,
                                               related_name="+")
    close_reason = models.CharField(max_length=30, blank=True)
    close_note = models.TextField(blank=True)
    close_requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                           blank=True, related_name="+")
    closed_on = models.DateField(null=True, blank=True)
    closed_approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                           blank=True, related_name="+")
    version = models.PositiveIntegerField(default=1)

    class Meta:
        indexes = [models.Index(fields=["agency", "status"]), models.Index(fields=["youth", "status"])]

    def __str__(self) -> str:
        return f"case {self.public_id} ({self.status})"


class PhaseChange(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="phases")
    phase = models.CharField(max_length=30)
    on = models.DateField()
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["on", "pk"]

    def __str__(self) -> str:
        return f"{self.phase} on {self.on}"


class TeamMember(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="team")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="team_memberships")
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    role_in_team = models.CharField(max_length=100)
    joined_on = models.DateField()
    left_on = models.DateField(null=True, blank=True)
    share = models.OneToOneField(TeamShare, on_delete=models.PROTECT, related_name="member")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["case", "user"], condition=models.Q(left_on__isnull=True),
                                               name="one_active_membership")]

    def __str__(self) -> str:
        return f"{self.user_id} on case {self.case_id}"


class StageChange(models.Model):
    youth = models.ForeignKey(Youth, on_delete=models.PROTECT, related_name="stage_changes")
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="stages")
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    stage = models.CharField(max_length=20)
    on = models.DateField()
    note = models.TextField(blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["on", "pk"]

    def __str__(self) -> str:
        return f"{self.stage} on {self.on}"


class Plan(models.Model):
    """A case's care plan or safety plan. Its content lives in ``PlanVersion`` rows, never
    overwritten: each save adds a version; an edit made on an old version is kept as a
    conflict beside the current one, so nobody's words are lost."""

    CARE = "care"
    SAFETY = "safety"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="plans")
    kind = models.CharField(max_length=10)
    version = models.PositiveIntegerField(default=0, help_text="The current version's number (0: nothing saved)")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["case", "kind"], name="one_plan_of_each_kind")]

    def __str__(self) -> str:
        return f"{self.kind} plan of case {self.case_id}"


class PlanVersion(models.Model):
    CURRENT = "current"
    SUPERSEDED = "superseded"
    CONFLICT = "conflict"

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(null=True, blank=True, help_text="Empty for a conflicting edit")
    based_on = models.PositiveIntegerField(help_text="The version the author was editing")
    state = models.CharField(max_length=12)
    content = models.JSONField()
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.plan_id} v{self.number or '?'} ({self.state})"


class Referral(models.Model):
    """A referral of the youth to a provider, followed to acceptance and beyond. Before
    anything is sent, the consent the shared categories need is checked; a supervisor may
    override with a written reason (audited)."""

    SENT, ACCEPTED, DECLINED, STARTED, COMPLETED, DROPPED = "sent", "accepted", "declined", "started", \
        "completed", "dropped"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="referrals")
    youth = models.ForeignKey(Youth, on_delete=models.PROTECT, related_name="referrals")
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+", help_text="The referring agency")
    provider = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="referrals_received")
    services = models.JSONField()
    shared_categories = models.JSONField()
    status = models.CharField(max_length=10, default=SENT)
    reason = models.TextField(blank=True, help_text="Why declined or dropped")
    decline_reason = models.CharField(max_length=30, blank=True, help_text="Code of referral_decline_reason")
    consent_override = models.TextField(blank=True)
    override_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()
    history = models.JSONField(default=list, help_text="[[status, iso time, username], ...]")
    version = models.PositiveIntegerField(default=1)

    class Meta:
        indexes = [models.Index(fields=["provider", "status"]), models.Index(fields=["case"])]

    def __str__(self) -> str:
        return f"referral {self.public_id} ({self.status})"


class CaseTransfer(models.Model):
    """A hand-over of the case's lead to an agency in another county (the youth moved, or
    the exploitation happened there). The history stays with the case; both sides are
    audited."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="transfers")
    from_agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    to_agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField()
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    on = models.DateField()

    class Meta:
        ordering = ["on", "pk"]

    def __str__(self) -> str:
        return f"transfer of case {self.case_id} on {self.on}"


class Meeting(models.Model):
    """An MDT meeting: date, who attended, the agenda, decisions and action items (each
    action item becomes a task for its owner)."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="meetings")
    held_on = models.DateField()
    attendees = models.JSONField(help_text="User names of those present")
    agenda = models.TextField(blank=True)
    decisions = models.TextField(blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["held_on", "pk"]

    def __str__(self) -> str:
        return f"meeting of case {self.case_id} on {self.held_on}"


class CaseReview(models.Model):
    """An agency's weekly case review was held: the next list shows what changed since."""

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    held_at = models.DateTimeField()
    held_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    cases = models.PositiveIntegerField()

    class Meta:
        ordering = ["held_at", "pk"]

    def __str__(self) -> str:
        return f"case review of {self.agency_id} at {self.held_at}"


class KeyRelationship(models.Model):
    """Someone the youth trusts in their response (therapist, advocate, judge, case
    worker). A planned change that would break one raises a warning and a hand-over task."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="relationships")
    kind = models.CharField(max_length=20)
    person = models.CharField(max_length=150, help_text="Name or user name, as the youth knows them")
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    since = models.DateField()
    ends_on = models.DateField(null=True, blank=True, help_text="A planned end (transfer, leave, rotation)")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    def __str__(self) -> str:
        return f"{self.kind} {self.person}"


class Hearing(models.Model):
    """A hearing where the youth testifies against an exploiter. Its protection steps
    (before and after the testimony) are tasks for the case's worker."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="hearings")
    held_on = models.DateField()
    court = models.CharField(max_length=200)
    note = models.TextField(blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["held_on", "pk"]

    def __str__(self) -> str:
        return f"hearing on {self.held_on}"
