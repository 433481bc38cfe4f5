"""The case pages render and their forms work without JavaScript, in both languages."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from nowrongdoor import clock
from nowrongdoor.cases import services
from nowrongdoor.cases.models import KeyRelationship
from nowrongdoor.protocols.models import Task


@pytest.fixture
def case(make_agency: Any, make_user: Any, make_record: Any) -> dict[str, Any]:
    cws = make_agency("child_welfare")
    supervisor = make_user("supervisor", cws)
    worker = make_user("case_manager", cws, supervisor=supervisor)
    record = make_record(worker)
    opened = services.open_case(actor=worker, youth_public_id=str(record.youth.public_id), reason="Synthetic.")
    return {"worker": worker, "supervisor": supervisor, "url": f"/cases/{opened.public_id}/", "case": opened}


def test_the_case_page_renders_every_section(client: Any, case: dict[str, Any]) -> None:
    client.force_login(case["worker"])
    page = client.get(case["url"]).content.decode()
    for anchor in ('id="team"', 'id="statuses"', 'id="meetings"', 'id="referrals"', 'id="relationships"',
                   'id="timeline"'):
        assert anchor in page, anchor


def test_a_stage_posted_from_the_form_shows_its_goals(client: Any, case: dict[str, Any]) -> None:
    client.force_login(case["worker"])
    response = client.post(case["url"], {"action": "stage", "stage": "preparation",
                                         "on": clock.today().isoformat()})
    assert response.status_code == 302
    page = client.get(case["url"]).content.decode()
    assert 'id="stage-goals"' in page and "Preparation" in page


def test_a_bad_form_names_the_field_and_changes_nothing(client: Any, case: dict[str, Any]) -> None:
    client.force_login(case["worker"])
    page = client.post(case["url"], {"action": "stage", "stage": "nirvana", "on": "tomorrow"})
    assert page.status_code == 200
    assert "on: must be a date" in page.content.decode()
    assert not case["case"].stages.exists()


def test_planning_a_relationship_change_warns_and_opens_a_task(client: Any, case: dict[str, Any]) -> None:
    client.force_login(case["worker"])
    client.post(case["url"], {"action": "relationship", "kind": "advocate", "person": "Synthetic Advocate",
                              "since": clock.today().isoformat()})
    rel = KeyRelationship.objects.get()
    response = client.post(case["url"], {"action": "relationship_end", "relationship": str(rel.pk),
                                         "ends_on": (clock.today() + dt.timedelta(days=20)).isoformat()},
                           follow=True)
    assert "would break the youth" in response.content.decode()
    assert Task.objects.filter(kind="continuity_handover").count() == 1


def test_the_weekly_review_renders_and_records_a_review(client: Any, case: dict[str, Any]) -> None:
    client.force_login(case["supervisor"])
    page = client.get("/cases/review/").content.decode()
    assert 'id="review"' in page and "/cases/" in page
    assert client.post("/cases/review/").status_code == 302


def test_the_case_page_in_spanish(client: Any, case: dict[str, Any]) -> None:
    client.force_login(case["worker"])
    client.cookies["django_language"] = "es"
    page = client.get(case["url"]).content.decode()
    assert "Equipo multidisciplinario" in page and "Cronología entre sistemas" in page


def test_a_pathway_suggests_providers_and_a_hearing_opens_its_steps(client: Any, case: dict[str, Any],
                                                                   make_agency: Any) -> None:
    from nowrongdoor.directory.models import ProviderProfile

    shelter = make_agency("community_provider", name="Pathway Shelter (synthetic)")
    ProviderProfile.objects.create(agency=shelter, services=["emergency_shelter"], openings=2)
    client.force_login(case["worker"])
    page = client.get(case["url"], {"pathway": "recovered_by_police"}).content.decode()
    assert 'id="suggestions"' in page and "Pathway Shelter (synthetic)" in page
    response = client.post(case["url"], {"action": "hearing", "court": "Superior Court (synthetic)",
                                         "held_on": (clock.today() + dt.timedelta(days=10)).isoformat()})
    assert response.status_code == 302
    assert Task.objects.filter(kind="witness_protection").count() == 7


def test_plans_are_saved_from_the_page_and_a_stale_form_is_kept_as_a_conflict(client: Any,
                                                                               case: dict[str, Any]) -> None:
    from nowrongdoor.cases.models import PlanVersion

    client.force_login(case["worker"])
    first = {"action": "care_plan", "version": "0", "goal_1": "I want to go back to school.",
             "goal_1_services": "tutoring"}
    assert client.post(case["url"], first).status_code == 302
    page = client.get(case["url"]).content.decode()
    assert "I want to go back to school." in page
    stale = {"action": "care_plan", "version": "0", "goal_1": "I want a job."}
    assert client.post(case["url"], stale).status_code == 409
    assert PlanVersion.objects.filter(state="conflict").count() == 1
    page = client.get(case["url"]).content.decode()
    assert "kept beside this one" in page
    safety = {"action": "safety_plan", "version": "0", "triggers": "late-night calls\nold neighbourhood",
              "safe_people": "aunt", "how_to_reach_help": "text the advocate"}
    assert client.post(case["url"], safety).status_code == 302
    assert "late-night calls; old neighbourhood" in client.get(case["url"]).content.decode()


def test_a_supervisor_assigns_the_worker_and_hands_the_case_to_another_county(
    client: Any, case: dict[str, Any], make_agency: Any, make_user: Any
) -> None:
    from nowrongdoor.cases.models import Case, CaseTransfer
    from nowrongdoor.directory.models import County

    elsewhere = make_agency("child_welfare", in_county=County.objects.create(name="Far County (synthetic)"))
    client.force_login(case["supervisor"])
    page = client.get(case["url"]).content.decode()
    assert "Far County (synthetic)" in page
    version = Case.objects.get(pk=case["case"].pk).version
    assert client.post(case["url"], {"action": "worker", "version": str(version),
                                     "worker": case["supervisor"].username}).status_code == 302
    version = Case.objects.get(pk=case["case"].pk).version
    response = client.post(case["url"], {"action": "transfer", "version": str(version),
                                         "to_agency": str(elsewhere.pk), "reason": "The youth moved (synthetic)."})
    assert response.status_code == 302 and response["Location"] == "/cases/"
    assert CaseTransfer.objects.get().to_agency == elsewhere
    client.force_login(case["worker"])
    assert "Far County" not in client.get(case["url"]).content.decode()
