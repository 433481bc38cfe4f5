"""Ground truth of a synthetic county, kept apart from what agencies would see.

Nothing in the product's access paths (selectors, services, views, API) imports these
models; only the generator writes them and only evaluation code (identity-resolution
accuracy, analytics checks) and tests read them. They refer to product rows by plain
integer ids, not foreign keys, so no relation leads from a youth to the truth.
"""

from __future__ import annotations

from django.db import models


class TruthPerson(models.Model):
    """One real (synthetic) child: who they are and whether and when they were exploited."""

    seed = models.BigIntegerField()
    index = models.IntegerField()
    sex = models.CharField(max_length=20)
    birth_date = models.DateField()
    race_ethnicity = models.CharField(max_length=40)
    lgbtq = models.BooleanField()
    child_welfare_history = models.BooleanField()
    exploited = models.BooleanField()
    exploitation_start = models.DateField(null=True)
    identified_on = models.DateField(null=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["seed", "index"], name="truth_person_unique")]

    def __str__(self) -> str:
        return f"truth {self.seed}:{self.index}"


class TruthRecord(models.Model):
    """Which product source record belongs to which true person, and what noise it carries."""

    person = models.ForeignKey(TruthPerson, on_delete=models.CASCADE, related_name="records")
    source_record_id = models.BigIntegerField(unique=True)
    noise = models.JSONField(default=list)

    def __str__(self) -> str:
        return f"truth record {self.source_record_id}"
