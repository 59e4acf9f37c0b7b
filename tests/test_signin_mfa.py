"""Two-factor sign-in: enrolling an authenticator app, signing in with it or a recovery code, and
the roles that must enrol before using the dashboard."""

import base64
import hashlib
import hmac
import struct
import time

import pytest
from allauth.mfa.models import Authenticator
from django.urls import reverse

from muteadmin.audit.models import AuditEntry
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def totp(secret: str, *, step: int = 0) -> str:
    """The RFC 6238 code an authenticator app shows for `secret` (30 s, 6 digits, SHA-1)."""
    counter = int(time.time()) // 30 + step
    digest = hmac.new(base64.b32decode(secret), struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 1_000_000:06d}"


@pytest.fixture(autouse=True)
def one_step_of_tolerance(settings):
    """Codes one 30-second step either side count, so a test never races a step's end."""
    settings.MFA_TOTP_TOLERANCE = 1


def sign_in(client, username):
    return client.post(reverse("login"), {"username": username, "password": PASSWORD})


def reaches_dashboard(client) -> bool:
    return client.get(reverse("mutes:lookup")).status_code == 200


def enrol(client) -> tuple[str, list[str]]:
    """Set up an authenticator app as the activation page asks; its secret and recovery codes."""
    page = client.get(reverse("mfa_activate_totp"))
    # Changing the second factor asks for the password again first.
    assert page.status_code == 302
    assert page["Location"].startswith(reverse("account_reauthenticate"))
    confirmed = client.post(page["Location"], {"password": PASSWORD})
    assert confirmed["Location"] == reverse("mfa_activate_totp")
    page = client.get(reverse("mfa_activate_totp"))
    assert page.status_code == 200
    secret = page.context["form"].secret
    assert secret in page.content.decode()
    activated = client.post(reverse("mfa_activate_totp"), {"code": totp(secret)})
    assert activated.status_code == 302, activated.context["form"].errors
    assert activated["Location"] == reverse("mfa_view_recovery_codes")
    codes = client.get(activated["Location"]).context["unused_codes"]
    assert len(codes) == 10
    return secret, codes


def second_factor_page(client, username):
    response = sign_in(client, username)
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_authenticate")
    return response["Location"]


def test_an_enrolled_user_signs_in_with_a_code_from_the_app(client, moderator):
    assert sign_in(client, "mod")["Location"] == reverse("mutes:lookup")
    secret, _ = enrol(client)
    client.post(reverse("logout"))

    page = second_factor_page(client, "mod")
    # The password alone does not sign in.
    assert not reaches_dashboard(client)
    logins = AuditEntry.objects.filter(action=AuditEntry.Action.LOGIN)
    assert logins.count() == 1

    wrong = client.post(page, {"code": "000000" if totp(secret) != "000000" else "111111"})
    assert wrong.status_code == 200
    failed = AuditEntry.objects.filter(action=AuditEntry.Action.LOGIN_FAILED).get()
    assert failed.details["second_factor"] is True
    assert failed.error_info == "Wrong two-factor code."
    assert failed.operator == moderator

    done = client.post(page, {"code": totp(secret, step=1)})
    assert done.status_code == 302
    assert reaches_dashboard(client)
    assert logins.count() == 2
    assert logins.latest("id").details["method"] == "password and second factor"


def test_a_recovery_code_signs_in_once(client, moderator):
    sign_in(client, "mod")
    _, codes = enrol(client)
    client.post(reverse("logout"))

    page = second_factor_page(client, "mod")
    assert client.post(page, {"code": codes[0]}).status_code == 302
    assert reaches_dashboard(client)
    client.post(reverse("logout"))

    page = second_factor_page(client, "mod")
    assert client.post(page, {"code": codes[0]}).status_code == 200
    assert not reaches_dashboard(client)
    assert client.post(page, {"code": codes[1]}).status_code == 302
    assert reaches_dashboard(client)


def test_a_required_role_must_enrol_before_using_the_dashboard(client, lead, settings):
    settings.MFA_REQUIRED_GROUPS = ["Lead", "Auditor"]
    sign_in(client, "lead")
    for path in (reverse("mutes:lookup"), reverse("audit:list"), reverse("reports:mutes_csv")):
        response = client.get(path)
        assert response.status_code == 302
        assert response["Location"] == reverse("mfa_activate_totp")
    page = client.get(reverse("mfa_activate_totp"), follow=True)
    assert "Your role requires two-factor sign-in" in page.content.decode()
    enrol(client)
    assert reaches_dashboard(client)


def test_a_role_not_named_signs_in_without_enrolling(client, moderator, settings):
    settings.MFA_REQUIRED_GROUPS = ["Lead", "Auditor"]
    sign_in(client, "mod")
    assert reaches_dashboard(client)


def test_an_empty_list_makes_two_factor_optional_for_everyone(client, lead, settings):
    settings.MFA_REQUIRED_GROUPS = []
    sign_in(client, "lead")
    assert reaches_dashboard(client)


def test_a_required_role_cannot_remove_its_second_factor(client, lead, moderator, settings):
    settings.MFA_REQUIRED_GROUPS = ["Lead"]
    sign_in(client, "lead")
    enrol(client)
    client.post(reverse("mfa_deactivate_totp"))
    assert Authenticator.objects.filter(user=lead, type=Authenticator.Type.TOTP).exists()
    # Someone whose role does not require it may.
    client.post(reverse("logout"))
    sign_in(client, "mod")
    enrol(client)
    client.post(reverse("mfa_deactivate_totp"))
    assert not Authenticator.objects.filter(user=moderator, type=Authenticator.Type.TOTP).exists()


def test_the_demo_login_reaches_the_dashboard_at_once_and_says_how_to_enrol(client):
    from io import StringIO

    from django.contrib.auth.models import Group
    from django.core.management import call_command

    Group.objects.get_or_create(name="Lead")
    out = StringIO()
    call_command("create_demo_user", stdout=out)
    assert "Two-factor sign-in: optional" in out.getvalue()
    assert "/accounts/2fa/" in out.getvalue()
    password = out.getvalue().split("Demo login: demo / ")[1].split()[0]
    response = client.post(reverse("login"), {"username": "demo", "password": password})
    assert response["Location"] == reverse("mutes:lookup")
    assert reaches_dashboard(client)
