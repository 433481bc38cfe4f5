"""Fixtures for end-to-end journeys: Debian's Chromium driven by Playwright against ``live_server``.

The browser is started once for all end-to-end tests; every test gets fresh browser contexts
(no shared cookies). Every page opened through ``new_page`` records what a careful reviewer would want
to see fail a test: console errors, uncaught script errors, Content-Security-Policy
violations and failed responses.

The people and records come from the synthetic generator (``ensure_directory``, ``generate``
and the ``make_record`` fixture), never typed by hand.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_MISSING = "Chromium not installed at /usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
PASSWORD = "a-long-test-password"  # what the root conftest's ``make_user`` sets
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "img"

# Collected in the page before any of its own scripts run: CSP violations are also reported
# to the console, but this keeps the blocked directive and resource in a structured form.
_CSP_LISTENER = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  const where = `${e.sourceFile}:${e.lineNumber}`;
  window.__cspViolations.push(`${e.violatedDirective} blocked ${e.blockedURI || "inline"} (${where})`);
});
"""


@dataclass
class PageProblems:
    """Everything that went wrong in one page's life, as readable strings."""

    console_errors: list[str] = field(default_factory=list)
    script_errors: list[str] = field(default_factory=list)
    failed_responses: list[str] = field(default_factory=list)

    def clear(self) -> None:
        self.console_errors.clear()
        self.script_errors.clear()
        self.failed_responses.clear()


def _console_error(msg: Any) -> str:
    where = msg.location.get("url", "")
    return f"{msg.text} [{where}]" if where else msg.text


@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    """One Chromium for every end-to-end test, closed as soon as the last of them has run.

    While Playwright's sync API is alive it keeps an asyncio event loop running in the test
    thread, and Django then refuses ORM calls from that thread (fixtures, the database flush)
    unless DJANGO_ALLOW_ASYNC_UNSAFE is set. The browser is therefore scoped to this package,
    not the session, and the variable is set only for as long as the browser lives: a
    session-long loop and variable would reach every later test (``manage check --deploy``
    run in a subprocess inherits the variable and fails with async.E001).
    """
    if not CHROMIUM.exists():
        pytest.skip(CHROMIUM_MISSING)
    from playwright.sync_api import sync_playwright

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
            yield browser
            browser.close()


@pytest.fixture
def new_page(browser: Any, live_server: Any) -> Iterator[Callable[[], Any]]:
    """Open a page in a fresh browser context (its own cookies: one person at one desk).

    Each page carries ``page.problems`` (a ``PageProblems``) and ``page.csp_violations()``.
    """
    contexts: list[Any] = []

    def open_page() -> Any:
        context = browser.new_context(
            base_url=live_server.url,
            locale="en-US",
            timezone_id="America/Los_Angeles",
            viewport={"width": 1280, "height": 900},
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        page.add_init_script(_CSP_LISTENER)
        problems = PageProblems()
        page.on("console", lambda msg: msg.type == "error" and problems.console_errors.append(_console_error(msg)))
        page.on("pageerror", lambda exc: problems.script_errors.append(str(exc)))
        page.on(
            "response",
            lambda r: r.status >= 400 and problems.failed_responses.append(f"{r.status} {r.request.method} {r.url}"),
        )
        page.problems = problems
        page.csp_violations = lambda: page.evaluate("window.__cspViolations || []")
        return page

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page: Callable[[], Any]) -> Any:
    return new_page()


@pytest.fixture
def directory(transactional_db: None) -> dict[str, Any]:
    """The synthetic county (agencies of every type, demo sharing agreements) with 40 synthetic youth
    known to its agencies, so searches run against a populated county, not an empty one."""
    from nowrongdoor.synth.generator import ensure_directory, generate

    _, agencies, _ = ensure_directory(1)
    generate(youth=40, seed=11)
    return {
        "probation": agencies[(0, "probation", 0)],
        "child_welfare": agencies[(0, "child_welfare", 0)],
        "teen_clinic": agencies[(0, "health", 1)],
    }


@pytest.fixture
def screenshot_dir(tmp_path: Path) -> Path:
    """docs/img when NWD_SCREENSHOTS=1 (to refresh the README tour), else a throwaway folder."""
    if os.environ.get("NWD_SCREENSHOTS") != "1":
        return tmp_path
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
