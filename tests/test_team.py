"""The team page: Leads add people with a one-time set-password link, change roles, deactivate and
reset two-factor sign-in; everyone else is refused, and every change is an audit row."""

import logging
import re
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.apps import apps
from django.contrib.auth.models import User
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from muteadmin.audit.models import AuditEntry
from tests.conftest import PASSWORD, user_in

pytestmark = pytest.mark.django_db

TWO_FACTOR = apps.is_installed("allauth.mfa")
needs_two_factor = pytest.mark.skipif(
    not TWO_FACTOR, reason="two-factor sign-in (allauth.mfa) is not installed"
)

NEW_PASSWORD = "violet-kettle-harbour-71"
LINK = re.compile(r"https?://[^\s\"'<]+/team/welcome/([^/\s\"'<]+)/")


def team_rows() -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action="team").order_by("id"))


def add(client, username: str = "newbie", role: str = "Moderator", **extra) -> str:
    """Add a person through the page; the full link it shows."""
    response = client.post(reverse("team:list"), {"username": username, "role": role, **extra})
    assert response.status_code == 200, response.content
    match = LINK.search(response.content.decode())
    assert match, "the page shows a full set-password link"
    return match.group(0)


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def set_password(client, link: str, password: str = NEW_PASSWORD):
    """Open the link as its recipient would and set a password; the final response."""
    client.logout()
    opened = client.get(link)
    assert opened.status_code == 302
    return client.post(
        opened.url, {"new_password1": password, "new_password2": password}, follow=True
    )


# Who may use the page.


def test_leads_see_the_staff_with_role_two_factor_and_last_sign_in(as_lead, moderator, auditor):
    moderator.last_login = datetime(2026, 3, 5, 14, 30, tzinfo=UTC)
    moderator.save()
    response = as_lead.get(reverse("team:list"))
    assert response.status_code == 200
    page = response.content.decode()
    rows = re.findall(r'<tr data-member="([^"]+)">(.*?)</tr>', page, re.S)
    assert [username for username, _ in rows] == ["auditor", "lead", "mod"]
    for (_, row), role, signed_in in zip(
        rows,
        ("Auditor", "Lead", "Moderator"),
        ("Never", "", "2026-03-05 14:30:00 (UTC)"),
        strict=True,
    ):
        assert f"<td data-role>{role}</td>" in row
        assert "<td data-active>Active</td>" in row
        assert f"<td data-two-factor>{'Not set up' if TWO_FACTOR else '—'}</td>" in row
        assert signed_in in row
    assert ("Two-factor sign-in is not set up on this server" in page) is not TWO_FACTOR
    assert f'href="{reverse("team:list")}"' in page  # the navigation links to it


@pytest.mark.parametrize("who", ["moderator", "auditor", "outsider"])
def test_everyone_but_leads_is_refused_the_page_and_every_change(client, who, request, lead):
    client.force_login(request.getfixturevalue(who))
    target = user_in("target", "Moderator")
    assert client.get(reverse("team:list")).status_code == 403
    assert client.post(reverse("team:list"), {"username": "x", "role": "Lead"}).status_code == 403
    for name, data in (
        ("team:role", {"role": "Lead"}),
        ("team:deactivate", {}),
        ("team:reactivate", {}),
        ("team:two_factor_reset", {}),
        ("team:link", {}),
    ):
        assert client.post(reverse(name, args=[target.pk]), data).status_code == 403
    assert not User.objects.filter(username="x").exists()
    target.refresh_from_db()
    assert target.is_active and [g.name for g in target.groups.all()] == ["Moderator"]
    assert team_rows() == []
    assert (
        f'href="{reverse("team:list")}"' not in client.get(reverse("mutes:lookup")).content.decode()
    )


def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.get(reverse("team:list"))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


# Adding a person and their one-time link.


def test_an_added_person_sets_a_password_once_and_signs_in_with_it(client, lead, caplog):
    caplog.set_level(logging.DEBUG)
    client.force_login(lead)
    link = add(client, "newbie", "Auditor")
    token = LINK.search(link).group(1)
    newbie = User.objects.get(username="newbie")
    assert not newbie.has_usable_password() and not newbie.is_superuser and not newbie.is_staff
    assert [g.name for g in newbie.groups.all()] == ["Auditor"]

    done = set_password(client, link)
    assert done.redirect_chain[-1][0] == reverse("login")
    assert "Your password is set. Sign in with your username and it." in messages_of(done)
    assert client.login(username="newbie", password=NEW_PASSWORD)

    client.logout()
    again = client.get(client.get(link).url)
    assert again.status_code == 410
    assert "was used already" in again.content.decode()

    (added, password_set) = team_rows()
    assert added.operator_username == "lead" and added.outcome == "ok"
    assert added.details == {"change": "add", "username": "newbie", "role": "Auditor"}
    assert password_set.operator_username == "newbie"
    assert password_set.details == {"change": "password_set", "username": "newbie"}
    assert added.chain_seq is not None and password_set.chain_seq == added.chain_seq + 1
    # The token is never kept: not in audit rows, not in any log line.
    for entry in AuditEntry.objects.all():
        assert token not in repr(entry.__dict__)
    assert all(token not in record.getMessage() for record in caplog.records)


def test_a_link_expires_after_24_hours(client, lead, clock):
    client.force_login(lead)
    with clock.freeze_django():
        link = add(client)
        clock.advance(timedelta(hours=24).total_seconds() - 1)
        client.logout()
        assert client.get(client.get(link).url).status_code == 200
        clock.advance(1)
        expired = client.get(reverse("team:welcome_form"))
        assert expired.status_code == 410
        assert "has expired: links work for 24 hours. Ask a Lead for a new one." in (
            expired.content.decode()
        )
        refused = set_password(client, link)
    assert refused.status_code == 410
    assert not User.objects.get(username="newbie").has_usable_password()


def test_a_link_nobody_issued_is_refused_with_a_sentence(client):
    response = client.get(client.get(reverse("team:welcome", args=["made-up"])).url)
    assert response.status_code == 404
    assert "This set-password link is not valid" in response.content.decode()


def test_a_weak_password_is_refused_and_the_link_still_works(client, lead):
    client.force_login(lead)
    link = add(client)
    weak = set_password(client, link, password="12345678")
    assert weak.status_code == 400
    assert "This password is too common." in weak.content.decode()
    assert set_password(client, link).status_code == 200
    assert client.login(username="newbie", password=NEW_PASSWORD)


def test_a_taken_username_is_refused(as_lead, moderator):
    response = as_lead.post(reverse("team:list"), {"username": "MOD", "role": "Lead"})
    assert response.status_code == 400
    assert "There is already someone called MOD; choose another username." in (
        response.content.decode()
    )
    assert team_rows() == []


def test_a_new_link_replaces_the_old_one(as_lead):
    old = add(as_lead)
    newbie = User.objects.get(username="newbie")
    response = as_lead.post(reverse("team:link", args=[newbie.pk]))
    new = LINK.search(response.content.decode()).group(0)
    assert new != old
    assert team_rows()[-1].details == {"change": "link", "username": "newbie"}
    assert set_password(as_lead, old).status_code == 404
    assert set_password(as_lead, new).status_code == 200


def test_no_new_link_for_someone_with_a_password(as_lead, moderator):
    response = as_lead.post(reverse("team:link", args=[moderator.pk]), follow=True)
    assert "mod has set a password already" in messages_of(response)[0]
    assert team_rows() == []


# Roles, deactivation and two-factor sign-in.


def test_a_role_change_is_audited_old_to_new(as_lead, moderator):
    response = as_lead.post(
        reverse("team:role", args=[moderator.pk]), {"role": "Auditor"}, follow=True
    )
    assert "mod is now an Auditor." in messages_of(response)
    assert [g.name for g in moderator.groups.all()] == ["Auditor"]
    (row,) = team_rows()
    assert row.operator_username == "lead"
    assert row.details == {
        "change": "role",
        "username": "mod",
        "old": "Moderator",
        "new": "Auditor",
    }


def test_nobody_changes_their_own_role_or_deactivates_themselves(as_lead, lead):
    changed = as_lead.post(reverse("team:role", args=[lead.pk]), {"role": "Moderator"}, follow=True)
    assert "You cannot change the role of yourself; ask another Lead." in messages_of(changed)
    deactivated = as_lead.post(reverse("team:deactivate", args=[lead.pk]), follow=True)
    assert "You cannot deactivate yourself; ask another Lead." in messages_of(deactivated)
    lead.refresh_from_db()
    assert lead.is_active and [g.name for g in lead.groups.all()] == ["Lead"]
    assert team_rows() == []


def test_nobody_is_made_a_superuser_even_by_a_forged_post(as_lead, moderator):
    add(as_lead, "sneaky", "Lead", is_superuser="on", is_staff="on")
    forged = as_lead.post(
        reverse("team:role", args=[moderator.pk]), {"role": "superuser"}, follow=True
    )
    assert "Choose one of the roles: Moderator, Lead, Auditor." in messages_of(forged)
    assert not User.objects.filter(is_superuser=True).exists()
    assert not User.objects.filter(is_staff=True).exists()
    assert [g.name for g in moderator.groups.all()] == ["Moderator"]


def test_only_a_superuser_acts_on_a_superuser(client, lead):
    root = User.objects.create_superuser("root", password=PASSWORD)
    client.force_login(lead)
    refused = client.post(reverse("team:deactivate", args=[root.pk]), follow=True)
    assert "root is a superuser; only a superuser can deactivate them." in messages_of(refused)
    root.refresh_from_db()
    assert root.is_active
    client.force_login(User.objects.create_superuser("root2", password=PASSWORD))
    client.post(reverse("team:deactivate", args=[root.pk]))
    root.refresh_from_db()
    assert not root.is_active


def test_deactivating_signs_the_person_out_and_reactivating_lets_them_back(client, lead):
    moderator = user_in("mod", "Moderator")
    theirs = Client()
    assert theirs.login(username="mod", password=PASSWORD)
    assert theirs.get(reverse("mutes:lookup")).status_code == 200
    sessions_before = Session.objects.count()

    client.force_login(lead)
    response = client.post(reverse("team:deactivate", args=[moderator.pk]), follow=True)
    assert "mod is deactivated and signed out; they can no longer sign in." in messages_of(response)
    assert Session.objects.count() == sessions_before  # theirs went, the Lead's came
    assert theirs.get(reverse("mutes:lookup")).status_code == 302
    assert not theirs.login(username="mod", password=PASSWORD)

    client.post(reverse("team:reactivate", args=[moderator.pk]))
    assert theirs.login(username="mod", password=PASSWORD)
    assert [row.details for row in team_rows()] == [
        {"change": "deactivate", "username": "mod", "old": "active", "new": "inactive"},
        {"change": "activate", "username": "mod", "old": "inactive", "new": "active"},
    ]


@needs_two_factor
def test_the_page_shows_who_has_two_factor_and_a_lead_resets_it(as_lead, moderator, auditor):
    from allauth.mfa.models import Authenticator

    for user, kind in (
        (moderator, Authenticator.Type.TOTP),
        (moderator, Authenticator.Type.RECOVERY_CODES),
        # Recovery codes without an app are no second factor.
        (auditor, Authenticator.Type.RECOVERY_CODES),
    ):
        Authenticator.objects.create(user=user, type=kind, data={})
    page = as_lead.get(reverse("team:list")).content.decode()
    status = dict(
        re.findall(r'<tr data-member="([^"]+)">.*?<td data-two-factor>([^<]*)</td>', page, re.S)
    )
    assert status == {"auditor": "Not set up", "lead": "Not set up", "mod": "Set up"}

    response = as_lead.post(reverse("team:two_factor_reset", args=[moderator.pk]), follow=True)
    assert (
        "Two-factor sign-in of mod is reset; they set it up again when they next sign in."
        in messages_of(response)
    )
    assert not Authenticator.objects.filter(user=moderator).exists()
    assert Authenticator.objects.filter(user=auditor).exists()
    (row,) = team_rows()
    assert row.details == {"change": "two_factor_reset", "username": "mod", "removed": 2}


@needs_two_factor
def test_nobody_resets_their_own_two_factor_here(as_lead, lead):
    response = as_lead.post(reverse("team:two_factor_reset", args=[lead.pk]), follow=True)
    assert "You cannot reset two-factor sign-in for yourself; ask another Lead." in (
        messages_of(response)
    )
    assert team_rows() == []


@pytest.mark.skipif(TWO_FACTOR, reason="this server has two-factor sign-in")
def test_two_factor_reset_says_when_the_server_has_none(as_lead, moderator):
    response = as_lead.post(reverse("team:two_factor_reset", args=[moderator.pk]), follow=True)
    assert "Two-factor sign-in is not set up on this server." in messages_of(response)
    assert team_rows() == []


# The audit log and the command line.


def test_team_rows_show_in_the_audit_log_and_its_chart(as_lead, moderator):
    as_lead.post(reverse("team:role", args=[moderator.pk]), {"role": "Lead"})
    page = as_lead.get(reverse("audit:list"), {"action": "team"})
    assert page.status_code == 200
    content = page.content.decode()
    assert "Team change" in content and "1 team change" in content


def test_team_add_prints_a_link_that_sets_the_first_leads_password(client):
    out = StringIO()
    call_command(
        "team_add",
        "first",
        "--role",
        "Lead",
        "--base-url",
        "https://admin.example.com/",
        stdout=out,
    )
    link = LINK.search(out.getvalue()).group(0)
    assert link.startswith("https://admin.example.com/team/welcome/")
    path = link.removeprefix("https://admin.example.com")
    assert set_password(client, path).status_code == 200
    assert client.login(username="first", password=NEW_PASSWORD)
    assert client.get(reverse("team:list")).status_code == 200
    (added, _) = team_rows()
    assert added.operator_username == "" and added.details["role"] == "Lead"
