"""An identity steward links new records (queued for the background worker; the run page
follows it and shows the outcome), finds two agencies' records of what may be one
girl (same common name, day and month of birth swapped), compares them side by side with
the evidence and its weights, decides they are the same youth, and undoes the merge from
the list of merges and splits."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.conftest import run_background_tasks
from tests.e2e.conftest import CHROMIUM, CHROMIUM_MISSING
from tests.e2e.test_case_journey import sign_in

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason=CHROMIUM_MISSING)


@pytest.mark.e2e
def test_a_steward_compares_decides_and_undoes(
    new_page: Any, directory: dict[str, Any], make_user: Any, make_record: Any, screenshot_dir: Path
) -> None:
    from nowrongdoor.identity.model import DEFAULT_MODEL, ModelFile
    from nowrongdoor.identity.models import IdentityChange, PairReview
    from nowrongdoor.youth.models import SourceRecord

    steward = make_user("identity_steward", directory["child_welfare"])
    probation = make_user("screener", directory["probation"])
    clinic = make_user("screener", directory["teen_clinic"])
    first = make_record(probation, first_name="Maria", last_name="Garcia", date_of_birth=dt.date(2011, 2, 5),
                        sex="female")
    second = make_record(clinic, first_name="Maria", last_name="Garcia", date_of_birth=dt.date(2011, 5, 2),
                         sex="female")

    page = new_page()
    sign_in(page, steward)
    page.get_by_role("link", name="Possible matches").click()
    page.get_by_role("button", name="Link new records now").click()
    expect(page.locator("#run-status")).to_contain_text("Waiting for the background worker")
    run_background_tasks()  # what `nowrongdoor worker` does beside the server
    # the run page asks again every second (HTMX) and shows the outcome without a reload
    expect(page.locator(".usa-alert--success")).to_contain_text("Linkage run finished")
    page.get_by_role("link", name="Open the queue of possible matches").click()
    review = PairReview.objects.get(record_l=min(first.pk, second.pk), record_r=max(first.pk, second.pk))
    thresholds = ModelFile.load(DEFAULT_MODEL).thresholds
    assert thresholds.review <= review.match_probability < thresholds.link
    row = page.locator("#identity-queue tr", has=page.locator(f"a[href='/identity/pairs/{review.pk}/']"))
    expect(row).to_contain_text(directory["probation"].name)
    row.get_by_role("link", name="Compare").click()

    expect(page.locator("h1")).to_contain_text("Are these the same youth?")
    expect(page.locator("#pair-records")).to_contain_text("2011-02-05")
    expect(page.locator("#pair-records")).to_contain_text("2011-05-02")
    expect(page.locator("#pair-evidence")).to_contain_text("day and month swapped")
    expect(page.locator("#pair-evidence svg").first).to_be_visible()
    page.screenshot(path=screenshot_dir / "identity-review.png", full_page=True)

    page.locator("label[for='d-same']").click()
    page.get_by_label("Note").fill("Same clinic and probation intake dates (synthetic).")
    page.get_by_role("button", name="Record the decision").click()
    expect(page.locator("h1")).to_contain_text("Possible matches")
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.youth_id == second.youth_id

    page.get_by_role("link", name="Merges and splits").click()
    changes = page.locator("#identity-changes")
    expect(changes).to_contain_text("merge")
    changes.get_by_role("button", name="Undo").first.click()
    expect(page.locator("#identity-changes")).to_contain_text("undone")
    assert SourceRecord.objects.get(pk=first.pk).youth_id != SourceRecord.objects.get(pk=second.pk).youth_id
    assert IdentityChange.objects.get(review=review).undone_at is not None
    assert not page.problems.console_errors and not page.csp_violations(), page.problems
