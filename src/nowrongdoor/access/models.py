"""Governance records: sharing agreements, consents, break-glass, tokens and the audit log.

The vocabulary (data categories, purposes, legal bases) comes from the data dictionary.
Deciding is done in ``nowrongdoor.access.decisions``; these models only hold the facts
the decision rests on and the append-only record of every decision made.
"""

from __future__ import annotations

from typing import Any, NoReturn

from django.conf import settings
from django.db import models

from nowrongdoor.directory.models import Agency, County
from nowrongdoor.youth.models import Youth


class SharingAgreement(models.Model):
    """A data-sharing agreement (MOU) under which one agency may see another's records.

    Each party is either one agency or every agency of a type in the county (for a
    county-wide protocol such as "all law enforcement agencies share arrests of minors
    with child welfare"). It names the data categories, the purposes, the legal basis and
    the dates it is in force.
    """

    county = models.ForeignKey(County, on_delete=models.PROTECT, related_name="sharing_agreements")
    title = models.CharField(max_length=200)
    discloser_agency = models.ForeignKey(Agency, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    discloser_type = models.CharField(max_length=40, blank=True)
    recipient_agency = models.ForeignKey(Agency, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    recipient_type = models.CharField(max_length=40, blank=True)
    categories = models.JSONField(default=list)
    purposes = models.JSONField(default=list)
    legal_basis_code = models.CharField(max_length=20)
    legal_basis_text = models.CharField(max_length=500, blank=True)
    valid_from = models.DateField()
    valid_to = models.DateField(null=True, blank=True)
    terminated_on = models.DateField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()
    version = models.PositiveIntegerField(default=1)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(discloser_agency__isnull=False) & models.Q(discloser_type=""))
                | (models.Q(discloser_agency__isnull=True) & ~models.Q(discloser_type="")),
                name="agreement_one_discloser",
            ),
            models.CheckConstraint(
                condition=(models.Q(recipient_agency__isnull=False) & models.Q(recipient_type=""))
                | (models.Q(recipient_agency__isnull=True) & ~models.Q(recipient_type="")),
                name="agreement_one_recipient",
            ),
            models.CheckConstraint(
                condition=models.Q(valid_to__isnull=True) | models.Q(valid_to__gte=models.F("valid_from")),
                name="agreement_dates_in_order",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class Consent(models.Model):
    """A youth's (or guardian's, or a court's) consent to share one category of their data.

    ``recipient_agency`` empty means any agency that has a sharing agreement; ``purpose``
    empty means any purpose. Consent is revocable: revoking sets ``revoked_on`` and the
    row stays as history.
    """

    GIVEN_BY = [("youth", "Youth"), ("parent_guardian", "Parent or guardian"), ("court", "Court order")]

    youth = models.ForeignKey(Youth, on_delete=models.PROTECT, related_name="consents")
    category = models.CharField(max_length=40)
    recipient_agency = models.ForeignKey(Agency, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    purpose = models.CharField(max_length=40, blank=True)
    given_by = models.CharField(max_length=20, choices=GIVEN_BY)
    given_on = models.DateField()
    expires_on = models.DateField(null=True, blank=True)
    revoked_on = models.DateField(null=True, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    version = models.PositiveIntegerField(default=1)

    class Meta:
        indexes = [models.Index(fields=["youth", "category"])]

    def __str__(self) -> str:
        return f"consent {self.pk}: {self.category}"


class TeamShare(models.Model):
    """Sharing that comes from membership of a youth's multidisciplinary team (MDT).

    California lets the members of a child-abuse MDT share what they know about the
    child for a limited time after a report (30 days, longer with documented good
    cause). While the window is open, the member reads the listed categories for the
    listed purposes, as if under an agreement; categories that need consent still need
    it. The cases app opens, extends and ends shares; every read under one is audited
    with basis ``mdt_team``.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="team_shares")
    youth = models.ForeignKey(Youth, on_delete=models.PROTECT, related_name="+")
    categories = models.JSONField()
    purposes = models.JSONField()
    valid_from = models.DateField()
    valid_until = models.DateField()
    ended_on = models.DateField(null=True, blank=True)
    source = models.CharField(max_length=80, help_text="What opened it, e.g. case:<id>")
    good_cause = models.TextField(blank=True, help_text="Why the window was extended past the standard length")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()
    version = models.PositiveIntegerField(default=1)

    class Meta:
        indexes = [models.Index(fields=["user", "valid_until"]), models.Index(fields=["youth", "user"])]
        constraints = [
            models.CheckConstraint(condition=models.Q(valid_until__gte=models.F("valid_from")),
                                   name="team_share_window_ordered"),
        ]

    def __str__(self) -> str:
        return f"team share {self.pk}"


class BreakGlass(models.Model):
    """Emergency access to one youth's records, with a written reason, for a short time.

    Opening one creates a review item for the actor's supervisor (or any supervisor of
    their agency); every read made under it is audited with basis ``break_glass``.
    """

    OUTCOMES = [("justified", "Justified"), ("not_justified", "Not justified")]

    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="break_glass")
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    youth = models.ForeignKey(Youth, on_delete=models.PROTECT, related_name="+")
    justification = models.TextField()
    opened_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_outcome = models.CharField(max_length=20, choices=OUTCOMES, blank=True)
    review_note = models.TextField(blank=True)

    class Meta:
        indexes = [models.Index(fields=["actor", "youth", "expires_at"])]

    def __str__(self) -> str:
        return f"break-glass {self.pk}"


class IntegrationToken(models.Model):
    """A revocable API token with which one agency's system posts data ("any door" intake).

    Only a SHA-256 digest of the token is stored; the token itself is shown once.
    Requests made with it act as the token's service account.
    """

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="integration_tokens")
    service_account = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    name = models.CharField(max_length=100)
    digest = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=12)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}...)"


class AppendOnly(Exception):
    """Audit rows are never changed or removed."""


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    def update(self, **kwargs: Any) -> NoReturn:
        raise AppendOnly("audit events cannot be updated")

    def delete(self) -> NoReturn:  # type: ignore[override]
        raise AppendOnly("audit events cannot be deleted")


class AuditEvent(models.Model):
    """One read, write or refusal involving youth data. Append-only and hash-chained.

    ``hash`` is SHA-256 over ``prev_hash`` and the event's own content, so editing,
    deleting or reordering any row breaks the chain from that row on; ``nowrongdoor
    audit verify`` walks it and names the first broken row.
    """

    seq = models.BigIntegerField(unique=True)
    at = models.DateTimeField()
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    actor_username = models.CharField(max_length=150)
    actor_agency = models.ForeignKey(Agency, on_delete=models.PROTECT, null=True, related_name="+")
    owner_agency = models.ForeignKey(Agency, on_delete=models.PROTECT, null=True, related_name="+")
    youth = models.ForeignKey(Youth, on_delete=models.PROTECT, null=True, related_name="+")
    category = models.CharField(max_length=40, blank=True)
    purpose = models.CharField(max_length=40, blank=True)
    action = models.CharField(max_length=40)
    allowed = models.BooleanField()
    basis = models.CharField(max_length=40, blank=True)
    reason = models.CharField(max_length=300, blank=True)
    object_type = models.CharField(max_length=40, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["seq"]
        indexes = [
            models.Index(fields=["actor_agency", "seq"]),
            models.Index(fields=["owner_agency", "seq"]),
            models.Index(fields=["youth", "seq"]),
        ]

    def __str__(self) -> str:
        return f"audit {self.seq}: {self.action}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnly("audit events cannot be updated")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AppendOnly("audit events cannot be deleted")


class AuditChainHead(models.Model):
    """The last link of the audit chain; locked while an event is appended."""

    last_seq = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64)

    def __str__(self) -> str:
        return f"audit chain head at {self.last_seq}"
