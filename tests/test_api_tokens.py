"""API tokens: hashed, shown once, expiring and revocable; the rate limit; Idempotency-Key."""

import hashlib
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from muteadmin.api.models import ApiToken, IdempotentAnswer
from muteadmin.api.tokens import api_token_revoke
from muteadmin.audit.models import AuditEntry
from tests import test_mutes_services
from tests.api_support import ApiClient, api_as, problem, token_for
from tests.test_mutes_services import GET_URL, SET_URL, get_body, set_body

pytestmark = pytest.mark.django_db

# A Tencent-speaking server whose answers `responses` provides, as for the services' tests.
tencent = test_mutes_services.tencent


def url(account: str = "alice") -> str:
    return reverse("api:mute", args=[account])


def test_only_a_hash_of_the_token_is_kept_and_it_carries_a_recognisable_prefix():
    token, secret = token_for("Lead", "read", name="bot")
    assert secret.startswith("mta_")
    assert token.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in str(list(ApiToken.objects.values()))
    created = AuditEntry.objects.get(action="team")
    assert created.details["change"] == "token_created" and created.details["token"] == "bot"
    assert secret not in str(created.details) and token.secret_hash not in str(created.details)


def test_an_expired_token_is_refused_with_a_401_saying_so():
    token, secret = token_for("Lead", "read", name="old")
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    body = problem(ApiClient(secret).get(url()), 401)
    assert "expired" in body["detail"]
    assert not AuditEntry.objects.filter(action="query").exists()


def test_a_revoked_token_is_refused_at_once_and_the_revocation_audited():
    _, secret = token_for("Lead", "read", name="gone")
    api = ApiClient(secret)
    assert api.get(url()).status_code == 200
    api_token_revoke(name="gone", operator=None)
    assert "revoked" in problem(api.get(url()), 401)["detail"]
    revoked = AuditEntry.objects.filter(action="team").order_by("-id").first()
    assert revoked.details["change"] == "token_revoked"


def test_a_token_altered_by_one_character_is_refused():
    _, secret = token_for("Lead", "read")
    altered = secret[:-1] + ("A" if secret[-1] != "A" else "B")
    problem(ApiClient(altered).get(url()), 401)


def test_last_use_is_recorded(settings):
    token, secret = token_for("Lead", "read")
    assert token.last_used_at is None
    ApiClient(secret).get(url())
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_beyond_the_rate_a_token_is_answered_429_with_retry_after(settings):
    settings.API_TOKEN_RATE = "3/min"
    api = api_as("Lead", "read")
    other = api_as("Lead", "read", name="other")
    statuses = [api.get(url()).status_code for _ in range(3)]
    assert statuses == [200, 200, 200]
    limited = api.get(url())
    body = problem(limited, 429)
    assert int(limited["Retry-After"]) > 0
    assert "too many requests" in body["detail"]
    assert AuditEntry.objects.filter(action="query").count() == 3
    assert other.get(url()).status_code == 200  # each token has its own count


def test_the_command_line_creates_lists_and_revokes(capsys):
    call_command(
        "api_token",
        "create",
        "--name",
        "ci",
        "--scopes",
        "read,audit",
        "--role",
        "Auditor",
        "--days",
        "7",
    )
    out = capsys.readouterr()
    secret = out.out.strip()
    assert secret.startswith("mta_") and "shown once" in out.err
    token = ApiToken.objects.get(name="ci")
    assert token.scopes == ["read", "audit"] and token.role.name == "Auditor"
    assert timedelta(days=6) < token.expires_at - timezone.now() <= timedelta(days=7)
    assert ApiClient(secret).get(url()).status_code == 200
    call_command("api_token", "list")
    listed = capsys.readouterr().out
    assert "ci\tread,audit\tAuditor" in listed and secret not in listed
    call_command("api_token", "revoke", "ci")
    assert problem(ApiClient(secret).get(url()), 401)
    assert [
        row.details["change"] for row in AuditEntry.objects.filter(action="team").order_by("id")
    ] == [
        "token_created",
        "token_revoked",
    ]


def test_the_command_line_refuses_a_bad_scope_in_a_sentence():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="one or more scopes"):
        call_command("api_token", "create", "--name", "x", "--scopes", "root", "--role", "Lead")


def test_leads_create_a_token_on_the_team_page_shown_once_and_revoke_it(as_lead):
    page = reverse("api_tokens:list")
    created = as_lead.post(
        page,
        {"name": "support-tool", "scopes": ["read", "change"], "role": "Moderator", "days": "30"},
    )
    assert created.status_code == 200
    secret = created.context["secret"]
    assert secret.startswith("mta_") and secret in created.content.decode()
    assert "no-store" in created["Cache-Control"]
    listed = as_lead.get(page).content.decode()
    assert "support-tool" in listed and secret not in listed
    token = ApiToken.objects.get(name="support-tool")
    assert token.created_by_username == "lead"
    assert ApiClient(secret).get(url()).status_code == 200
    as_lead.post(reverse("api_tokens:revoke", args=[token.pk]))
    assert problem(ApiClient(secret).get(url()), 401)
    # The token's own account is not a person on the team page.
    assert "token:support-tool" not in as_lead.get(reverse("team:list")).content.decode()


def test_only_leads_reach_the_tokens_page(as_moderator):
    assert as_moderator.get(reverse("api_tokens:list")).status_code == 403
    assert not ApiToken.objects.exists()


def test_a_tokens_account_cannot_sign_in():
    token, _ = token_for("Lead", "read", name="bot")
    assert not token.user.has_usable_password()
    assert not Client().login(username="token:bot", password="")


def test_a_retried_post_with_the_same_key_returns_the_first_answer_and_sends_nothing(tencent):
    tencent.post(
        GET_URL,
        json={"ErrorCode": 0, "C2CmsgNospeakingTime": 0, "GroupmsgNospeakingTime": 0},
        match=get_body("alice"),
    )
    tencent.post(
        SET_URL,
        json={"ErrorCode": 0, "ErrorInfo": ""},
        match=set_body(Set_Account="alice", C2CmsgNospeakingTime=600),
    )
    api = api_as("Lead", "change", name="bot")
    body = {"c2c_seconds": 600, "reason": "spam"}
    first = api.post(url(), body, **{"Idempotency-Key": "k-1"})
    again = api.post(url(), body, **{"Idempotency-Key": "k-1"})
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    # One query and one change reached Tencent (each stub checks what was sent), however retried.
    assert len(tencent.calls) == 2
    assert AuditEntry.objects.filter(action="change").count() == 1


def test_the_same_key_with_another_body_is_refused_422():
    api = api_as("Lead", "change")
    api.post(url(), {"c2c_seconds": 600, "reason": "spam"}, **{"Idempotency-Key": "k"})
    other = api.post(url(), {"c2c_seconds": 60, "reason": "spam"}, **{"Idempotency-Key": "k"})
    assert problem(other, 422)["type"].endswith("idempotency-key-reused")
    assert AuditEntry.objects.filter(action="change").count() == 1


def test_a_key_is_per_token():
    first, second = api_as("Lead", "change", name="a"), api_as("Lead", "change", name="b")
    first.post(url(), {"c2c_seconds": 600, "reason": "spam"}, **{"Idempotency-Key": "k"})
    reply = second.post(url(), {"c2c_seconds": 600, "reason": "spam"}, **{"Idempotency-Key": "k"})
    assert reply.status_code == 200 and "Idempotent-Replayed" not in reply
    assert AuditEntry.objects.filter(action="change").count() == 2


def test_a_duplicate_arriving_while_the_first_runs_is_told_to_retry_and_sends_nothing():
    token, secret = token_for("Lead", "change")
    api = ApiClient(secret)
    body = {"c2c_seconds": 600, "reason": "spam"}
    api.post(url(), body, **{"Idempotency-Key": "warm"})
    # The same request's row while it runs: taken, with no answer yet.
    fingerprint = IdempotentAnswer.objects.get(key="warm").request_hash
    IdempotentAnswer.objects.create(
        token=token, key="busy", request_hash=fingerprint, created_at=timezone.now()
    )
    changes = AuditEntry.objects.filter(action="change").count()
    reply = api.post(url(), body, **{"Idempotency-Key": "busy"})
    assert problem(reply, 409)["type"].endswith("idempotency-key-in-use")
    assert reply["Retry-After"] == "1"
    assert AuditEntry.objects.filter(action="change").count() == changes


def test_a_key_older_than_a_day_may_be_used_again():
    api = api_as("Lead", "change")
    body = {"c2c_seconds": 600, "reason": "spam"}
    api.post(url(), body, **{"Idempotency-Key": "k"})
    IdempotentAnswer.objects.update(created_at=timezone.now() - timedelta(hours=25))
    reply = api.post(url(), body, **{"Idempotency-Key": "k"})
    assert reply.status_code == 200 and "Idempotent-Replayed" not in reply
    assert AuditEntry.objects.filter(action="change").count() == 2


def test_an_unusable_key_is_a_400():
    reply = api_as("Lead", "change").post(
        url(), {"c2c_seconds": 600, "reason": "spam"}, **{"Idempotency-Key": "x" * 300}
    )
    assert problem(reply, 400)["errors"][0]["field"] == "Idempotency-Key"


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs PostgreSQL: SQLite's in-memory test database has no concurrent writers "
    "(CI runs this suite on PostgreSQL too)",
)
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_duplicates_sent_at_once_make_one_change():
    import threading

    _, secret = token_for("Lead", "change", name="racer")
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def send() -> None:
        try:
            api = ApiClient(secret)
            barrier.wait()
            reply = api.post(
                url(), {"c2c_seconds": 600, "reason": "spam"}, **{"Idempotency-Key": "r"}
            )
            statuses.append(reply.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) in ([200, 200], [200, 409])
    assert AuditEntry.objects.filter(action="change").count() == 1
