"""Account IDs as typed: padded IDs refused with a link, every other ID reachable through links.

A link is followed as a browser follows it (WHATWG URL parsing: dot segments removed, `%2e`
counted as a dot, backslashes read as slashes) and then as the server reads it (the path
percent-decoded once, then resolved), and must land on the page of exactly the same account.
"""

import json
import re
from html import escape
from html.parser import HTMLParser
from urllib.parse import parse_qs, unquote_to_bytes, urlsplit

import pytest
from django.urls import resolve, reverse

from muteadmin.audit.models import AuditEntry
from muteadmin.bulk.runner import RunnerConfig, bulk_job_run
from muteadmin.core.account_paths import (
    AccountUrls,
    account_from_segment,
    account_segment,
    account_url,
)
from muteadmin.mutes.forms import LookupForm
from muteadmin.sandbox.services import sandbox_fault_push, sandbox_faults_queued
from tests.conftest import audit_row, bulk_job
from tests.test_reports import seen

pytestmark = pytest.mark.django_db

# IDs a browser or Django would normalise, split or cut short if put into a path as they are.
HOSTILE = [
    "../../admin/",
    "a/b",
    "a?b#c",
    "100%",
    "..",
    ".",
    "a\\b",
    "x/cards",
    "%2e%2e",
    "%2E",
    ".%2e",
    "a%2Fb",
    "%25",
    "%",
    "/",
    "//evil.example",
    "./",
    "/..",
    "a b",
    "a&account=b",
    "~:@!$&'()*+,;=",
    '<b>&amp;"',
    "`{|}^[]",
]
TWO_APPS = json.dumps(
    [{"name": "a", "label": "App A", "sandbox": True}, {"name": "b", "label": "B", "sandbox": True}]
)
PRINTABLE = [chr(code) for code in range(0x20, 0x7F)]


class Links(HTMLParser):
    """Every link on a page: (href, text) of each <a>, and the other URLs the page uses."""

    def __init__(self) -> None:
        super().__init__()
        self.anchors: list[tuple[str, str]] = []
        self.urls: dict[str, list[str]] = {}
        self._open: list[list[str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        if tag == "a" and named.get("href") is not None:
            self._open.append([named["href"], ""])
        for attr in ("action", "data-refresh-url"):
            if named.get(attr) is not None:
                self.urls.setdefault(attr, []).append(named[attr])

    def handle_data(self, data: str) -> None:
        for anchor in self._open:
            anchor[1] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._open:
            self.anchors.append(tuple(self._open.pop()))


def links(html: str) -> Links:
    parser = Links()
    parser.feed(html)
    parser.close()
    return parser


def hrefs_named(html: str, account: str) -> list[str]:
    """The hrefs of the links whose text is the account's ID."""
    return [href for href, text in links(html).anchors if text == account]


_SINGLE_DOT = {".", "%2e"}
_DOUBLE_DOT = {"..", ".%2e", "%2e.", "%2e%2e"}
_PATH_PERCENT_ENCODE = set(' "<>`{}')


def browser_request(href: str, base: str = "/audit/") -> tuple[str, str]:
    """(path, query) a browser requests for `href` on a page at `base` (WHATWG URL parsing)."""
    href = re.sub(r"[\t\n\r]", "", href.strip("\x00\x01\x02\x03\x04\x05\x06\x07\x08 "))
    href = href.split("#", 1)[0].replace("\\", "/")  # "\" is "/" in http(s) URLs
    path, _, query = href.partition("?")
    if not path.startswith("/"):
        path = base.rsplit("/", 1)[0] + "/" + path
    segments: list[str] = []
    parts = path.split("/")[1:]
    for position, segment in enumerate(parts):
        last = position == len(parts) - 1
        if segment.lower() in _DOUBLE_DOT:
            if segments:
                segments.pop()
            if last:
                segments.append("")
        elif segment.lower() in _SINGLE_DOT:
            if last:
                segments.append("")
        else:
            segments.append(
                "".join(
                    f"%{ord(char):02X}"
                    if char in _PATH_PERCENT_ENCODE or not " " <= char <= "~"
                    else char
                    for char in segment
                )
            )
    return "/" + "/".join(segments), query


def landing(href: str, base: str = "/audit/") -> tuple[str, dict, dict]:
    """Where a link leads: (view name, URL kwargs, query) as the server resolves the request."""
    path, query = browser_request(href, base)
    match = resolve(unquote_to_bytes(path).decode("utf-8"))
    return match.view_name, match.kwargs, parse_qs(query, keep_blank_values=True)


def assert_leads_to(href: str, account: str, *, view: str = "mutes:account", base="/audit/"):
    name, kwargs, _ = landing(href, base)
    assert (name, kwargs) == (view, {"account": account}), href


def page_heading(client, href: str) -> str:
    """The account named in the heading of the page the link opens."""
    path, query = browser_request(href)
    response = client.get(path, parse_qs(query))
    assert response.status_code == 200, href
    match = re.search(r'<h1>Account <code class="account">(.*?)</code></h1>', response.text)
    return match.group(1)


# The browser model itself


@pytest.mark.parametrize(
    ("href", "path"),
    [
        ("/mutes/../../admin//", "/admin//"),
        ("/mutes/%2e%2E/", "/"),
        ("/mutes/.%2e", "/"),
        ("/mutes/./x/", "/mutes/x/"),
        ("/mutes/a\\..\\b/", "/mutes/b/"),
        ("/mutes/a?b#c/", "/mutes/a"),
        ("/mutes/%252E%252E/", "/mutes/%252E%252E/"),
        ("/mutes/a b/", "/mutes/a%20b/"),
    ],
)
def test_links_are_followed_as_a_browser_follows_them(href, path):
    assert browser_request(href)[0] == path


# The converter


def tricky_ids() -> list[str]:
    """Every printable character alone, doubled, beside dots and slashes, and escape look-alikes."""
    ids = set(HOSTILE)
    for char in PRINTABLE:
        ids |= {char, char * 2, f".{char}", f"{char}.", f"a{char}b", f"/{char}/", f"..{char}"}
    for escape_ in ("%2e", "%2E", "%2f", "%2F", "%25", "%252E", "%2", "%zz", "%%"):
        ids |= {escape_, escape_ * 2, f".{escape_}", f"{escape_}/", f"a{escape_}b"}
    return sorted(account for account in ids if account.strip() == account and account)


@pytest.mark.parametrize("name", ["mutes:account", "mutes:cards"])
def test_every_id_reversed_and_followed_by_a_browser_comes_back_as_it_was(name):
    view = name
    for account in tricky_ids():
        url = reverse(name, args=[account])
        assert url.startswith("/mutes/") and url.count("/") == (3 if name == "mutes:account" else 4)
        assert_leads_to(url, account, view=view)
        # The same link seen from a page deeper in the site leads to the same place.
        assert_leads_to(url, account, view=view, base="/mutes/some/where/")


def test_ordinary_ids_read_as_typed_in_the_url():
    assert reverse("mutes:account", args=["alice_01"]) == "/mutes/alice_01/"
    assert reverse("mutes:account", args=["Alice.Smith-2"]) == "/mutes/Alice.Smith-2/"
    assert reverse("mutes:account", args=["a b"]) == "/mutes/a%20b/"


def test_segment_encoding_is_undone_exactly():
    for account in tricky_ids():
        segment = account_segment(account)
        assert "/" not in segment and segment not in (".", "..")
        assert account_from_segment(segment) == account


def test_the_page_builder_gives_the_same_urls_as_reverse():
    build = AccountUrls()
    cards = AccountUrls("mutes:cards")
    for account in tricky_ids():
        assert build(account) == account_url(account) == reverse("mutes:account", args=[account])
        assert build(account, query="?app=b") == account_url(account, query="?app=b")
        assert cards(account) == reverse("mutes:cards", args=[account])


@pytest.mark.parametrize(
    ("typed", "account"),
    [("/mutes/100%25/", "100%"), ("/mutes/a%2541/", "a%41"), ("/mutes/a%3Fb/", "a?b")],
)
def test_a_hand_typed_url_encoded_once_opens_the_account_it_spells(as_moderator, typed, account):
    response = as_moderator.get(typed)
    assert response.status_code == 200
    assert f'<code class="account">{escape(account)}</code></h1>' in response.text


# Padded IDs: refused, nothing sent, one click to the ID without the spaces


def suggestion_link(html: str) -> str:
    """The href of the refusal's link, after checking the sentence around it."""
    match = re.search(r'<p class="error"[^>]*data-suggestion>(.*?)</p>', html, re.S)
    assert match, "no suggestion on the page"
    sentence = re.sub(r"<[^>]+>", "", match.group(1))
    assert sentence == "That UserID starts or ends with a space; did you mean alice_01?"
    (href,) = hrefs_named(match.group(1), "alice_01")
    return href


def assert_nothing_sent() -> None:
    """No call reached the sandbox (the queued fault is unspent) and no audit row was written."""
    assert sandbox_faults_queued() == 1
    assert AuditEntry.objects.count() == 0


@pytest.fixture
def tripwire():
    """A fault the next call to the sandbox would spend."""
    sandbox_fault_push(kind="error", code=70107)


@pytest.mark.parametrize("typed", ["  alice_01  ", " alice_01", "alice_01 ", "\talice_01\n"])
@pytest.mark.parametrize("form_page", ["mutes:lookup", "mutes:find"])
def test_the_lookup_form_refuses_padded_ids_and_links_the_trimmed_one(
    as_moderator, tripwire, typed, form_page
):
    response = as_moderator.get(reverse(form_page), {"account": typed})
    assert response.status_code == 200
    href = suggestion_link(response.text)
    assert_leads_to(href, "alice_01", base=reverse(form_page))
    # The field keeps what was typed, so the moderator sees the difference.
    assert f'value="{escape(typed)}"' in response.text
    assert_nothing_sent()


def test_one_click_on_the_suggestion_opens_the_account(as_moderator):
    response = as_moderator.get(reverse("mutes:find"), {"account": "  alice_01  "})
    assert page_heading(as_moderator, suggestion_link(response.text)) == "alice_01"


def test_a_direct_visit_to_a_padded_id_is_refused_the_same_way(as_moderator, tripwire):
    response = as_moderator.get("/mutes/%20alice_01%20/")
    assert response.status_code == 404
    assert_leads_to(suggestion_link(response.text), "alice_01", base="/mutes/%20alice_01%20/")
    assert_nothing_sent()


def test_a_padded_id_cannot_be_changed_or_refreshed_by_url(as_moderator, tripwire):
    padded = reverse("mutes:account", args=[" alice_01 "])
    response = as_moderator.post(padded, {"c2c_seconds": "600", "reason": "spam"})
    assert response.status_code == 404
    assert "did you mean" in response.text
    assert as_moderator.get(reverse("mutes:cards", args=[" alice_01 "])).status_code == 404
    assert_nothing_sent()


def test_an_id_of_only_spaces_is_refused_without_a_suggestion(as_moderator, tripwire):
    response = as_moderator.get(reverse("mutes:find"), {"account": "   "})
    assert "That UserID is only spaces; type the UserID" in response.text
    assert "data-suggestion" not in response.text
    assert_nothing_sent()


def test_padding_around_an_id_wrong_in_another_way_says_what_else_is_wrong(as_moderator):
    response = as_moderator.get(reverse("mutes:find"), {"account": " " + "x" * 40})
    assert "at most 32 characters" in response.text
    assert "data-suggestion" not in response.text


@pytest.mark.parametrize("account", ["Alice_01", "team a", "a  b", "ALICE"])
def test_ids_are_otherwise_kept_exactly_as_typed(as_moderator, account):
    response = as_moderator.get(reverse("mutes:find"), {"account": account})
    assert response.status_code == 302
    assert_leads_to(response["Location"], account, base=reverse("mutes:find"))
    assert page_heading(as_moderator, response["Location"]) == escape(account)


def test_the_form_names_the_suggestion_only_for_padding():
    assert LookupForm(data={"account": " bob "}).suggestion == "bob"
    assert LookupForm(data={"account": "bob"}).suggestion == ""
    assert LookupForm(data={"account": "x" * 40}).suggestion == ""


def test_the_suggestion_keeps_the_app(settings, as_moderator):
    settings.TIM_APPS = TWO_APPS
    response = as_moderator.get(reverse("mutes:find"), {"account": " alice_01 ", "app": "b"})
    _, kwargs, query = landing(suggestion_link(response.text), base=reverse("mutes:find"))
    assert (kwargs, query) == ({"account": "alice_01"}, {"app": ["b"]})


# Every link to an account page leads back to that account


@pytest.mark.parametrize("account", HOSTILE)
def test_audit_list_and_detail_link_to_the_account(as_lead, account):
    row = audit_row(account=account)
    listing = as_lead.get(reverse("audit:list")).text
    (href,) = hrefs_named(listing, account)
    assert_leads_to(href, account, base=reverse("audit:list"))

    detail_url = reverse("audit:detail", args=[row.pk])
    (href,) = hrefs_named(as_lead.get(detail_url).text, account)
    assert_leads_to(href, account, base=detail_url)
    assert page_heading(as_lead, href) == escape(account)


@pytest.mark.parametrize("account", HOSTILE)
def test_the_audit_export_link_keeps_the_account_filter(as_lead, account):
    audit_row(account=account)
    listing = as_lead.get(reverse("audit:list"), {"account": account})
    (export,) = (href for href, text in links(listing.text).anchors if text == "Export CSV")
    assert landing(export, base=reverse("audit:list"))[2]["account"] == [account]


def test_the_audit_pages_keep_the_account_filter(as_lead):
    account = "a&account=b?c#d%"
    for _ in range(51):  # one more than a page
        audit_row(account=account)
    listing = as_lead.get(reverse("audit:list"), {"account": account})
    (older,) = (href for href, text in links(listing.text).anchors if text == "Older →")
    assert landing(older, base=reverse("audit:list"))[2]["account"] == [account]
    path, query = browser_request(older)
    newer = as_lead.get(path, parse_qs(query))
    (newest,) = (href for href, text in links(newer.text).anchors if text == "Newest")
    assert landing(newest, base=reverse("audit:list"))[2]["account"] == [account]


@pytest.mark.parametrize("account", HOSTILE)
def test_report_links_to_the_account(as_lead, account):
    seen(account, c2c=3600)
    (href,) = hrefs_named(as_lead.get(reverse("reports:mutes")).text, account)
    assert_leads_to(href, account, base=reverse("reports:mutes"))


def test_bulk_results_link_to_each_account(as_lead, lead):
    job = bulk_job(operator=lead, operation="lookup", accounts=HOSTILE)
    bulk_job_run(job_id=job.pk, worker="test:1:a", config=RunnerConfig(threads=1))
    job_url = reverse("bulk:job", args=[job.pk])
    html = as_lead.get(job_url).text
    for account in HOSTILE:
        (href,) = hrefs_named(html, account)
        assert_leads_to(href, account, base=job_url)


@pytest.mark.parametrize("account", HOSTILE)
def test_the_account_pages_own_links_keep_the_account(as_lead, account):
    found = as_lead.get(reverse("mutes:find"), {"account": account})
    assert_leads_to(found["Location"], account, base=reverse("mutes:find"))
    page_url = reverse("mutes:account", args=[account])
    page = links(as_lead.get(page_url).text)
    (refresh,) = page.urls["data-refresh-url"]
    assert_leads_to(refresh, account, view="mutes:cards", base=page_url)
    assert as_lead.get(browser_request(refresh)[0]).status_code == 200
    # The change form, then the timeline's note form (the navigation's forms aside).
    navigation = (reverse("logout"), reverse("preferences:language"))
    action, note_action = (url for url in page.urls["action"] if url not in navigation)
    assert_leads_to(action, account, base=page_url)
    assert_leads_to(note_action, account, view="mutes:notes", base=page_url)
    (history,) = (href for href, text in page.anchors if text.startswith("Every audit row"))
    assert landing(history, base=page_url)[2]["account"] == [account]

    changed = as_lead.post(page_url, {"c2c_seconds": "600", "reason": "spam"})
    assert_leads_to(changed["Location"], account, base=page_url)
    corrected = links(as_lead.post(page_url, {"reason": "spam"}).text)
    (again,) = (href for href, text in corrected.anchors if text == "Load them again")
    assert_leads_to(again, account, base=page_url)


@pytest.mark.parametrize("account", ["a/b", "..", "a?b#c", "100%"])
def test_the_app_switcher_opens_the_same_account_in_the_other_app(settings, as_lead, account):
    settings.TIM_APPS = TWO_APPS
    page_url = reverse("mutes:account", args=[account]) + "?app=a"
    html = as_lead.get(page_url).text
    (switch,) = (href for href, text in links(html).anchors if text == "B")
    name, kwargs, query = landing(switch, base=urlsplit(page_url).path)
    assert (name, kwargs, query["app"]) == ("mutes:account", {"account": account}, ["b"])


# The same links in a real browser


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_in_chromium_each_audit_link_opens_its_account(live_server):
    from django.contrib.auth.models import Group, User
    from playwright.sync_api import sync_playwright

    from tests.test_browser import ACTION_TIMEOUT_MS, CHROMIUM, CHROMIUM_ARGS

    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing; browser tests need it.")
    lead = User.objects.create_user(username="ids-lead", password="ids-lead-password")
    lead.groups.add(Group.objects.get(name="Lead"))
    for account in HOSTILE:
        audit_row(account=account)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.set_default_timeout(ACTION_TIMEOUT_MS)
            page.goto(live_server.url + reverse("login"))
            page.fill('input[name="username"]', "ids-lead")
            page.fill('input[name="password"]', "ids-lead-password")
            page.click('button[type="submit"]')
            page.wait_for_url(live_server.url + reverse("mutes:lookup"))
            page.goto(live_server.url + reverse("audit:list"))
            # Each link as the browser resolved it: the URL it requests when clicked.
            resolved = page.eval_on_selector_all(
                "a:has(code.account)", "links => links.map(a => [a.textContent, a.href])"
            )
            assert sorted(text for text, _ in resolved) == sorted(HOSTILE)
            for account, href in resolved:
                page.goto(href, wait_until="domcontentloaded")
                assert page.locator("h1 code.account").inner_text() == account, href
        finally:
            browser.close()
