"""Who may not see what in identity resolution, through the real services and selectors.

What this file proves:

- every role that does not act for ``identity_resolution`` (taken from the data
  dictionary) is refused the queue, a pair, a decision, the list of changes and an undo,
  and each refusal is in the audit log; only a system administrator or an identity
  steward starts a linkage run, and a refused run is audited and leaves no run behind;
- a steward sees another agency's record only under a sharing agreement in force that
  shares ``identity`` for ``identity_resolution`` with the steward's agency: without
  one the other side shows only the agency's name, the steward may not decide, and the
  queue only counts the pair; an agreement for another purpose or category, to another
  agency, expired or not yet in force does not count;
- a steward never receives anything but identity: the views carry no contacts,
  screenings, notes or sexual orientation and gender identity, and the youth record read
  for identity resolution withholds every contact.

"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest

from nowrongdoor import clock
from nowrongdoor.access.models import AuditEvent
from nowrongdoor.dictionary import vocabulary
from nowrongdoor.errors import AccessDenied
from nowrongdoor.identity import selectors, services
from nowrongdoor.identity.models import IdentityChange, LinkageRun, PairReview
from nowrongdoor.identity.selectors import pair_detail, recent_changes, review_queue
from nowrongdoor.identity.services import decide_pair, run_linkage, undo_change
from nowrongdoor.screening.models import Screening
from nowrongdoor.youth.models import SourceRecord
from nowrongdoor.youth.selectors import get_youth
from tests.identity.conftest import IdentityWorld

pytestmark = pytest.mark.django_db

PURPOSE = services.PURPOSE
V = vocabulary()
NOT_STEWARDS = sorted(r for r in V.roles if PURPOSE not in V.role_purposes(r))
NOT_RUNNERS = sorted(r for r in V.roles if r not in ("identity_steward", "system_admin"))
MARIA = ("Maria", "Garcia", dt.date(2011, 2, 5))
MARIA_SWAPPED = dt.date(2011, 5, 2)


def test_the_dictionary_gives_the_cases_something_to_check() -> None:
    assert set(V.purpose_categories(PURPOSE)) == {"identity"}
    assert [r for r in V.roles if PURPOSE in V.role_purposes(r)] == ["identity_steward"]
    assert {"screener", "case_manager", "analyst", "supervisor", "system_admin"} <= set(NOT_STEWARDS)


def cross_agency_pair(w: IdentityWorld) -> tuple[SourceRecord, SourceRecord, PairReview]:
    """Child welfare's record (left) and police's record (right) of possibly one girl,
    queued by a real run (no agreement needed: runs act for the whole county)."""
    first, last, dob = MARIA
    mine = w.record(w.cws, first, last, dob, residence_zip="", gender_identity="transgender_girl",
                    sexual_orientation="bisexual", race_ethnicity="black", language="es")
    theirs = w.record(w.police, first, last, MARIA_SWAPPED)
    w.run(actor=w.admin)
    review = w.review(mine, theirs)
    assert review.status == PairReview.OPEN
    return mine, theirs, review


def refusals(user: Any, action: str) -> int:
    return AuditEvent.objects.filter(actor=user, action=action, allowed=False).count()


# -- roles ----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", NOT_STEWARDS)
def test_a_role_without_identity_resolution_opens_nothing_and_decides_nothing(
        world: IdentityWorld, make_user: Any, role: str) -> None:
    w = world
    w.share(w.police)
    _, _, review = cross_agency_pair(w)
    user = make_user(role, w.cws)
    change = IdentityChange.objects.create(kind=IdentityChange.MERGE, youth=review.record_l.youth,
                                           other=review.record_r.youth, moved={}, made_by=w.admin,
                                           made_at=clock.now())

    with pytest.raises(AccessDenied):
        review_queue(actor=user)
    with pytest.raises(AccessDenied):
        pair_detail(actor=user, review_id=review.pk)
    with pytest.raises(AccessDenied):
        recent_changes(actor=user)
    assert refusals(user, "identity.read") == 3
    with pytest.raises(AccessDenied):
        decide_pair(actor=user, review_id=review.pk, decision=PairReview.SAME, note="", version=1)
    with pytest.raises(AccessDenied):
        undo_change(actor=user, change=change)
    assert refusals(user, "identity.review") == 2
    assert not AuditEvent.objects.filter(actor=user, allowed=True).exists()
    review.refresh_from_db()
    change.refresh_from_db()
    assert (review.status, review.version, change.undone_at) == (PairReview.OPEN, 1, None)
    assert review.record_l.youth_id != SourceRecord.objects.get(pk=review.record_r_id).youth_id


@pytest.mark.parametrize("role", NOT_RUNNERS)
def test_only_a_steward_or_a_system_administrator_starts_a_linkage_run(
        world: IdentityWorld, make_user: Any, role: str) -> None:
    user = make_user(role, world.cws)
    with pytest.raises(AccessDenied):
        run_linkage(actor=user)
    assert refusals(user, "identity.link_run") == 1
    assert not LinkageRun.objects.exists()


def test_a_deactivated_steward_cannot_start_a_linkage_run(world: IdentityWorld) -> None:
    w = world
    w.steward.is_active = False
    w.steward.save()
    with pytest.raises(AccessDenied):
        run_linkage(actor=w.steward)
    assert not LinkageRun.objects.exists()


# -- what a steward may see --------------------------------------------------------------------


EMPTY_SIDE = {f.name: f.default for f in dataclasses.fields(selectors.RecordSide) if f.name not in ("agency",
                                                                                                       "visible")}


def assert_hidden(side: selectors.RecordSide, agency_name: str) -> None:
    shown = dataclasses.asdict(side)
    assert (shown.pop("agency"), shown.pop("visible")) == (agency_name, False)
    assert shown == EMPTY_SIDE


def test_without_an_agreement_a_steward_sees_only_their_own_agencys_side(world: IdentityWorld) -> None:
    w = world
    mine, theirs, review = cross_agency_pair(w)

    view = pair_detail(actor=w.steward, review_id=review.pk)

    assert view.left.visible and (view.left.first_name, view.left.date_of_birth) == (mine.first_name,
                                                                                     mine.date_of_birth)
    assert_hidden(view.right, w.police.name)
    assert not view.can_decide
    seen = {e.owner_agency_id: e.allowed for e in AuditEvent.objects.filter(actor=w.steward,
                                                                           action="identity.read")}
    assert seen == {w.cws.pk: True, w.police.pk: False}

    with pytest.raises(AccessDenied):
        decide_pair(actor=w.steward, review_id=review.pk, decision=PairReview.NOT_SAME, note="", version=1)
    refused = AuditEvent.objects.get(actor=w.steward, action="identity.review", allowed=False)
    assert (refused.owner_agency_id, refused.youth_id, refused.object_id) == (w.police.pk, theirs.youth_id,
                                                                              str(review.pk))
    review.refresh_from_db()
    assert (review.status, review.version) == (PairReview.OPEN, 1)

    queue = review_queue(actor=w.steward)
    assert (queue.items, queue.not_yours) == ([], 1)


def test_without_an_agreement_the_evidence_does_not_disclose_the_hidden_record(world: IdentityWorld) -> None:
    w = world
    _, _, review = cross_agency_pair(w)
    view = pair_detail(actor=w.steward, review_id=review.pk)
    assert not view.can_decide
    assert view.evidence == []


def _in_force(w: IdentityWorld) -> None:
    w.share(w.police)


def _by_agency_type(w: IdentityWorld) -> None:
    w.share("law_enforcement", "child_welfare")


def _another_purpose(w: IdentityWorld) -> None:
    w.share(w.police, purposes=("case_coordination", "screening", "mdt"))


def _another_category(w: IdentityWorld) -> None:
    w.share(w.police, categories=("law_enforcement",))


def _to_another_agency(w: IdentityWorld) -> None:
    w.share(w.police, w.clinic)


def _expired(w: IdentityWorld) -> None:
    w.share(w.police, valid_from=clock.today() - dt.timedelta(days=90), valid_to=clock.today() - dt.timedelta(days=1))


def _not_yet(w: IdentityWorld) -> None:
    w.share(w.police, valid_from=clock.today() + dt.timedelta(days=1))


@pytest.mark.parametrize(("agreement", "opens"), [
    (_in_force, True), (_by_agency_type, True), (_another_purpose, False), (_another_category, False),
    (_to_another_agency, False), (_expired, False), (_not_yet, False),
], ids=lambda v: getattr(v, "__name__", str(v)).strip("_"))
def test_only_an_agreement_sharing_identity_for_identity_resolution_opens_the_other_side(
        world: IdentityWorld, agreement: Any, opens: bool) -> None:
    w = world
    _, theirs, review = cross_agency_pair(w)
    agreement(w)

    view = pair_detail(actor=w.steward, review_id=review.pk)
    queue = review_queue(actor=w.steward)

    assert view.left.visible and view.can_decide is opens
    if opens:
        assert (view.right.first_name, view.right.date_of_birth) == (theirs.first_name, theirs.date_of_birth)
        assert ([i.id for i in queue.items], queue.not_yours) == ([review.pk], 0)
        decide_pair(actor=w.steward, review_id=review.pk, decision=PairReview.UNSURE,
                    note="Ask the school (synthetic).", version=1)
        assert PairReview.objects.get(pk=review.pk).status == PairReview.UNSURE
    else:
        assert_hidden(view.right, w.police.name)
        assert (queue.items, queue.not_yours) == ([], 1)
        with pytest.raises(AccessDenied):
            decide_pair(actor=w.steward, review_id=review.pk, decision=PairReview.NOT_SAME, note="", version=1)
        assert PairReview.objects.get(pk=review.pk).status == PairReview.OPEN


def test_a_steward_who_may_not_read_the_records_cannot_undo_their_merge(
        world: IdentityWorld, make_user: Any) -> None:
    w = world
    w.share(w.police)
    _, theirs, review = cross_agency_pair(w)
    decide_pair(actor=w.steward, review_id=review.pk, decision=PairReview.SAME, note="", version=1)
    change = IdentityChange.objects.get(review=review)
    outsider = make_user("identity_steward", w.clinic)  # no agreement reaches the clinic

    with pytest.raises(AccessDenied):
        undo_change(actor=outsider, change=change)
    change.refresh_from_db()
    assert change.undone_at is None
    assert SourceRecord.objects.get(pk=theirs.pk).youth_id == review.record_l.youth_id


# -- nothing but identity ------------------------------------------------------------------------


def test_a_steward_never_receives_anything_but_identity(world: IdentityWorld) -> None:
    w = world
    w.share(w.police)
    mine, theirs, review = cross_agency_pair(w)
    w.contact(mine, "hotline_report", allegations=["sexual_exploitation"])
    w.contact(theirs, "arrest", offence_category="prostitution_related")
    Screening.objects.create(youth=theirs.youth, agency=w.police, screener=w.clerks[w.police.pk],
                             instrument_id="cse_it", instrument_version=1, bank_version=1, setting="law_enforcement",
                             form="short", started_at=clock.now(), notes="Synthetic note: disclosed a trafficker.")

    fields = {cls.__name__: {f.name for f in dataclasses.fields(cls)} for cls in (
        selectors.RecordSide, selectors.PairView, selectors.Evidence, selectors.QueueItem, selectors.QueueView,
        selectors.ChangeView)}
    assert fields["RecordSide"] == {
        "agency", "visible", "local_id", "first_name", "middle_name", "last_name", "aliases", "date_of_birth",
        "estimated_age", "age_recorded_on", "sex", "residence_zip", "residence_county", "youth_public_id"}
    everything = set().union(*fields.values())
    for forbidden in ("contacts", "contact", "screening", "screenings", "notes", "details", "gender_identity",
                      "sexual_orientation", "race_ethnicity", "language", "category", "purpose"):
        assert forbidden not in everything

    shown = repr(pair_detail(actor=w.steward, review_id=review.pk)) + repr(review_queue(actor=w.steward)) + repr(
        recent_changes(actor=w.steward))
    for secret in ("transgender_girl", "bisexual", "black", "sexual_exploitation", "prostitution_related",
                   "trafficker", "hotline_report", "arrest"):
        assert secret not in shown

    youth = get_youth(actor=w.steward, public_id=str(mine.youth.public_id), purpose=PURPOSE)
    assert youth.contacts == [] and youth.withheld_contacts == 1
    assert [(i.first_name, i.gender_identity, i.sexual_orientation) for i in youth.identities] == [
        ("Maria", None, None)]
