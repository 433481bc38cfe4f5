"""A clear-indicators screening opens the county's first response at once: the screener
finds the 24-hour hotline report in "My work" and closes it with the referral number."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import CHROMIUM, CHROMIUM_MISSING, PASSWORD

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason=CHROMIUM_MISSING)


@pytest.mark.e2e
def test_a_clear_screening_puts_the_hotline_report_in_my_work_and_the_screener_closes_it(
    new_page: Any, directory: dict[str, Any], make_user: Any, make_record: Any
) -> None:
    from nowrongdoor.protocols.models import Task
    from nowrongdoor.screening import services
    from nowrongdoor.screening.instruments import for_agency_type

    screener = make_user("screener", directory["probation"])
    record = make_record(screener, seed=2028, index=3)
    instrument = for_agency_type("probation")[0]
    answers: dict[str, Any] = {i.id: (0 if i.answer == "count" else "unknown") for i in instrument.form_items("short")}
    clear = next(i for i in instrument.form_items("short") if i.kind == "clear_indicator" and i.answer != "count")
    answers[clear.id] = "yes"
    draft = services.start_screening(actor=screener, youth_public_id=str(record.youth.public_id),
                                     instrument_id=instrument.id)
    services.complete_screening(actor=screener, screening_public_id=str(draft.public_id),
                                expected_version=draft.version, answers=answers)  # evaluated on commit

    page = new_page()
    page.goto("/login/")
    page.get_by_label("Username").fill(screener.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="My work").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My work")
    report = page.get_by_role("link", name="Report to the child-abuse hotline")
    expect(report).to_be_visible()
    report.click()
    page.get_by_role("button", name="Mark as done").click()  # nothing filled in: the browser asks first
    assert Task.objects.get(step_id="report_hotline").status == Task.OPEN
    page.locator("input[name^='evidence_']").first.fill("HOTLINE-SYN-2026-0077")
    page.get_by_role("button", name="Mark as done").click()
    expect(page.locator("#task-status")).to_contain_text("Done")
    expect(page.locator("#evidence")).to_contain_text("HOTLINE-SYN-2026-0077")
    assert Task.objects.get(step_id="report_hotline").status == Task.DONE
    assert not page.problems.console_errors and not page.csp_violations()
