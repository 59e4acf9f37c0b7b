"""The account pages, driven through Django's test client against the sandbox."""

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from muteadmin.audit.models import AuditEntry
from muteadmin.sandbox.services import sandbox_fault_push
from muteadmin.tencent.apis import SET_NOSPEAKING
from muteadmin.tencent.nospeaking import PERMANENT
from tests.conftest import templates_drawn

pytestmark = pytest.mark.django_db


def account_url(account: str) -> str:
    return reverse("mutes:account", kwargs={"account": account})


def card(html: str, kind: str) -> str:
    """The HTML of one mute card."""
    match = re.search(rf'<article[^>]*data-mute="{kind}".*?</article>', html, re.S)
    assert match, f"no {kind} card on the page"
    return match.group(0)


def remaining(html: str, kind: str) -> int:
    return int(re.search(r'data-remaining-seconds="(\d+)"', card(html, kind)).group(1))


def change(client, account: str, **fields):
    data = {"reason": "spam raid", **fields}
    return client.post(account_url(account), data)


# Signing in and the lookup form


def test_pages_ask_anonymous_visitors_to_sign_in(client):
    for url in (
        reverse("mutes:lookup"),
        account_url("alice"),
        reverse("mutes:find") + "?account=a",
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
    assert AuditEntry.objects.count() == 0


def test_login_page_and_health_check_need_no_login(client):
    assert client.get(reverse("login")).status_code == 200
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    assert response.content == b"ok\n"


def test_signing_in_with_the_form_reaches_the_lookup_page(client, moderator):
    from tests.conftest import PASSWORD

    response = client.post(reverse("login"), {"username": "mod", "password": PASSWORD}, follow=True)
    assert response.status_code == 200
    assert b"Look up an account" in response.content


def test_logout_is_a_post(as_moderator):
    assert as_moderator.get(reverse("logout")).status_code == 405
    response = as_moderator.post(reverse("logout"))
    assert response.status_code == 302
    assert as_moderator.get(reverse("mutes:lookup")).status_code == 302


def test_lookup_redirects_to_the_account_page(as_moderator):
    response = as_moderator.get(reverse("mutes:find"), {"account": "alice_01"})
    assert response.status_code == 302
    assert response["Location"] == account_url("alice_01")


@pytest.mark.parametrize(
    ("account", "message"),
    [
        ("", "Type the UserID"),
        ("x" * 33, "at most 32 characters"),
        ("bj\u00f6rn", "ASCII punctuation"),
        ("tab\there", "ASCII punctuation"),
    ],
)
def test_invalid_user_id_reshows_the_form_and_calls_nothing(as_moderator, account, message):
    response = as_moderator.get(reverse("mutes:find"), {"account": account})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert AuditEntry.objects.count() == 0


def test_account_page_for_invalid_user_id_calls_nothing(as_moderator):
    response = as_moderator.get(account_url("x" * 40))
    assert response.status_code == 404
    assert "at most 32 characters" in response.content.decode()
    assert AuditEntry.objects.count() == 0


# Looking at an account


def test_unmuted_account_shows_two_clear_cards_and_audits_the_query(as_moderator, moderator):
    response = as_moderator.get(account_url("alice"))
    html = response.content.decode()
    assert response.status_code == 200
    assert remaining(html, "c2c") == 0
    assert remaining(html, "group") == 0
    assert "Not muted" in card(html, "c2c")

    entry = AuditEntry.objects.get()
    assert entry.action == "query"
    assert entry.account == "alice"
    assert entry.operator == moderator
    assert entry.operator_username == "mod"
    assert entry.outcome == "ok"
    assert (entry.c2c_observed, entry.group_observed) == (0, 0)
    assert entry.request_random is not None
    assert entry.latency_ms is not None
    assert entry.client_ip == "127.0.0.1"


def test_every_page_shows_the_sandbox_banner(as_moderator):
    for url in (reverse("mutes:lookup"), account_url("alice")):
        assert b"data-sandbox-banner" in as_moderator.get(url).content


def test_muting_for_an_hour_shows_the_countdown_and_end_time(as_moderator):
    response = change(as_moderator, "alice", c2c_seconds="3600")
    assert response.status_code == 302
    assert response["Location"] == account_url("alice")

    page = as_moderator.get(response["Location"])
    html = page.content.decode()
    assert 3595 <= remaining(html, "c2c") <= 3600
    assert "data-countdown" in card(html, "c2c")
    assert "(UTC)" in card(html, "c2c")
    assert remaining(html, "group") == 0
    messages = [str(m) for m in page.context["messages"]]
    assert messages == [
        "Saved for alice. C2C: not muted → muted, 1 h left; Group: unchanged (not muted)."
    ]


def test_changing_c2c_leaves_the_group_mute_running(as_moderator):
    change(as_moderator, "bob", group_seconds="86400")
    change(as_moderator, "bob", c2c_seconds="600")
    html = as_moderator.get(account_url("bob")).content.decode()
    assert 86390 <= remaining(html, "group") <= 86400
    assert 590 <= remaining(html, "c2c") <= 600


def test_change_writes_a_query_row_then_a_change_row(as_moderator):
    change(as_moderator, "carol", c2c_seconds="600", reason="flooding #general")
    query, mutation = AuditEntry.objects.order_by("id")
    assert query.action == "query"
    assert (query.c2c_observed, query.group_observed) == (0, 0)
    assert mutation.action == "change"
    assert mutation.outcome == "ok"
    assert mutation.reason == "flooding #general"
    assert (mutation.c2c_requested, mutation.group_requested) == (600, None)
    assert (mutation.c2c_observed, mutation.group_observed) == (600, 0)


def test_lifting_a_mute(as_moderator):
    change(as_moderator, "dave", c2c_seconds="600", group_seconds="600")
    change(as_moderator, "dave", c2c_seconds="0")
    html = as_moderator.get(account_url("dave")).content.decode()
    assert remaining(html, "c2c") == 0
    assert remaining(html, "group") > 0


def test_custom_length_in_days(as_moderator):
    change(as_moderator, "erin", group_seconds="custom", group_custom="2", group_custom_unit="days")
    assert AuditEntry.objects.get(action="change").group_requested == 2 * 86400


def test_lead_can_mute_permanently(as_lead):
    response = change(as_lead, "frank", c2c_seconds=str(PERMANENT))
    assert response.status_code == 302
    html = as_lead.get(account_url("frank")).content.decode()
    assert remaining(html, "c2c") == PERMANENT
    assert "Permanently muted" in card(html, "c2c")


def test_moderator_may_not_mute_permanently(as_moderator):
    html = as_moderator.get(account_url("frank")).content.decode()
    # Offered only as something to request: above a Moderator's limit.
    assert f'<option value="{PERMANENT}">Permanently (needs approval)</option>' in html
    response = change(as_moderator, "frank", c2c_seconds=str(PERMANENT))
    assert response.status_code == 200
    assert "ask a Lead" in response.content.decode()
    assert "data-request-approval>Request approval" in response.content.decode()
    assert not AuditEntry.objects.filter(action="change").exists()


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"c2c_seconds": "ten"}, "whole number of seconds"),
        ({"c2c_seconds": "-5"}, "whole number of seconds"),
        ({"c2c_seconds": "4294967296"}, "from 0 to 4294967295"),
        ({"c2c_seconds": "", "group_seconds": ""}, "Choose a new C2C mute"),
        ({"c2c_seconds": "custom"}, "how long the custom mute"),
        ({"c2c_seconds": "600", "reason": ""}, "Give a reason"),
        ({"c2c_seconds": "600", "reason": "x" * 501}, "500 characters"),
    ],
)
def test_invalid_change_reshows_the_form_and_calls_nothing(as_moderator, fields, message):
    response = change(as_moderator, "gina", **fields)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert AuditEntry.objects.count() == 0


def test_invalid_change_keeps_what_was_typed(as_moderator):
    response = change(as_moderator, "gina", c2c_seconds="ten", reason="keep this reason")
    assert "keep this reason" in response.content.decode()


# Permissions


def test_auditor_sees_the_mutes_but_no_form(as_auditor):
    response = as_auditor.get(account_url("hank"))
    assert response.status_code == 200
    assert b'data-mute="c2c"' in response.content
    assert b'name="reason"' not in response.content


def test_auditor_gets_403_on_post(as_auditor):
    response = change(as_auditor, "hank", c2c_seconds="600")
    assert response.status_code == 403
    # Nothing was sent: the only row is the refusal's.
    assert list(AuditEntry.objects.values_list("action", "account", "c2c_requested")) == [
        ("denied", "hank", 600)
    ]


def test_user_without_a_role_gets_403(client, outsider):
    client.force_login(outsider)
    assert client.get(reverse("mutes:lookup")).status_code == 403
    assert client.get(account_url("hank")).status_code == 403
    assert AuditEntry.objects.count() == 0


# Upstream failures


@pytest.mark.parametrize(
    ("kind", "code", "sentence"),
    [
        ("timeout", None, "did not answer in time"),
        ("refused", None, "could not be reached"),
        ("http502", None, "could not be reached"),
        ("badjson", None, "unreadable answer"),
        ("error", 70009, "credentials"),
        ("error", 60007, "too many requests"),
    ],
)
def test_upstream_failure_is_a_sentence_and_an_audit_row(as_moderator, kind, code, sentence):
    sandbox_fault_push(kind=kind, code=code, count=20)
    response = as_moderator.get(account_url("ivy"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "data-upstream-error" in html
    assert sentence in html.lower()
    assert "Traceback" not in html
    entry = AuditEntry.objects.get()
    assert entry.outcome == "error"
    assert entry.error_code == code
    if code:
        assert f"Tencent error {code}" in html


def test_upstream_error_on_change_reshows_the_form_with_the_sentence(as_moderator):
    as_moderator.get(account_url("jack"))  # warm the client
    AuditEntry.objects.all()  # rows so far are completed queries

    from muteadmin.upstream import clients

    client = clients.tim_client()
    original = client.call

    def failing_set(api, body, **kwargs):
        if api is SET_NOSPEAKING:
            sandbox_fault_push(kind="error", code=130014, count=20)
        return original(api, body, **kwargs)

    client.call = failing_set
    response = change(as_moderator, "jack", c2c_seconds="600", reason="keeps the reason")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Tencent error 130014" in html
    assert "keeps the reason" in html
    failed = AuditEntry.objects.get(action="change")
    assert failed.outcome == "error"
    assert failed.error_code == 130014
    assert failed.c2c_requested == 600


# Safety of the page


def test_markup_in_an_account_id_is_shown_as_text(as_moderator):
    account = "<b>x</b>&\"'"
    html = as_moderator.get(account_url(account)).content.decode()
    assert "<b>x</b>" not in html
    assert "&lt;b&gt;x&lt;/b&gt;" in html


def test_markup_in_a_reason_is_shown_as_text(as_moderator):
    response = change(as_moderator, "kim", c2c_seconds="ten", reason="<script>alert(1)</script>")
    html = response.content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_post_without_csrf_token_is_refused(moderator):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(moderator)
    response = client.post(account_url("lee"), {"c2c_seconds": "600", "reason": "r"})
    assert response.status_code == 403
    assert AuditEntry.objects.count() == 0


def test_pages_send_a_csp_without_inline_script(as_moderator):
    response = as_moderator.get(account_url("lee"))
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", response.content.decode())


def test_countdown_refresh_fragment_holds_fresh_cards(as_moderator):
    change(as_moderator, "mia", c2c_seconds="600")
    response = as_moderator.get(reverse("mutes:cards", kwargs={"account": "mia"}))
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert 590 <= remaining(html, "c2c") <= 600
    assert AuditEntry.objects.filter(action="query").count() == 2


def test_accounts_with_slashes_and_spaces_round_trip(as_moderator):
    response = as_moderator.get(reverse("mutes:find"), {"account": "team a/b?c"})
    assert response.status_code == 302
    page = as_moderator.get(response["Location"])
    assert page.status_code == 200
    assert AuditEntry.objects.get().account == "team a/b?c"


def test_end_time_is_shown_in_the_configured_zone_and_named(as_moderator, settings):
    settings.TIME_ZONE = "Asia/Shanghai"
    change(as_moderator, "nia", c2c_seconds="3600")
    shown = card(as_moderator.get(account_url("nia")).content.decode(), "c2c")
    found = re.search(r'Ends <time datetime="([^"]+)">([^<]+) \(Asia/Shanghai\)</time>', shown)
    assert found, shown
    moment = datetime.fromisoformat(found[1]).astimezone(ZoneInfo("Asia/Shanghai"))
    assert found[2] == f"{moment:%Y-%m-%d %H:%M:%S}"
    assert moment.utcoffset() == timedelta(hours=8)


def test_account_page_lists_recent_changes_with_who_and_why(as_moderator, auditor, client):
    change(as_moderator, "olga", c2c_seconds="600", reason="spam <b>links</b>")
    change(as_moderator, "olga", c2c_seconds="0", reason="appeal accepted")
    change(as_moderator, "someone-else", c2c_seconds="600", reason="not olga")
    client.force_login(auditor)
    html = client.get(account_url("olga")).content.decode()
    history = re.search(r"<section[^>]*data-recent-changes.*?</section>", html, re.S).group(0)
    assert history.index("appeal accepted") < history.index("spam &lt;b&gt;links&lt;/b&gt;")
    assert "10 min" in history
    assert "lifted" in history
    assert "left as it was" in history
    assert "not olga" not in history
    assert history.count(">mod<") == 2


def test_leads_get_a_link_to_the_accounts_full_audit_history(as_lead):
    html = as_lead.get(account_url("a b&c")).content.decode()
    assert f'href="{reverse("audit:list")}?account=a%20b%26c"' in html


def test_moderators_get_no_audit_log_link(as_moderator):
    html = as_moderator.get(account_url("abc")).content.decode()
    assert reverse("audit:list") not in html


@pytest.mark.parametrize(
    "data",
    [
        None,
        {"c2c_seconds": "", "group_seconds": "", "reason": ""},
        {"c2c_seconds": "custom", "c2c_custom": "", "group_seconds": "4294967295", "reason": "x"},
        {"c2c_seconds": "custom", "c2c_custom": "-3", "c2c_custom_unit": "weeks", "reason": "y"},
        {"c2c_seconds": "<b>", "group_seconds": "600", "reason": "a\"b<c>&d'e\n  second line "},
        {"group_seconds": "custom", "group_custom": "2", "group_custom_unit": "days"},
    ],
)
@pytest.mark.parametrize("can_mute_permanently", [False, True])
def test_the_change_form_is_drawn_as_djangos_templates_draw_it(data, can_mute_permanently):
    from django.forms.renderers import DjangoTemplates

    from muteadmin.mutes.forms import LookupForm, MuteChangeForm

    def drawn(renderer) -> list[str]:
        change = MuteChangeForm(
            data=data, can_mute_permanently=can_mute_permanently, renderer=renderer
        )
        lookup = LookupForm(data=data and {"account": data.get("reason")}, renderer=renderer)
        for form in (change, lookup):
            form.is_valid()
        return [str(form[name]) for form in (change, lookup) for name in form.fields]

    expected = drawn(DjangoTemplates())
    # Drawn without the template engine, and the same.
    with templates_drawn() as templates:
        fast = drawn(None)
    assert (fast, templates) == (expected, [])


def test_the_page_reads_its_story_drift_and_request_in_one_round_trip(as_moderator):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    assert change(as_moderator, "alice", c2c_seconds="3600").status_code == 302
    with CaptureQueriesContext(connection) as page:
        response = as_moderator.get(account_url("alice"))
    assert response.status_code == 200
    assert "spam raid" in response.content.decode()
    reads = [q["sql"] for q in page.captured_queries if "approvals_muterequest" in q["sql"]]
    (read,) = reads
    if connection.vendor == "postgresql":
        # The timeline, the drift mark and the waiting request travel as one query.
        assert "UNION ALL" in read and "audit_accountmutestate" in read
