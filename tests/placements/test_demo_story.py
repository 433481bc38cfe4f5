"""The demo's placement resources and story: made once, through the real services, and
the story shows what the README's tour promises (a foster family holding her bed ranks
first; the search names the rules for what it leaves out)."""

from __future__ import annotations

from typing import Any

import pytest

from nowrongdoor.directory.models import User
from nowrongdoor.placements import selectors, services
from nowrongdoor.placements.models import Hold, Placement, Resource
from nowrongdoor.protocols.models import Task
from nowrongdoor.synth import generator
from nowrongdoor.synth.demo import ensure_demo_accounts
from nowrongdoor.synth.placements import ensure_placement_resources, seed_placement_story


@pytest.mark.django_db
def test_the_demo_story_holds_her_bed_and_the_search_ranks_it_first(settings: Any, tmp_path: Any) -> None:
    settings.DATA_DIR = tmp_path
    generator.generate(youth=120, seed=2013)
    ensure_demo_accounts()

    made = ensure_placement_resources()
    assert made == 40 and ensure_placement_resources() == 0
    assert set(Resource.objects.values_list("resource_type", flat=True)) >= {"foster_family", "group_home",
                                                                            "emergency_shelter", "safe_home"}
    story = seed_placement_story()
    assert story is not None and seed_placement_story() is None
    hold = Hold.objects.get()
    assert Placement.objects.get().status == Placement.ENDED
    protocols = set(Task.objects.values_list("protocol_id", flat=True))
    assert {"missing_from_placement", "return_from_absence"} <= protocols

    worker = User.objects.get(username="cws.placement")
    run = services.search(actor=worker, youth_public_id=story["youth"], needs={})
    view = selectors.get_match(actor=worker, public_id=str(run.public_id))
    assert view.options[0].resource and view.options[0].resource.name == story["resource"] == hold.resource.name
    assert view.excluded_count > 0 and all(r.rules for r in view.refusals)
