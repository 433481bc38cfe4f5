"""Identity resolution inside the platform: linkage runs over every agency's records,
the review queue, the stewards' decisions, and merges and splits that can be undone.

What this file proves, with small hand-made records on a synthetic background county
(``conftest.py``):

- a run joins two agencies' records of one child (day and month of birth swapped, same
  ZIP) and moves every row of the absorbed youth (records, contacts, a screening, a
  consent) to the kept, older youth, and records exactly what moved;
- a pair in the review band (0.80 to the link threshold, 0.95) is queued, not merged;
- a steward's "not the same youth" survives full re-runs, and stops a run from joining
  the two records through a third record that matches both;
- undoing a merge gives each youth back exactly its own records and contacts and
  re-opens the pair; undoing twice is refused; "not the same" on two records a run had
  joined splits one out, and undoing the split puts it back;
- an incremental run links only the new record; a merge a rule forbids (two current
  placements) is refused with the reason and changes nothing; an old form version is a
  stale edit; every run, decision, merge and undo is audited without names;
- against the synthetic generator's truth, a run never puts two true persons in one
  youth and reduces the number of children split over several youth.

The "regressions" guard bugs found while these tests were written (fixed since).
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pyarrow
import pytest
from django.db import transaction

from nowrongdoor import clock
from nowrongdoor.access.models import AuditEvent, Consent
from nowrongdoor.directory.models import Agency
from nowrongdoor.errors import StaleEdit, ValidationFailed
from nowrongdoor.identity import services
from nowrongdoor.identity.model import DEFAULT_MODEL, ModelFile
from nowrongdoor.identity.models import IdentityChange, LinkageRun, PairReview
from nowrongdoor.identity.services import MergeBlocked, decide_pair, merge_youth, undo_change
from nowrongdoor.placements.models import Placement
from nowrongdoor.screening.models import Screening
from nowrongdoor.synth.generator import generate
from nowrongdoor.synth.models import TruthRecord
from nowrongdoor.youth.models import Contact, SourceRecord, Youth
from tests.identity.conftest import IdentityWorld
from tests.placements.conftest import make_resource

pytestmark = pytest.mark.django_db

THRESHOLDS = ModelFile.load(DEFAULT_MODEL).thresholds
LINK, REVIEW = THRESHOLDS.link, THRESHOLDS.review
# One child, two agencies: day and month of birth swapped, same ZIP (links: ~0.99997).
QUENBY = ("Quenby", "Marlowitz", dt.date(2012, 3, 4))
QUENBY_SWAPPED = dt.date(2012, 4, 3)
# Common names from the generator's pools, day and month swapped, nothing else (~0.89: a
# possible match); a third record with the date and the ZIP of the second links both.
MARIA = ("Maria", "Garcia", dt.date(2011, 2, 5))
MARIA_SWAPPED = dt.date(2011, 5, 2)


def strong_pair(w: IdentityWorld, a: Agency, b: Agency) -> tuple[SourceRecord, SourceRecord]:
    first, last, dob = QUENBY
    return (w.record(a, first, last, dob, residence_zip="96123"),
            w.record(b, first, last, QUENBY_SWAPPED, residence_zip="96123"))


def weak_pair(w: IdentityWorld, a: Agency, b: Agency) -> tuple[SourceRecord, SourceRecord]:
    first, last, dob = MARIA
    return w.record(a, first, last, dob), w.record(b, first, last, MARIA_SWAPPED)


def fresh(*rows: Any) -> list[Any]:
    for row in rows:
        row.refresh_from_db()
    return list(rows)


def youth_of(record: SourceRecord) -> Youth:
    return SourceRecord.objects.select_related("youth").get(pk=record.pk).youth


def queued(w: IdentityWorld) -> tuple[SourceRecord, SourceRecord, PairReview]:
    """A review-band pair between child welfare and police, queued by a run; the
    steward may read both (police shares identity for identity resolution)."""
    w.share(w.police)
    a, b = weak_pair(w, w.cws, w.police)
    w.run()
    return a, b, w.review(a, b)


# -- runs ---------------------------------------------------------------------------------


def test_a_run_merges_two_records_of_one_child_and_moves_everything_to_the_older_youth(
        world: IdentityWorld) -> None:
    w = world
    kept_record, absorbed_record = strong_pair(w, w.cws, w.police)
    kept, absorbed = kept_record.youth, absorbed_record.youth
    assert kept.pk < absorbed.pk
    own = w.contact(kept_record, "hotline_report", allegations=["sexual_exploitation"])
    moved_contacts = [w.contact(absorbed_record, "arrest", offence_category="prostitution_related"),
                      w.contact(absorbed_record, "citation", days_ago=10, offence_category="loitering_intent")]
    screening = Screening.objects.create(
        youth=absorbed, agency=w.police, screener=w.clerks[w.police.pk], instrument_id="cse_it",
        instrument_version=1, bank_version=1, setting="law_enforcement", form="short", started_at=clock.now())
    consent = Consent.objects.create(youth=absorbed, category="health", given_by="youth", given_on=clock.today(),
                                     recorded_by=w.clerks[w.police.pk], recorded_agency=w.police)

    run = w.run()

    assert (run.kind, run.status, run.records, run.new_records) == (LinkageRun.FULL, LinkageRun.DONE, 202, 202)
    assert (run.merges, run.blocked, run.kept_apart) == (1, 0, 0)
    kept, absorbed = fresh(kept, absorbed)
    assert absorbed.merged_into_id == kept.pk and kept.merged_into_id is None
    assert youth_of(absorbed_record) == kept and youth_of(kept_record) == kept
    assert set(Contact.objects.filter(youth=kept).values_list("pk", flat=True)) == {
        own.pk, *(c.pk for c in moved_contacts)}
    assert Screening.objects.get(pk=screening.pk).youth_id == kept.pk
    assert Consent.objects.get(pk=consent.pk).youth_id == kept.pk
    for model in (SourceRecord, Contact, Screening, Consent):
        assert not model.objects.filter(youth=absorbed).exists(), model
    change = IdentityChange.objects.get()
    assert (change.kind, change.automatic, change.run_id, change.review_id) == (IdentityChange.MERGE, True, run.pk,
                                                                                 None)
    assert (change.youth_id, change.other_id, change.made_by_id) == (kept.pk, absorbed.pk, w.steward.pk)
    assert {label: sorted(ids) for label, ids in change.moved.items()} == {
        "youth.sourcerecord": [absorbed_record.pk], "youth.contact": sorted(c.pk for c in moved_contacts),
        "screening.screening": [screening.pk], "access.consent": [consent.pk]}
    # The background county is left alone: one youth per record, nothing queued.
    assert not Youth.objects.filter(merged_into__isnull=False).exclude(pk=absorbed.pk).exists()
    assert not PairReview.objects.exists()


def test_a_pair_in_the_review_band_is_queued_and_not_merged(world: IdentityWorld) -> None:
    w = world
    a, b = weak_pair(w, w.cws, w.police)
    run = w.run()
    review = w.review(a, b)
    assert REVIEW <= review.match_probability < LINK
    assert (review.status, review.version, review.run_id, review.decided_by_id) == (PairReview.OPEN, 1, run.pk, None)
    assert (run.merges, run.queued) == (0, 1)
    assert youth_of(a) != youth_of(b)
    assert not Youth.objects.filter(merged_into__isnull=False).exists()
    assert not IdentityChange.objects.exists()
    evidence = {column: (level, weight) for column, level, weight in review.evidence}
    assert evidence["birth"][0] == "day and month swapped" and evidence["birth"][1] > 0
    assert evidence["place"][0] == "missing on one record" and evidence["place"][1] == 0
    assert review.prior_weight < 0
    assert review.match_weight == pytest.approx(review.prior_weight + sum(w for _, w in evidence.values()), abs=0.1)


def test_not_the_same_youth_survives_full_runs(world: IdentityWorld) -> None:
    w = world
    a, b, review = queued(w)
    decide_pair(actor=w.steward, review_id=review.pk, decision=PairReview.NOT_SAME,
                note="Different mothers in the two records (synthetic).", version=review.version)
    for _ in range(2):
        run = w.run(full=True)
        assert (run.kind, run.merges, run.queued) == (LinkageRun.FULL, 0, 0)
    review.refresh_from_db()
    assert (review.status, review.version) == (PairReview.NOT_SAME, 2)
    assert PairReview.objects.count() == 1 and not PairReview.objects.filter(status=PairReview.OPEN).exists()
    assert youth_of(a) != youth_of(b)


def test_not_the_same_youth_is_not_overridden_through_a_third_record(world: IdentityWorld) -> None:
    """r1 and r2 are only possibly one child; a steward says they are not. r3 then matches
    both strongly: the run may join r3 to one of them but never all three."""
    w = world
    w.share(w.police)
    w.share(w.clinic)
    first, last, dob = MARIA
    r1 = w.record(w.cws, first, last, dob)
    r2 = w.record(w.police, first, last, MARIA_SWAPPED, residence_zip="96123")
    w.run()
    review = w.review(r1, r2)
    assert REVIEW <= review.match_probability < LINK
    decide_pair(actor=w.steward, review_id=review.pk, decision=PairReview.NOT_SAME, note="", version=1)

    r3 = w.record(w.clinic, first, last, dob, residence_zip="96123")
    run = w.run()

    assert run.kind == LinkageRun.INCREMENTAL and run.new_records == 1
    assert (run.merges, run.kept_apart) == (1, 1)
    y1, y2, y3 = youth_of(r1), youth_of(r2), youth_of(r3)
    assert y1 != y2
    assert y3 in (y1, y2)
    other = r2 if y3 == y1 else r1
    bridge = w.review(other, r3)  # the strong link the decision stopped goes to a steward
    assert bridge.status == PairReview.OPEN and bridge.match_probability >= LINK
    assert PairReview.objects.get(pk=review.pk).status == PairReview.NOT_SAME

    run = w.run(full=True)
    assert run.merges == 0 and youth_of(r1) != youth_of(r2)


def test_a_record_without_a_birth_date_does_not_chain_two_children_into_one_youth(world: IdentityWorld) -> None:
    """Two girls with one (rare) name in one ZIP, born three years apart, and a third
    agency's record of that name with no date of birth (an adult age she gave, which may
    be false for either girl) that links strongly to both. The
    run joins the third record to one of them; the other link is held for a steward,
    with its evidence, because the youth it would make has two conflicting birth dates."""
    w = world
    w.share(w.police)
    w.share(w.clinic)
    first, last, dob = QUENBY
    r1 = w.record(w.cws, first, last, dob, residence_zip="96123")
    r2 = w.record(w.police, first, last, dt.date(2009, 11, 21), residence_zip="96123")
    r3 = w.record(w.clinic, first, last, None, residence_zip="96123", estimated_age=18,
                  age_recorded_on=clock.today())

    run = w.run()

    assert (run.merges, run.held_for_review, run.kept_apart) == (1, 1, 0)
    y1, y2, y3 = youth_of(r1), youth_of(r2), youth_of(r3)
    assert y1 != y2 and y3 in (y1, y2)
    other = r2 if y3 == y1 else r1
    held = w.review(other, r3)
    assert held.status == PairReview.OPEN and held.match_probability >= LINK
    assert PairReview.objects.filter(status=PairReview.OPEN).count() == 1
    event = AuditEvent.objects.get(action="identity.link_run")
    assert event.detail["held_for_review"] == 1

    run = w.run(full=True)  # a re-run holds it again and merges nothing more
    assert (run.merges, run.held_for_review) == (0, 1) and youth_of(r1) != youth_of(r2)


# -- decisions, merges, splits, undo ----------------------------------------------------------


def test_undoing_a_decided_merge_gives_each_youth_back_its_own_history(world: IdentityWorld) -> None:
    w = world
    a, b, review = queued(w)
    ya, yb = a.youth, b.youth
    a_contacts = {w.contact(a, "hotline_report", allegations=["sexual_abuse"]).pk}
    b_contacts = {w.contact(b, "arrest", offence_category="theft").pk,
                  w.contact(b, "citation", days_ago=5, offence_category="trespass").pk}

    decide_pair(actor=w.steward, review_id=review.pk, decision=PairReview.SAME, note="", version=1)

    ya, yb = fresh(ya, yb)
    assert yb.merged_into_id == ya.pk
    assert set(SourceRecord.objects.filter(youth=ya).values_list("pk", flat=True)) == {a.pk, b.pk}
    assert set(Contact.objects.filter(youth=ya).values_list("pk", flat=True)) == a_contacts | b_contacts
    change = IdentityChange.objects.get()
    assert (change.kind, change.automatic, change.review_id) == (IdentityChange.MERGE, False, review.pk)
    assert PairReview.objects.get(pk=review.pk).status == PairReview.SAME

    undo_change(actor=w.steward, change=change, reason="Decided too fast (synthetic).")

    ya, yb = fresh(ya, yb)
    assert ya.merged_into_id is None and yb.merged_into_id is None
    assert list(SourceRecord.objects.filter(youth=ya).values_list("pk", flat=True)) == [a.pk]
    assert list(SourceRecord.objects.filter(youth=yb).values_list("pk", flat=True)) == [b.pk]
    assert set(Contact.objects.filter(youth=ya).values_list("pk", flat=True)) == a_contacts
    assert set(Contact.objects.filter(youth=yb).values_list("pk", flat=True)) == b_contacts
    change.refresh_from_db()
    assert change.undone_by_id == w.steward.pk and change.undone_at is not None
    review.refresh_from_db()
    assert (review.status, review.version) == (PairReview.OPEN, 3)

    with pytest.raises(ValidationFailed) as again:
        undo_change(actor=w.steward, change=change)
    assert "already undone" in str(again.value)
    assert list(SourceRecord.objects.filter(youth=yb).values_list("pk", flat=True)) == [b.pk]


def test_not_the_same_on_two_records_a_run_joined_splits_one_out_and_undo_puts_it_back(
        world: IdentityWorld) -> None:
    w = world
    w.share(w.police)
    w.share(w.clinic)
    first, last, dob = MARIA
    r1 = w.record(w.cws, first, last, dob)
    r2 = w.record(w.police, first, last, MARIA_SWAPPED, residence_zip="96123")
    w.run()
    review = w.review(r1, r2)
    r2_contacts = {w.contact(r2, "arrest", offence_category="prostitution_related").pk,
                   w.contact(r2, "citation", days_ago=3, offence_category="loitering_intent").pk}
    r1_contact = w.contact(r1, "hotline_report", allegations=["sexual_exploitation"]).pk
    r3 = w.record(w.clinic, first, last, dob, residence_zip="96123")
    run = w.run()
    assert run.merges == 2
    joined = youth_of(r1)
    assert youth_of(r2) == joined and youth_of(r3) == joined
    review.refresh_from_db()
    assert review.status == PairReview.OPEN

    decide_pair(actor=w.steward, review_id=review.pk, decision=PairReview.NOT_SAME,
                note="Two girls, one swapped date (synthetic).", version=review.version)

    new = youth_of(r2)
    assert new != joined and new.merged_into_id is None
    assert set(SourceRecord.objects.filter(youth=joined).values_list("pk", flat=True)) == {r1.pk, r3.pk}
    assert set(Contact.objects.filter(youth=new).values_list("pk", flat=True)) == r2_contacts
    assert set(Contact.objects.filter(youth=joined).values_list("pk", flat=True)) == {r1_contact}
    split = IdentityChange.objects.get(kind=IdentityChange.SPLIT)
    assert (split.youth_id, split.other_id, split.review_id) == (joined.pk, new.pk, review.pk)
    assert split.moved["youth.sourcerecord"] == [r2.pk] and set(split.moved["youth.contact"]) == r2_contacts
    # A later full run does not join them again through r3.
    assert w.run(full=True).merges == 0 and youth_of(r2) == new

    undo_change(actor=w.steward, change=split)

    assert set(SourceRecord.objects.filter(youth=joined).values_list("pk", flat=True)) == {r1.pk, r2.pk, r3.pk}
    assert set(Contact.objects.filter(youth=joined).values_list("pk", flat=True)) == r2_contacts | {r1_contact}
    assert Youth.objects.get(pk=new.pk).merged_into_id == joined.pk
    assert PairReview.objects.get(pk=review.pk).status == PairReview.OPEN
    audited = AuditEvent.objects.filter(object_type="identity_change", object_id=str(split.pk))
    assert sorted(audited.values_list("action", flat=True)) == ["identity.split", "identity.undo_split"]


def test_an_incremental_run_links_only_the_new_record(world: IdentityWorld) -> None:
    w = world
    first, last, dob = QUENBY
    old = w.record(w.cws, first, last, dob, residence_zip="96123")
    first_run = w.run()
    assert (first_run.kind, first_run.new_records, first_run.merges) == (LinkageRun.FULL, 201, 0)
    assert first_run.max_record_id == old.pk

    new = w.record(w.police, first, last, QUENBY_SWAPPED, residence_zip="96123")
    second = w.run()

    assert (second.kind, second.records, second.new_records) == (LinkageRun.INCREMENTAL, 202, 1)
    assert (second.merges, second.max_record_id) == (1, new.pk)
    assert youth_of(new) == old.youth
    assert Youth.objects.get(pk=new.youth_id).merged_into_id == old.youth_id
    third = w.run()
    assert (third.kind, third.new_records, third.merges, third.queued) == (LinkageRun.INCREMENTAL, 0, 0, 0)


def test_a_merge_that_would_leave_a_youth_in_two_placements_is_refused_and_changes_nothing(
        world: IdentityWorld) -> None:
    w = world
    w.share(w.police)
    a, b = strong_pair(w, w.cws, w.police)
    now = clock.now()
    for record, name in ((a, "Larkmoor Shelter"), (b, "Fennick House")):
        resource = make_resource(w.county, w.cws, name, "emergency_shelter")
        Placement.objects.create(youth=record.youth, resource=resource, agency=w.cws, placed_by=w.clerks[w.cws.pk],
                                 started_at=now - dt.timedelta(days=3))

    run = w.run()

    assert (run.merges, run.blocked) == (0, 1)
    assert youth_of(a) != youth_of(b) and not IdentityChange.objects.exists()
    review = w.review(a, b)  # the link a rule stopped goes to a steward
    assert review.status == PairReview.OPEN and review.match_probability >= LINK

    with pytest.raises(MergeBlocked) as blocked:
        decide_pair(actor=w.steward, review_id=review.pk, decision=PairReview.SAME, note="", version=1)
    assert blocked.value.errors["merge"] == [blocked.value.reason]
    review.refresh_from_db()
    assert (review.status, review.version) == (PairReview.OPEN, 1)
    with pytest.raises(MergeBlocked), transaction.atomic():
        merge_youth(keep=a.youth, absorb=b.youth, by=w.steward)
    assert youth_of(a) != youth_of(b)
    assert set(Placement.objects.values_list("youth_id", flat=True)) == {a.youth_id, b.youth_id}
    assert not Youth.objects.filter(merged_into__isnull=False).exists() and not IdentityChange.objects.exists()


def test_a_refused_merge_says_which_rule_it_would_break(world: IdentityWorld) -> None:
    w = world
    a, b = strong_pair(w, w.cws, w.police)
    for record, name in ((a, "Larkmoor Shelter"), (b, "Fennick House")):
        Placement.objects.create(youth=record.youth, resource=make_resource(w.county, w.cws, name, "group_home"),
                                 agency=w.cws, placed_by=w.clerks[w.cws.pk], started_at=clock.now())
    with pytest.raises(MergeBlocked) as blocked, transaction.atomic():
        merge_youth(keep=a.youth, absorb=b.youth, by=w.steward)
    assert blocked.value.reason == "both youth have a current placement; end one first"


def test_a_decision_on_an_old_version_is_a_stale_edit(world: IdentityWorld) -> None:
    w = world
    a, b, review = queued(w)
    decide_pair(actor=w.steward, review_id=review.pk, decision=PairReview.UNSURE,
                note="Ask the school for a photo (synthetic).", version=1)
    with pytest.raises(StaleEdit) as stale:
        decide_pair(actor=w.steward, review_id=review.pk, decision=PairReview.SAME, note="", version=1)
    assert stale.value.current_version == 2
    review.refresh_from_db()
    assert (review.status, review.version, review.note) == (PairReview.UNSURE, 2,
                                                            "Ask the school for a photo (synthetic).")
    assert youth_of(a) != youth_of(b) and not IdentityChange.objects.exists()


def test_runs_decisions_merges_and_undos_are_audited_without_names(world: IdentityWorld) -> None:
    w = world
    strong_pair(w, w.cws, w.police)  # merged by the run
    a, _, review = queued(w)
    decide_pair(actor=w.steward, review_id=review.pk, decision=PairReview.SAME, note="Same scar (synthetic).",
                version=1)
    decided = IdentityChange.objects.get(review=review)
    undo_change(actor=w.steward, change=decided, reason="Maria Garcia's aunt called (synthetic).")

    events = list(AuditEvent.objects.filter(action__startswith="identity."))
    actions = [e.action for e in events]
    for action in ("identity.link_run", "identity.decide", "identity.merge", "identity.undo_merge"):
        assert action in actions
    run = LinkageRun.objects.get()
    link_run = next(e for e in events if e.action == "identity.link_run")
    assert (link_run.object_id, link_run.detail["merges"], link_run.detail["queued"]) == (str(run.pk), 1, 1)
    merges = [e for e in events if e.action == "identity.merge"]
    assert sorted(e.detail["automatic"] for e in merges) == [False, True]
    decide = next(e for e in events if e.action == "identity.decide")
    assert (decide.object_id, decide.detail["decision"], decide.youth_id) == (str(review.pk), "same", a.youth_id)
    undo = next(e for e in events if e.action == "identity.undo_merge")
    assert (undo.object_id, undo.detail["reason_given"]) == (str(decided.pk), True)
    for event in events:
        assert event.allowed and event.actor_id == w.steward.pk and event.purpose == services.PURPOSE
        text = json.dumps(event.detail) + event.reason
        for secret in ("Quenby", "Marlowitz", "Maria", "Garcia", "2011-02-05", "2012-03-04", "96123", "scar",
                       "aunt"):
            assert secret not in text, (event.action, secret)


def test_against_the_synthetic_truth_a_run_never_mixes_two_children_and_joins_split_ones(
        make_agency: Any, make_user: Any) -> None:
    generate(youth=200, seed=11)
    steward = make_user("identity_steward", make_agency("child_welfare"))
    person_of = dict(TruthRecord.objects.values_list("source_record_id", "person_id"))

    def groups() -> tuple[dict[int, set[int]], dict[int, set[int]]]:
        persons_in: dict[int, set[int]] = defaultdict(set)
        youth_of_person: dict[int, set[int]] = defaultdict(set)
        for record_id, youth_id in SourceRecord.objects.values_list("pk", "youth_id"):
            persons_in[youth_id].add(person_of[record_id])
            youth_of_person[person_of[record_id]].add(youth_id)
        return persons_in, youth_of_person

    persons_in, youth_of_person = groups()
    assert all(len(p) == 1 for p in persons_in.values())
    split_before = sum(len(y) > 1 for y in youth_of_person.values())
    assert split_before >= 10, "the generator leaves some records of a child unlinked"

    run = services.run_linkage(actor=steward)

    persons_in, youth_of_person = groups()
    mixed = {y: p for y, p in persons_in.items() if len(p) > 1}
    assert not mixed, f"youth holding records of several true persons: {mixed}"
    split_after = sum(len(y) > 1 for y in youth_of_person.values())
    assert split_after < split_before / 2
    assert run.merges >= split_before - split_after


# -- regressions: each of these failed on an earlier version of the services ---------------


def test_a_youth_created_through_the_services_can_be_merged(
        world: IdentityWorld, make_record: Any) -> None:
    """Records made through the services carry audit events naming their youth. The audit
    log is append-only history: a merge leaves those events where they are (it used to
    try to move them and fail with ``AppendOnly``)."""
    w = world
    first, last, dob = QUENBY
    a = make_record(w.clerks[w.cws.pk], first_name=first, last_name=last, date_of_birth=dob, sex="female",
                    residence_zip="96123")
    b = make_record(w.clerks[w.police.pk], first_name=first, last_name=last, date_of_birth=QUENBY_SWAPPED,
                    sex="female", residence_zip="96123")
    assert AuditEvent.objects.filter(youth=b.youth).exists()
    run = w.run()
    assert run.merges == 1 and youth_of(b) == youth_of(a)
    # The audit trail keeps naming the youth it was written for.
    assert AuditEvent.objects.filter(youth=b.youth).exists()


def test_an_undone_automatic_merge_is_not_made_again_by_the_next_run(world: IdentityWorld) -> None:
    """An automatic merge queues no pair a steward could mark "not the same"; undoing it
    records that decision, so the next full run does not merge the two again. (Undoing
    needs a steward who may read both sides, like deciding.)"""
    w = world
    w.share(w.police)
    a, b = strong_pair(w, w.cws, w.police)
    w.run()
    undo_change(actor=w.steward, change=IdentityChange.objects.get(), reason="Twins (synthetic).")
    assert youth_of(a) != youth_of(b)
    kept_apart = w.review(a, b)
    assert (kept_apart.status, kept_apart.decided_by_id) == (PairReview.NOT_SAME, w.steward.pk)
    run = w.run(full=True)
    assert (run.merges, run.queued) == (0, 0)
    assert youth_of(a) != youth_of(b)


class _PyarrowPulledByWorkers:
    """pyarrow, except that every Arrow stream's batches are produced on another thread,
    as DuckDB's worker threads sometimes pull them (from none to nearly every run in one
    process, depending on timing): makes that case happen every time."""

    def __getattr__(self, name: str) -> Any:
        return getattr(pyarrow, name)

    class RecordBatchReader:
        @staticmethod
        def from_batches(schema: Any, batches: Any) -> Any:
            def pulled_elsewhere() -> Any:
                source = iter(batches)
                while True:
                    with ThreadPoolExecutor(max_workers=1) as worker:
                        try:
                            batch = worker.submit(next, source).result()
                        except StopIteration:
                            return
                    yield batch

            return pyarrow.RecordBatchReader.from_batches(schema, pulled_elsewhere())


def test_a_run_exports_every_record_whichever_thread_duckdb_reads_on(
        world: IdentityWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    """The export must read the records on the caller's connection, inside its
    transaction. It used to run its query inside an Arrow stream that DuckDB pulled,
    sometimes on a worker thread, where Django opened a second connection (PostgreSQL:
    0 records linked and the run still "done"; SQLite: "database table is locked")."""
    monkeypatch.setattr(services, "pa", _PyarrowPulledByWorkers())
    run = world.run()
    assert (run.status, run.records) == (LinkageRun.DONE, SourceRecord.objects.count())



# -- product bugs -----------------------------------------------------------------------------


def test_undoing_chained_merges_oldest_first_gives_every_record_back_to_its_own_youth(
        world: IdentityWorld) -> None:
    w = world
    w.share(w.police)
    w.share(w.clinic)
    first, last, dob = QUENBY
    r0, r1, r2 = (w.record(agency, first, last, dob) for agency in (w.cws, w.police, w.clinic))
    y0, y1, y2 = r0.youth, r1.youth, r2.youth
    with transaction.atomic():
        older = merge_youth(keep=y1, absorb=y2, by=w.steward)
    with transaction.atomic():
        newer = merge_youth(keep=y0, absorb=y1, by=w.steward)
    assert {youth_of(r) for r in (r0, r1, r2)} == {y0}

    undo_change(actor=w.steward, change=older, reason="Not the same girl (synthetic).")
    assert [youth_of(r) for r in (r0, r1, r2)] == [y0, y0, y2]
    undo_change(actor=w.steward, change=newer, reason="Nor this one (synthetic).")

    assert [youth_of(r) for r in (r0, r1, r2)] == [y0, y1, y2]
    assert not Youth.objects.filter(pk__in=[y0.pk, y1.pk, y2.pk], merged_into__isnull=False).exists()


def test_undoing_an_automatic_merge_makes_an_open_form_on_the_pair_stale(world: IdentityWorld) -> None:
    w = world
    w.share(w.police)
    w.share(w.clinic)
    first, last, dob = MARIA
    r1 = w.record(w.cws, first, last, dob)
    r2 = w.record(w.police, first, last, MARIA_SWAPPED, residence_zip="96123")
    w.run()
    review = w.review(r1, r2)
    assert (review.status, review.version) == (PairReview.OPEN, 1)  # a steward opens the pair: version 1
    w.record(w.clinic, first, last, dob, residence_zip="96123")
    assert w.run().merges == 2  # a third record joins all three
    undo_change(actor=w.steward, change=IdentityChange.objects.get(other=r2.youth), reason="Twins (synthetic).")
    assert PairReview.objects.get(pk=review.pk).status == PairReview.NOT_SAME

    with pytest.raises(StaleEdit):
        decide_pair(actor=w.steward, review_id=review.pk, decision=PairReview.UNSURE,
                    note="Ask the clinic (synthetic).", version=1)
    assert PairReview.objects.get(pk=review.pk).status == PairReview.NOT_SAME
