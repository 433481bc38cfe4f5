"""Identity resolution over the platform's own records: linkage runs, merges and splits,
and the stewards' decisions.

- ``request_linkage`` queues a run for the background worker (one run at a time), and
  the web shows its progress; ``run_linkage`` carries a run out. It links every agency's
  source records with the trained model. An **incremental** run scores only records
  added since the last run (against all the others and among themselves); a **full**
  run scores everything. Pairs at or above the
  link threshold merge their youth; pairs in the review band go to the queue. A steward's
  "not the same youth" is never overridden: a run will not put those two records in one
  youth, directly or through a third, and never re-queues a decided pair.
- ``merge_youth`` moves every row of the absorbed youth (source records, contacts,
  screenings, tasks, cases, placements, consents...) to the kept youth and records which
  rows moved, so ``undo_change`` can put each back. The absorbed youth is kept, marked
  ``merged_into``. A merge that would break a rule (two current placements, two open
  absences) is refused with the reason.
- ``split_record`` moves one source record and its contacts out to a new youth.
- ``decide_pair`` records a steward's decision on a queued pair and applies it.

Runs act for the whole county as the system; stewards act under the
``identity_resolution`` purpose and must be able to read both records' identity. Every
run, merge, split, decision and undo is audited (ids and counts only).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
from django.apps import apps
from django.db import IntegrityError, transaction
from django.db.models import F, Max, Q
from django.tasks import TaskResultStatus, task_backends
from django.tasks.exceptions import TaskResultDoesNotExist

from nowrongdoor import clock
from nowrongdoor.access.audit import record_event
from nowrongdoor.access.decisions import audit_decision, context
from nowrongdoor.dictionary import vocabulary
from nowrongdoor.directory.models import User
from nowrongdoor.errors import AccessDenied, StaleEdit, ValidationFailed
from nowrongdoor.identity import features
from nowrongdoor.identity.clustering import Birth, Groups, birth_of
from nowrongdoor.identity.model import (
    DEFAULT_MODEL,
    ModelFile,
    evidence_labels,
    link,
    link_new,
    prior_weight,
    tf_columns,
)
from nowrongdoor.identity.models import IdentityChange, LinkageRun, PairReview
from nowrongdoor.youth.models import Contact, SourceRecord, Youth

PURPOSE = "identity_resolution"
EXPORT_CHUNK = 5000


class MergeBlocked(ValidationFailed):
    """A merge would break a rule; nothing was changed."""

    def __init__(self, reason: str) -> None:
        super().__init__({"merge": [reason]})
        self.reason = reason


# -- moving rows between youth ---------------------------------------------------------

@cache
def _youth_relations() -> list[tuple[Any, str]]:
    """(model, field name) of every foreign key to Youth, except identity's own."""
    out = []
    for model in apps.get_models():
        if model._meta.app_label == "identity" or model is Youth or model._meta.label_lower in _NEVER_MOVED:
            continue
        for field in model._meta.concrete_fields:
            if field.is_relation and field.related_model is Youth:
                out.append((model, field.name))
    return out


# The rules a merge can break: PostgreSQL names the constraint, SQLite the table.
_RULES = {
    ("placement_one_current_per_youth", "placements_placement."):
        "both youth have a current placement; end one first",
    ("absence_one_open_per_youth", "placements_absence."):
        "both youth are recorded as missing from placement; record a return first",
    ("complicity_unique", "placements_complicity."): "both youth have a complicity record for the same caregiver",
    ("youth_area_unique", "placements_youthexploitationarea."): "both youth have the same exploitation area recorded",
}
# Rows that stay with the youth they were written for: the audit log is history.
_NEVER_MOVED = {"access.auditevent"}


def _move(rows: dict[str, list[int]], to: Youth) -> None:
    for label, ids in rows.items():
        model = apps.get_model(label)
        fields = [name for m, name in _youth_relations() if m is model]
        for name in fields:
            model.objects.filter(pk__in=ids).update(**{name: to})


def _rows_of(youth: Youth) -> dict[str, list[int]]:
    rows: dict[str, list[int]] = defaultdict(list)
    for model, name in _youth_relations():
        ids = list(model.objects.filter(**{name: youth}).values_list("pk", flat=True))
        if ids:
            rows[model._meta.label_lower].extend(ids)
    return dict(rows)


def _explain(exc: IntegrityError) -> str:
    text = str(exc)
    return next((reason for names, reason in _RULES.items() if any(n in text for n in names)),
                "a uniqueness rule would be broken")


def merge_youth(*, keep: Youth, absorb: Youth, by: User, automatic: bool = False, run: LinkageRun | None = None,
                review: PairReview | None = None, reason: str = "") -> IdentityChange:
    """Move everything of ``absorb`` to ``keep``; the caller holds the transaction."""
    if keep.pk == absorb.pk:
        raise MergeBlocked("the two records already belong to one youth")
    moved = _rows_of(absorb)
    try:
        with transaction.atomic():
            _move(moved, keep)
            Youth.objects.filter(pk=absorb.pk).update(merged_into=keep)
    except IntegrityError as exc:
        raise MergeBlocked(_explain(exc)) from exc
    change = IdentityChange.objects.create(
        kind=IdentityChange.MERGE, youth=keep, other=absorb, moved=moved, automatic=automatic, run=run,
        review=review, made_by=by, made_at=clock.now(), reason=reason[:2000])
    record_event(actor=by, action="identity.merge", youth_id=keep.pk, category="identity", purpose=PURPOSE,
                 object_type="identity_change", object_id=str(change.pk),
                 detail={"absorbed_youth": absorb.pk, "automatic": automatic,
                         "rows": sum(len(v) for v in moved.values())})
    return change


def split_record(*, record: SourceRecord, by: User, review: PairReview | None = None, reason: str = ""
                 ) -> IdentityChange:
    """Move ``record`` and its contacts to a new youth; the caller holds the transaction."""
    source = record.youth
    if SourceRecord.objects.filter(youth=source).count() < 2:
        raise MergeBlocked("the record is the youth's only record; there is nothing to split")
    new = Youth.objects.create(created_at=clock.now())
    moved = {"youth.sourcerecord": [record.pk],
             "youth.contact": list(Contact.objects.filter(source_record=record).values_list("pk", flat=True))}
    _move({k: v for k, v in moved.items() if v}, new)
    change = IdentityChange.objects.create(
        kind=IdentityChange.SPLIT, youth=source, other=new, moved=moved, review=review, made_by=by,
        made_at=clock.now(), reason=reason[:2000])
    record_event(actor=by, action="identity.split", youth_id=source.pk, category="identity", purpose=PURPOSE,
                 object_type="identity_change", object_id=str(change.pk),
                 detail={"new_youth": new.pk, "record": record.pk})
    return change


def undo_change(*, actor: User, change: IdentityChange, reason: str = "") -> IdentityChange:
    """Undo a merge (every moved row back to the absorbed youth) or a split (the records
    back into the youth they left). Rows created after the change stay where they are."""
    require_steward(actor)
    if not _reads_both(actor, change):
        record_event(actor=actor, action=f"identity.undo_{change.kind}", allowed=False, purpose=PURPOSE,
                     youth_id=change.youth_id, object_type="identity_change", object_id=str(change.pk),
                     reason="the steward may not read the records of both youth")
        raise AccessDenied("you may not read the records of both youth, so you cannot undo this change")
    with transaction.atomic():
        change = IdentityChange.objects.select_for_update().get(pk=change.pk)
        if change.undone_at is not None:
            raise ValidationFailed({"change": ["this change was already undone"]})
        back_to, put_in = (change.other, change.youth) if change.kind == IdentityChange.MERGE else (
            change.youth, change.other)
        try:
            with transaction.atomic():
                _move(_still_there(change.moved, put_in), back_to)
                if change.kind == IdentityChange.MERGE:
                    Youth.objects.filter(pk=change.other_id).update(merged_into=None)
                else:
                    Youth.objects.filter(pk=change.other_id).update(merged_into=change.youth)
        except IntegrityError as exc:
            raise MergeBlocked(_explain(exc)) from exc
        change.undone_by, change.undone_at = actor, clock.now()
        change.save(update_fields=["undone_by", "undone_at"])
        if change.review_id:
            PairReview.objects.filter(pk=change.review_id).update(status=PairReview.OPEN, version=F("version") + 1)
        elif change.kind == IdentityChange.MERGE:
            _keep_apart(change, actor, reason)
        record_event(actor=actor, action=f"identity.undo_{change.kind}", youth_id=change.youth_id,
                     category="identity", purpose=PURPOSE, object_type="identity_change", object_id=str(change.pk),
                     detail={"other_youth": change.other_id, "reason_given": bool(reason)})
    return change


def _reads_both(actor: User, change: IdentityChange) -> bool:
    """Whether the actor may read the identity of a record on each side of the change:
    one of the records it moved, and one of those it left where they were."""
    moved = set(change.moved.get("youth.sourcerecord", []))
    ctx = context(actor, PURPOSE)
    youth = _chain(change.youth) | _chain(change.other)
    visible = set(SourceRecord.objects.filter(ctx.readable(["identity"], category_field=None))
                  .filter(Q(pk__in=moved) | Q(youth__in=youth)).values_list("pk", flat=True))
    return bool(visible & moved) and bool(visible - moved)


def _chain(youth: Youth) -> set[int]:
    """The youth and every youth it was merged into since, in turn (read afresh)."""
    chain: set[int] = set()
    current: int | None = youth.pk
    while current is not None and current not in chain:
        chain.add(current)
        current = Youth.objects.filter(pk=current).values_list("merged_into_id", flat=True).first()
    return chain


def _still_there(moved: dict[str, list[int]], put_in: Youth) -> dict[str, list[int]]:
    """The moved rows that are still where the change put them: in ``put_in`` or in a
    youth it was merged into later (rows a later undo already sent elsewhere stay)."""
    chain = _chain(put_in)
    out: dict[str, list[int]] = {}
    for label, ids in moved.items():
        model = apps.get_model(label)
        name = next(n for m, n in _youth_relations() if m is model)
        kept = list(model.objects.filter(pk__in=ids, **{f"{name}__in": chain}).values_list("pk", flat=True))
        if kept:
            out[label] = kept
    return out


def _keep_apart(change: IdentityChange, actor: User, reason: str) -> None:
    """Undoing an automatic merge says the two youth are not one: record it as a
    steward's "not the same youth" between a record of each, so no run merges them again."""
    left = SourceRecord.objects.filter(youth=change.youth).order_by("pk").values_list("pk", flat=True).first()
    right = SourceRecord.objects.filter(youth=change.other).order_by("pk").values_list("pk", flat=True).first()
    if left is None or right is None:
        return
    low, high = sorted((left, right))
    decided = {"status": PairReview.NOT_SAME, "decided_by": actor, "decided_at": clock.now(),
               "note": (reason or "automatic merge undone")[:4000]}
    if not PairReview.objects.filter(record_l_id=low, record_r_id=high).update(**decided, version=F("version") + 1):
        PairReview.objects.create(record_l_id=low, record_r_id=high, run=change.run, match_probability=0.0,
                                  match_weight=0.0, created_at=clock.now(), **decided)


# -- the steward's decision --------------------------------------------------------------

def is_steward(actor: User) -> bool:
    return actor.is_active and actor.agency_id is not None and PURPOSE in vocabulary().role_purposes(actor.role)


def require_steward(actor: User, action: str = "identity.review") -> None:
    """Refuse (and audit under ``action``) anyone who is not an active identity steward."""
    if not is_steward(actor):
        reason = f"role {actor.role or 'none'!r} does not act for purpose {PURPOSE!r}"
        record_event(actor=actor, action=action, allowed=False, purpose=PURPOSE, reason=reason)
        raise AccessDenied(reason)


def decide_pair(*, actor: User, review_id: int, decision: str, note: str, version: int) -> PairReview:
    """Record a steward's decision on a queued pair and apply it: ``same`` merges the two
    youth, ``not_same`` keeps them apart for good (splitting them if a run had joined
    them through a third record), ``unsure`` leaves the pair for another steward."""
    if decision not in {PairReview.SAME, PairReview.NOT_SAME, PairReview.UNSURE}:
        raise ValidationFailed({"decision": ["choose same, not_same or unsure"]})
    if decision == PairReview.UNSURE and not note.strip():
        raise ValidationFailed({"note": ["say what would settle it, for the next steward"]})
    require_steward(actor)
    review = PairReview.objects.select_related("record_l", "record_r").filter(pk=review_id).first()
    if review is None:
        raise ValidationFailed({"review": ["no such pair"]})
    ctx = context(actor, PURPOSE)
    for record in (review.record_l, review.record_r):
        verdict = ctx.decide(youth_id=record.youth_id, category="identity", owner_agency_id=record.agency_id)
        if not verdict.allowed:
            audit_decision(ctx, verdict, youth_id=record.youth_id, action="identity.review",
                           object_type="pair_review", object_id=str(review.pk))
            raise AccessDenied(verdict.reason)
    with transaction.atomic():
        review = PairReview.objects.select_for_update().select_related("record_l__youth", "record_r__youth").get(
            pk=review_id)
        if review.version != version:
            raise StaleEdit(review.version)
        left, right = review.record_l, review.record_r
        if decision == PairReview.SAME and left.youth_id != right.youth_id:
            keep, absorb = sorted((left.youth, right.youth), key=lambda y: y.pk)
            if _apart(keep, absorb):
                raise MergeBlocked("a steward decided that records of these two youth are not the same youth")
            merge_youth(keep=keep, absorb=absorb, by=actor, review=review, reason=note)
        elif decision == PairReview.NOT_SAME and left.youth_id == right.youth_id:
            split_record(record=right, by=actor, review=review, reason=note)
        review.status, review.note = decision, note[:4000]
        review.decided_by, review.decided_at = actor, clock.now()
        review.version += 1
        review.save(update_fields=["status", "note", "decided_by", "decided_at", "version"])
        record_event(actor=actor, action="identity.decide", youth_id=left.youth_id, owner_agency_id=left.agency_id,
                     category="identity", purpose=PURPOSE, object_type="pair_review", object_id=str(review.pk),
                     detail={"decision": decision, "other_youth": right.youth_id})
    return review


def _apart(a: Youth, b: Youth) -> bool:
    """Whether a steward has said some record of ``a`` is not the same youth as one of ``b``."""
    ids_a = set(SourceRecord.objects.filter(youth=a).values_list("pk", flat=True))
    ids_b = set(SourceRecord.objects.filter(youth=b).values_list("pk", flat=True))
    for left, right in PairReview.objects.filter(status=PairReview.NOT_SAME).filter(
            Q(record_l__in=ids_a | ids_b) | Q(record_r__in=ids_a | ids_b)).values_list("record_l", "record_r"):
        if (left in ids_a and right in ids_b) or (left in ids_b and right in ids_a):
            return True
    return False


# -- linkage runs ------------------------------------------------------------------------

def _export(con: duckdb.DuckDBPyConnection, progress: Progress) -> tuple[int, int]:
    """Every source record into ``raw_input`` (the link-file columns); returns (rows, max id)."""
    total, done = SourceRecord.objects.count(), 0
    progress(LinkageRun.READING, 0, total)
    columns = {c: pa.string() for c in features.INPUT_COLUMNS}
    schema = pa.schema([("row_no", pa.int64()), *columns.items()])

    # Rows are read and inserted here, on the caller's thread and database connection
    # (inside its transaction), a chunk at a time: never from a DuckDB scan thread.
    con.execute("CREATE OR REPLACE TABLE raw_input (row_no BIGINT, "
                + ", ".join(f"{c} VARCHAR" for c in features.INPUT_COLUMNS) + ")")
    query = SourceRecord.objects.order_by("pk").values_list(
        "pk", "agency__agency_type", "first_name", "middle_name", "last_name", "aliases", "date_of_birth",
        "estimated_age", "age_recorded_on", "sex", "residence_zip", "residence_county__name")

    def insert(chunk: list[dict[str, Any]]) -> None:
        nonlocal done
        con.register("nwd_batch", pa.Table.from_pylist(chunk, schema=schema))
        con.execute("INSERT INTO raw_input SELECT * FROM nwd_batch")
        con.unregister("nwd_batch")
        done += len(chunk)
        progress(LinkageRun.READING, done, max(total, done))

    chunk: list[dict[str, Any]] = []
    for pk, source, first, middle, last, aliases, dob, age, on, sex, zip_code, county in query.iterator(
            chunk_size=EXPORT_CHUNK):
        chunk.append({
            "row_no": pk, "record_id": str(pk), "source": source, "first_name": first, "middle_name": middle,
            "last_name": last, "aliases": ";".join(a for a in aliases or [] if isinstance(a, str)),
            "birth_date": dob.isoformat() if dob else None, "age_stated": None if age is None else str(age),
            "age_recorded_on": on.isoformat() if on else None, "sex": sex if sex in ("female", "male") else "",
            "street_address": None, "city": None, "postcode": zip_code or None, "county": county, "phone": None,
        })
        if len(chunk) >= EXPORT_CHUNK:
            insert(chunk)
            chunk = []
    if chunk:
        insert(chunk)
    rows, top = con.execute("SELECT count(*), coalesce(max(row_no), 0) FROM raw_input").fetchall()[0]
    return int(rows), int(top)


@dataclass
class _Pair:
    left: int
    right: int
    probability: float
    weight: float
    evidence: list[list[Any]]


def _pairs(con: duckdb.DuckDBPyConnection, model: ModelFile) -> list[_Pair]:
    labels = evidence_labels(model)
    gamma = ", ".join(f"gamma_{c}" for c, _, _ in labels)
    adjusted = set(tf_columns(model))  # comparisons named after the column they adjust
    weights = ", ".join(f"coalesce(mw_{c}, 0)" + (f" + coalesce(mw_tf_adj_{c}, 0)" if c in adjusted else "")
                        for c, _, _ in labels)
    rows = con.execute(f"SELECT CAST(unique_id_l AS BIGINT), CAST(unique_id_r AS BIGINT), match_probability, "
                       f"match_weight, {gamma}, {weights} FROM nwd_pairs ORDER BY match_probability DESC").fetchall()
    out = []
    n = len(labels)
    for row in rows:
        left, right = sorted((int(row[0]), int(row[1])))
        evidence = [[column, level.get(int(row[4 + i]), ""), round(float(row[4 + n + i]), 2)]
                    for i, (column, _, level) in enumerate(labels)]
        out.append(_Pair(left, right, float(row[2]), float(row[3]), evidence))
    return out


def _model_label(path: Path, model: ModelFile) -> str:
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    return f"{model.trained_on[:150]} (sha256 {digest})"


Progress = Callable[[str, int, int], object]
"""Told (stage, done, total) as a run works; total 0 when the stage's size is not known."""

STALE_AFTER = dt.timedelta(hours=1)


def _require_runner(actor: User) -> None:
    if not actor.is_active or actor.role not in ("system_admin", "identity_steward"):
        record_event(actor=actor, action="identity.link_run", allowed=False, purpose=PURPOSE,
                     reason="only a system administrator or an identity steward starts a linkage run")
        raise AccessDenied("only a system administrator or an identity steward starts a linkage run")


class _RunProgress:
    """Writes a run's stage and counts to its row (at most twice a second, and at each new
    stage), so a page polling the run shows a moving bar; then tells ``also``, if given."""

    def __init__(self, run: LinkageRun, also: Progress | None) -> None:
        self.run, self.also = run, also
        self.stage, self.written = "", 0.0

    def __call__(self, stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        if stage != self.stage or now - self.written >= 0.5 or (total and done >= total):
            LinkageRun.objects.filter(pk=self.run.pk).update(stage=stage, done=done, total=total,
                                                            heartbeat=clock.now())
            self.stage, self.written = stage, now
        if self.also:
            self.also(stage, done, total)


def under_way() -> LinkageRun | None:
    """The run queued or running, if any. A run whose background task has ended, or that
    has not reported progress for an hour, is marked failed first (its worker died)."""
    for run in LinkageRun.objects.filter(status__in=LinkageRun.UNDER_WAY).order_by("pk"):
        reason = _why_stale(run)
        if reason is None:
            return run
        LinkageRun.objects.filter(pk=run.pk, status__in=LinkageRun.UNDER_WAY).update(
            status=LinkageRun.FAILED, finished_at=clock.now(), error=reason)
    return None


def _why_stale(run: LinkageRun) -> str | None:
    last = run.heartbeat or run.started_at
    if clock.now() - last > STALE_AFTER:
        return "no progress for an hour: the process running it stopped"
    if run.task_id:
        try:
            result = task_backends["default"].get_result(run.task_id)
        except TaskResultDoesNotExist:
            return "its background task no longer exists"
        if result.status in (TaskResultStatus.FAILED, TaskResultStatus.SUCCESSFUL):
            run.refresh_from_db()
            if run.status in LinkageRun.UNDER_WAY:
                return "its background task ended before the run finished"
    return None


def request_linkage(*, actor: User, full: bool = False) -> LinkageRun:
    """Queue a linkage run for the background worker and return it; if one is already
    queued or running, return that one instead (a second click starts nothing)."""
    _require_runner(actor)
    from nowrongdoor.identity.tasks import link_records

    with transaction.atomic():
        current = under_way()
        if current is not None:
            return current
        run = LinkageRun.objects.create(kind=LinkageRun.FULL if full else LinkageRun.INCREMENTAL,
                                        status=LinkageRun.QUEUED, started_by=actor, started_at=clock.now())
        # The task is a row in the same database and transaction: both exist, or neither.
        run.task_id = str(link_records.enqueue(run.pk).id)
        run.save(update_fields=["task_id"])
        record_event(actor=actor, action="identity.link_requested", purpose=PURPOSE, object_type="linkage_run",
                     object_id=str(run.pk), detail={"kind": run.kind})
    return run


def run_linkage(*, actor: User, full: bool = False, model_path: Path | None = None,
                progress: Progress | None = None, memory_limit: str = "2GB",
                run: LinkageRun | None = None) -> LinkageRun:
    """Link the platform's source records (see the module docstring). ``run`` is a queued
    run to carry out (from ``request_linkage``); without it a new run is recorded."""
    _require_runner(actor)
    path = model_path or DEFAULT_MODEL
    model = ModelFile.load(path)
    last = LinkageRun.objects.filter(status=LinkageRun.DONE).aggregate(top=Max("max_record_id"))["top"] or 0
    kind = LinkageRun.FULL if full or last == 0 else LinkageRun.INCREMENTAL
    fields = {"kind": kind, "status": LinkageRun.RUNNING, "started_at": clock.now(), "heartbeat": clock.now(),
              "model": _model_label(path, model)}
    if run is None:
        current = under_way()
        if current is not None:
            raise ValidationFailed({"run": [f"linkage run {current.pk} is already {current.status}; "
                                            "wait for it to finish"]})
        run = LinkageRun.objects.create(started_by=actor, **fields)
    else:
        for name, value in fields.items():
            setattr(run, name, value)
        run.save(update_fields=list(fields))
    report = _RunProgress(run, progress)
    try:
        with tempfile.TemporaryDirectory(prefix="nwd-link-") as spill:
            con = features.connect(memory_limit=memory_limit, temp_directory=Path(spill))
            rows, top = _export(con, report)
            features.prepare(con, today=clock.today())
            report(LinkageRun.LINKING, 0, 0)
            if kind == LinkageRun.FULL:
                result = link(con, "records", model, cluster=False, evidence=True)  # _apply joins youth
                compared, new = result.compared, rows
            else:
                con.execute(f"CREATE TABLE nwd_new AS SELECT * FROM records WHERE CAST(unique_id AS BIGINT) > {last}")
                con.execute(f"CREATE TABLE nwd_old AS SELECT * FROM records WHERE CAST(unique_id AS BIGINT) <= {last}")
                new = con.execute("SELECT count(*) FROM nwd_new").fetchall()[0][0]
                compared = link_new(con, "records", "nwd_new", "nwd_old", model) if new else 0
            pairs = _pairs(con, model) if new else []
            con.close()
        _apply(run, pairs, model, actor, report)
        run.records, run.new_records, run.max_record_id, run.compared = rows, new, top, compared
        run.status, run.finished_at, run.stage = LinkageRun.DONE, clock.now(), ""
        run.save()
    except Exception as exc:
        LinkageRun.objects.filter(pk=run.pk).update(status=LinkageRun.FAILED, finished_at=clock.now(),
                                                    error=f"{type(exc).__name__}: {exc}"[:2000])
        raise
    record_event(actor=actor, action="identity.link_run", purpose=PURPOSE, object_type="linkage_run",
                 object_id=str(run.pk), detail={"kind": kind, "records": rows, "new": new, "merges": run.merges,
                                                "queued": run.queued, "kept_apart": run.kept_apart,
                                                "held_for_review": run.held_for_review})
    return run


def _apply(run: LinkageRun, pairs: list[_Pair], model: ModelFile, actor: User, progress: Progress) -> None:
    """Merge youth joined at the link threshold and queue the review band."""
    ids = {p.left for p in pairs} | {p.right for p in pairs}
    youth_of = dict(SourceRecord.objects.filter(pk__in=ids).values_list("pk", "youth_id"))
    decided = {(left, right): status for left, right, status in PairReview.objects.exclude(
        status=PairReview.OPEN).values_list("record_l", "record_r", "status")}
    not_same = {pair for pair, status in decided.items() if status == PairReview.NOT_SAME}
    apart_youth: set[tuple[int, int]] = set()
    if not_same:
        records = {r for pair in not_same for r in pair}
        current = dict(SourceRecord.objects.filter(pk__in=records).values_list("pk", "youth_id"))
        apart_youth = {(current[a], current[b]) for a, b in not_same if a in current and b in current}
    threshold = model.thresholds.link
    linked_youth = {youth_of[r] for p in pairs if p.probability >= threshold for r in (p.left, p.right)
                    if r in youth_of}
    births: dict[object, list[Birth]] = defaultdict(list)  # one per record: the most recorded is the centre
    for youth_id, born in SourceRecord.objects.filter(youth_id__in=linked_youth, date_of_birth__isnull=False
                                                       ).values_list("youth_id", "date_of_birth"):
        if born is not None:
            births[youth_id].append(birth_of(born))
    groups = Groups(apart_youth, births)
    held: list[tuple[int, int]] = []
    for pair in pairs:
        if pair.probability < threshold or (pair.left, pair.right) in decided:
            continue
        if pair.left not in youth_of or pair.right not in youth_of:
            continue
        joined, reason = groups.try_union(youth_of[pair.left], youth_of[pair.right])
        if joined is False and reason == "decision":
            run.kept_apart += 1
        elif joined is False:
            held.append((youth_of[pair.left], youth_of[pair.right]))
    # Dates of birth that refused a link early may join later through the real date.
    run.held_for_review += sum(groups.find(a) != groups.find(b) for a, b in held)
    by_root: dict[int, list[int]] = defaultdict(list)
    for youth_id in list(groups.parent):
        by_root[groups.find(youth_id)].append(youth_id)
    groups_to_merge = [members for members in by_root.values() if len(members) > 1]
    for merged, members in enumerate(groups_to_merge):
        progress(LinkageRun.MERGING, merged, len(groups_to_merge))
        keep_id, *others = sorted(members)
        keep = Youth.objects.get(pk=keep_id)
        for other_id in others:
            try:
                with transaction.atomic():
                    merge_youth(keep=keep, absorb=Youth.objects.get(pk=other_id), by=actor, automatic=True,
                                run=run)
                run.merges += 1
            except MergeBlocked:
                run.blocked += 1
    youth_now = dict(SourceRecord.objects.filter(pk__in=ids).values_list("pk", "youth_id"))
    prior = prior_weight(model)
    now = clock.now()
    for scored, pair in enumerate(pairs):  # still apart: the review band, links a rule or a decision stopped
        progress(LinkageRun.QUEUEING, scored, len(pairs))
        if (pair.left, pair.right) in decided or pair.left not in youth_now or pair.right not in youth_now:
            continue
        if youth_now[pair.left] == youth_now[pair.right]:
            continue
        _, created = PairReview.objects.update_or_create(
            record_l_id=pair.left, record_r_id=pair.right,
            defaults={"match_probability": pair.probability, "match_weight": pair.weight, "prior_weight": prior,
                      "evidence": pair.evidence, "run": run},
            create_defaults={"match_probability": pair.probability, "match_weight": pair.weight,
                             "prior_weight": prior, "evidence": pair.evidence, "run": run, "created_at": now})
        run.queued += int(created)
