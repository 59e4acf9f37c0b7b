"""The watchlist page: every role that looks up accounts reads it, Leads add and remove, each
change audited; bad input is refused whole with a sentence."""

import pytest
from django.urls import reverse

from muteadmin.audit.models import AuditEntry
from muteadmin.reconcile.models import WatchedAccount
from muteadmin.reconcile.watchlist import watchlist_add

pytestmark = pytest.mark.django_db

URL = "/watchlist/"


def watched() -> list[str]:
    return list(WatchedAccount.objects.order_by("account").values_list("account", flat=True))


def test_the_path_is_the_one_documented():
    assert reverse("reconcile:watchlist") == URL


def test_a_lead_pastes_many_and_each_addition_is_audited(as_lead, lead):
    watchlist_add(operator=lead, accounts=["bob"], app="default")

    response = as_lead.post(URL, {"accounts": "  alice \nbob\n\ncarol\nalice\n"})

    assert response.status_code == 302
    assert watched() == ["alice", "bob", "carol"]
    rows = AuditEntry.objects.filter(action="watchlist").order_by("id")
    assert [(row.account, row.details["watchlist"]) for row in rows] == [
        ("bob", "added"),
        ("alice", "added"),
        ("carol", "added"),
    ]
    assert {row.operator_username for row in rows} == {"lead"}
    page = as_lead.get(URL).content.decode()
    assert "2 accounts added to the watchlist; 1 already on it." in page
    assert page.count("data-account=") == 3 and "Add to the watchlist" in page


def test_a_lead_removes_one_and_the_removal_is_audited(as_lead, lead):
    watchlist_add(operator=lead, accounts=["alice", "bob"], app="default")

    response = as_lead.post(reverse("reconcile:watchlist_remove"), {"account": "alice"})

    assert response.status_code == 302 and watched() == ["bob"]
    last = AuditEntry.objects.filter(action="watchlist").latest("id")
    assert (last.account, last.details["watchlist"]) == ("alice", "removed")
    # Removing it again changes and records nothing.
    as_lead.post(reverse("reconcile:watchlist_remove"), {"account": "alice"})
    assert AuditEntry.objects.filter(action="watchlist").count() == 3


def test_one_invalid_line_refuses_the_whole_paste_and_says_which(as_lead):
    response = as_lead.post(URL, {"accounts": "alice\n" + "x" * 40 + "\nbob"})

    assert response.status_code == 400
    assert "Nothing was added: line 2:" in response.content.decode()
    assert watched() == [] and not AuditEntry.objects.filter(action="watchlist").exists()


@pytest.mark.parametrize("role", ["as_moderator", "as_auditor"])
def test_other_roles_read_it_without_the_forms_and_cannot_change_it(request, role, lead):
    client = request.getfixturevalue(role)
    watchlist_add(operator=lead, accounts=["alice"], app="default")

    page = client.get(URL)

    assert page.status_code == 200 and 'data-account="alice"' in page.content.decode()
    assert "Add to the watchlist" not in page.content.decode()
    assert "Remove" not in page.content.decode()
    assert client.post(URL, {"accounts": "bob"}).status_code == 403
    remove = client.post(reverse("reconcile:watchlist_remove"), {"account": "alice"})
    assert remove.status_code == 403
    assert watched() == ["alice"]


def test_someone_without_a_role_gets_403(client, outsider):
    client.force_login(outsider)
    assert client.get(URL).status_code == 403


def test_the_navigation_links_it_for_those_who_read_it(as_moderator):
    assert "data-nav-watchlist" in as_moderator.get(reverse("mutes:lookup")).content.decode()
