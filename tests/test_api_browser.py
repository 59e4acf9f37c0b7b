"""The API's docs page in a real browser: Swagger UI draws the schema under the site's CSP."""

import pytest

from tests import test_browser

pytestmark = pytest.mark.browser

# The browser tests' fixtures: Chromium, a signed-in Lead, and the console errors it records.
chromium_path = test_browser.chromium_path
lead = test_browser.lead
browser_page = test_browser.browser_page


def test_the_docs_page_draws_the_api_without_a_csp_violation(browser_page, live_server) -> None:
    page, console_errors = browser_page
    page.goto(live_server.url + "/api/v1/docs")
    page.locator(".swagger-ui .info .title").filter(has_text="muteadmin API").wait_for()
    page.locator("#operations-mutes-mutes_read").wait_for()
    assert not [error for error in console_errors if "Content Security Policy" in error]
    assert console_errors == []
