"""The demo's identity story: the README's tour sends the steward to *Possible matches*,
so the demo's synthetic county must leave at least one pair there, and the planted pair
(one girl, day and month swapped, a ZIP in another county) is one of them. Built as
``nowrongdoor demo`` builds it (same size and seed), recorded through the real services."""

from __future__ import annotations

from typing import Any

import pytest

from nowrongdoor.directory.models import User
from nowrongdoor.identity.model import DEFAULT_MODEL, ModelFile
from nowrongdoor.identity.models import PairReview
from nowrongdoor.identity.selectors import review_queue
from nowrongdoor.identity.services import run_linkage
from nowrongdoor.synth import generator
from nowrongdoor.synth.demo import ensure_demo_accounts, seed_identity_story
from nowrongdoor.youth.models import SourceRecord


@pytest.mark.django_db
def test_the_demo_leaves_its_planted_pair_for_the_steward(settings: Any, tmp_path: Any) -> None:
    settings.DATA_DIR = tmp_path
    generator.generate(youth=600, seed=2013, counties=1)
    ensure_demo_accounts()
    assert seed_identity_story() and not seed_identity_story()

    run = run_linkage(actor=User.objects.get(username="system.admin"))

    planted = set(SourceRecord.objects.filter(local_id__startswith="DEMO-ID-").values_list("pk", flat=True))
    story = PairReview.objects.get(record_l__in=planted, record_r__in=planted)
    queue = review_queue(actor=User.objects.get(username="county.steward"))
    assert run.queued >= 1
    assert story.pk in {item.id for item in queue.items}, "the planted pair is not in the steward's queue"
    thresholds = ModelFile.load(DEFAULT_MODEL).thresholds
    assert thresholds.review <= story.match_probability < thresholds.link
