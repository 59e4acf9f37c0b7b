"""Single sign-on, end to end through a real OpenID Connect provider started for the session.

Each sign-in goes: our /login/ page's button -> our /accounts/oidc/sso/login/ -> the provider's
authorization endpoint -> its sign-in and consent pages -> back to our callback -> our server
exchanging the code at the provider's token endpoint and reading its userinfo -> signed in.
"""

import socket

import pytest
from allauth.socialaccount.models import SocialAccount
from django.contrib.auth import get_user
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from muteadmin.audit.models import AuditEntry
from muteadmin.signin.checks import check_single_sign_on
from muteadmin.signin.sso import sso_claim_values, sso_role_for
from tests.conftest import PASSWORD, user_in
from tests.oidc_fixtures import (
    CLIENT_ID,
    CLIENT_SECRET,
    local_path,
    page_forms,
    provider_sign_in,
)

# pytest finds the session's provider fixture by this name.
from tests.oidc_fixtures import oidc_provider as oidc_provider
from tests.test_hostile_input import DISTINCTIVE, HOSTILE, row_text

pytestmark = pytest.mark.django_db

ADDRESS = "203.0.113.7"
PERSON_PASSWORD = "provider-password-of-a-test-person"
ROLE_MAP = ["mod-team:Moderator", "leads:Lead", "audit:Auditor"]
NO_ROLE = "gives you no role in muteadmin"


@pytest.fixture
def sso(settings, oidc_provider):
    """Single sign-on configured with the local provider; the provider, to add people to."""
    settings.OIDC_NAME = "Staff SSO"
    settings.OIDC_SERVER_URL = oidc_provider.issuer
    settings.OIDC_CLIENT_ID = CLIENT_ID
    settings.OIDC_CLIENT_SECRET = CLIENT_SECRET
    settings.OIDC_SCOPES = ["openid", "profile", "groups"]
    settings.OIDC_ROLE_CLAIM = "groups"
    settings.OIDC_ROLE_MAP = ROLE_MAP
    settings.OIDC_TRUST_PROVIDER_MFA = True
    return oidc_provider


def sign_in_with_provider(username: str) -> tuple[Client, object]:
    """A person signs in by the button on /login/; their browser, and our callback's answer."""
    client = Client(REMOTE_ADDR=ADDRESS)
    login_page = client.get(reverse("login"))
    (button,) = [form for form in page_forms(login_page.text) if "data-sso" in form["attrs"]]
    started = client.post(button["attrs"]["action"], button["fields"])
    assert started.status_code == 302, started.text
    back = provider_sign_in(started["Location"], username=username, password=PERSON_PASSWORD)
    return client, client.get(local_path(back))


def signed_in_as(client: Client) -> str | None:
    user = get_user(client)
    return user.get_username() if user.is_authenticated else None


def roles(user: User) -> list[str]:
    return sorted(user.groups.values_list("name", flat=True))


def rows(action: str) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action=action).order_by("id"))


def test_the_login_page_offers_the_provider_beside_the_password_form(sso):
    page = Client().get(reverse("login"))
    assert "Sign in with Staff SSO" in page.text
    assert 'name="username"' in page.text and 'name="password"' in page.text


def test_a_first_sign_in_adds_the_person_in_the_role_their_groups_map_to(sso):
    sso.person("alice", password=PERSON_PASSWORD, groups=["leads", "unrelated"])
    client, answer = sign_in_with_provider("alice")

    assert answer.status_code == 302
    assert answer["Location"] == reverse("mutes:lookup")
    assert signed_in_as(client) == "alice"
    alice = User.objects.get(username="alice")
    assert roles(alice) == ["Lead"]
    assert (alice.is_staff, alice.is_superuser, alice.has_usable_password()) == (False,) * 3
    assert alice.email == ""
    (added,) = rows("team")
    assert (added.operator, added.client_ip) == (None, ADDRESS)
    assert added.details == {
        "change": "add",
        "username": "alice",
        "source": "Staff SSO",
        "role": "Lead",
    }
    (login,) = rows("login")
    assert (login.operator, login.client_ip, login.outcome) == (alice, ADDRESS, "ok")
    assert login.details == {
        "username": "alice",
        "method": "single sign-on",
        "provider": "Staff SSO",
        "subject": "alice",
    }
    # The Lead's pages open: the role took effect.
    assert client.get(reverse("team:list")).status_code == 200


def test_a_role_changed_at_the_provider_applies_at_the_next_sign_in(sso):
    sso.person("bob", password=PERSON_PASSWORD, groups=["mod-team"])
    first, _ = sign_in_with_provider("bob")
    bob = User.objects.get(username="bob")
    assert roles(bob) == ["Moderator"]
    assert first.get(reverse("audit:list")).status_code == 403

    sso.person("bob", password=PERSON_PASSWORD, groups=["audit"])
    second, answer = sign_in_with_provider("bob")

    assert answer.status_code == 302 and signed_in_as(second) == "bob"
    assert roles(bob) == ["Auditor"]
    assert second.get(reverse("audit:list")).status_code == 200
    changed = rows("team")[-1]
    assert changed.details == {
        "change": "role",
        "username": "bob",
        "source": "Staff SSO",
        "old": "Moderator",
        "new": "Auditor",
    }
    assert len(rows("login")) == 2
    assert User.objects.filter(username__startswith="bob").count() == 1

    # Signing in again with the same groups changes nothing and records no change.
    sign_in_with_provider("bob")
    assert len(rows("team")) == 2


def test_the_first_role_of_the_map_wins_when_groups_map_to_several(sso):
    sso.person("carol", password=PERSON_PASSWORD, groups=["audit", "leads"])
    sign_in_with_provider("carol")
    assert roles(User.objects.get(username="carol")) == ["Lead"]


def test_an_identity_whose_groups_map_to_no_role_is_refused_and_audited(sso):
    sso.person("mallory", password=PERSON_PASSWORD, groups=["interns"])
    client, answer = sign_in_with_provider("mallory")

    assert answer.status_code == 403
    assert NO_ROLE in answer.text
    assert "Ask your administrator to add you to a group" in answer.text
    assert signed_in_as(client) is None
    assert not User.objects.filter(username="mallory").exists()
    assert not SocialAccount.objects.exists()
    (refused,) = rows("login_failed")
    assert (refused.operator, refused.client_ip, refused.outcome) == (None, ADDRESS, "error")
    assert NO_ROLE in refused.error_info
    assert refused.details["username"] == "mallory"
    assert refused.details["method"] == "single sign-on"
    assert not rows("login")


def test_a_person_removed_from_every_mapped_group_is_refused_at_the_next_sign_in(sso):
    sso.person("dave", password=PERSON_PASSWORD, groups=["mod-team"])
    sign_in_with_provider("dave")
    sso.person("dave", password=PERSON_PASSWORD, groups=[])

    client, answer = sign_in_with_provider("dave")

    assert answer.status_code == 403 and NO_ROLE in answer.text
    assert signed_in_as(client) is None
    (refused,) = rows("login_failed")
    assert refused.operator == User.objects.get(username="dave")


def test_an_identity_is_never_joined_to_an_existing_account_of_the_same_name(sso):
    local = user_in("erin", "Lead")
    sso.person("erin", password=PERSON_PASSWORD, groups=["mod-team"])

    client, _ = sign_in_with_provider("erin")

    newcomer = signed_in_as(client)
    assert newcomer not in (None, "erin")
    assert roles(User.objects.get(username=newcomer)) == ["Moderator"]
    assert roles(local) == ["Lead"]
    assert Client().login(username="erin", password=PASSWORD)
    login = rows("login")[-1]
    assert login.operator.get_username() == newcomer


def test_the_providers_second_factor_is_trusted_for_roles_that_require_one(sso, settings):
    settings.MFA_REQUIRED_GROUPS = ["Lead"]
    sso.person("frank", password=PERSON_PASSWORD, groups=["leads"])
    client, _ = sign_in_with_provider("frank")
    assert client.get(reverse("mutes:lookup")).status_code == 200


def test_without_trusting_the_provider_a_lead_must_enrol_after_single_sign_on(sso, settings):
    settings.MFA_REQUIRED_GROUPS = ["Lead"]
    settings.OIDC_TRUST_PROVIDER_MFA = False
    sso.person("grace", password=PERSON_PASSWORD, groups=["leads"])
    client, _ = sign_in_with_provider("grace")
    answer = client.get(reverse("mutes:lookup"))
    assert answer.status_code == 302
    assert answer["Location"] == reverse("mfa_activate_totp")


def test_a_deactivated_person_cannot_sign_in_with_the_provider(sso):
    sso.person("heidi", password=PERSON_PASSWORD, groups=["mod-team"])
    sign_in_with_provider("heidi")
    User.objects.filter(username="heidi").update(is_active=False)

    client, answer = sign_in_with_provider("heidi")

    assert signed_in_as(client) is None
    assert answer.status_code == 302 and answer["Location"] == reverse("account_inactive")
    assert len(rows("login")) == 1


def test_a_callback_the_provider_did_not_send_signs_nobody_in(sso):
    client = Client(REMOTE_ADDR=ADDRESS)
    callback = reverse("openid_connect_callback", kwargs={"provider_id": "sso"})
    hostile = "nul\x00nul-阿里\u202e-" + "9" * 5000

    answer = client.get(callback, {"code": hostile, "state": hostile})

    assert answer.status_code == 401
    assert signed_in_as(client) is None
    (failed,) = rows("login_failed")
    assert failed.client_ip == ADDRESS
    assert "9999" not in str(failed.details) + failed.error_info
    assert "阿里" not in str(failed.details) + failed.error_info


SSO_PARAMETERS = (
    "process",
    "next",
    "scope",
    "auth_params",
    "action",
    "code",
    "state",
    "error",
    "error_description",
)


def test_hostile_values_on_the_single_sign_on_pages_never_fault_nor_reach_the_audit_log(sso):
    client = Client(REMOTE_ADDR=ADDRESS)
    for url in (
        reverse("openid_connect_login", kwargs={"provider_id": "sso"}),
        reverse("openid_connect_callback", kwargs={"provider_id": "sso"}),
        reverse("socialaccount_login_error"),
        reverse("socialaccount_login_cancelled"),
    ):
        for parameter in SSO_PARAMETERS:
            for kind, values in HOSTILE.items():
                for value in values:
                    for send in (client.get, client.post):
                        answer = send(url, {parameter: value})
                        assert answer.status_code < 500, (url, parameter, kind, send.__name__)
    assert signed_in_as(client) is None
    assert rows("login_failed")
    for entry in AuditEntry.objects.all():
        text = row_text(entry)
        assert not [marker for marker in DISTINCTIVE if marker in text], entry.pk
        assert "\\u0000" not in text, entry.pk


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_provider_that_cannot_be_reached_is_said_in_a_sentence(settings):
    settings.OIDC_NAME = "Staff SSO"
    settings.OIDC_SERVER_URL = f"http://127.0.0.1:{free_port()}"
    settings.OIDC_CLIENT_ID = CLIENT_ID
    settings.OIDC_CLIENT_SECRET = CLIENT_SECRET
    settings.OIDC_ROLE_MAP = ROLE_MAP

    answer = Client().post(reverse("openid_connect_login", kwargs={"provider_id": "sso"}))

    assert answer.status_code == 502
    assert "Staff SSO could not be reached to sign you in" in answer.text
    assert CLIENT_SECRET not in answer.text


def test_without_configuration_there_is_no_button_and_no_single_sign_on_page(settings):
    settings.OIDC_SERVER_URL = ""
    settings.OIDC_CLIENT_ID = ""
    settings.OIDC_CLIENT_SECRET = ""
    client = Client()

    assert "Sign in with" not in client.get(reverse("login")).text
    for name, kwargs in (
        ("openid_connect_login", {"provider_id": "sso"}),
        ("openid_connect_callback", {"provider_id": "sso"}),
        ("socialaccount_login_error", {}),
        ("socialaccount_login_cancelled", {}),
    ):
        url = reverse(name, kwargs=kwargs)
        assert client.get(url).status_code == 404, url
        assert client.post(url).status_code == 404, url


def sso_check_ids() -> list[str]:
    return [message.id for message in check_single_sign_on(None)]


def test_the_server_refuses_to_start_with_single_sign_on_half_configured(settings):
    settings.OIDC_SERVER_URL = "https://sso.example.com/realms/staff"
    settings.OIDC_CLIENT_ID = "muteadmin"
    settings.OIDC_CLIENT_SECRET = ""
    (error,) = check_single_sign_on(None)
    assert error.id == "muteadmin.E201"
    assert "OIDC_CLIENT_SECRET not set" in error.msg


def test_the_server_refuses_a_role_map_it_cannot_read(settings):
    settings.OIDC_SERVER_URL = "https://sso.example.com/realms/staff"
    settings.OIDC_CLIENT_ID = "muteadmin"
    settings.OIDC_CLIENT_SECRET = CLIENT_SECRET
    settings.OIDC_ROLE_MAP = []
    assert sso_check_ids() == ["muteadmin.E204"]
    settings.OIDC_ROLE_MAP = ["leads:Admin"]
    assert sso_check_ids() == ["muteadmin.E203"]
    settings.OIDC_ROLE_MAP = ["leads"]
    assert sso_check_ids() == ["muteadmin.E203"]
    settings.OIDC_ROLE_MAP = ["urn:example:leads:Lead", "mod-team:Moderator"]
    assert sso_check_ids() == []
    settings.DEBUG = False
    settings.OIDC_SERVER_URL = "http://sso.example.com/realms/staff"
    assert sso_check_ids() == ["muteadmin.E202"]


def test_a_role_claim_value_may_hold_colons_and_nest(settings):
    settings.OIDC_ROLE_MAP = ["urn:example:leads:Lead", "mod-team:Moderator"]
    settings.OIDC_ROLE_CLAIM = "realm_access.roles"
    nested = {"realm_access": {"roles": ["urn:example:leads"]}}
    assert sso_role_for(sso_claim_values([nested])) == "Lead"
    settings.OIDC_ROLE_CLAIM = "https://example.com/roles"
    assert sso_role_for(sso_claim_values([{"https://example.com/roles": "mod-team"}])) == (
        "Moderator"
    )
    assert sso_role_for(sso_claim_values([{"https://example.com/roles": 7}])) is None
