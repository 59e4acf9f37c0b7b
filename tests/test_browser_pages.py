"""Every page on a 360 px phone and a 1366 x 900 screen: no sideways scroll, nothing for axe-core.

The pages come from the URLconf (the same walk as tests/test_hostile_input.py): every pattern a
Lead, or a visitor signed out, can open by GET and that answers HTML is opened, its path
parameters filled with seeded objects, so a new page is measured without being listed here.
Pages reached only by submitting a form (a confirmation, a preview, a new sign-in link) and
the error pages are added by hand in SUBMITTED and ERRORS.
"""

import uuid
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright
from playwright.sync_api import Error as PlaywrightError

from muteadmin.approvals.services import mute_request_file
from muteadmin.bulk.runner import RunnerConfig, bulk_job_run
from muteadmin.core import errors
from muteadmin.mutes.notes import account_note_add
from muteadmin.mutes.services import mute_change, notice_send
from muteadmin.notices.models import NoticeTemplate
from muteadmin.reminders.services import reminder_for_change
from muteadmin.robots.services import DestinationSettings, destination_create
from muteadmin.rules.services import RuleText, rule_create
from muteadmin.scheduled.services import scheduled_create
from muteadmin.team.services import team_link_issue
from muteadmin.tencent.nospeaking import PERMANENT
from tests.api_support import token_for
from tests.axe import axe_violations, missing_aria_ids
from tests.conftest import bulk_job
from tests.test_browser import (
    ACTION_TIMEOUT_MS,
    CHROMIUM_ARGS,
    PASSWORD,
    chromium_path,  # noqa: F401 (a fixture)
)
from tests.test_hostile_input import PAGES, path_parameters, url_for, url_patterns

pytestmark = pytest.mark.browser

PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1366, "height": 900}
# The longest UserID Tencent takes (32 characters), and a reason as long as moderators write them.
LONG_ACCOUNT = "spam-ring-0123456789-abcdefghijk"
REASON = (
    "Posted the same invitation link to a gambling site in forty groups within ten minutes, "
    "after two warnings: https://example.com/a-very-long-path/that-does-not-break?ref=0123456789"
)
# Patterns that are opened signed out: who follows them has no account or session yet.
SIGNED_OUT = frozenset({"login", "team:welcome", "team:welcome_form"})
# Django's own admin keeps its own stylesheet and is for superusers only; it is not ours to lay out.
NOT_OURS = frozenset({"admin"})
# URLs that answer a GET with HTML that is not a page, and where what a person sees is measured.
POSTED = "takes a POST and sends the browser on to a page measured here"
NOT_PAGES = {
    "logout": "takes a POST and signs out",
    "bulk:cancel": POSTED,
    "bulk:follow_up": POSTED,
    "approvals:approve": POSTED,
    "approvals:reject": POSTED,
    "team:role": POSTED,
    "team:deactivate": POSTED,
    "team:reactivate": POSTED,
    "team:two_factor_reset": POSTED,
    "team:link": 'takes a POST; its page is measured as "team: a new sign-in link"',
    "rules:retire": POSTED,
    "mutes:notice": POSTED,
    "mutes:notes": POSTED,
    "mutes:cards": "a fragment of the account page, fetched by its script",
    "mutes:notice_preview": "a fragment of the account page, fetched by its script",
    "reminders:done": POSTED,
    "scheduled:cancel": POSTED,
    "api_tokens:revoke": POSTED,
    "reconcile:watchlist_remove": POSTED,
    "robots:test": POSTED,
    "robots:resume": POSTED,
    "robots:delete": POSTED,
    "preferences:language": POSTED,
    "preferences:time_zone": POSTED,
}


@dataclass(frozen=True)
class Seeded:
    """What the pages are filled with: session cookies per role and objects for path parameters."""

    sessions: dict[str, str]
    objects: dict[str, str]
    pages: list[tuple[str, str, str]]
    not_pages: set[str]
    error_pages: dict[str, str]


def _user(username: str, role: str):
    user = get_user_model().objects.create_user(username=username, password=PASSWORD)
    user.groups.add(Group.objects.get(name=role))
    return user


def _session(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def _seed_activity(lead, moderator) -> dict[str, str]:
    """Mutes, audit rows, a finished bulk job, a waiting request, notes and a sandbox message."""
    rule = rule_create(
        operator=lead,
        code="spam",
        text=RuleText(
            title_en="Spam and scam links",
            title_zh_hans="垃圾信息",
            description_en=REASON,
            ladders={"c2c": [3600, 86400, PERMANENT], "group": [86400, PERMANENT]},
        ),
    )
    NoticeTemplate.objects.create(rule_code="spam", language="en", text=REASON, time_zone="UTC")
    for account in (LONG_ACCOUNT, "alice", "bob"):
        mute_change(
            account=account,
            operator=lead,
            reason=REASON,
            c2c_seconds=3600,
            group_seconds=PERMANENT,
            rule="spam",
        )
    notice_send(account=LONG_ACCOUNT, text=REASON, operator=lead, correlation_id=uuid.uuid4())
    account_note_add(operator=lead, account=LONG_ACCOUNT, text=REASON, app="default")
    job = bulk_job(
        operator=lead,
        operation="set",
        accounts=[LONG_ACCOUNT, "carol", "dave"],
        c2c_seconds=600,
        reason=REASON,
        rule="spam",
    )
    bulk_job_run(job_id=job.pk, worker="phone:1:a", config=RunnerConfig(threads=1))
    request = mute_request_file(
        requester=moderator, account="erin", reason=REASON, c2c_seconds=30 * 86400
    )
    from muteadmin.audit.models import AuditEntry

    scheduled = scheduled_create(
        account=LONG_ACCOUNT,
        operator=lead,
        run_at=timezone.now() + timedelta(hours=2),
        reason=REASON,
        c2c_seconds=600,
    )
    reminder = reminder_for_change(
        account=LONG_ACCOUNT, app="default", operator=lead, remind="me", lengths=(3600, None)
    )
    return {
        "scheduled": str(scheduled.pk),
        "reminder": str(reminder.pk),
        "rule": rule.code,
        "job": str(job.pk),
        "mute_request": str(request.pk),
        "audit_row": str(AuditEntry.objects.filter(action="change").latest("pk").pk),
        "account": LONG_ACCOUNT,
    }


def _error_pages() -> dict[str, str]:
    """The 400 and 500 pages as a visitor gets them (no URL of the app raises them on purpose)."""
    request = RequestFactory().get("/")
    return {
        "400": errors.bad_request(request, Exception()).content.decode(),
        "500": errors.server_error(request).content.decode(),
    }


@pytest.fixture
def seeded(django_db_serialized_rollback, transactional_db) -> Seeded:
    """Every table a page draws has rows; made before the browser starts, as the ORM requires."""
    lead = _user("phone-lead", "Lead")
    moderator = _user("phone-moderator", "Moderator")
    member = _user("phone-member-with-a-long-username", "Auditor")
    objects = _seed_activity(lead, moderator)
    newcomer = get_user_model().objects.create_user("newcomer")
    newcomer.groups.add(Group.objects.get(name="Moderator"))
    objects |= {
        "member": str(member.pk),
        "newcomer": str(newcomer.pk),
        "token": team_link_issue(operator=lead, user=newcomer),
        "group": str(Group.objects.get(name="Moderator").pk),
        "user": str(lead.pk),
        "nowhere": "nowhere/",
        "sso": "sso",
        "api_token": str(token_for("Lead", "read", name="phone")[0].pk),
        "destination": str(
            destination_create(
                operator=lead,
                settings=DestinationSettings(
                    name="moderation team's WeCom group with a long name",
                    kind="webhook",
                    language="zh-hans",
                    events=("bulk_finished", "permanent_mute"),
                    url="https://hooks.example.com/team/a-rather-long-path-for-a-phone",
                    secret="whsec-team-0123456789",
                ),
            ).pk
        ),
    }
    users = {"Lead": lead, "Moderator": moderator}
    pages, not_pages = page_urls(users, objects)
    return Seeded(
        sessions={role: _session(user) for role, user in users.items()},
        objects=objects,
        pages=pages,
        not_pages=not_pages,
        error_pages=_error_pages(),
    )


def page_urls(
    users: dict[str, object], objects: dict[str, str]
) -> tuple[list[tuple[str, str, str]], set[str]]:
    """(name, URL, role) of every pattern that answers a GET with a page, path parameters filled,
    and the names of those that answer HTML but not a page (to be named in NOT_PAGES).

    Asked with Django's test client first: a download or a JSON answer is not a page to draw.
    The role is "" for a visitor signed out.
    """
    found, html_elsewhere = [], set()
    for pattern in url_patterns():
        if pattern.page_name in NOT_OURS:
            continue
        kinds = path_parameters(pattern.route)
        path = PAGES[pattern.page_name].path
        url = url_for(pattern.route, {name: objects[path[name]] for name in kinds})
        role = "" if pattern.name in SIGNED_OUT else "Lead"
        client = Client()
        if role:
            client.force_login(users[role])
        response = client.get(url)
        # A whole document: not a download, JSON, or a fragment a page's script fetches.
        if response.status_code == 302 or (
            not response.streaming and response.content.lstrip()[:15].lower() == b"<!doctype html>"
        ):
            found.append((pattern.name, url, role))
        elif response["Content-Type"].startswith("text/html"):
            html_elsewhere.add(pattern.name)
    return found, html_elsewhere


def _context(
    browser: Browser, base_url: str, session: str | None, viewport, *, javascript: bool = True
) -> BrowserContext:
    context = browser.new_context(
        viewport=viewport, base_url=base_url, java_script_enabled=javascript
    )
    if session:
        context.add_cookies(
            [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": base_url}]
        )
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    return context


@dataclass
class Measured:
    """One page as the browser drew it."""

    label: str
    url: str
    width: int
    axe: list[str]
    aria: list[str]


def measure(page: Page, label: str) -> Measured:
    return Measured(
        label=label,
        url=page.url,
        width=page.evaluate("() => document.documentElement.scrollWidth"),
        axe=axe_violations(page),
        aria=missing_aria_ids(page),
    )


def _is_html(response) -> bool:
    return (
        response is not None
        and response.ok
        and response.headers.get("content-type", "").startswith("text/html")
    )


def sweep(browser: Browser, base_url: str, seeded: Seeded, viewport) -> list[Measured]:
    """Open every page at `viewport` and measure it; a page reached twice is measured once."""
    contexts = {
        role: _context(browser, base_url, seeded.sessions.get(role), viewport)
        for role in ("Lead", "Moderator", "")
    }
    pages = {role: context.new_page() for role, context in contexts.items()}
    measured: dict[str, Measured] = {}
    for name, url, role in seeded.pages:
        page = pages[role]
        response = page.goto(url)
        if _is_html(response) and page.url not in measured:
            label = name if page.url == base_url + url else f"{name}, sent on to"
            measured[page.url] = measure(page, label)
    for label, act in SUBMITTED.items():
        page = pages["Lead"]
        try:
            act(page, seeded.objects)
        except PlaywrightError as exc:
            raise AssertionError(f"{label}: the page was not reached") from exc
        measured[label] = measure(page, label)
    for label, act in ERRORS.items():
        page = pages[act[0]]
        act[1](page, seeded)
        measured[label] = measure(page, label)
    for context in contexts.values():
        context.close()
    return list(measured.values())


def _submit(page: Page, button: str) -> None:
    with page.expect_navigation():
        page.locator(button).click()


def _confirm(page: Page, objects: dict[str, str]) -> None:
    page.goto(reverse("mutes:account", args=["frank"]))
    page.locator('form.change [name="rule"]').select_option(objects["rule"])
    page.locator('form.change [name="group_seconds"]').select_option(str(PERMANENT))
    page.locator('form.change [name="reason"]').fill(REASON)
    _submit(page, "form.change [data-apply]")
    page.locator("[data-confirm]").wait_for()


def _changed_with_notice(page: Page, objects: dict[str, str]) -> None:
    page.goto(reverse("mutes:account", args=["henry"]))
    page.locator('form.change [name="rule"]').select_option(objects["rule"])
    page.locator('form.change [name="c2c_seconds"]').select_option("3600")
    page.locator('form.change [name="reason"]').fill(REASON)
    page.locator('form.change [name="notify"]').check()
    _submit(page, "form.change [data-apply]")
    page.locator("[data-notice-preview]").wait_for()


def _form_errors(page: Page, objects: dict[str, str]) -> None:
    page.goto(reverse("mutes:account", args=["grace"]))
    _submit(page, "form.change [data-apply]")
    page.locator("[aria-invalid=true]").first.wait_for()


def _bulk_preview(page: Page, objects: dict[str, str]) -> None:
    page.goto(reverse("bulk:form"))
    lines = [LONG_ACCOUNT, LONG_ACCOUNT, "with,comma;" + "x" * 20, "bad\tid " * 8, " padded"]
    page.locator('[name="accounts"]').fill("\n".join(lines))
    page.locator('[name="operation"][value="lookup"]').check()
    _submit(page, 'main form [type="submit"]')
    page.locator("[data-preview]").wait_for()


def _sign_in_link(page: Page, objects: dict[str, str]) -> None:
    page.goto(reverse("team:list"))
    _submit(page, f'form[action="{reverse("team:link", args=[objects["newcomer"]])}"] button')
    page.locator("[data-welcome-link]").wait_for()


def _report_filter_errors(page: Page, objects: dict[str, str]) -> None:
    # Typed into the address: the page's date inputs would not take it.
    page.goto(reverse("reports:mutes") + "?since=yesterday")
    page.locator("[aria-invalid=true]").first.wait_for()


def _audit_filter_errors(page: Page, objects: dict[str, str]) -> None:
    page.goto(reverse("audit:list") + "?since=yesterday&until=" + "9" * 40)
    page.locator("[aria-invalid=true]").first.wait_for()


def _limits_saved(page: Page, objects: dict[str, str]) -> None:
    page.goto(reverse("policies:limits"))
    _submit(page, 'form[data-limits-form="Moderator"] button[type=submit]')
    page.locator("[data-messages]").wait_for()


def _refused(
    url_name: str, form: str, fill: dict[str, str] | None = None, *, shows="[aria-invalid=true]"
):
    """Submit `form` on the named page with only `fill` filled in; wait for what `shows` it."""

    def act(page: Page, objects: dict[str, str]) -> None:
        page.goto(reverse(url_name))
        for name, value in (fill or {}).items():
            field = page.locator(f'{form} [name="{name}"]')
            if field.evaluate("element => element.localName") == "select":
                field.select_option(value)
            else:
                field.fill(value)
        _submit(page, f"{form} button[type=submit]")
        page.locator(shows).first.wait_for()

    return act


SUBMITTED = {
    "limits: the message after saving": _limits_saved,
    "account: confirm a permanent mute": _confirm,
    "account: after a change, the notice to send": _changed_with_notice,
    "account: form errors": _form_errors,
    "bulk: preview of a pasted list": _bulk_preview,
    "team: a new sign-in link": _sign_in_link,
    "audit: filter errors": _audit_filter_errors,
    "rules: form errors": _refused("rules:create", "form[data-rule-form]"),
    "team: form errors": _refused("team:list", 'form:has([name="username"])', {"username": "a b"}),
    "notices: form errors": _refused(
        "notices:templates",
        "form[data-new-notice-template]",
        {"language": "en", "time_zone": "Mars/Base", "text": "Muted."},
    ),
    "report: filter errors": _report_filter_errors,
    "login: refused": _refused(
        "login",
        'main form:has([name="password"])',
        {"username": "nobody", "password": "wrong"},
        shows="[data-signin-error]",
    ),
}
ERRORS = {
    "404": ("", lambda page, seeded: page.goto("/no-such-page/")),
    "403": ("Moderator", lambda page, seeded: page.goto(reverse("team:list"))),
    "400": ("", lambda page, seeded: _drawn(page, seeded.error_pages["400"])),
    "500": ("", lambda page, seeded: _drawn(page, seeded.error_pages["500"])),
}


def _drawn(page: Page, html: str) -> None:
    # Drawn on the live server's origin, so the page's stylesheet loads as it would.
    page.goto(reverse("healthz"))
    page.set_content(html)


def _report(measured: list[Measured], limit: int) -> list[str]:
    return [
        f"{item.label} {item.url}: {item.width} px ({item.width / limit:.2f}of {limit})"
        for item in measured
    ]


@pytest.fixture
def browser(chromium_path):  # noqa: F811
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium_path), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def problems(measured: list[Measured]) -> list[str]:
    """What axe-core found and each ARIA reference to a missing id, one line each."""
    return [
        f"{item.label} {item.url}: {problem}"
        for item in measured
        for problem in (*item.axe, *item.aria)
    ]


def test_every_page_fits_a_phone_with_nothing_for_axe(seeded, browser, live_server) -> None:
    measured = sweep(browser, live_server.url, seeded, PHONE)
    print("\n".join(_report(measured, PHONE["width"])))
    too_wide = _report([item for item in measured if item.width > PHONE["width"]], PHONE["width"])
    assert not too_wide, "\n".join(["Wider than the phone:", *too_wide])
    found = problems(measured)
    assert not found, "\n".join(found)
    # Every kind of page was reached, not a sign-in page in its place, and an HTML answer that is
    # not measured is one named above: a new page cannot slip past.
    assert seeded.not_pages == set(NOT_PAGES)
    labels = {item.label for item in measured}
    assert {"audit:list", "audit:detail", "mutes:account", "bulk:job", "reports:mutes"} <= labels


def test_every_page_on_a_desktop_has_nothing_for_axe(seeded, browser, live_server) -> None:
    found = problems(sweep(browser, live_server.url, seeded, DESKTOP))
    assert not found, "\n".join(found)


@pytest.fixture
def lead_session(django_db_serialized_rollback, transactional_db) -> str:
    """A signed-in Lead's session, made before the browser starts (as `seeded` is)."""
    return _session(_user("docs-lead", "Lead"))


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_the_api_docs_page_fits_the_screen_with_nothing_for_axe(
    lead_session, browser, live_server, viewport
) -> None:
    # The sweeps above measure it among every page; this is the page alone, quick to run.
    context = _context(browser, live_server.url, lead_session, viewport)
    page = context.new_page()
    assert _is_html(page.goto(reverse("api:docs")))
    measured = measure(page, "api:docs")
    context.close()
    assert measured.width <= viewport["width"], _report([measured], viewport["width"])
    assert not problems([measured]), "\n".join(problems([measured]))
