"""Who is in the network: counties, their agencies, and the staff who act for them.

Every staff user belongs to exactly one agency and holds one role; both decide what
they may do with youth data (see ``nowrongdoor.access``). Agency types and roles are
codes from the data dictionary, so adding one is a content change.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models

from nowrongdoor.dictionary import vocabulary


class County(models.Model):
    OFF, WARN, BLOCK = "off", "warn", "block"
    TRAINING_RULES = [(OFF, "no notice"), (WARN, "warn the screener"), (BLOCK, "refuse to start the screening")]

    name = models.CharField(max_length=100, unique=True)
    state = models.CharField(max_length=2, default="CA")
    fips_code = models.CharField(max_length=5, blank=True)
    screening_training_rule = models.CharField(
        max_length=5, choices=TRAINING_RULES, default=WARN,
        help_text="What a screener whose required CSEC training is missing or expired meets when screening")

    class Meta:
        verbose_name_plural = "counties"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Agency(models.Model):
    county = models.ForeignKey(County, on_delete=models.PROTECT, related_name="agencies")
    name = models.CharField(max_length=200)
    agency_type = models.CharField(max_length=40)
    public_phone = models.CharField(max_length=40, blank=True,
                                    help_text="A number the public resource pages may show (blank: not listed)")
    public_help = models.CharField(max_length=200, blank=True,
                                   help_text="What the public can call this agency for, in a few plain words")

    class Meta:
        verbose_name_plural = "agencies"
        ordering = ["county__name", "name"]
        constraints = [models.UniqueConstraint(fields=["county", "name"], name="agency_unique_name_in_county")]

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    """A staff member of one agency. Service accounts stand behind integration tokens."""

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="staff", null=True, blank=True)
    role = models.CharField(max_length=40, blank=True)
    supervisor = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="supervisees"
    )
    is_service_account = models.BooleanField(default=False)
    profession = models.CharField(max_length=40, blank=True,
                                  help_text="Code of the training catalogue's professions (blank: the usual one "
                                            "of the agency's type)")

    class Meta:
        ordering = ["username"]

    @property
    def purposes(self) -> frozenset[str]:
        return vocabulary().role_purposes(self.role)


class ProviderProfile(models.Model):
    """What an agency offers as a service provider: services, who it serves, languages,
    CSEC specialisation and training, and how many openings it has now. The referral
    search reads it; the provider keeps its openings current."""

    agency = models.OneToOneField(Agency, on_delete=models.CASCADE, related_name="provider")
    services = models.JSONField(default=list, help_text="Codes of code list service_type")
    populations = models.JSONField(default=list, help_text="Codes of code list population")
    min_age = models.PositiveSmallIntegerField(default=0)
    max_age = models.PositiveSmallIntegerField(default=24)
    languages = models.JSONField(default=list, help_text="e.g. ['en', 'es']")
    csec_specialised = models.BooleanField(default=False)
    csec_trained_on = models.DateField(null=True, blank=True, help_text="Last CSEC training of its staff")
    capacity = models.PositiveIntegerField(default=0)
    openings = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"provider profile of {self.agency}"
