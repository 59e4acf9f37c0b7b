"""The layout's keyboard and screen-size promises in Chromium: the menu folds on a phone, a skip
link comes first, focus goes to the outcome of a submit (all without JavaScript too), focus shows
as a 2 px ring, and the audit log's rows start on the first screen of a 1366 x 900 display."""

import pytest
from django.urls import reverse
from playwright.sync_api import Page

from tests.axe import axe_violations
from tests.test_browser import chromium_path  # noqa: F401 (a fixture)
from tests.test_browser_pages import DESKTOP, PHONE, _context, browser, seeded  # noqa: F401

pytestmark = pytest.mark.browser

NAV_LINKS = ("Audit log", "Mute report", "Team", "Sign out")


@pytest.fixture
def open_as_lead(seeded, browser, live_server):  # noqa: F811
    """Opens a page signed in as the seeded Lead, at a viewport, with or without JavaScript."""
    contexts = []

    def open_page(path: str, viewport: dict, *, javascript: bool = True) -> Page:
        session = seeded.sessions["Lead"]
        context = _context(browser, live_server.url, session, viewport, javascript=javascript)
        contexts.append(context)
        page = context.new_page()
        page.goto(path)
        return page

    yield open_page
    for context in contexts:
        context.close()


def _visible(page: Page, name: str) -> bool:
    return (
        page.locator("header")
        .get_by_role("link", name=name)
        .or_(page.locator("header").get_by_role("button", name=name))
        .is_visible()
    )


@pytest.mark.parametrize("javascript", [True, False], ids=["script", "no-script"])
def test_on_a_phone_the_navigation_folds_into_a_menu(open_as_lead, javascript) -> None:
    page = open_as_lead(reverse("audit:list"), PHONE, javascript=javascript)
    header = page.locator("header.topbar").bounding_box()
    # One line: the name and the menu button, not four lines of links.
    assert header["height"] < 60
    assert not any(_visible(page, name) for name in NAV_LINKS)
    page.get_by_text("Menu", exact=True).click()
    assert all(_visible(page, name) for name in NAV_LINKS)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
    page.locator("header").get_by_role("link", name="Audit log").click()
    assert page.url.endswith(reverse("audit:list"))


@pytest.mark.parametrize("javascript", [True, False], ids=["script", "no-script"])
def test_on_a_desktop_every_link_shows_without_a_menu(open_as_lead, javascript) -> None:
    page = open_as_lead(reverse("audit:list"), DESKTOP, javascript=javascript)
    assert all(_visible(page, name) for name in NAV_LINKS)
    assert not page.get_by_text("Menu", exact=True).is_visible()


def test_the_skip_link_is_the_first_stop_and_lands_on_the_content(open_as_lead) -> None:
    page = open_as_lead(reverse("audit:list"), DESKTOP)
    page.keyboard.press("Tab")
    focused = page.evaluate("() => document.activeElement.textContent.trim()")
    assert focused == "Skip to main content"
    assert page.locator(".skip-link").bounding_box()["y"] >= 0
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.id") == "main"
    # The next stop is the first field of the page, not the navigation.
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.name") == "account"


def test_focus_goes_to_the_outcome_after_a_submit(open_as_lead) -> None:
    page = open_as_lead(reverse("mutes:account", args=["focus-test"]), PHONE)
    form = page.locator("form.change")
    form.locator('[name="rule"]').select_option("spam")
    form.locator('[name="c2c_seconds"]').select_option("3600")
    form.locator('[name="reason"]').fill("Spam in direct messages.")
    with page.expect_navigation():
        form.locator("[data-apply]").click()
    page.locator("[data-messages]:focus").wait_for()
    assert "focus-test" in page.evaluate("() => document.activeElement.textContent")
    assert axe_violations(page) == []


@pytest.mark.parametrize("javascript", [True, False], ids=["script", "no-script"])
def test_focus_goes_to_the_message_even_without_script(open_as_lead, javascript) -> None:
    page = open_as_lead(reverse("policies:limits"), DESKTOP, javascript=javascript)
    with page.expect_navigation():
        page.locator('form[data-limits-form="Moderator"] button[type=submit]').click()
    page.locator("[data-messages]:focus").wait_for()
    assert "Moderator" in page.evaluate("() => document.activeElement.textContent")


@pytest.mark.parametrize("javascript", [True, False], ids=["script", "no-script"])
def test_focus_goes_to_the_first_field_refused(open_as_lead, javascript) -> None:
    page = open_as_lead(reverse("mutes:account", args=["focus-test"]), PHONE, javascript=javascript)
    form = page.locator("form.change")
    form.locator('[name="c2c_seconds"]').select_option("3600")
    with page.expect_navigation():
        form.locator("[data-apply]").click()
    # The rule is the first field refused (the reason, refused too, comes later).
    page.locator('[name="rule"][aria-invalid=true]:focus').wait_for()
    described = page.evaluate("() => document.activeElement.getAttribute('aria-describedby')")
    errors = [page.locator(f"#{name}").inner_text() for name in described.split()]
    assert "Pick the rule this change is made under; the reason adds the details." in errors


def test_a_refused_sign_in_takes_the_focus(seeded, browser, live_server) -> None:  # noqa: F811
    context = _context(browser, live_server.url, None, PHONE)
    page = context.new_page()
    page.goto(reverse("login"))
    page.fill('input[name="username"]', "phone-lead")
    page.fill('input[name="password"]', "not the password")
    with page.expect_navigation():
        page.locator('main button[type="submit"]').click()
    page.locator("[data-signin-error]:focus").wait_for()
    context.close()


@pytest.mark.parametrize("selector", ['[name="account"]', "button[type=submit]", "a[data-clear]"])
def test_the_focused_control_shows_a_2px_ring(open_as_lead, selector) -> None:
    page = open_as_lead(reverse("audit:list"), DESKTOP)
    page.locator("main").focus()
    # Tab until the control has focus, as a keyboard user gets there.
    for _ in range(60):
        page.keyboard.press("Tab")
        if page.evaluate(f"() => document.activeElement.matches('main {selector}')"):
            break
    ring = page.evaluate(
        "() => { const s = getComputedStyle(document.activeElement);"
        " return [s.outlineStyle, s.outlineWidth]; }"
    )
    assert ring == ["solid", "2px"]


def test_the_audit_rows_start_on_the_first_screen_and_the_chart_folds(open_as_lead) -> None:
    page = open_as_lead(reverse("audit:list"), DESKTOP)
    first_row = page.locator("tr[data-entry]").first.bounding_box()
    assert first_row["y"] + first_row["height"] <= DESKTOP["height"]
    chart = page.locator("[data-chart] svg.chart")
    assert not chart.is_visible()
    page.get_by_text("Actions per day").click()
    assert chart.is_visible()


def test_on_a_phone_each_audit_row_shows_its_account(open_as_lead) -> None:
    page = open_as_lead(reverse("audit:list"), PHONE)
    account = page.locator("tr[data-entry] td[data-label=Account] a").first
    box = account.bounding_box()
    assert account.is_visible() and box["x"] + box["width"] <= PHONE["width"]
