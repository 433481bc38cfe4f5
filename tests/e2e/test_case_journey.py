"""A case manager opens a case from the youth's page, adds a detective from another
agency to the youth's team, records the first MDT meeting with an action item for the
detective, records the stage of change and refers the youth to a
shelter (with the youth's consent on file); the detective then finds the case in their
own caseload (the MDT sharing window is open)."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import CHROMIUM, CHROMIUM_MISSING, PASSWORD

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason=CHROMIUM_MISSING)


def sign_in(page: Any, user: Any) -> None:
    page.goto("/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


@pytest.mark.e2e
def test_open_a_case_add_a_member_from_another_agency_record_the_stage_and_refer(
    new_page: Any, directory: dict[str, Any], make_user: Any, make_record: Any, make_agency: Any
) -> None:
    from nowrongdoor import clock
    from nowrongdoor.access.services import record_consent
    from nowrongdoor.directory.models import Agency, ProviderProfile

    worker = make_user("case_manager", directory["child_welfare"])
    record = make_record(worker, seed=2029, index=4)
    county = directory["child_welfare"].county
    police = Agency.objects.filter(agency_type="law_enforcement", county=county).first()
    detective = make_user("case_manager", police)
    shelter = Agency.objects.filter(agency_type="community_provider", county=county).first()
    ProviderProfile.objects.create(agency=shelter, services=["emergency_shelter", "mentoring"], capacity=6,
                                   openings=2, csec_specialised=True)
    record_consent(actor=worker, youth=record.youth, category="community_services", given_by="youth",
                   given_on=clock.today())

    page = new_page()
    sign_in(page, worker)
    page.goto(f"/youth/{record.youth.public_id}/")
    page.get_by_text("Open a case for this youth").click()
    page.get_by_label("Why (for the team)").fill("Clear indicators at intake (synthetic journey).")
    page.get_by_role("button", name="Open the case").click()
    expect(page.locator("h1")).to_contain_text("Case:")
    page.get_by_label("Add a member (user name, any agency)").fill(detective.username)
    page.get_by_label("Their part in the team").fill("Detective, human trafficking unit")
    page.get_by_role("button", name="Add to the team").click()
    expect(page.locator("#team")).to_contain_text(police.name)
    page.get_by_text("Record a meeting").click()
    page.locator("label[for='att-1']").click()
    page.get_by_label("Decisions").fill("Shelter bed tonight; forensic interview next week (synthetic).")
    page.get_by_label("What 1").fill("Arrange the forensic interview")
    page.locator("#item_1_owner").fill(detective.username)
    page.locator("#item_1_due").fill("2099-01-01")
    page.get_by_role("button", name="Record the meeting").click()
    expect(page.locator("#meetings")).to_contain_text("forensic interview next week")
    page.get_by_label("Stage", exact=True).select_option("contemplation")
    page.get_by_role("button", name="Record the stage").click()
    expect(page.locator("#stage-path")).to_contain_text("ontempla")
    expect(page.locator("#stage-goals li").first).to_be_visible()
    page.get_by_label("Provider (with openings; CSEC-specialised first)").select_option(str(shelter.pk))
    page.locator("label[for='svc-emergency_shelter']").click()
    page.get_by_role("button", name="Send the referral").click()
    expect(page.locator("#referrals")).to_contain_text(shelter.name)
    expect(page.locator("#referrals")).to_contain_text("Sent")
    assert not page.problems.console_errors and not page.csp_violations()

    other = new_page()
    sign_in(other, detective)
    other.goto("/cases/")
    expect(other.locator("#caseload")).to_contain_text(directory["child_welfare"].name)
    other.locator("#caseload a").first.click()
    expect(other.locator("#team")).to_contain_text("Detective, human trafficking unit")
    other.goto("/work/")
    expect(other.get_by_role("link", name="Arrange the forensic interview")).to_be_visible()
    assert not other.problems.console_errors and not other.csp_violations()
