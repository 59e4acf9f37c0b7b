"""The start page `/`: the lookup box first, then your actions, mutes ending soon, requests
waiting for you (Leads) and your recent lookups."""

import json
import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from muteadmin.approvals.services import mute_request_file
from muteadmin.core.account_paths import AccountUrls
from muteadmin.mutes.home import home_lists, home_mutes_ending
from muteadmin.mutes.services import mute_change
from tests.conftest import audit_row

pytestmark = pytest.mark.django_db


def home(client, **query) -> str:
    response = client.get(reverse("mutes:lookup"), query)
    assert response.status_code == 200
    return response.content.decode()


def home_list(html: str, name: str) -> str:
    match = re.search(rf'<section[^>]*data-home-list="{name}".*?</section>', html, re.S)
    assert match, f"no {name} list on the page"
    return match.group(0)


def account_link(account: str) -> str:
    return f'href="{reverse("mutes:account", args=[account])}"'


def test_the_lookup_box_comes_first(as_moderator):
    html = home(as_moderator)
    assert html.index('class="lookup"') < html.index("data-home-list")
    assert 'name="account"' in html


def test_your_recent_actions_list_your_changes_requests_and_notes_not_others(
    as_moderator, moderator
):
    audit_row(action="change", account="olga", operator="mod", c2c_requested=600)
    audit_row(action="query", account="looked-only", operator="mod")
    audit_row(action="request_filed", account="pia", operator="mod", group_requested=0)
    audit_row(action="note", account="quinn", operator="mod", reason="watch")
    audit_row(action="change", account="someone-elses", operator="lead")
    actions = home_list(home(as_moderator), "recent-actions")
    assert actions.index("quinn") < actions.index("pia") < actions.index("olga")
    assert "C2C 10 min, group left as it was" in actions
    assert "Request filed" in actions
    assert "someone-elses" not in actions
    assert "looked-only" not in actions
    assert account_link("olga") in actions


def test_your_recent_actions_keep_to_ten(as_moderator):
    for number in range(12):
        audit_row(action="note", account=f"acct{number:02}", operator="mod", reason="n")
    actions = home_list(home(as_moderator), "recent-actions")
    assert "acct11" in actions and "acct02" in actions
    assert "acct01" not in actions and "acct00" not in actions


def test_mutes_ending_in_the_next_day_soonest_first(as_moderator, moderator, lead):
    mute_change(account="soon", operator=moderator, reason="r", c2c_seconds=3600)
    mute_change(account="later", operator=moderator, reason="r", group_seconds=20 * 3600)
    mute_change(account="next-week", operator=moderator, reason="r", c2c_seconds=7 * 86400)
    mute_change(account="forever", operator=lead, reason="r", c2c_seconds=0xFFFFFFFF)
    ending = home_list(home(as_moderator), "mutes-ending")
    assert ending.index("soon") < ending.index("later")
    assert account_link("soon") in ending
    assert "next-week" not in ending
    assert "forever" not in ending


def test_a_mute_that_has_ended_is_no_longer_listed(as_moderator, moderator):
    mute_change(account="short", operator=moderator, reason="r", c2c_seconds=60)
    assert "short" in home_list(home(as_moderator), "mutes-ending")
    urls = AccountUrls()
    later = timezone.now() + timedelta(minutes=5)
    assert home_mutes_ending(app="default", urls=urls, now=later) == []
    (line,) = home_mutes_ending(app="default", urls=urls)
    assert (line.account, line.url) == ("short", reverse("mutes:account", args=["short"]))


def test_leads_see_requests_waiting_from_others_not_their_own(as_lead, lead, moderator):
    mute_request_file(
        requester=moderator,
        account="filed-by-mod",
        reason="raid",
        c2c_seconds=None,
        group_seconds=0xFFFFFFFF,
        app="default",
    )
    mute_request_file(
        requester=lead,
        account="filed-by-lead",
        reason="raid",
        c2c_seconds=None,
        group_seconds=0xFFFFFFFF,
        app="default",
    )
    waiting = home_list(home(as_lead), "requests-waiting")
    assert "filed-by-mod" in waiting
    assert "mod asks: C2C left as it was, group permanent" in waiting
    assert "filed-by-lead" not in waiting
    assert f'href="{reverse("approvals:list")}"' in waiting


def test_moderators_get_no_requests_list(as_moderator, moderator):
    assert 'data-home-list="requests-waiting"' not in home(as_moderator)


def test_your_recent_lookups_are_distinct_accounts_linked_by_their_encoded_url(as_moderator):
    for account in ["a/b", "olga", "a/b", "..", "olga"]:
        audit_row(action="query", account=account, operator="mod")
    audit_row(action="query", account="not-mine", operator="lead")
    lookups = home_list(home(as_moderator), "recent-lookups")
    assert lookups.count(account_link("olga")) == 1
    assert (
        lookups.index(account_link("olga"))
        < lookups.index(account_link(".."))
        < (lookups.index(account_link("a/b")))
    )
    assert 'href="/mutes/%252E%252E/"' in lookups
    assert "not-mine" not in lookups


def test_the_lists_follow_the_app_chosen(settings, as_moderator):
    settings.TIM_APPS = json.dumps(
        [{"name": "a", "label": "A", "sandbox": True}, {"name": "b", "sandbox": True}]
    )
    audit_row(action="query", account="in-a", operator="mod", app="a")
    audit_row(action="query", account="in-b", operator="mod", app="b")
    lookups = home_list(home(as_moderator, app="b"), "recent-lookups")
    assert "in-b" in lookups and "in-a" not in lookups
    assert 'href="/mutes/in-b/?app=b"' in lookups


def test_an_empty_home_page_says_what_each_list_will_hold(as_moderator):
    html = home(as_moderator)
    assert "You have not changed, requested or noted anything here yet." in html
    assert "No account's mutes end in the next 24 hours." in html
    assert "Accounts you look up are listed here." in html


def test_the_lists_cost_one_query_each_however_long_the_history(
    lead, moderator, django_assert_num_queries
):
    for number in range(30):
        audit_row(action="query", account=f"acct{number}", operator="lead")
        audit_row(action="note", account=f"acct{number}", operator="lead", reason="n")
    home_lists(user=lead, app="default")  # permissions cached, as on a page that checked them
    # Five lists (reviews due among them), one query each.
    with django_assert_num_queries(5):
        lists = home_lists(user=lead, app="default")
    assert len(lists["recent_lookups"]) == len(lists["recent_actions"]) == 10
    home_lists(user=moderator, app="default")
    with django_assert_num_queries(4):
        assert home_lists(user=moderator, app="default")["requests_waiting"] == []
