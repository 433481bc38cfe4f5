"""The profile pages, the JSON API and the command line: what a system administrator and
staff see and may do, with errors as 4xx that name the field."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from nowrongdoor.cli import main
from nowrongdoor.directory.models import Agency, County, User
from nowrongdoor.jurisdiction.models import ProfileAssignment
from nowrongdoor.jurisdiction.profiles import in_force
from tests.api.http import post


@pytest.fixture
def admin(make_user: Callable[..., User]) -> User:
    return make_user("system_admin", None)


@pytest.fixture
def officer(make_agency: Callable[..., Agency], make_user: Callable[..., User]) -> User:
    return make_user("case_manager", make_agency("probation"))


def test_the_api_lists_compares_applies_and_checks_diversion(client: Any, admin: User, officer: User,
                                                           county: County) -> None:
    client.force_login(officer)
    listed = client.get("/api/jurisdiction/profiles").json()
    assert {p["id"] for p in listed} >= {"connecticut", "minnesota_no_wrong_door", "school_district"}
    ct = next(p for p in listed if p["id"] == "connecticut")
    assert ct["settings"]["protocols"] == 5 and ct["sources"][0].startswith("report ch. 4")
    found = client.get("/api/jurisdiction/compare", {"left": "defaults", "right": "multnomah",
                                                      "event": "clear_indicators"}).json()
    verdicts = {r["key"]: r["verdict"] for r in found["rows"]}
    assert verdicts["clinician_initial_assessment:initial_assessment"] == "only_right"
    assert verdicts["csec_identified:advocate_meeting"] == "different"
    assert client.get("/api/jurisdiction/compare", {"left": "x", "right": "florida"}).status_code == 422
    refused = post(client, f"/api/jurisdiction/counties/{county.name}/profile",
                   {"profile": "illinois", "reason": "the county board chose this", "revision": 0})
    assert refused.status_code == 403
    no_rules = post(client, "/api/jurisdiction/diversion", {"facts": {"age": 16}})
    assert no_rules.status_code == 422

    client.force_login(admin)
    bad = post(client, f"/api/jurisdiction/counties/{county.name}/profile",
               {"profile": "illinois", "reason": "the county board chose this", "revision": 0,
                "overrides": {"mdt": {"window_days": -3}}})
    assert bad.status_code == 422 and "overrides" in str(bad.json())
    done = post(client, f"/api/jurisdiction/counties/{county.name}/profile",
                {"profile": "minnesota_no_wrong_door", "reason": "the county board chose this", "revision": 0})
    assert (done.status_code, done.json()["label"], done.json()["revision"]) == (200, "minnesota_no_wrong_door@1", 1)
    stale = post(client, f"/api/jurisdiction/counties/{county.name}/profile",
                 {"profile": "florida", "reason": "the county board chose this", "revision": 0})
    assert stale.status_code == 409
    counties = {c["county"]: c for c in client.get("/api/jurisdiction/counties").json()}
    assert counties[county.name]["label"] == "minnesota_no_wrong_door@1"
    assert client.post(f"/api/jurisdiction/counties/{county.name}/profile", data="{", content_type="application/json"
                       ).status_code in (400, 422)

    client.force_login(officer)
    checked = post(client, "/api/jurisdiction/diversion", {"facts": {
        "age": 17, "prior_prostitution_adjudications": 1, "prior_prostitution_diversions": 0,
        "prior_prostitution_probation": False, "prior_prostitution_protection_finding": False,
        "agrees_to_diversion": True}}).json()
    assert (checked["outcome"], checked["deciding"]) == ("not_eligible", "no_prior_adjudication")
    assert post(client, "/api/jurisdiction/diversion", {"facts": {"age": 17}}).status_code == 422


def test_the_pages_show_profiles_apply_one_and_compare(client: Any, admin: User, officer: User,
                                                       county: County) -> None:
    client.force_login(admin)
    page = client.get("/profiles/").content.decode()
    assert "Connecticut: child welfare screens every child entering care" in page and county.name in page
    response = client.post("/profiles/", {"action": "apply", "county": county.name, "profile": "alameda",
                                          "revision": "0", "reason": "the county board chose this",
                                          "overrides": "mdt:\n  window_days: 20\n"})
    assert response.status_code == 302
    assert in_force(county).label == "alameda@1+overrides@1"
    bad = client.post("/profiles/", {"action": "apply", "county": county.name, "profile": "alameda",
                                     "revision": "1", "reason": "again", "overrides": "mdt: [oops"})
    assert bad.status_code == 400 and "not valid YAML" in bad.content.decode()
    garbled = client.post("/profiles/", {"action": "apply", "county": county.name, "profile": "alameda",
                                         "revision": "one", "reason": "the county board chose this"})
    assert garbled.status_code == 400
    assert ProfileAssignment.objects.count() == 1

    detail = client.get("/profiles/los_angeles_first_48/").content.decode()
    assert "Enhanced medical assessment" in detail and "report ch. 4" in detail
    assert client.get("/profiles/atlantis/").status_code == 404
    compared = client.get("/profiles/compare/", {"left": "new_york_safe_harbor", "right": "washington_safe_harbor",
                                                 "event": "prostitution_arrest_17"}).content.decode()
    assert "Refer to diversion" in compared and "Connect the youth to specialised services" in compared
    assert client.get("/profiles/compare/", {"event": "nonsense"}).status_code == 400

    client.force_login(officer)
    page = client.get("/profiles/").content.decode()
    assert "Apply" not in page  # staff read profiles; only a system administrator changes them
    assert client.post("/profiles/", {"action": "apply", "county": county.name, "profile": "florida",
                                      "revision": "1", "reason": "the county board chose this"}).status_code == 403
    assert "sets no diversion" in client.get("/diversion/").content.decode()


def test_the_diversion_page_answers_for_the_countys_rules(client: Any, admin: User, officer: User,
                                                          county: County) -> None:
    from nowrongdoor.jurisdiction import services

    services.apply_profile(actor=admin, county_name=county.name, profile_id="washington_safe_harbor",
                           reason="the county board chose this", expected_revision=0)
    client.force_login(officer)
    answered = client.post("/diversion/", {"age": "16", "prostitution_offences": "2",
                                           "county_has_comprehensive_programme": "yes"})
    assert answered.status_code == 200 and "discretionary" in answered.content.decode()
    wrong = client.post("/diversion/", {"age": "sixteen", "prostitution_offences": "1"})
    assert wrong.status_code == 400 and "must be a number" in wrong.content.decode()


def test_the_command_line_checks_lists_applies_and_compares(admin: User, county: County,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["profile", "check"]) == 0
    assert "11 profiles valid" in capsys.readouterr().out
    assert main(["profile", "list"]) == 0
    assert "minnesota_no_wrong_door@1" in capsys.readouterr().out
    assert main(["profile", "apply", "--county", county.name, "--profile", "georgia", "--reason", "trying it out"]) == 0
    assert "revision 1, georgia@1" in capsys.readouterr().out
    assert main(["profile", "apply", "--county", county.name, "--profile", "nowhere", "--reason", "trying it out"]) == 1
    assert "profile: no profile 'nowhere'" in capsys.readouterr().err
    assert main(["profile", "compare", "defaults", "georgia", "--event", "possible_exploitation"]) == 0
    assert "single_point_of_entry:refer_to_single_point_of_entry" in capsys.readouterr().out
