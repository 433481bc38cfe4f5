"""End-to-end journeys through NoWrongDoor in a real browser (Chromium via Playwright).

Each test is one journey a person takes, written as its specification: who signs in, what
they do, and what they must (and must not) see. Data is set up before the browser starts,
from the synthetic generator, so every test knows exactly which records and contacts exist.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import CHROMIUM, CHROMIUM_MISSING, PASSWORD

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason=CHROMIUM_MISSING)

JOURNEY_SEED = 2026  # synthetic people for the journeys; the background county uses seed 11
JUSTIFICATION = "Police found her at a motel with an adult tonight; I need her placement history to keep her safe."


# -- who and what exists before the browser starts -----------------------------------------------------------


@dataclass(frozen=True)
class YouthAcrossAgencies:
    """One synthetic youth known to probation, child welfare and a teen health clinic."""

    public_id: str
    first_name: str
    last_name: str
    screener: Any  # probation screener
    probation: Any
    child_welfare: Any
    teen_clinic: Any
    clinic_local_id: str
    health_contact_id: str

    @property
    def display_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


@pytest.fixture
def youth_across_agencies(directory, make_user, make_record, make_contact, link_records) -> YouthAcrossAgencies:
    """Probation holds two contacts; child welfare one (shared with probation for screening by the
    county agreement); the teen clinic one health visit (health is shared with child welfare only)."""
    probation, child_welfare, clinic = directory["probation"], directory["child_welfare"], directory["teen_clinic"]
    screener = make_user("screener", probation)
    caseworker = make_user("case_manager", child_welfare)
    nurse = make_user("screener", clinic)

    record = make_record(screener, seed=JOURNEY_SEED, index=1)
    make_contact(screener, record, "probation_intake")
    make_contact(screener, record, "detention", offence_category="runaway_status")

    cws_record = make_record(caseworker, seed=JOURNEY_SEED, index=1)
    make_contact(caseworker, cws_record, "hotline_report", allegations=["sexual_exploitation"])
    link_records(cws_record, record)

    clinic_record = make_record(nurse, seed=JOURNEY_SEED, index=1)
    health = make_contact(nurse, clinic_record, "health_visit", reason="sti_testing")
    link_records(clinic_record, record)

    return YouthAcrossAgencies(
        public_id=str(record.youth.public_id),
        first_name=record.first_name,
        last_name=record.last_name,
        screener=screener,
        probation=probation,
        child_welfare=child_welfare,
        teen_clinic=clinic,
        clinic_local_id=clinic_record.local_id,
        health_contact_id=str(health.public_id),
    )


@dataclass(frozen=True)
class YouthUnknownToProbation:
    public_id: str
    first_name: str
    last_name: str
    date_of_birth: dt.date
    screener: Any
    supervisor: Any


@pytest.fixture
def youth_unknown_to_probation(directory, make_user, make_record, make_contact) -> YouthUnknownToProbation:
    """A youth only the teen clinic knows; probation has no agreement that reaches the clinic."""
    supervisor = make_user("supervisor", directory["probation"])
    screener = make_user("screener", directory["probation"], supervisor=supervisor)
    nurse = make_user("screener", directory["teen_clinic"])
    record = make_record(nurse, seed=JOURNEY_SEED, index=2)
    make_contact(nurse, record, "health_visit", reason="sti_testing")
    return YouthUnknownToProbation(
        public_id=str(record.youth.public_id),
        first_name=record.first_name,
        last_name=record.last_name,
        date_of_birth=record.date_of_birth,
        screener=screener,
        supervisor=supervisor,
    )


# -- what a person does -----------------------------------------------------------------------------------------


def sign_in(page: Page, user: Any) -> None:
    page.goto("/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name=f"Sign out ({user.username})")).to_be_visible()


def search_youth(page: Page, query: str, date_of_birth: dt.date | None = None) -> Any:
    """Use "Find a youth" from the navigation; return the results region once it has an answer."""
    page.get_by_role("navigation", name="Primary navigation").get_by_role("link", name="Find a youth").click()
    page.get_by_label("Name or alias").fill(query)
    if date_of_birth is not None:
        page.get_by_label("Date of birth (optional)").fill(date_of_birth.isoformat())
    page.get_by_role("button", name="Search", exact=True).click()
    results = page.locator("#results")
    expect(results.locator("caption, .nwd-empty")).to_be_visible()
    return results


def open_youth_found_by_last_name(page: Page, youth: YouthAcrossAgencies) -> None:
    results = search_youth(page, youth.last_name)
    link = results.locator(f'a[href*="/youth/{youth.public_id}/"]')
    expect(link).to_have_text(youth.display_name)
    link.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(youth.display_name)


def filter_audit(page: Page, expected_query: str) -> None:
    """Submit the audit log's filters and wait for the filtered page to load: reading the
    table while the browser is still on the old page (or parsing the new one) reads a
    table that is not the filtered one."""
    with page.expect_navigation(url=re.compile(re.escape(expected_query)), wait_until="load"):
        page.get_by_role("button", name="Filter").click()


def audit_rows(page: Page) -> list[dict[str, str]]:
    """The audit table as dicts keyed by column heading (first line of each cell)."""
    headers = page.locator("#audit-table thead th").all_inner_texts()
    rows = []
    for row in page.locator("#audit-table tbody tr").all():
        cells = [c.strip() for c in row.locator("td").all_inner_texts()]
        if len(cells) == len(headers):
            rows.append({h: cell.split("\n")[0].strip() for h, cell in zip(headers, cells, strict=True)})
    return rows


def basic_accessibility_problems(page: Page) -> list[str]:
    """One h1; a lang on <html>; unique ids; every form field labelled by a non-empty label."""
    problems = []
    h1s = page.locator("h1").count()
    if h1s != 1:
        problems.append(f"{h1s} h1 elements")
    if not page.locator("html").get_attribute("lang"):
        problems.append("<html> has no lang")
    problems += page.evaluate(
        """() => {
          const out = [];
          const ids = [...document.querySelectorAll("[id]")].map((e) => e.id);
          for (const id of new Set(ids.filter((id, i) => ids.indexOf(id) !== i))) out.push(`duplicate id ${id}`);
          const fields = [...document.querySelectorAll("input, select, textarea")]
            .filter((e) => !["hidden", "submit", "button", "reset", "image"].includes(e.type));
          for (const e of fields) {
            const labelled = [...(e.labels || [])].some((l) => l.textContent.trim())
              || (e.getAttribute("aria-label") || "").trim() || e.getAttribute("aria-labelledby");
            if (!labelled) out.push(`unlabelled field ${e.outerHTML.slice(0, 120)}`);
          }
          return out;
        }"""
    )
    return problems


# -- the journeys -----------------------------------------------------------------------------------------------


@pytest.mark.e2e
def test_screener_sees_own_and_shared_contacts_and_only_a_count_of_the_withheld_one(
    page: Page, youth_across_agencies: YouthAcrossAgencies
) -> None:
    youth = youth_across_agencies
    sign_in(page, youth.screener)
    open_youth_found_by_last_name(page, youth)

    # Probation's own contacts and child welfare's shared one are on the timeline, with their agency.
    timeline = page.locator(".nwd-timeline > li")
    expect(timeline).to_have_count(3)
    shown = {
        item.locator("h3").inner_text().split(" · ", 1)[1]: item.locator("p").inner_text() for item in timeline.all()
    }
    assert set(shown) == {"Probation intake", "Detention (juvenile hall)", "Child-abuse hotline report"}
    assert shown["Probation intake"].startswith(youth.probation.name)
    assert shown["Detention (juvenile hall)"].startswith(youth.probation.name)
    assert shown["Child-abuse hotline report"].startswith(youth.child_welfare.name)
    # Codes are shown in the data dictionary's words, not as codes.
    assert "Allegations: Commercial sexual exploitation" in shown["Child-abuse hotline report"]
    assert "sexual_exploitation" not in shown["Child-abuse hotline report"]

    # Both visible identities are listed; the clinic's record is only counted.
    identities = [" ".join(t.split()) for t in page.locator("table").first.locator("tbody th").all_text_contents()]
    assert sorted(identities) == sorted([f"{youth.probation.name} yours", youth.child_welfare.name])
    expect(page.locator(".nwd-withheld")).to_contain_text("1 more record of this youth is held by an agency")

    # The health visit is counted, never described.
    expect(page.locator("#withheld-count")).to_have_text(re.compile(r"^\s*1 contact is not shown\b"))
    text = page.locator("body").inner_text()
    for withheld in [
        "Health visit",
        "health_visit",
        "STI testing",
        "sti_testing",
        youth.teen_clinic.name,
        youth.clinic_local_id,
    ]:
        assert withheld not in text, f"the youth page shows {withheld!r}, which is not shared with probation"
    html = page.content()
    assert youth.health_contact_id not in html
    assert 'data-category="health"' not in html


@pytest.mark.e2e
def test_agency_administrator_sees_the_screeners_searches_and_reads_allowed_and_refused(
    new_page: Any, youth_across_agencies: YouthAcrossAgencies, make_user: Any, screenshot_dir: Path
) -> None:
    youth = youth_across_agencies
    screener_page = new_page()
    sign_in(screener_page, youth.screener)
    open_youth_found_by_last_name(screener_page, youth)
    screener_page.screenshot(path=screenshot_dir / "youth-page.png", full_page=True)

    admin = make_user("agency_admin", youth.probation)
    page = new_page()
    sign_in(page, admin)
    page.get_by_role("navigation", name="Primary navigation").get_by_role("link", name="Audit log").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Audit log")
    page.screenshot(path=screenshot_dir / "audit-log.png", full_page=True)

    page.get_by_label("User").fill(youth.screener.username)
    filter_audit(page, f"actor={youth.screener.username}")
    rows = audit_rows(page)
    assert rows, "the screener's events are missing from the audit log"
    assert {r["Who"] for r in rows} == {youth.screener.username}
    outcomes = {(r["Action"], r["Outcome"], r["Basis"]) for r in rows}
    assert ("search", "allowed", "") in outcomes
    assert ("read", "allowed", "own agency") in outcomes
    assert ("read", "allowed", "sharing agreement") in outcomes
    assert any(action == "read" and outcome == "refused" for action, outcome, _ in outcomes)

    page.get_by_text("Refused only", exact=True).click()  # USWDS hides the box itself; people click the label
    expect(page.get_by_label("Refused only")).to_be_checked()
    filter_audit(page, "denied=1")
    refused = audit_rows(page)
    assert refused, "the screener's refused reads are missing from the audit log"
    assert {(r["Who"], r["Action"], r["Outcome"]) for r in refused} == {(youth.screener.username, "read", "refused")}
    # The refused reads were of the clinic's record and health visit, but the log must not
    # tell probation what a teen clinic holds: which data and whose are left out.
    assert {r["Data"] for r in refused} == {""}
    assert youth.teen_clinic.name not in page.locator("#audit-table").inner_text()


@pytest.mark.e2e
def test_emergency_access_reaches_an_unshared_youth_with_a_warning_and_the_supervisor_marks_it_justified(
    new_page: Any, youth_unknown_to_probation: YouthUnknownToProbation
) -> None:
    from nowrongdoor.access.models import BreakGlass

    youth = youth_unknown_to_probation
    full_name = f"{youth.first_name} {youth.last_name}"
    page = new_page()
    sign_in(page, youth.screener)

    results = search_youth(page, full_name, youth.date_of_birth)
    expect(results).to_contain_text("No youth your agency may see matches.")
    expect(results.get_by_role("link")).to_have_count(0)

    page.get_by_text("A child is in danger now and you cannot find them?").click()
    page.get_by_label("Full name").fill(full_name)
    page.get_by_label("Date of birth", exact=True).fill(youth.date_of_birth.isoformat())
    page.get_by_label("Why you need this now").fill(JUSTIFICATION)
    page.get_by_role("button", name="Open emergency access").click()

    expect(page).to_have_url(re.compile(rf"/youth/{youth.public_id}/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(full_name)
    expect(page.get_by_role("alert")).to_contain_text("You are seeing this under emergency access.")
    expect(page.get_by_role("status").filter(has_text="Emergency access is open for 4 hours")).to_be_visible()

    supervisor_page = new_page()
    sign_in(supervisor_page, youth.supervisor)
    expect(supervisor_page.locator("main")).to_contain_text("1 emergency access waits for your review.")
    supervisor_page.get_by_role("navigation", name="Primary navigation").get_by_role("link", name="Reviews").click()
    request = supervisor_page.locator(".usa-summary-box")
    expect(request).to_have_count(1)
    expect(request.get_by_role("heading")).to_contain_text(youth.screener.username)
    expect(request).to_contain_text(JUSTIFICATION)
    request.get_by_role("button", name="Justified", exact=True).click()

    expect(supervisor_page.get_by_role("status")).to_contain_text("Review recorded.")
    expect(supervisor_page.locator(".nwd-empty")).to_have_text("Nothing waits for your review.")
    grant = BreakGlass.objects.get(actor=youth.screener)
    assert (grant.review_outcome, grant.reviewed_by_id) == ("justified", youth.supervisor.pk)


@pytest.mark.e2e
def test_five_wrong_passwords_lock_the_account_even_against_the_right_password(
    new_page: Any, make_agency: Any, make_user: Any
) -> None:
    probation = make_agency("probation")
    user = make_user("screener", probation)
    colleague = make_user("screener", probation)

    def attempt(page: Page, username: str, password: str) -> int:
        page.goto("/login/")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(password)
        with page.expect_response(lambda r: "/login/" in r.url and r.request.method == "POST") as response:
            page.get_by_role("button", name="Sign in").click()
        page.wait_for_load_state()
        return response.value.status

    # Four wrong passwords are not yet a lock: the right one still signs the colleague in.
    page = new_page()
    for _ in range(4):
        attempt(page, colleague.username, "not-the-password")
        expect(page.get_by_role("alert")).to_contain_text("Please enter a correct username and password")
    attempt(page, colleague.username, PASSWORD)
    expect(page.get_by_role("button", name=f"Sign out ({colleague.username})")).to_be_visible()

    # Five are: the sixth attempt, with the right password, does not sign in.
    page = new_page()
    for _ in range(5):
        attempt(page, user.username, "not-the-password")
    status = attempt(page, user.username, PASSWORD)
    assert status != 302, "the locked account was signed in"
    expect(page.locator("body")).to_contain_text(re.compile("locked", re.IGNORECASE))
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login/\?next=/$"))
    expect(page.get_by_role("button", name=re.compile("Sign out"))).to_have_count(0)


@pytest.mark.e2e
def test_pages_load_styled_without_console_errors_or_csp_violations_and_pass_basic_accessibility(
    new_page: Any, youth_across_agencies: YouthAcrossAgencies, make_user: Any
) -> None:
    youth = youth_across_agencies
    findings: dict[str, list[str]] = {}

    def check(page: Page, name: str) -> None:
        page.wait_for_load_state("networkidle")
        findings[name] = [
            *(f"console: {m}" for m in page.problems.console_errors),
            *(f"script error: {m}" for m in page.problems.script_errors),
            *(f"CSP: {m}" for m in page.csp_violations()),
            *(f"response: {m}" for m in page.problems.failed_responses),
            *(f"accessibility: {m}" for m in basic_accessibility_problems(page)),
        ]
        page.problems.clear()

    page = new_page()
    with page.expect_response(lambda r: r.url.endswith("/uswds.min.css")) as stylesheet:
        page.goto("/login/")
    assert stylesheet.value.status == 200, f"USWDS stylesheet: HTTP {stylesheet.value.status}"
    assert stylesheet.value.header_value("content-type").startswith("text/css")
    # Served and applied: the sign-in button has USWDS's primary blue (#005ea2).
    sign_in_button = page.get_by_role("button", name="Sign in")
    assert sign_in_button.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(0, 94, 162)"
    check(page, "login")
    # Without a declared icon, Chromium fetches /favicon.ico after the load; a 404 there is logged as a
    # console error whenever it lands in time, so it is checked directly rather than left to timing.
    if not page.locator("link[rel~=icon]").count():
        favicon = page.request.get("/favicon.ico")
        if not favicon.ok:
            findings["favicon"] = [f"no <link rel=icon> and GET /favicon.ico answers {favicon.status}"]

    sign_in(page, youth.screener)
    check(page, "sign-in and home")
    search_youth(page, youth.last_name)
    check(page, "search")
    page.locator(f'#results a[href*="/youth/{youth.public_id}/"]').click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(youth.display_name)
    check(page, "youth")

    admin_page = new_page()
    sign_in(admin_page, make_user("agency_admin", youth.probation))
    admin_page.problems.clear()  # the administrator's sign-in pages were checked above, as the screener's
    admin_page.goto("/audit/")
    expect(admin_page.get_by_role("heading", level=1)).to_have_text("Audit log")
    check(admin_page, "audit log")

    problems = [f"{name}: {problem}" for name, found in findings.items() for problem in found]
    assert not problems, "\n".join(problems)


@pytest.mark.e2e
def test_language_switch_in_the_footer_reloads_the_page_in_spanish_and_back(
    page: Page, make_agency: Any, make_user: Any
) -> None:
    user = make_user("screener", make_agency("probation"))
    sign_in(page, user)
    page.get_by_role("navigation", name="Primary navigation").get_by_role("link", name="Find a youth").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")

    # Selected by id, not by label: once Spanish translations exist, "Language" reads "Idioma".
    language = page.locator("footer #language")
    language.select_option("es")
    page.locator("footer").get_by_role("button").click()
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page).to_have_url(re.compile(r"/youth/$"))  # the same page, reloaded
    expect(page.get_by_role("heading", level=1)).to_have_text("Buscar a un joven")
    expect(language).to_have_value("es")

    page.get_by_role("link", name="NoWrongDoor").click()  # another page: the choice is remembered
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.locator("html")).to_have_attribute("lang", "es")

    language.select_option("en")
    page.locator("footer").get_by_role("button").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("footer").get_by_label("Language")).to_have_value("en")
