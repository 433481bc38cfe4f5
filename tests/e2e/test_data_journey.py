"""A state analyst opens Data: chooses a year and a county, sees charts with the table
under each and the definition beside it, masked cells marked as masked, and downloads
a table as CSV; a county analyst cannot choose another county."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import CHROMIUM, CHROMIUM_MISSING
from tests.e2e.test_case_journey import sign_in

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason=CHROMIUM_MISSING)


@pytest.mark.e2e
def test_an_analyst_reads_the_figures_and_downloads_a_table(
    new_page: Any, transactional_db: None, make_user: Any, screenshot_dir: Path, tmp_path: Path,
    monkeypatch: Any,
) -> None:
    from nowrongdoor.analytics.services import refresh_snapshot
    from nowrongdoor.directory.models import Agency, County
    from nowrongdoor.synth.generator import generate

    monkeypatch.setenv("NOWRONGDOOR_ANALYTICS_PATH", str(tmp_path / "analytics.duckdb"))
    generate(youth=2500, seed=2013, counties=2)
    counties = list(County.objects.order_by("name"))
    home = Agency.objects.filter(county=counties[0], agency_type="child_welfare").first()
    refresh_snapshot(actor=make_user("system_admin", home))
    analyst = make_user("state_analyst", home)

    page = new_page()
    sign_in(page, analyst)
    page.get_by_role("link", name="Data").click()
    expect(page.locator("h1")).to_contain_text("all counties")
    page.get_by_label("Year", exact=True).select_option("2025")
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(r"[?&]year=2025\b"))  # the old page may already say 2025 (the default)
    expect(page.locator("h1")).to_contain_text("2025")

    flagged = page.locator("#measure-flagged")
    expect(flagged.locator("svg.nwd-chart")).to_be_visible()
    expect(flagged.locator("table")).to_contain_text("Identified as victims")
    expect(flagged).to_contain_text("unduplicated across agencies")
    expect(page.locator("#measure-gender table")).to_contain_text("Boys")
    expect(page.locator("#prevention-ranking")).to_contain_text(counties[1].name)
    page.locator("#section-1").scroll_into_view_if_needed()
    page.evaluate("window.scrollBy(0, -20)")
    page.screenshot(path=screenshot_dir / "data-dashboard.png", full_page=False)

    page.get_by_label("Area", exact=True).select_option(counties[0].name)
    page.get_by_role("button", name="Show").click()
    expect(page.locator("h1")).to_contain_text(counties[0].name)
    expect(page.locator(".nwd-masked").first).to_be_visible()
    with page.expect_download() as download:
        page.locator("#measure-age").get_by_role("link", name="CSV").click()
    text = Path(download.value.path()).read_text()
    assert text.startswith("measure,year,county,") and counties[0].name in text and "All counties" in text
    assert not page.problems.console_errors and not page.csp_violations(), page.problems

    county_analyst = make_user("analyst", home)
    other = new_page()
    sign_in(other, county_analyst)
    other.goto("/data/")
    options = other.locator("#county option").all_text_contents()
    assert counties[0].name in options and counties[1].name not in options
