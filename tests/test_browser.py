"""The account page in a real browser: sign in, mute through the form, watch the countdown run."""

import os
import threading
import time
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.urls import reverse
from playwright.sync_api import ConsoleMessage, Page, sync_playwright

from tests.axe import axe_violations

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-gpu"]
ACCOUNT = "browser-test"
ONE_HOUR = 3600
# Long enough for two or three ticks of the page's one-second countdown.
WAIT_MS = 2500
PASSWORD = "browser-test-password"
# A live server on this machine answers in well under this; failing fast beats a 30 s default.
ACTION_TIMEOUT_MS = 10_000


@pytest.fixture
def chromium_path() -> Path:
    """Debian's Chromium; CI installs it, so there its absence is a failure rather than a skip."""
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing (Debian: apt-get install chromium)"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"{message}; CI must run the browser tests.")
        pytest.skip(f"{message}; browser tests need it.")
    return CHROMIUM


@pytest.fixture
def lead(django_db_serialized_rollback, transactional_db) -> str:
    """A Lead, created before the browser starts: the ORM refuses calls inside its event loop."""
    user = get_user_model().objects.create_user(username="browser-lead", password=PASSWORD)
    user.groups.add(Group.objects.get(name="Lead"))
    return user.username


def countdown(page: Page) -> tuple[int, str]:
    """The C2C card's remaining seconds and the text its countdown shows."""
    card = page.locator('[data-mute="c2c"]')
    seconds = int(card.get_attribute("data-remaining-seconds") or "-1")
    return seconds, card.locator("[data-countdown]").inner_text()


@pytest.fixture
def browser_page(chromium_path, live_server, lead):
    """A Chromium page signed in as the Lead, and the console errors it records."""
    console_errors: list[str] = []

    def record(message: ConsoleMessage) -> None:
        if message.type == "error":
            console_errors.append(message.text)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium_path), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.set_default_timeout(ACTION_TIMEOUT_MS)
            page.on("console", record)
            page.on("pageerror", lambda error: console_errors.append(str(error)))
            page.goto(live_server.url + reverse("login"))
            page.fill('input[name="username"]', lead)
            page.fill('input[name="password"]', PASSWORD)
            page.click('button[type="submit"]')
            page.wait_for_url(live_server.url + reverse("mutes:lookup"))
            yield page, console_errors
        finally:
            browser.close()


def test_muted_account_counts_down_without_console_errors(browser_page, live_server) -> None:
    page, console_errors = browser_page
    page.goto(live_server.url + reverse("mutes:account", args=[ACCOUNT]))
    form = page.locator("form.change")
    form.locator('[name="c2c_seconds"]').select_option(str(ONE_HOUR))
    form.locator('[name="reason"]').fill("Browser test: spam in direct messages.")
    with page.expect_navigation():
        form.locator('button[type="submit"]').click()

    seconds_before, text_before = countdown(page)
    started = time.monotonic()
    assert ONE_HOUR - 60 < seconds_before <= ONE_HOUR
    page.wait_for_timeout(WAIT_MS)
    seconds_after, text_after = countdown(page)
    elapsed = time.monotonic() - started

    # The page ticks once a second: it dropped by the whole seconds that passed, give or take one.
    assert seconds_after < seconds_before
    assert abs((seconds_before - seconds_after) - elapsed) <= 1.5
    assert text_after != text_before
    assert console_errors == []
    assert axe_violations(page) == []


def in_a_thread(function, **kwargs):
    """Run an ORM call outside Playwright's event loop, where Django refuses synchronous queries."""
    failures = []

    def run():
        try:
            function(**kwargs)
        except Exception as exc:  # handed back to the test below
            failures.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if failures:
        raise failures[0]


def mute_for_a_few_seconds(*, username: str, account: str, seconds: int) -> None:
    from muteadmin.mutes.services import mute_change

    user = get_user_model().objects.get(username=username)
    mute_change(account=account, operator=user, reason="Short test mute.", c2c_seconds=seconds)


def test_countdown_reaching_zero_asks_tencent_again(browser_page, live_server, lead) -> None:
    page, console_errors = browser_page
    # Muted only now that the browser is signed in, so the page opens well before the end.
    in_a_thread(mute_for_a_few_seconds, username=lead, account="short-mute", seconds=4)
    page.goto(live_server.url + reverse("mutes:account", args=["short-mute"]))
    assert page.locator('[data-mute="c2c"] [data-countdown]').count() == 1
    # "Not muted" comes only from the server: the countdown ran out and the page asked again.
    page.locator('[data-mute="c2c"]', has_text="Not muted").wait_for()
    assert page.locator('[data-mute="c2c"]').get_attribute("data-remaining-seconds") == "0"
    assert console_errors == []
    assert axe_violations(page) == []


def test_a_permanent_mute_waits_for_the_confirm_button(browser_page, live_server) -> None:
    page, console_errors = browser_page
    page.goto(live_server.url + reverse("mutes:account", args=["confirm-test"]))
    form = page.locator("form.change")
    form.locator('[name="group_seconds"]').select_option("4294967295")
    form.locator('[name="reason"]').fill("Browser test: threats in group chats.")
    with page.expect_navigation():
        form.locator('button[type="submit"]').click()

    # Nothing sent yet: the page says what will happen and offers the button.
    sentence = "Mute confirm-test's group messages permanently (now not muted)."
    assert page.locator("[data-confirm] li").all_inner_texts() == [sentence]
    assert page.locator('[data-mute="group"]').count() == 0
    with page.expect_navigation():
        page.locator("[data-confirm-button]").click()

    assert page.locator("[data-confirm]").count() == 0
    group = page.locator('[data-mute="group"]')
    assert "Permanently muted" in group.inner_text()
    assert "Set by browser-lead" in group.inner_text()
    assert console_errors == []
    assert axe_violations(page) == []


@pytest.fixture
def moderator(django_db_serialized_rollback, transactional_db) -> str:
    """A Moderator (7 days at most alone), created before the browser starts."""
    user = get_user_model().objects.create_user(username="browser-mod", password=PASSWORD)
    user.groups.add(Group.objects.get(name="Moderator"))
    return user.username


def test_a_length_above_the_limit_turns_apply_into_request_approval(
    chromium_path, live_server, moderator
) -> None:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium_path), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.set_default_timeout(ACTION_TIMEOUT_MS)
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto(live_server.url + reverse("login"))
            page.fill('input[name="username"]', moderator)
            page.fill('input[name="password"]', PASSWORD)
            page.click('button[type="submit"]')
            page.wait_for_url(live_server.url + reverse("mutes:lookup"))
            page.goto(live_server.url + reverse("mutes:account", args=[ACCOUNT]))
            form = page.locator("form.change")
            apply, request = form.locator("[data-apply]"), form.locator("[data-request-approval]")
            assert apply.is_visible() and not request.is_visible()
            form.locator('[name="c2c_seconds"]').select_option(str(30 * 86400))
            assert request.is_visible() and not apply.is_visible()
            form.locator('[name="c2c_seconds"]').select_option("custom")
            form.locator('[name="c2c_custom"]').fill("3")
            form.locator('[name="c2c_custom_unit"]').select_option("days")
            assert apply.is_visible() and not request.is_visible()
            form.locator('[name="c2c_custom"]').fill("8")
            assert request.is_visible() and not apply.is_visible()
            form.locator('[name="reason"]').fill("Browser test: a raid's organiser.")
            with page.expect_navigation():
                request.click()
            assert page.locator("[data-waiting-request]").count() == 1
            assert errors == []
            assert axe_violations(page) == []
        finally:
            browser.close()


@pytest.fixture
def spam_ladder(lead) -> str:
    """A rule with a ladder, created before the browser starts (as the Lead is)."""
    from muteadmin.rules.models import Rule

    Rule.objects.create(
        code="spam", title_en="Spam", title_zh_hans="垃圾信息", ladders={"c2c": [ONE_HOUR]}
    )
    return "spam"


def test_picking_a_rule_suggests_its_next_step_and_keeps_the_reason(
    spam_ladder, browser_page, live_server
) -> None:
    page, console_errors = browser_page
    page.goto(live_server.url + reverse("mutes:account", args=[ACCOUNT]))
    form = page.locator("form.change")
    form.locator('[name="reason"]').fill("Browser test: links to a scam shop.")
    with page.expect_navigation():
        form.locator('[name="rule"]').select_option(spam_ladder)
    assert page.url.endswith(f"?rule={spam_ladder}")
    suggestion = page.locator("[data-ladder-suggestion]").inner_text()
    assert suggestion == "1st time under spam in 90 days: C2C 1 hour suggested"
    form = page.locator("form.change")
    assert form.locator('[name="c2c_seconds"]').input_value() == str(ONE_HOUR)
    assert form.locator('[name="group_seconds"]').input_value() == ""
    assert form.locator('[name="reason"]').input_value() == "Browser test: links to a scam shop."
    with page.expect_navigation():
        form.locator("[data-apply]").click()
    assert page.locator('[data-mute="c2c"]').get_attribute("data-remaining-seconds") != "0"
    assert console_errors == []
    assert axe_violations(page) == []


@pytest.fixture
def spam_that_notifies(lead) -> str:
    """A rule that tells the user by default, with its own English and Chinese texts."""
    from muteadmin.notices.models import NoticeTemplate
    from muteadmin.rules.models import Rule

    Rule.objects.create(
        code="spam",
        title_en="Spam",
        title_zh_hans="垃圾信息",
        ladders={"c2c": [ONE_HOUR]},
        notify_by_default=True,
    )
    NoticeTemplate.objects.create(
        rule_code="spam", language="en", text="Spam rule: {duration}. {reason}"
    )
    NoticeTemplate.objects.create(
        rule_code="spam", language="zh-hans", text="垃圾信息规则:{duration}。{reason}"
    )
    return "spam"


def test_picking_a_rule_that_notifies_ticks_the_box_and_shows_its_text(
    spam_that_notifies, browser_page, live_server
) -> None:
    page, console_errors = browser_page
    page.goto(live_server.url + reverse("mutes:account", args=[ACCOUNT]))
    form = page.locator("form.change")
    notify, preview = form.locator('[name="notify"]'), form.locator("[data-notice-preview]")
    assert not notify.is_checked() and not preview.is_visible()
    form.locator('[name="reason"]').fill("Browser test: scam links.")
    with page.expect_navigation():
        form.locator('[name="rule"]').select_option(spam_that_notifies)
    form = page.locator("form.change")
    notify = form.locator('[name="notify"]')
    assert notify.is_checked()
    text = form.locator("[data-notice-preview-text]")
    # The reason kept across the reload fills {reason} once the script redraws the preview.
    page.wait_for_function(
        "() => document.querySelector('[data-notice-preview-text]')"
        ".textContent.includes('scam links')"
    )
    assert text.inner_text() == "Spam rule: 1 hour. Browser test: scam links."
    form.locator('[name="notice_language"]').select_option("zh-hans")
    page.wait_for_function(
        "() => document.querySelector('[data-notice-preview-text]')"
        ".textContent.startsWith('垃圾信息规则')"
    )
    assert form.locator("[data-notice-preview-text]").inner_text() == (
        "垃圾信息规则:1小时。Browser test: scam links."
    )
    notify.uncheck()
    assert not form.locator("[data-notice-preview]").is_visible()
    notify.check()
    assert form.locator("[data-notice-preview]").is_visible()
    with page.expect_navigation():
        form.locator("[data-apply]").click()
    shown = page.locator("[data-notice-text]").inner_text()
    assert shown == "垃圾信息规则:1小时。Browser test: scam links."
    with page.expect_navigation():
        page.locator("[data-send-notice]").click()
    assert f"Notice sent to {ACCOUNT}." in page.content()
    page.goto(live_server.url + reverse("sandbox_pages:messages"))
    assert shown in page.content()
    assert console_errors == []
    assert axe_violations(page) == []


def test_unticking_a_rules_notice_sends_none(spam_that_notifies, browser_page, live_server) -> None:
    page, console_errors = browser_page
    page.goto(live_server.url + reverse("mutes:account", args=[ACCOUNT]) + "?rule=spam")
    form = page.locator("form.change")
    assert form.locator('[name="notify"]').is_checked()
    form.locator('[name="notify"]').uncheck()
    form.locator('[name="reason"]').fill("Browser test: no notice wanted.")
    with page.expect_navigation():
        form.locator("[data-apply]").click()
    assert page.url.endswith(reverse("mutes:account", args=[ACCOUNT]))
    assert page.locator("[data-notice-text]").count() == 0
    assert page.locator('[data-mute="c2c"]').get_attribute("data-remaining-seconds") != "0"
    page.goto(live_server.url + reverse("sandbox_pages:messages"))
    assert "Spam rule" not in page.content()
    assert console_errors == []
    assert axe_violations(page) == []


def test_picking_a_rule_on_the_bulk_form_sets_the_notify_box(
    spam_that_notifies, browser_page, live_server
) -> None:
    page, console_errors = browser_page
    page.goto(live_server.url + reverse("bulk:form"))
    form = page.locator("[data-bulk-form]")
    form.locator('[name="operation"][value="set"]').check()
    notify = form.locator('[name="notify"]')
    assert not notify.is_checked()
    form.locator('[name="rule"]').select_option(spam_that_notifies)
    assert notify.is_checked()
    form.locator('[name="rule"]').select_option("")
    assert not notify.is_checked()
    assert console_errors == []
    assert axe_violations(page) == []
