"""What analytics keeps in the operational database: differentially private releases
and the privacy-loss budget they spend (the figures themselves live in the snapshot)."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class PrivacyBudget(models.Model):
    """The privacy loss (epsilon) spent on one year's figures, across every release.

    Releases about the same year compose: each spends from this budget, and none is
    made once it is spent. The row is locked while a release is made."""

    year = models.PositiveIntegerField(unique=True)
    total = models.FloatField(help_text="epsilon every release of the year may spend together")
    spent = models.FloatField(default=0.0)

    def __str__(self) -> str:
        return f"privacy budget {self.year}: {self.spent:g} of {self.total:g}"

    @property
    def left(self) -> float:
        return max(0.0, round(self.total - self.spent, 9))


class PrivateRelease(models.Model):
    """One measure's table for one year, released with differential privacy: every
    county's count with noise added once and kept, so asking again shows the same
    figures instead of new noise (which averaged would give the true counts away)."""

    measure = models.CharField(max_length=64)
    year = models.PositiveIntegerField()
    epsilon = models.FloatField()
    mechanism = models.CharField(max_length=200)
    scale = models.FloatField(help_text="the noise's scale: sensitivity / epsilon")
    snapshot_built_at = models.CharField(max_length=64)
    columns = models.JSONField(help_text="column codes")
    labels = models.JSONField(help_text="column code -> label")
    rows = models.JSONField(help_text="[[county, [noisy count per column]], ...]")
    note = models.TextField(help_text="why and where it is published")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["measure", "year", "snapshot_built_at"],
                                    name="private_release_once_per_snapshot"),
            models.CheckConstraint(condition=models.Q(epsilon__gt=0), name="private_release_epsilon_positive"),
        ]

    def __str__(self) -> str:
        return f"private release {self.measure} {self.year} (epsilon {self.epsilon:g})"
