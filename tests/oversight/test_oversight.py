"""The oversight tracker: the report's recommendations are content, members change
their progress (stale edits refused), milestones and evidence are checked, everyone on
the platform may read, and only members and administrators write (audited)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import yaml

from nowrongdoor import clock
from nowrongdoor.access.models import AuditEvent
from nowrongdoor.errors import AccessDenied, NotFound, StaleEdit, ValidationFailed
from nowrongdoor.oversight import selectors, services
from nowrongdoor.oversight.content import RecommendationsInvalid, parse, recommendations

pytestmark = pytest.mark.django_db


def test_the_report_s_recommendations_load_with_the_four_priority_initiatives() -> None:
    recs = recommendations()
    assert len(recs) == 56
    assert {recs[f"PI-{i}"].priority_area for i in range(1, 5)} == {"placement", "identification", "training", "data"}
    assert all(r.source.startswith("ch. 7") for r in recs.values())
    assert sum(1 for r in recs.values() if r.focus_area == "intervention") == 15


def test_a_broken_file_names_the_key() -> None:
    bad = {"version": 1, "source": "x", "recommendations": [
        {"id": "G1", "title": "A title long enough", "priority_area": "weather", "focus_area": "global",
         "source": "ch. 7"}]}
    with pytest.raises(RecommendationsInvalid, match=r"recommendations.0.priority_area"):
        parse(bad)
    twice = yaml.safe_load(yaml.safe_dump(bad))
    twice["recommendations"][0]["priority_area"] = "data"
    twice["recommendations"].append(dict(twice["recommendations"][0]))
    with pytest.raises(RecommendationsInvalid, match="used twice"):
        parse(twice)


@pytest.fixture
def member(make_user: Any, make_agency: Any) -> Any:
    return make_user("oversight_member", make_agency("child_welfare"))


def test_a_member_moves_a_recommendation_and_a_stale_form_is_refused(member: Any, make_agency: Any) -> None:
    lead = make_agency("probation")
    services.update_progress(actor=member, code="PI-3", expected_version=1, status="in_progress",
                             owner="Training work group (synthetic)", lead_agency_id=lead.pk)
    item = selectors.item(actor=member, code="PI-3")
    assert (item.status, item.owner, item.lead_agency, item.version) == (
        "in_progress", "Training work group (synthetic)", lead.name, 2)
    with pytest.raises(StaleEdit):
        services.update_progress(actor=member, code="PI-3", expected_version=1, status="done")
    assert selectors.item(actor=member, code="PI-3").status == "in_progress"
    with pytest.raises(ValidationFailed) as failed:
        services.update_progress(actor=member, code="PI-3", expected_version=2, status="finished",
                                 lead_agency_id=999999)
    assert set(failed.value.errors) == {"status", "lead_agency"}
    with pytest.raises(NotFound):
        services.update_progress(actor=member, code="ZZ9", expected_version=1, status="done")
    assert AuditEvent.objects.filter(action="oversight.progress", allowed=True).count() == 1


def test_milestones_and_evidence_feed_the_summary(member: Any) -> None:
    today = clock.today()
    late = services.add_milestone(actor=member, code="PI-1", title="Beds open (synthetic)",
                                  due_on=today - dt.timedelta(days=3))
    services.add_milestone(actor=member, code="PI-2", title="Tool chosen (synthetic)",
                           due_on=today + dt.timedelta(days=10))
    services.add_milestone(actor=member, code="PI-4", title="Far off (synthetic)",
                           due_on=today + dt.timedelta(days=200))
    summary = selectors.summary(actor=member)
    assert [(i.recommendation.id, m.title) for i, m in summary.overdue] == [("PI-1", "Beds open (synthetic)")]
    assert [i.recommendation.id for i, _ in summary.due_soon] == ["PI-2"]
    services.complete_milestone(actor=member, milestone_id=late.pk, done_on=today)
    assert selectors.summary(actor=member).overdue == []
    with pytest.raises(ValidationFailed):
        services.complete_milestone(actor=member, milestone_id=late.pk, done_on=today + dt.timedelta(days=1))
    for url in ("javascript:alert(1)", "ftp://example.org/x", "example.org"):
        with pytest.raises(ValidationFailed) as failed:
            services.add_evidence(actor=member, code="D4", title="Report (synthetic)", url=url)
        assert "url" in failed.value.errors
    services.add_evidence(actor=member, code="D4", title="Report (synthetic)", url="https://example.org/r")
    assert [e.url for e in selectors.item(actor=member, code="D4").evidence] == ["https://example.org/r"]
    totals = selectors.summary(actor=member).totals
    assert totals["not_started"] == 56 and sum(totals.values()) == 56


@pytest.mark.parametrize("role", ["screener", "case_manager", "agency_admin", "analyst", "training_coordinator"])
def test_others_read_but_do_not_write_and_the_refusal_is_audited(role: str, make_user: Any,
                                                                make_agency: Any) -> None:
    reader = make_user(role, make_agency("probation"))
    assert len(selectors.tracker(actor=reader)) == 56
    with pytest.raises(AccessDenied):
        services.update_progress(actor=reader, code="G1", expected_version=1, status="done")
    with pytest.raises(AccessDenied):
        services.add_evidence(actor=reader, code="G1", title="x", url="https://example.org")
    assert AuditEvent.objects.filter(actor=reader, allowed=False).count() == 2


def test_the_pages_and_the_api(client: Any, member: Any) -> None:
    client.force_login(member)
    page = client.get("/oversight/", {"area": "training"}).content.decode()
    assert "PI-3" in page and "PI-1" not in page.split('id="recommendations"')[1]
    response = client.post("/oversight/PI-3/", {"action": "progress", "version": "1", "status": "in_progress",
                                                "owner": "Work group (synthetic)", "lead_agency": "", "note": ""})
    assert response.status_code == 302
    stale = client.put("/api/oversight/recommendations/PI-3/progress", {"status": "done", "version": 1},
                       content_type="application/json")
    assert stale.status_code == 409
    ok = client.put("/api/oversight/recommendations/PI-3/progress", {"status": "done", "version": 2},
                    content_type="application/json")
    assert ok.status_code == 200 and ok.json()["status"] == "done"
    bad = client.post("/api/oversight/recommendations/PI-3/evidence", {"title": "x", "url": "nope"},
                      content_type="application/json")
    assert bad.status_code == 422 and "url" in bad.content.decode()
