"""The API's docs page in a real browser: its contents lead to each operation, under the CSP."""

import pytest

from tests import test_browser

pytestmark = pytest.mark.browser

# The browser tests' fixtures: Chromium, a signed-in Lead, and the console errors it records.
chromium_path = test_browser.chromium_path
lead = test_browser.lead
browser_page = test_browser.browser_page


def test_the_docs_contents_lead_to_an_operation_without_a_console_error(
    browser_page, live_server
) -> None:
    page, console_errors = browser_page
    page.goto(live_server.url + "/api/v1/docs")
    page.locator('[data-contents="mutes_change"]').click()
    page.wait_for_url("**/api/v1/docs#op-mutes_change")
    heading = page.locator("#op-mutes_change")
    assert heading.is_visible() and heading.evaluate(
        "element => element.getBoundingClientRect().top < window.innerHeight"
    )
    assert page.locator('#op-mutes_change ~ div [data-field="expected"]').count() == 1
    assert console_errors == []
