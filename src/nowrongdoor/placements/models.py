"""Safe placement: where a youth can live tonight, and what keeps them there.

- ``Zone``: a named location zone of a county (a city, a district) that resources,
  schools and therapists are in, so continuity can be scored without street addresses.
- ``ExploitationArea``: a place the county knows exploiters use (a street, a motel
  strip, a stretch of road): a centre and a radius, maintained by the county.
- ``Resource``: a placement resource: an emergency shelter, a foster family, a relative,
  a group home, transitional housing, a specialised safe home, a secure setting. Its
  capacity, who it serves, and its location (protected: category ``placement_address``).
- ``Caregiver``: a named adult who cares for youth at a resource.
- ``Complicity``: a caregiver recorded as complicit in a youth's exploitation; matching
  never places that youth with them.
- ``YouthExploitationArea``: an area where a youth was exploited; matching keeps group
  homes near it out of that youth's options.
- ``MatchRun``: one placement search: what was asked, the rules version, and why every
  candidate was excluded or how it was ranked.
- ``Placement``: a youth living at a resource, from start to end, with the reason.
- ``Absence``: a youth missing from placement, from the first hour to their return.
- ``Hold``: a "no reject, no eject" agreement: the caregiver keeps the youth's place
  through absences and relapses until the hold expires or is released.

Nothing outside ``selectors`` and ``services`` queries the youth-bearing models
(ARCHITECTURE.md rule 1).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from nowrongdoor.cases.models import Case
from nowrongdoor.directory.models import Agency, County
from nowrongdoor.youth.models import Contact, Youth


class Zone(models.Model):
    county = models.ForeignKey(County, on_delete=models.PROTECT, related_name="zones")
    code = models.SlugField(max_length=40)
    name = models.CharField(max_length=100)
    latitude = models.FloatField()
    longitude = models.FloatField()

    class Meta:
        ordering = ["county__name", "name"]
        constraints = [models.UniqueConstraint(fields=["county", "code"], name="zone_unique_code_in_county")]

    def __str__(self) -> str:
        return f"{self.name} ({self.county})"


class ExploitationArea(models.Model):
    county = models.ForeignKey(County, on_delete=models.PROTECT, related_name="exploitation_areas")
    name = models.CharField(max_length=100, help_text="A short name staff recognise, e.g. a corridor or street")
    latitude = models.FloatField()
    longitude = models.FloatField()
    radius_km = models.FloatField(default=0.5)
    active = models.BooleanField(default=True)
    note = models.CharField(max_length=300, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["county__name", "name"]
        constraints = [models.UniqueConstraint(fields=["county", "name"], name="area_unique_name_in_county")]

    def __str__(self) -> str:
        return self.name


class Resource(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="placement_resources",
                               help_text="The agency that licenses or runs it")
    name = models.CharField(max_length=150)
    resource_type = models.CharField(max_length=40, help_text="Code of code list placement_type")
    county = models.ForeignKey(County, on_delete=models.PROTECT, related_name="+")
    zone = models.ForeignKey(Zone, on_delete=models.PROTECT, null=True, blank=True, related_name="resources")
    address = models.CharField(max_length=200, blank=True)
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    capacity = models.PositiveSmallIntegerField(default=1)
    min_age = models.PositiveSmallIntegerField(default=0)
    max_age = models.PositiveSmallIntegerField(default=21)
    genders_served = models.JSONField(default=list, blank=True,
                                      help_text="Codes of code list genders_served; empty means all")
    lgbtq_affirming = models.BooleanField(default=False)
    csec_trained = models.BooleanField(default=False, help_text="Its caregivers completed CSEC training")
    languages = models.JSONField(default=list, blank=True, help_text="Codes of code list language")
    accepts_holds = models.BooleanField(default=False, help_text="Agrees to no-reject-no-eject holds")
    active = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["active", "county"])]

    def __str__(self) -> str:
        return self.name


class Caregiver(models.Model):
    resource = models.ForeignKey(Resource, on_delete=models.PROTECT, related_name="caregivers")
    name = models.CharField(max_length=150)
    role = models.CharField(max_length=60, blank=True, help_text="e.g. foster parent, house parent, relative")
    csec_trained_on = models.DateField(null=True, blank=True)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Complicity(models.Model):
    youth = models.ForeignKey(Youth, on_delete=models.PROTECT, related_name="+")
    caregiver = models.ForeignKey(Caregiver, on_delete=models.PROTECT, related_name="complicities")
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    note = models.CharField(max_length=500, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()

    class Meta:
        verbose_name_plural = "complicities"
        constraints = [models.UniqueConstraint(fields=["youth", "caregiver"], name="complicity_unique")]

    def __str__(self) -> str:
        return f"complicity of caregiver {self.caregiver_id} (youth {self.youth_id})"


class YouthExploitationArea(models.Model):
    youth = models.ForeignKey(Youth, on_delete=models.PROTECT, related_name="+")
    area = models.ForeignKey(ExploitationArea, on_delete=models.PROTECT, related_name="+")
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["youth", "area"], name="youth_area_unique")]

    def __str__(self) -> str:
        return f"area {self.area_id} (youth {self.youth_id})"


class MatchRun(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    youth = models.ForeignKey(Youth, on_delete=models.PROTECT, related_name="+")
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField()
    rules_version = models.PositiveIntegerField()
    needs = models.JSONField(default=dict, help_text="What was asked: types, language, zones, flags")
    facts = models.JSONField(default=dict, help_text="The youth's facts the rules used (no names)")
    ranked = models.JSONField(default=list, help_text="[resource id, score, [[reason, points, detail]...]]")
    excluded = models.JSONField(default=list, help_text="[resource id, [[rule, detail]...]]")

    def __str__(self) -> str:
        return f"placement search {self.public_id}"


class Placement(models.Model):
    ACTIVE, ABSENT, ENDED = "active", "absent", "ended"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    youth = models.ForeignKey(Youth, on_delete=models.PROTECT, related_name="+")
    resource = models.ForeignKey(Resource, on_delete=models.PROTECT, related_name="placements")
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+", help_text="The placing agency")
    case = models.ForeignKey(Case, on_delete=models.PROTECT, null=True, blank=True, related_name="placements")
    match_run = models.ForeignKey(MatchRun, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    status = models.CharField(max_length=10, default=ACTIVE)
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=40, blank=True)
    end_note = models.CharField(max_length=500, blank=True)
    birth_date = models.DateField(null=True, blank=True,
                                  help_text="Best-known birth date at placement, for the occupancy safety rules")
    start_contact = models.ForeignKey(Contact, on_delete=models.PROTECT, null=True, related_name="+")
    end_contact = models.ForeignKey(Contact, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    placed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    ended_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="+")
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["started_at", "id"]
        indexes = [models.Index(fields=["resource", "status"]), models.Index(fields=["youth", "started_at"])]
        constraints = [
            models.UniqueConstraint(fields=["youth"], condition=~models.Q(status="ended"),
                                    name="placement_one_current_per_youth"),
        ]

    def __str__(self) -> str:
        return f"placement {self.public_id} ({self.status})"


class Absence(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    placement = models.ForeignKey(Placement, on_delete=models.PROTECT, related_name="absences")
    youth = models.ForeignKey(Youth, on_delete=models.PROTECT, related_name="+")
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    started_at = models.DateTimeField()
    returned_at = models.DateTimeField(null=True, blank=True)
    whereabouts = models.CharField(max_length=500, blank=True, help_text="Where the youth was, if known")
    start_contact = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="+")
    return_contact = models.ForeignKey(Contact, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["started_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["youth"], condition=models.Q(returned_at__isnull=True),
                                    name="absence_one_open_per_youth"),
        ]

    def __str__(self) -> str:
        return f"absence {self.public_id}"


class Hold(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    youth = models.ForeignKey(Youth, on_delete=models.PROTECT, related_name="+")
    resource = models.ForeignKey(Resource, on_delete=models.PROTECT, related_name="holds")
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    placement = models.ForeignKey(Placement, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                  help_text="The placement the agreement was made in")
    agreed_by = models.CharField(max_length=150, help_text="The caregiver who agreed")
    starts_on = models.DateField()
    expires_on = models.DateField()
    released_on = models.DateField(null=True, blank=True)
    release_reason = models.CharField(max_length=500, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["starts_on", "id"]
        indexes = [models.Index(fields=["resource", "expires_on"])]

    def __str__(self) -> str:
        return f"hold {self.public_id} until {self.expires_on}"


class OccupancyVersion(models.Model):
    """One row whose ``stamp`` changes, in the same transaction, with every write that
    changes who uses a bed or whether an occupant is being exploited (placements, holds,
    exploitation status). Matching keeps occupancy per process and reads it again when
    the stamp moves. A random stamp, not a counter: a rolled-back write must never leave
    two different states under the same number."""

    stamp = models.CharField(max_length=32, default="initial")

    def __str__(self) -> str:
        return f"occupancy {self.stamp}"
