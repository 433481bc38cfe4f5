"""The placement API: search with every candidate's reasons, place with a hold, an
absence and the return, the hold counted in the directory; errors name the field."""
# ruff: noqa: F811 (the ``pw`` fixture is imported from the placement tests)

from __future__ import annotations

from typing import Any

from nowrongdoor import clock
from tests.api.http import fields_named, post
from tests.placements.conftest import PlacementWorld, pw  # noqa: F401 (the fixture)


def test_a_placement_through_the_api(client: Any, pw: PlacementWorld) -> None:
    client.force_login(pw.worker)
    search = post(client, f"/api/youth/{pw.youth}/placement-searches", {"types": ["foster_family", "safe_home"]})
    assert search.status_code == 201, search.content
    body = search.json()
    assert len(body["ranked"]) + len(body["excluded"]) == len(pw.resources)
    assert {r["name"] for r in body["excluded"]} >= {"Harbor Shelter", "Oak Boys Home"}
    assert all(r["rules"] for r in body["excluded"]) and body["ranked"][0]["reasons"]
    assert client.get(f"/api/placement-searches/{body['id']}").json()["ranked"] == body["ranked"]

    now = clock.now().isoformat()
    family = str(pw.resources["family"].public_id)
    placed = post(client, "/api/placements", {"youth_id": pw.youth, "resource_id": family, "started_at": now,
                                              "search_id": body["id"], "hold_days": 30,
                                              "hold_agreed_by": "Foster father (synthetic)"})
    assert placed.status_code == 201, placed.content
    current = placed.json()["placements"][0]
    assert current["resource_name"] == "Rivera Family" and placed.json()["holds"][0]["in_force"]
    again = post(client, "/api/placements", {"youth_id": pw.youth, "resource_id": family, "started_at": now})
    assert again.status_code == 422 and "youth" in fields_named(again)

    absence = post(client, f"/api/placements/{current['id']}/absences",
                   {"version": current["version"], "started_at": clock.now().isoformat()})
    assert absence.status_code == 201, absence.content
    stale = post(client, f"/api/placements/{current['id']}/absences",
                 {"version": current["version"], "started_at": clock.now().isoformat()})
    assert stale.status_code == 409
    back = post(client, f"/api/absences/{absence.json()['id']}/return",
                {"version": 1, "returned_at": clock.now().isoformat(), "back_in_placement": False})
    assert back.status_code == 200, back.content
    resources = {r["name"]: r for r in client.get("/api/placements/resources").json()}
    assert (resources["Rivera Family"]["placed"], resources["Rivera Family"]["held"]) == (0, 1)
    history = client.get(f"/api/youth/{pw.youth}/placements").json()
    assert history["placements"][0]["end_reason"] == "Absent (ran away)"


def test_validation_and_access_errors_are_clear(client: Any, pw: PlacementWorld) -> None:
    client.force_login(pw.worker)
    naive = post(client, "/api/placements", {"youth_id": pw.youth, "resource_id": str(pw.resources["safe"].public_id),
                                             "started_at": "2026-11-20T21:00:00"})
    assert naive.status_code == 422 and "started_at" in fields_named(naive)
    bad = post(client, f"/api/youth/{pw.youth}/placement-searches", {"types": ["castle"], "language": "xx"})
    assert bad.status_code == 422 and {"types", "language"} <= fields_named(bad)
    client.force_login(pw.screener)
    assert client.get("/api/placements/resources").status_code == 403
    assert post(client, f"/api/youth/{pw.youth}/placement-searches", {}).status_code == 403
