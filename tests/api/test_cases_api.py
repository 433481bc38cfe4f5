"""The case API: open, team, stage, plans (409 keeps both), referral consent (422 names it)."""

from __future__ import annotations

import json
from typing import Any

from nowrongdoor import clock
from nowrongdoor.directory.models import ProviderProfile
from tests.api.http import fields_named, post


def put(client: Any, path: str, body: Any) -> Any:
    return client.put(path, data=json.dumps(body), content_type="application/json")


def test_a_case_through_the_api(client: Any, make_agency: Any, make_user: Any, make_record: Any) -> None:
    cws, police, shelter = make_agency("child_welfare"), make_agency("law_enforcement"), \
        make_agency("community_provider")
    ProviderProfile.objects.create(agency=shelter, services=["emergency_shelter"], openings=1)
    worker = make_user("case_manager", cws)
    detective = make_user("case_manager", police)
    record = make_record(worker)
    client.force_login(worker)

    response = post(client, "/api/cases", {"youth_id": str(record.youth.public_id), "reason": "Synthetic."})
    assert response.status_code == 201, response.content
    case = response.json()
    base = f"/api/cases/{case['id']}"
    assert post(client, f"{base}/members", {"member": detective.username, "role_in_team": "Detective"}
                ).json()["team"][0]["sharing_open"] is True
    stage = post(client, f"{base}/stages", {"stage": "contemplation", "on": clock.today().isoformat()})
    assert [s["stage"] for s in stage.json()["stages"]] == ["contemplation"]
    bad = post(client, f"{base}/stages", {"stage": "nirvana", "on": clock.today().isoformat()})
    assert bad.status_code == 422 and "stage" in fields_named(bad)

    goals = {"goals": [{"goal": "I want to go home."}]}
    assert put(client, f"{base}/plans/care", {"version": 0, "content": goals}).json()["version"] == 1
    stale = put(client, f"{base}/plans/care", {"version": 0, "content": {"goals": [{"goal": "Other words."}]}})
    assert stale.status_code == 409 and stale.json()["current_version"] == 1
    plan = client.get(f"{base}/plans/care").json()
    assert plan["content"] == goals and [c["content"] for c in plan["conflicts"]] == [
        {"goals": [{"goal": "Other words."}]}]

    refused = post(client, f"{base}/referrals", {"provider_id": shelter.pk, "services": ["emergency_shelter"]})
    assert refused.status_code == 422 and "consent" in fields_named(refused)

    client.force_login(detective)
    assert client.get(base).status_code == 200  # the MDT window is open
    assert [c["id"] for c in client.get("/api/cases").json()] == [case["id"]]
