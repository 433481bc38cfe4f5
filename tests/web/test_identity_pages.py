"""The identity steward's pages, through the Django test client.

What this file proves:

- a steward finds "Possible matches" in the navigation; a screener does not and gets 403
  on every identity page and action;
- the queue lists a pair; the pair page shows both records side by side only when the
  steward may read both (otherwise the other side says so, without its fields, and
  there is no decision form), the evidence in words and an SVG waterfall;
- a decision redirects to the queue and is recorded; deciding "same" after opening the
  pair merges the two youth; a stale version is a 409 and changes nothing; a missing or
  garbled version, an unsure without a note or an unknown decision keep the page with
  the field's error (never a 500) and change nothing;
- the changes page lists a merge and its undo button undoes it, once;
- a steward starts an incremental run from the queue: it is queued for the background
  worker, the run page polls (HTMX) and shows the stage and share done, a second click
  starts nothing new, and the page shows the outcome once the worker has run it; a run
  whose task has vanished is shown failed and does not block the next; only stewards
  see runs;
- the page of an absorbed youth redirects to the youth that holds the records now.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from nowrongdoor.identity.models import IdentityChange, LinkageRun, PairReview
from nowrongdoor.identity.services import decide_pair
from nowrongdoor.youth.models import SourceRecord, Youth
from tests.conftest import run_background_tasks
from tests.identity import conftest as identity_world
from tests.identity.conftest import IdentityWorld

world = identity_world.world  # the identity world fixture, shared with tests/identity

pytestmark = pytest.mark.django_db

MARIA = ("Maria", "Garcia", dt.date(2011, 2, 5))
MARIA_SWAPPED = dt.date(2011, 5, 2)
QUENBY = ("Quenby", "Marlowitz", dt.date(2012, 3, 4))


def queued_pair(w: IdentityWorld) -> tuple[SourceRecord, SourceRecord, PairReview]:
    """Child welfare's and police's records of possibly one girl (day and month of birth
    swapped), queued by a run."""
    first, last, dob = MARIA
    mine = w.record(w.cws, first, last, dob)
    theirs = w.record(w.police, first, last, MARIA_SWAPPED)
    w.run(actor=w.admin)
    return mine, theirs, w.review(mine, theirs)


def merged_pair(w: IdentityWorld) -> tuple[SourceRecord, SourceRecord]:
    """Merged by a run; police shares identity with the steward's agency (undo needs both sides)."""
    w.share(w.police)
    first, last, dob = QUENBY
    kept = w.record(w.cws, first, last, dob, residence_zip="96123")
    absorbed = w.record(w.police, first, last, dob.replace(month=dob.day, day=dob.month), residence_zip="96123")
    assert w.run(actor=w.admin).merges == 1
    return kept, absorbed


def page(client: Any, url: str, status: int = 200) -> str:
    response = client.get(url)
    assert response.status_code == status
    return str(response.content.decode())


def decide(client: Any, review: PairReview, **fields: str) -> Any:
    return client.post(f"/identity/pairs/{review.pk}/", {"action": "decide", **fields})


def test_stewards_find_possible_matches_and_a_screener_gets_403_everywhere(
        client: Any, world: IdentityWorld) -> None:
    w = world
    _, _, review = queued_pair(w)
    client.force_login(w.steward)
    home = page(client, "/")
    assert "Possible matches" in home and 'href="/identity/"' in home and 'href="/identity/changes/"' in home

    screener = w.clerks[w.cws.pk]
    client.force_login(screener)
    assert "Possible matches" not in page(client, "/")
    for url in ("/identity/", f"/identity/pairs/{review.pk}/", "/identity/changes/"):
        assert client.get(url).status_code == 403, url
    runs = LinkageRun.objects.count()
    assert client.post("/identity/").status_code == 403
    assert decide(client, review, decision="same", note="", version="1").status_code == 403
    assert client.post("/identity/changes/", {"action": "undo", "change": "1"}).status_code == 403
    assert LinkageRun.objects.count() == runs
    review.refresh_from_db()
    assert (review.status, review.version) == (PairReview.OPEN, 1)


def test_the_queue_lists_the_pair_and_the_pair_page_shows_both_records_and_the_evidence(
        client: Any, world: IdentityWorld) -> None:
    w = world
    w.share(w.police)
    mine, theirs, review = queued_pair(w)
    client.force_login(w.steward)

    queue = page(client, "/identity/")
    assert 'id="identity-queue"' in queue and f'href="/identity/pairs/{review.pk}/"' in queue
    assert w.cws.name in queue and w.police.name in queue and 'id="not-yours"' not in queue

    pair = page(client, f"/identity/pairs/{review.pk}/")
    records = pair[pair.index('id="pair-records"'):pair.index('id="pair-evidence"')]
    assert records.count("Garcia") == 2 and mine.local_id in records and theirs.local_id in records
    assert "2011-02-05" in records and "2011-05-02" in records
    evidence = pair[pair.index('id="pair-evidence"'):]
    assert "day and month swapped" in evidence and "Birth date or stated age" in evidence
    assert evidence.count('<svg class="nwd-waterfall"') == 1 + len(review.evidence)
    assert "<rect " in evidence
    assert 'id="pair-decision"' in pair and f'name="version" value="{review.version}"' in pair


def test_the_pair_page_shows_nothing_of_a_record_the_steward_may_not_read(
        client: Any, world: IdentityWorld) -> None:
    w = world
    mine, theirs, review = queued_pair(w)
    client.force_login(w.steward)

    queue = page(client, "/identity/")
    assert 'id="identity-queue"' not in queue and 'id="not-yours"' in queue
    pair = page(client, f"/identity/pairs/{review.pk}/")
    assert 'id="pair-evidence"' not in pair and 'id="pair-probability"' not in pair  # the evidence discloses
    records = pair[pair.index('id="pair-records"'):]
    assert records.count("Garcia") == 1 and mine.local_id in records and "2011-02-05" in records
    assert theirs.local_id not in pair and "2011-05-02" not in pair
    assert "Your agency may not see this record" in records and w.police.name in records
    assert 'id="pair-cannot-decide"' in pair and 'id="pair-decision"' not in pair
    assert decide(client, review, decision="same", note="", version="1").status_code == 403
    assert PairReview.objects.get(pk=review.pk).status == PairReview.OPEN


def test_a_decision_redirects_to_the_queue_and_is_recorded(client: Any, world: IdentityWorld) -> None:
    w = world
    w.share(w.police)
    mine, theirs, review = queued_pair(w)
    client.force_login(w.steward)

    response = decide(client, review, decision="not_same", note="Different schools (synthetic).", version="1")

    assert response.status_code == 302 and response.url == "/identity/"
    review.refresh_from_db()
    assert (review.status, review.version, review.decided_by_id) == (PairReview.NOT_SAME, 2, w.steward.pk)
    assert "Nothing to decide." in page(client, "/identity/")
    decided = page(client, f"/identity/pairs/{review.pk}/")
    assert 'id="pair-decided"' in decided and 'id="pair-decision"' not in decided
    assert SourceRecord.objects.get(pk=mine.pk).youth_id != SourceRecord.objects.get(pk=theirs.pk).youth_id


def test_deciding_same_after_opening_the_pair_merges_the_two_youth(client: Any, world: IdentityWorld) -> None:
    """Opening the pair writes audit events naming both youth; the merge leaves them be."""
    w = world
    w.share(w.police)
    mine, theirs, review = queued_pair(w)
    client.force_login(w.steward)
    page(client, f"/identity/pairs/{review.pk}/")

    response = decide(client, review, decision="same", note="", version="1")

    assert response.status_code == 302
    assert SourceRecord.objects.get(pk=theirs.pk).youth_id == mine.youth_id
    assert Youth.objects.get(pk=theirs.youth_id).merged_into_id == mine.youth_id
    assert PairReview.objects.get(pk=review.pk).status == PairReview.SAME


def test_a_stale_version_is_a_409_and_changes_nothing(client: Any, world: IdentityWorld) -> None:
    w = world
    w.share(w.police)
    mine, theirs, review = queued_pair(w)
    decide_pair(actor=w.steward, review_id=review.pk, decision=PairReview.UNSURE, note="Ask the clinic (synthetic).",
                version=1)
    client.force_login(w.steward)

    response = decide(client, review, decision="same", note="", version="1")

    assert response.status_code == 409 and "Changed by someone else" in response.content.decode()
    unsure = page(client, "/identity/?status=unsure")
    assert f'href="/identity/pairs/{review.pk}/"' in unsure
    assert f'href="/identity/pairs/{review.pk}/"' not in page(client, "/identity/")
    review.refresh_from_db()
    assert (review.status, review.version) == (PairReview.UNSURE, 2)
    assert SourceRecord.objects.get(pk=theirs.pk).youth_id != mine.youth_id
    assert not IdentityChange.objects.exists()


@pytest.mark.parametrize(("fields", "error"), [
    ({"decision": "same", "note": ""}, "version: reload the page: the form is incomplete"),
    ({"decision": "same", "note": "", "version": "one"}, "version: reload the page: the form is incomplete"),
    ({"decision": "same", "note": "", "version": "-1"}, "version: reload the page: the form is incomplete"),
    ({"decision": "unsure", "note": "  ", "version": "1"}, "note: say what would settle it, for the next steward"),
    ({"decision": "maybe", "note": "", "version": "1"}, "decision: choose same, not_same or unsure"),
], ids=["missing-version", "garbled-version", "negative-version", "unsure-without-note", "unknown-decision"])
def test_a_bad_form_keeps_the_page_with_the_error_and_changes_nothing(
        client: Any, world: IdentityWorld, fields: dict[str, str], error: str) -> None:
    """The field's error on the same page, never a 500. (``web.common.form_version``
    says a bad version is a 400; every view runs it inside ``run_action``, which shows
    it as a field error on the page, as here.)"""
    w = world
    w.share(w.police)
    mine, theirs, review = queued_pair(w)
    client.force_login(w.steward)

    response = decide(client, review, **fields)

    assert response.status_code == 200
    text = response.content.decode().replace("&#x27;", "'")
    assert error in text and 'id="pair-decision"' in text and 'name="version" value="1"' in text
    review.refresh_from_db()
    assert (review.status, review.version, review.note) == (PairReview.OPEN, 1, "")
    assert SourceRecord.objects.get(pk=theirs.pk).youth_id != mine.youth_id


def test_an_unknown_action_is_a_400_and_an_unknown_pair_a_404(client: Any, world: IdentityWorld) -> None:
    w = world
    _, _, review = queued_pair(w)
    client.force_login(w.steward)
    assert client.post(f"/identity/pairs/{review.pk}/", {"action": "merge_all"}).status_code == 400
    assert client.get(f"/identity/pairs/{review.pk + 1000}/").status_code == 404


def test_the_changes_page_lists_a_merge_and_its_undo_button_undoes_it_once(
        client: Any, world: IdentityWorld) -> None:
    w = world
    kept, absorbed = merged_pair(w)
    change = IdentityChange.objects.get()
    client.force_login(w.steward)

    listing = page(client, "/identity/changes/")
    assert 'id="identity-changes"' in listing and "(automatic)" in listing
    assert f'name="change" value="{change.pk}"' in listing

    response = client.post("/identity/changes/", {"action": "undo", "change": str(change.pk)})

    assert response.status_code == 302 and response.url == "/identity/changes/"
    change.refresh_from_db()
    assert change.undone_by_id == w.steward.pk
    assert SourceRecord.objects.get(pk=absorbed.pk).youth_id == change.other_id != kept.youth_id
    listing = page(client, "/identity/changes/")
    assert "undone" in listing and f'name="change" value="{change.pk}"' not in listing
    again = client.post("/identity/changes/", {"action": "undo", "change": str(change.pk)})
    assert again.status_code == 200 and "this change was already undone" in again.content.decode()
    garbled = client.post("/identity/changes/", {"action": "undo", "change": "x1"})
    assert garbled.status_code == 200 and "no such change" in garbled.content.decode()


def test_a_steward_links_new_records_from_the_queue_and_follows_the_run(
        client: Any, world: IdentityWorld) -> None:
    w = world
    first, last, dob = QUENBY
    old = w.record(w.cws, first, last, dob, residence_zip="96123")
    w.run(actor=w.admin)
    new = w.record(w.police, first, last, dob.replace(month=dob.day, day=dob.month), residence_zip="96123")
    client.force_login(w.steward)

    response = client.post("/identity/")

    run = LinkageRun.objects.first()
    assert run is not None and run.status == LinkageRun.QUEUED and run.started_by_id == w.steward.pk
    assert response.status_code == 302 and response.url == f"/identity/runs/{run.pk}/"
    waiting = page(client, response.url)
    assert "Waiting for the background worker" in waiting and 'hx-trigger="every 1s"' in waiting
    queue = page(client, "/identity/")
    assert 'id="run-under-way"' in queue and 'id="run-linkage"' not in queue
    again = client.post("/identity/")  # a second click starts nothing new
    assert again.url == response.url and LinkageRun.objects.count() == 2
    assert SourceRecord.objects.get(pk=new.pk).youth_id != old.youth_id

    run_background_tasks()

    run.refresh_from_db()
    assert (run.status, run.kind, run.new_records, run.merges) == (LinkageRun.DONE, LinkageRun.INCREMENTAL, 1, 1)
    assert SourceRecord.objects.get(pk=new.pk).youth_id == old.youth_id
    partial = client.get(response.url, headers={"HX-Request": "true"}).content.decode()
    assert partial.lstrip().startswith('<section id="run-progress"') and "<html" not in partial
    assert "Linkage run finished: 1 youth merged, 0 pairs added to the queue." in partial
    assert "hx-trigger" not in partial  # the page stops asking once the run has ended
    assert 'id="last-run"' in page(client, "/identity/") and 'id="run-linkage"' in page(client, "/identity/")


def test_a_running_run_shows_its_stage_and_share_done(client: Any, world: IdentityWorld) -> None:
    w = world
    run = LinkageRun.objects.create(kind=LinkageRun.FULL, status=LinkageRun.RUNNING, started_by=w.steward,
                                    started_at=timezone.now(), heartbeat=timezone.now(),
                                    stage=LinkageRun.READING, done=250, total=1000)
    client.force_login(w.steward)

    html = page(client, f"/identity/runs/{run.pk}/")

    assert "Reading the agencies' records: 250 of 1000" in html
    assert '<progress class="nwd-progress" max="100" value="25"' in html


def test_a_run_whose_worker_died_is_shown_failed_and_a_new_one_can_start(
        client: Any, world: IdentityWorld) -> None:
    w = world
    run = LinkageRun.objects.create(kind=LinkageRun.INCREMENTAL, status=LinkageRun.QUEUED, started_by=w.steward,
                                    started_at=timezone.now(), task_id="00000000-0000-0000-0000-000000000000")
    client.force_login(w.steward)

    html = page(client, f"/identity/runs/{run.pk}/")

    assert "The linkage run failed" in html and "its background task no longer exists" in html
    response = client.post("/identity/")
    assert response.url != f"/identity/runs/{run.pk}/" and LinkageRun.objects.count() == 2


def test_only_stewards_see_a_run_and_an_unknown_run_is_404(client: Any, world: IdentityWorld) -> None:
    w = world
    run = LinkageRun.objects.create(kind=LinkageRun.FULL, status=LinkageRun.DONE, started_by=w.steward,
                                    started_at=timezone.now())
    client.force_login(w.clerks[w.cws.pk])
    assert client.get(f"/identity/runs/{run.pk}/").status_code == 403
    client.force_login(w.steward)
    assert client.get(f"/identity/runs/{run.pk + 100}/").status_code == 404


def test_the_page_of_an_absorbed_youth_redirects_to_the_youth_that_holds_the_records(
        client: Any, world: IdentityWorld) -> None:
    w = world
    kept, absorbed = merged_pair(w)
    kept_id, absorbed_id = kept.youth.public_id, absorbed.youth.public_id
    client.force_login(w.clerks[w.cws.pk])

    response = client.get(f"/youth/{absorbed_id}/")

    assert response.status_code == 302 and response.url == f"/youth/{kept_id}/"
    shown = page(client, response.url)
    assert "Quenby" in shown and "Marlowitz" in shown
