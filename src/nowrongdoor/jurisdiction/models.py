"""Which jurisdiction profile each county follows, revision by revision.

``ProfileAssignment`` rows are never changed: applying, changing or removing a profile
adds the county's next revision (removing writes one with no profile), so the history
says who chose what, when and why. The newest revision is the one in force.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from nowrongdoor.directory.models import County


class ProfileAssignment(models.Model):
    county = models.ForeignKey(County, on_delete=models.PROTECT, related_name="profile_assignments")
    revision = models.PositiveIntegerField(help_text="1, 2, 3 ... per county; the newest is in force")
    profile_id = models.CharField(max_length=60, blank=True, help_text="Blank: the profile was removed")
    profile_version = models.PositiveIntegerField(null=True, blank=True)
    overrides = models.JSONField(default=dict, blank=True, help_text="The county's own changes over the profile")
    label = models.CharField(max_length=120, blank=True, help_text="What tasks and screenings record")
    reason = models.TextField()
    applied_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    applied_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["county", "revision"], name="one_profile_revision")]
        ordering = ["county", "-revision"]

    def __str__(self) -> str:
        return f"{self.county} r{self.revision}: {self.label or 'defaults'}"
