"""A probation screener completes the short screening in the browser and reads the result."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import CHROMIUM, CHROMIUM_MISSING, PASSWORD

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason=CHROMIUM_MISSING)


@pytest.mark.e2e
def test_screener_completes_a_short_form_and_sees_level_reasons_and_next_steps(
    new_page: Any, directory: dict[str, Any], make_user: Any, make_record: Any
) -> None:
    from nowrongdoor.screening.instruments import for_agency_type

    screener = make_user("screener", directory["probation"])
    record = make_record(screener, seed=2027, index=5)
    instrument = for_agency_type("probation")[0]
    clear = next(i for i in instrument.form_items("short") if i.kind == "clear_indicator")

    page = new_page()
    page.goto("/login/")
    page.get_by_label("Username").fill(screener.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"/youth/{record.youth.public_id}/")
    page.get_by_role("link", name="Screen this youth").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Screen a youth")
    page.get_by_role("button", name="Start screening").click()
    expect(page.locator("#wizard")).to_be_visible()  # the mark below goes on the wizard's window, not the old one

    # One domain per step: answer "No" everywhere except the clear indicator, then finish.
    # HTMX swaps each part in place: a mark left on the window survives every step.
    page.evaluate("window.nwdSamePage = true")
    for _ in range(20):
        expect(page.locator("aside.nwd-guidance")).to_contain_text("Avoid")
        for fieldset in page.locator("form fieldset").all():
            radios = fieldset.locator("input[type=radio]")
            if not radios.count():
                fieldset.locator("input").fill("0")
                continue
            values = [radios.nth(n).get_attribute("value") for n in range(radios.count())]
            is_clear_item = fieldset.locator(f"#answer_{clear.id}_yes").count() > 0
            value = "yes" if is_clear_item else next(v for v in ("no", "no_concern", "unknown") if v in values)
            fieldset.locator(f"label[for$='_{value}']").click()
        finish = page.get_by_role("button", name="Finish and see the result")
        if finish.count():
            assert page.evaluate("window.nwdSamePage === true"), "a step reloaded the whole page"
            finish.click()
            break
        part = page.locator("#wizard p.nwd-muted").inner_text()
        page.get_by_role("button", name="Save and continue").click()
        expect(page.locator("#wizard p.nwd-muted")).not_to_have_text(part)
        expect(page).to_have_url(re.compile(r"\?step=\d+$"))

    expect(page.get_by_role("heading", level=1)).to_have_text("Screening result")
    expect(page.locator("#level-heading")).to_have_text("Clear indicators of exploitation")
    expect(page.get_by_text("This is a screening, not a determination.")).to_be_visible()
    expect(page.locator("#drivers")).to_contain_text(clear.text["en"])
    assert page.locator("#next-steps li").count() >= 1
    assert not page.problems.console_errors and not page.csp_violations()

    page.get_by_role("link", name="Back to the youth").click()
    expect(page.locator("#screenings")).to_contain_text("Clear indicators of exploitation")
