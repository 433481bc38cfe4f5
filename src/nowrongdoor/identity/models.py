"""Identity resolution in the platform: linkage runs, the review queue of possible
matches with the stewards' decisions, and every merge and split, reversible."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from nowrongdoor.youth.models import SourceRecord, Youth


class LinkageRun(models.Model):
    """One run of the linkage model over the platform's source records."""

    FULL, INCREMENTAL = "full", "incremental"
    QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
    UNDER_WAY = (QUEUED, RUNNING)
    # Stages a run reports while it works (``stage``, with ``done`` of ``total``).
    READING, LINKING, MERGING, QUEUEING = "reading", "linking", "merging", "queueing"

    kind = models.CharField(max_length=12)
    status = models.CharField(max_length=10, default=RUNNING)
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    model = models.CharField(max_length=200, help_text="What the model was trained on, and its file's SHA-256")
    records = models.PositiveIntegerField(default=0)
    new_records = models.PositiveIntegerField(default=0)
    max_record_id = models.PositiveBigIntegerField(default=0, help_text="Records up to this id were linked")
    compared = models.PositiveBigIntegerField(
        default=0, help_text="full run: pairs compared; incremental: pairs at or above the review threshold")
    merges = models.PositiveIntegerField(default=0)
    queued = models.PositiveIntegerField(default=0)
    kept_apart = models.PositiveIntegerField(default=0, help_text="Links not made because a steward said not same")
    held_for_review = models.PositiveIntegerField(
        default=0, help_text="Links not made because the two youth's records hold conflicting dates of birth; "
                             "the pair waits in the review queue")
    blocked = models.PositiveIntegerField(default=0, help_text="Merges a rule stopped (e.g. two current placements)")
    error = models.TextField(blank=True)
    stage = models.CharField(max_length=10, blank=True, help_text="What a run under way is doing now")
    done = models.PositiveBigIntegerField(default=0, help_text="Progress within the stage")
    total = models.PositiveBigIntegerField(default=0, help_text="Size of the stage (0: not known)")
    heartbeat = models.DateTimeField(null=True, blank=True, help_text="Last progress report of a run under way")
    task_id = models.CharField(max_length=64, blank=True, help_text="The background task running it, if any")

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"{self.kind} linkage run {self.pk} ({self.status})"

    @property
    def percent(self) -> int | None:
        """Share of the current stage done, or None when its size is not known."""
        return min(100, round(100 * self.done / self.total)) if self.total else None


class PairReview(models.Model):
    """Two records the model could not decide on (between the review and link
    thresholds), and what a steward decided. A decision is never overridden by a run."""

    OPEN, SAME, NOT_SAME, UNSURE = "open", "same", "not_same", "unsure"
    STATUSES = [(OPEN, "open"), (SAME, "same youth"), (NOT_SAME, "not the same youth"), (UNSURE, "unsure")]

    record_l = models.ForeignKey(SourceRecord, on_delete=models.PROTECT, related_name="+")
    record_r = models.ForeignKey(SourceRecord, on_delete=models.PROTECT, related_name="+")
    match_probability = models.FloatField()
    match_weight = models.FloatField()
    prior_weight = models.FloatField(default=0.0)
    evidence = models.JSONField(default=list, help_text="[comparison, level in words, weight in bits] per comparison")
    run = models.ForeignKey(LinkageRun, on_delete=models.PROTECT, null=True, blank=True, related_name="pairs",
                            help_text="The run that last scored the pair (none: a decision made without one)")
    status = models.CharField(max_length=10, choices=STATUSES, default=OPEN)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(blank=True)
    created_at = models.DateTimeField()
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-match_probability", "id"]
        constraints = [
            models.UniqueConstraint(fields=["record_l", "record_r"], name="pair_review_unique"),
            models.CheckConstraint(condition=models.Q(record_l__lt=models.F("record_r")), name="pair_review_ordered"),
        ]
        indexes = [models.Index(fields=["status", "-match_probability"])]

    def __str__(self) -> str:
        return f"pair {self.record_l_id}/{self.record_r_id} ({self.status})"


class IdentityChange(models.Model):
    """A merge of two youth or a split of records out of one, with every row it moved,
    so it can be undone exactly. The absorbed youth of a merge is kept (``merged_into``)."""

    MERGE, SPLIT = "merge", "split"

    kind = models.CharField(max_length=6)
    youth = models.ForeignKey(Youth, on_delete=models.PROTECT, related_name="+",
                              help_text="merge: the youth kept; split: the youth records left")
    other = models.ForeignKey(Youth, on_delete=models.PROTECT, related_name="+",
                              help_text="merge: the youth absorbed; split: the new youth")
    moved = models.JSONField(default=dict, help_text="{app_label.model: [ids]} moved from other to youth (merge) "
                                                     "or from youth to other (split)")
    automatic = models.BooleanField(default=False)
    run = models.ForeignKey(LinkageRun, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    review = models.ForeignKey(PairReview, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    made_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    made_at = models.DateTimeField()
    reason = models.TextField(blank=True)
    undone_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="+")
    undone_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-made_at", "-id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.other_id} -> {self.youth_id}"
