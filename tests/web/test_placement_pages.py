"""The placement pages render and their forms work without JavaScript: search, place
with a hold, record an absence and the return, and the board and directory that count
held beds."""
# ruff: noqa: F811 (the ``pw`` fixture is imported from the placement tests)

from __future__ import annotations

import re
from typing import Any

import pytest

from nowrongdoor.placements import services
from nowrongdoor.placements.models import Absence, Hold, MatchRun, Placement
from tests.placements.conftest import PlacementWorld, pw  # noqa: F401 (the fixture)

pytestmark = pytest.mark.django_db


def _search(client: Any, pw: PlacementWorld, **extra: Any) -> str:
    response = client.post(f"/youth/{pw.youth}/placements/", {"action": "search", **extra})
    assert response.status_code == 302, response.content[:500]
    return str(response["Location"])


def test_a_worker_searches_places_with_a_hold_and_records_an_absence(client: Any, pw: PlacementWorld) -> None:
    client.force_login(pw.worker)
    page = client.get(f"/youth/{pw.youth}/placements/").content.decode()
    assert 'id="search-form"' in page and 'id="complicity-form"' in page
    url = _search(client, pw, types=["foster_family", "safe_home"])
    result = client.get(url).content.decode()
    assert "Lantern Safe Home" in result and "Rivera Family" in result
    assert "Not a type you asked for" in result  # the shelter and the group homes, with the rule named
    run = MatchRun.objects.get()
    family = pw.resources["family"]
    response = client.post(url, {"resource": str(family.public_id), "at": "", "hold": "yes", "hold_days": "60",
                                 "agreed_by": "Foster mother (synthetic)"})
    assert response.status_code == 302
    placement = Placement.objects.get()
    hold = Hold.objects.get()
    assert placement.match_run == run and (hold.expires_on - hold.starts_on).days == 60
    page = client.get(f"/youth/{pw.youth}/placements/").content.decode()
    assert "Rivera Family" in page and 'id="absence-form"' in page
    response = client.post(f"/youth/{pw.youth}/placements/", {
        "action": "absence", "placement": str(placement.public_id), "version": str(placement.version), "at": ""})
    assert response.status_code == 302
    page = client.get(f"/youth/{pw.youth}/placements/").content.decode()
    assert 'id="missing-tag"' in page and 'id="return-form"' in page
    board = client.get("/placements/").content.decode()
    assert "missing since" in board
    absence = Absence.objects.get()
    response = client.post(f"/youth/{pw.youth}/placements/", {
        "action": "return", "absence": str(absence.public_id), "version": str(absence.version), "at": "",
        "back": "no", "whereabouts": "Found (synthetic)"})
    assert response.status_code == 302
    directory = client.get("/placements/resources/").content.decode()
    beds = re.search(r"Rivera Family.*?<td>(\d+): (\d+) / (\d+) / <strong>(-?\d+)</strong>", directory, re.S)
    assert beds and beds.groups() == ("2", "0", "1", "1")


def test_bad_input_names_the_field_and_keeps_the_page(client: Any, pw: PlacementWorld) -> None:
    client.force_login(pw.worker)
    response = client.post(f"/youth/{pw.youth}/placements/", {"action": "search", "types": ["castle"]})
    assert response.status_code == 200 and "types: unknown placement type castle" in response.content.decode()
    response = client.post(f"/youth/{pw.youth}/placements/", {"action": "end", "placement": "x", "version": "1",
                                                              "at": "not-a-date", "reason": "moved"})
    assert response.status_code == 200 and "at: must be a date and time" in response.content.decode()
    response = client.post(f"/youth/{pw.youth}/placements/", {"action": "teleport"})
    assert response.status_code == 400


def test_a_full_resource_cannot_be_taken_from_a_stale_result_page(client: Any, pw: PlacementWorld,
                                                                   make_record: Any) -> None:
    client.force_login(pw.worker)
    url = _search(client, pw)
    safe = pw.resources["safe"]
    safe.capacity = 1
    safe.save()
    other = make_record(pw.worker, sex="female", date_of_birth=pw.record.date_of_birth)
    services.place(actor=pw.worker, youth_public_id=str(other.youth.public_id), resource_public_id=str(safe.public_id),
                   started_at=MatchRun.objects.get().requested_at)
    response = client.post(url, {"resource": str(safe.public_id), "at": ""})
    assert response.status_code == 200 and "No bed free" in response.content.decode()
    assert Placement.objects.filter(youth__public_id=pw.youth).count() == 0


def test_roles_without_case_coordination_do_not_get_the_pages(client: Any, pw: PlacementWorld) -> None:
    client.force_login(pw.screener)
    assert client.get("/placements/resources/").status_code == 403
    assert client.get("/placements/").status_code == 403


def test_the_pages_speak_spanish(client: Any, pw: PlacementWorld) -> None:
    client.force_login(pw.worker)
    page = client.get(f"/youth/{pw.youth}/placements/", headers={"accept-language": "es"}).content.decode()
    assert "Buscar" in page or "colocaci" in page.lower()
