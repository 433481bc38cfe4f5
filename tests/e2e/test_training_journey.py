"""Two journeys of issue 9 in Chromium.

- A young person, without signing in, opens the public help page, picks their county and
  sees who to call, switches to Spanish, and prints it; the browser holds no cookie.
- An agency administrator sees a screener's missing course, assigns it with a due date,
  then records the completion; the screener sees it current under My training.
"""

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
def test_a_young_person_finds_help_in_their_county_in_english_and_spanish_without_a_cookie(
    new_page: Any, make_agency: Any, county: Any, screenshot_dir: Path
) -> None:
    hotline = make_agency("child_welfare", name="Alder Children and Family Services (synthetic)")
    hotline.public_phone, hotline.public_help = "(555) 0100-1234", "Child abuse hotline, day or night"
    hotline.save()
    make_agency("probation", name="Alder Probation (synthetic)")  # no public number: not listed

    page = new_page()
    page.goto("/help/")
    page.locator("#youth-link").click()
    expect(page.locator("h1")).to_have_text("Is someone using you for sex?")
    expect(page.get_by_role("heading", name="It is not your fault")).to_be_visible()
    page.get_by_label("Your county", exact=True).select_option(str(county.pk))
    page.get_by_role("button", name="Show the numbers").click()
    contacts = page.locator("#contact-list")
    expect(contacts).to_contain_text("(555) 0100-1234")
    expect(contacts).not_to_contain_text("Probation")
    page.screenshot(path=screenshot_dir / "public-help.png", full_page=False)

    page.locator("#language-link").click()
    expect(page.locator("h1")).to_have_text("¿Alguien te está usando para el sexo?")
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.locator("#contact-list")).to_contain_text("(555) 0100-1234")  # the county carried over

    page.emulate_media(media="print")
    expect(page.locator("#county-form")).to_be_hidden()
    expect(page.locator("#contact-list")).to_be_visible()

    assert page.context.cookies() == []
    assert page.locator("script").count() == 0
    assert not page.problems.console_errors and not page.csp_violations(), page.problems


@pytest.mark.e2e
def test_an_administrator_assigns_a_missing_course_and_records_its_completion(
    new_page: Any, make_agency: Any, make_user: Any, screenshot_dir: Path
) -> None:
    from nowrongdoor import clock

    probation = make_agency("probation")
    admin = make_user("agency_admin", probation)
    screener = make_user("screener", probation, first_name="Maya", last_name="Reyes (synthetic)",
                         date_joined=clock.now() - dt.timedelta(days=200))  # past the new-staff grace
    due = clock.today() + dt.timedelta(days=30)

    page = new_page()
    sign_in(page, admin)
    page.get_by_role("link", name="Training").click()
    row = page.locator("#people tr", has_text="Maya Reyes (synthetic)")
    expect(row).to_contain_text("Screening for exploitation in your setting")
    expect(page.locator("#lapsed-list")).to_contain_text("Maya Reyes (synthetic)")

    page.get_by_label("Person").select_option(f"staff:{screener.username}")
    page.get_by_label("Course").select_option("csec_screening")
    page.get_by_label("Due by (to assign)").fill(due.isoformat())
    page.get_by_role("button", name="Assign the course").click()
    expect(page.get_by_text("Saved.")).to_be_visible()
    row = page.locator("#people tr", has_text="Maya Reyes (synthetic)")
    expect(row).to_contain_text(f"by {due.isoformat()}")
    page.screenshot(path=screenshot_dir / "training-compliance.png", full_page=False)

    page.get_by_label("Person").select_option(f"staff:{screener.username}")
    page.get_by_label("Course").select_option("csec_screening")
    page.get_by_label("Completed on (to record a completion)").fill(clock.today().isoformat())
    page.get_by_role("button", name="Record the completion").click()
    expect(page.get_by_text("Saved.")).to_be_visible()
    row = page.locator("#people tr", has_text="Maya Reyes (synthetic)")
    expect(row.locator("li", has_text="Screening for exploitation in your setting")).to_contain_text("current")
    assert not page.problems.console_errors and not page.csp_violations(), page.problems

    mine = new_page()
    sign_in(mine, screener)
    mine.get_by_role("link", name="Training").click()
    expect(mine.locator("#my-courses")).to_contain_text("Screening for exploitation in your setting")
    expect(mine.locator("#my-courses tr", has_text="Screening for exploitation")).to_contain_text("current")
