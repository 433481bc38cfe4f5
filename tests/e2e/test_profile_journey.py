"""Issue 10 in Chromium: a system administrator reads the jurisdiction profiles, applies
the Los Angeles profile to a county, and compares it with the defaults for a youth
detained on a prostitution-related charge; the county's table shows the new revision."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import CHROMIUM, CHROMIUM_MISSING
from tests.e2e.test_case_journey import sign_in

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason=CHROMIUM_MISSING)


@pytest.mark.e2e
def test_an_administrator_applies_a_profile_and_compares_it_with_the_defaults(
    new_page: Any, county: Any, make_user: Any, screenshot_dir: Path
) -> None:
    admin = make_user("system_admin", None)
    page = new_page()
    sign_in(page, admin)
    page.get_by_role("link", name="Profiles").click()
    expect(page.locator("#profiles")).to_contain_text("Los Angeles County: probation's First 48")
    row = page.locator("#county-profiles tr", has_text=county.name)
    expect(row).to_contain_text("Defaults (no profile)")
    row.get_by_label("Profile", exact=True).select_option("los_angeles_first_48")
    row.get_by_label("Why (kept in the history and the audit log)").fill("The board adopted the First 48 model")
    row.get_by_role("button", name="Apply").click()
    expect(page.get_by_text("Saved.")).to_be_visible()
    row = page.locator("#county-profiles tr", has_text=county.name)
    expect(row).to_contain_text("los_angeles_first_48@1")
    expect(row).to_contain_text("The board adopted the First 48 model")

    page.get_by_role("link", name="Compare two profiles").click()
    page.get_by_label("Left").select_option("defaults")
    page.get_by_label("Right").select_option("los_angeles_first_48")
    page.get_by_label("Event").select_option("prostitution_detention")
    page.get_by_role("button", name="Compare").click()
    table = page.locator("#comparison")
    medical = table.locator("tr", has_text="Enhanced medical assessment")
    expect(medical).to_contain_text("48 h · probation, case manager")
    expect(medical).to_contain_text("right only")
    expect(table.locator("tr", has_text="Notify child welfare")).to_contain_text("same")
    page.screenshot(path=screenshot_dir / "profile-compare.png", full_page=True)
    assert not page.problems.console_errors and not page.csp_violations(), page.problems
