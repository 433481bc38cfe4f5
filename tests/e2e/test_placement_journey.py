"""A placement worker finds an emergency bed tonight for a 13-year-old girl recovered
from exploitation: records a caregiver complicit in her exploitation, searches, sees that
resource left out with the rule named, places her with a CSEC-trained foster family that
agrees to no reject, no eject; when she goes missing the absence is recorded (the board
shows her first), she is found and not returned, and the next search ranks the family
that holds her bed first."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import CHROMIUM, CHROMIUM_MISSING
from tests.e2e.test_case_journey import sign_in

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason=CHROMIUM_MISSING)


@pytest.mark.e2e
def test_a_bed_tonight_a_hold_through_an_absence_and_back_to_the_same_caregiver(
    new_page: Any, directory: dict[str, Any], make_user: Any, make_record: Any, screenshot_dir: Path
) -> None:
    from nowrongdoor import clock
    from nowrongdoor.placements.models import Placement
    from tests.placements.conftest import make_resource

    cws = directory["child_welfare"]
    worker = make_user("placement_worker", cws)
    today = clock.today()
    record = make_record(worker, seed=2031, index=6, sex="female", language="es",
                         date_of_birth=dt.date(today.year - 14, today.month, 1) + dt.timedelta(days=40))
    family = make_resource(cws.county, cws, "Rivera Family (synthetic)", "foster_family", capacity=2,
                           csec_trained=True, accepts_holds=True)
    shelter = make_resource(cws.county, cws, "Harbor Shelter (synthetic)", "emergency_shelter", capacity=6,
                            languages=["en", "es"])
    make_resource(cws.county, cws, "Oak Boys Home (synthetic)", "group_home", genders_served=["boys"])

    page = new_page()
    sign_in(page, worker)
    page.goto(f"/youth/{record.youth.public_id}/")
    page.locator("#placements-link").click()
    expect(page.locator("h1")).to_contain_text("Placements")
    page.get_by_label("A caregiver complicit in this youth's exploitation").select_option(
        label=f"Caregiver of {shelter.name} (synthetic) ({shelter.name})")
    page.get_by_role("button", name="Never place with this caregiver").click()
    page.get_by_role("button", name="Find placements").click()
    expect(page.locator("h1")).to_contain_text("Placement options")
    expect(page.locator("#options li").first).to_contain_text(family.name)
    expect(page.locator("#excluded")).to_contain_text("Caregiver complicit in this youth's exploitation")
    expect(page.locator("#excluded")).to_contain_text("Does not serve this gender")
    page.screenshot(path=screenshot_dir / "placement-search.png", full_page=True)

    first = page.locator("#options li").first
    first.locator("label[for='hold-1']").click()  # USWDS draws the box on the label
    first.get_by_label("Caregiver who agreed").fill("Foster mother (synthetic)")
    first.get_by_role("button", name="Place here").click()
    expect(page.locator("#current-placement")).to_contain_text(family.name)
    expect(page.locator("#holds")).to_contain_text("in force")

    page.get_by_role("button", name="Record the absence").click()
    expect(page.locator("#missing-tag")).to_be_visible()
    page.goto("/placements/")
    expect(page.locator("#placed-now")).to_contain_text("missing since")
    page.goto(f"/youth/{record.youth.public_id}/placements/")
    page.get_by_label("Where the youth was, if known").fill("Found by police downtown (synthetic)")
    page.locator("label[for='back-no']").click()
    page.locator("#return-form").get_by_role("button", name="Record the return").click()
    expect(page.locator("#current-placement")).to_contain_text("No current placement")
    expect(page.locator("#holds")).to_contain_text("in force")

    page.get_by_role("button", name="Find placements").click()
    top = page.locator("#options li").first
    expect(top).to_contain_text(family.name)
    expect(top).to_contain_text("Holds a bed for this youth")
    top.get_by_role("button", name="Place here").click()
    expect(page.locator("#current-placement")).to_contain_text(family.name)
    assert Placement.objects.filter(youth=record.youth, resource=family).count() == 2
    assert not page.problems.console_errors and not page.csp_violations(), page.problems
