"""Signing in through /login/ (and the admin's address): throttling, lock-outs and audit rows."""

import json
import re

import pytest
from django.contrib.auth.hashers import MD5PasswordHasher
from django.urls import reverse

from muteadmin.audit.chain import audit_chain_verify
from muteadmin.audit.models import AuditEntry
from muteadmin.signin.audit_rows import typed_username
from muteadmin.signin.throttle import address_key
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

WRONG = "not-the-password"


class CountingHasher(MD5PasswordHasher):
    """The test hasher, counting how many passwords it checks (each costs CPU in production)."""

    checks = 0

    def verify(self, password, encoded):
        type(self).checks += 1
        return super().verify(password, encoded)

    def harden_runtime(self, password, encoded):
        type(self).checks += 1


@pytest.fixture
def counting_hasher(settings):
    settings.PASSWORD_HASHERS = [f"{__name__}.CountingHasher"]
    CountingHasher.checks = 0
    return CountingHasher


@pytest.fixture
def limits(settings):
    settings.LOGIN_FAILURES_PER_ACCOUNT = 3
    settings.LOGIN_FAILURES_PER_ADDRESS = 5
    settings.LOGIN_LOCKOUT_MINUTES = 15
    return settings


def sign_in(client, username, password, *, address="127.0.0.1", path=None, **extra):
    return client.post(
        path or reverse("login"),
        {"username": username, "password": password, **extra},
        REMOTE_ADDR=address,
    )


def signed_in(client) -> bool:
    return client.get(reverse("mutes:lookup")).status_code == 200


def error_on(response) -> str:
    match = re.search(r"data-signin-error>(.*?)</p>", response.content.decode(), re.S)
    assert match, "the sign-in page shows no error"
    return match.group(1)


def rows(action):
    return list(AuditEntry.objects.filter(action=action).order_by("id"))


# The form and its audit rows


def test_signing_in_with_username_and_password_reaches_the_dashboard_and_is_audited(
    client, moderator
):
    response = sign_in(client, "mod", PASSWORD, address="203.0.113.7")
    assert response.status_code == 302
    assert response["Location"] == reverse("mutes:lookup")
    assert signed_in(client)
    (row,) = rows(AuditEntry.Action.LOGIN)
    assert row.operator == moderator
    assert row.operator_username == "mod"
    assert row.client_ip == "203.0.113.7"
    assert row.outcome == AuditEntry.Outcome.OK
    assert row.details["method"] == "password"
    assert row.chain_seq is not None
    assert audit_chain_verify().broken is None


def test_the_sign_in_page_keeps_next_and_its_field_names(client, moderator):
    page = client.get(reverse("login"), {"next": "/audit/"}).content.decode()
    assert 'name="username"' in page and 'name="password"' in page
    assert 'name="next" value="/audit/"' in page
    response = sign_in(client, "mod", PASSWORD, next="/bulk/")
    assert response["Location"] == "/bulk/"


def test_a_wrong_password_says_so_and_leaves_an_audit_row_without_the_password(client, moderator):
    response = sign_in(client, "mod", WRONG, address="198.51.100.4")
    assert response.status_code == 200
    assert "not correct" in error_on(response)
    assert not signed_in(client)
    (row,) = rows(AuditEntry.Action.LOGIN_FAILED)
    assert row.operator == moderator
    assert row.client_ip == "198.51.100.4"
    assert row.outcome == AuditEntry.Outcome.ERROR
    assert row.details == {"username": "mod"}
    assert row.error_info == "Wrong username or password."
    stored = json.dumps(list(AuditEntry.objects.values()), default=str)
    assert WRONG not in stored
    assert audit_chain_verify().broken is None


def test_an_unknown_username_is_recorded_as_typed_but_without_control_characters(client, db):
    sign_in(client, "ghost\x1b[31m\u202eadmin", WRONG)
    (row,) = rows(AuditEntry.Action.LOGIN_FAILED)
    assert row.operator is None
    assert row.operator_username == ""
    assert row.details["username"] == "ghost [31m admin"


def test_a_typed_username_is_stored_at_most_150_characters_long():
    assert typed_username("x" * 151) == "x" * 149 + "…"
    assert typed_username("x" * 150) == "x" * 150


def test_a_username_too_long_for_any_account_is_refused_without_a_password_check(
    client, db, counting_hasher
):
    response = sign_in(client, "x" * 151, WRONG)
    assert "Username: Ensure this value has at most 150 characters" in error_on(response)
    assert counting_hasher.checks == 0


# Throttling per account


def test_an_account_is_locked_after_its_failures_even_with_the_right_password(
    client, moderator, limits, clock, counting_hasher
):
    for _ in range(2):
        assert "not correct" in error_on(sign_in(client, "mod", WRONG))
    # The third failure locks the account, and says until when.
    locked = error_on(sign_in(client, "mod", WRONG))
    assert "Too many failed sign-ins for this account" in locked
    assert "in 15 minutes" in locked
    assert re.search(r"locked until \d{4}-\d\d-\d\d \d\d:\d\d:\d\d \(UTC\)", locked)
    checked = counting_hasher.checks
    refused = sign_in(client, "mod", PASSWORD)
    assert "Too many failed sign-ins for this account" in error_on(refused)
    assert not signed_in(client)
    # Refused before the password is checked: guessing costs the server nothing more.
    assert counting_hasher.checks == checked
    failed = rows(AuditEntry.Action.LOGIN_FAILED)
    assert [row.details.get("locked_out") for row in failed] == [None, None, "account", "account"]
    assert failed[-1].error_info.startswith("Too many failed sign-ins")
    assert rows(AuditEntry.Action.LOGIN) == []


def test_a_lock_out_ends_after_its_minutes_and_refusals_do_not_prolong_it(
    client, moderator, limits, clock
):
    for _ in range(3):
        sign_in(client, "mod", WRONG)
    clock.advance(10 * 60)
    assert "in 5 minutes" in error_on(sign_in(client, "mod", PASSWORD))
    clock.advance(5 * 60 - 1)
    assert "in 1 minute)" in error_on(sign_in(client, "mod", PASSWORD))
    clock.advance(1)
    assert sign_in(client, "mod", PASSWORD).status_code == 302
    assert signed_in(client)


def test_failures_spread_wider_than_the_window_do_not_lock(client, moderator, limits, clock):
    for _ in range(6):
        sign_in(client, "mod", WRONG)
        clock.advance(8 * 60)
    assert sign_in(client, "mod", PASSWORD).status_code == 302


def test_the_account_count_ignores_letter_case(client, moderator, limits, clock):
    for name in ("MOD", "Mod", "mOd"):
        sign_in(client, name, WRONG)
    assert "this account" in error_on(sign_in(client, "mod", PASSWORD))


def test_the_default_limit_is_ten_failures_in_fifteen_minutes(client, moderator, clock):
    for _ in range(9):
        assert "not correct" in error_on(sign_in(client, "mod", WRONG))
    assert "in 15 minutes" in error_on(sign_in(client, "mod", WRONG))


# Throttling per address


def test_an_address_spraying_many_accounts_is_refused_even_the_right_password(
    client, moderator, limits, clock
):
    for n in range(5):
        sign_in(client, f"guess{n}", WRONG, address="192.0.2.9")
    refused = sign_in(client, "mod", PASSWORD, address="192.0.2.9")
    assert "Too many failed sign-ins for your network address" in error_on(refused)
    assert rows(AuditEntry.Action.LOGIN_FAILED)[-1].details["locked_out"] == "address"
    # Another address is not affected, and the lock-out ends with the window.
    assert sign_in(client, "mod", PASSWORD, address="192.0.2.10").status_code == 302
    client.logout()
    clock.advance(15 * 60)
    assert sign_in(client, "mod", PASSWORD, address="192.0.2.9").status_code == 302


def test_a_whole_team_behind_one_address_signs_in_without_limit(client, db, clock):
    from tests.conftest import user_in

    for n in range(60):
        user_in(f"agent{n}", "Moderator")
    for n in range(60):
        assert sign_in(client, f"agent{n}", PASSWORD, address="192.0.2.50").status_code == 302
        client.logout()
    assert len(rows(AuditEntry.Action.LOGIN)) == 60


def test_an_ipv6_client_is_counted_by_its_network():
    assert address_key("2001:db8:1:2:aaaa::1") == address_key("2001:db8:1:2:bbbb::9")
    assert address_key("2001:db8:1:3::1") != address_key("2001:db8:1:2::1")
    assert address_key("::ffff:192.0.2.1") == "192.0.2.1"
    assert address_key(None) == ""


# The admin's sign-in address


def test_the_admin_sign_in_page_is_the_same_door(client, moderator, limits, clock):
    response = client.get("/admin/login/", {"next": "/admin/"})
    assert response.status_code == 302
    assert response["Location"] == reverse("login") + "?next=%2Fadmin%2F"
    # Posting the admin's form does not sign in around the throttle.
    posted = client.post("/admin/login/?next=/admin/", {"username": "mod", "password": PASSWORD})
    assert posted.status_code == 302 and posted["Location"].startswith(reverse("login"))
    assert not signed_in(client)
    for _ in range(3):
        sign_in(client, "mod", WRONG, path=response["Location"])
    followed = client.get(response["Location"])
    assert followed.status_code == 200
    refused = sign_in(client, "mod", PASSWORD, path=response["Location"])
    assert "this account" in error_on(refused)


def test_staff_reach_the_admin_after_signing_in_through_the_door(client, moderator):
    moderator.is_staff = moderator.is_superuser = True
    moderator.save()
    response = sign_in(client, "mod", PASSWORD, path=reverse("login") + "?next=/admin/")
    assert response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_allauths_own_sign_in_address_sends_to_login(client):
    response = client.get("/accounts/login/", {"next": "/audit/"})
    assert response.status_code == 302
    assert response["Location"] == reverse("login") + "?next=%2Faudit%2F"


def test_there_is_no_sign_up_and_no_reset_by_email(client):
    assert b"Sign Up Closed" in client.get("/accounts/signup/").content
    notice = client.get("/accounts/password/reset/")
    assert notice.status_code == 200
    assert b"ask an administrator" in notice.content


def test_a_signed_in_user_the_admin_refuses_lands_on_the_sign_in_page_not_a_loop(
    as_moderator,
):
    response = as_moderator.get("/admin/", follow=True)
    assert response.status_code == 200
    assert [url for url, _ in response.redirect_chain][-1].startswith(reverse("login"))
    assert "You are signed in as <strong>mod</strong>, who may not open that page" in (
        response.content.decode()
    )


def test_failed_sign_ins_and_lock_outs_leave_a_log_line_without_the_password(
    client, moderator, limits, caplog
):
    with caplog.at_level("INFO", logger="muteadmin.signin"):
        for _ in range(3):
            sign_in(client, "mod", WRONG, address="192.0.2.33")
    failures = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert failures[0] == "Failed sign-in for 'mod' from 192.0.2.33: Wrong username or password."
    assert failures[-1].endswith("(locked out: account)")
    assert all(WRONG not in r.getMessage() for r in caplog.records)


def test_sign_in_rows_are_listed_and_filtered_in_the_audit_log(client, moderator, lead):
    sign_in(client, "mod", WRONG, address="192.0.2.77")
    sign_in(client, "mod", PASSWORD)
    client.force_login(lead)
    page = client.get(reverse("audit:list"), {"action": "login_failed"}).content.decode()
    assert "Failed sign-in" in page
    assert (
        "192.0.2.77"
        in client.get(
            reverse("audit:detail", args=[rows(AuditEntry.Action.LOGIN_FAILED)[0].pk])
        ).content.decode()
    )
    both = client.get(reverse("audit:list"), {"action": ["login", "login_failed"]})
    assert both.status_code == 200
    assert "Sign-in" in both.content.decode() and "Failed sign-in" in both.content.decode()
