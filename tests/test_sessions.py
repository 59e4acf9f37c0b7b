"""Sessions: an idle timeout, an absolute lifetime, and no copy of a signed-in page in any cache."""

import pytest
from django.urls import reverse

from muteadmin.audit.models import AuditEntry
from tests.conftest import PASSWORD, audit_row, bulk_job

pytestmark = pytest.mark.django_db


def sign_in(client, username="mod"):
    response = client.post(reverse("login"), {"username": username, "password": PASSWORD})
    assert response.status_code == 302
    return response


def dashboard(client):
    return client.get(reverse("mutes:lookup"))


def signed_out_with(response, sentence: str, client) -> bool:
    if response.status_code != 302 or not response["Location"].startswith(reverse("login")):
        return False
    return sentence in client.get(response["Location"]).content.decode()


# Idle timeout and absolute lifetime


def test_a_session_idle_longer_than_the_timeout_is_signed_out(client, moderator, clock):
    sign_in(client)
    clock.advance(29 * 60)
    assert dashboard(client).status_code == 200
    clock.advance(30 * 60)
    response = dashboard(client)
    assert signed_out_with(response, "signed out after 30 minutes without activity", client)
    # Signed out for good: the next page asks to sign in again.
    assert dashboard(client).status_code == 302


def test_activity_keeps_a_session_alive_past_the_idle_timeout(client, moderator, clock):
    sign_in(client)
    for _ in range(12):
        clock.advance(10 * 60)
        assert dashboard(client).status_code == 200


def test_a_session_ends_at_its_absolute_lifetime_however_active(client, moderator, clock):
    sign_in(client)
    for _ in range(12 * 4 - 1):
        clock.advance(15 * 60)
        assert dashboard(client).status_code == 200
    clock.advance(15 * 60)
    response = dashboard(client)
    assert signed_out_with(response, "a session lasts 12 hours at most", client)


def test_the_limits_come_from_settings(client, moderator, clock, settings):
    settings.SESSION_IDLE_MINUTES = 5
    settings.SESSION_MAX_HOURS = 1
    sign_in(client)
    clock.advance(5 * 60)
    assert signed_out_with(dashboard(client), "after 5 minutes without activity", client)
    sign_in(client)
    for _ in range(14):
        clock.advance(4 * 60)
        assert dashboard(client).status_code == 200
    clock.advance(4 * 60)
    assert signed_out_with(dashboard(client), "lasts 1 hours at most", client)


def test_the_session_cookie_ends_with_the_browser(client, moderator):
    response = sign_in(client)
    cookie = response.cookies["sessionid"]
    assert cookie["max-age"] == "" and cookie["expires"] == ""


def test_a_stored_session_lasts_no_longer_than_the_lifetime(client, moderator, settings):
    sign_in(client)
    assert client.session.get_expiry_age() == settings.SESSION_MAX_HOURS * 3600


# Cache-Control


def assert_not_stored(response):
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert "private" in response["Cache-Control"] or "no-cache" in response["Cache-Control"]


def test_pages_for_a_signed_in_user_are_never_stored(as_lead):
    assert_not_stored(as_lead.get(reverse("mutes:lookup")))
    assert_not_stored(as_lead.get(reverse("mutes:account", kwargs={"account": "alice"})))
    assert_not_stored(as_lead.get(reverse("audit:list")))
    assert_not_stored(as_lead.get(reverse("bulk:form")))


def test_csv_exports_are_never_stored(as_lead):
    audit_row()
    export = as_lead.get(reverse("audit:export"))
    assert_not_stored(export)
    assert b"".join(export.streaming_content)
    report = as_lead.get(reverse("reports:mutes_csv"))
    assert_not_stored(report)
    b"".join(report.streaming_content)
    assert AuditEntry.objects.filter(action=AuditEntry.Action.EXPORT).exists()


def test_json_and_job_results_are_never_stored(as_lead, lead):
    job = bulk_job(operator=lead, operation="lookup", accounts=["alice"])
    status = as_lead.get(reverse("bulk:status", kwargs={"job_id": job.pk}))
    assert status["Content-Type"].startswith("application/json")
    assert_not_stored(status)
    # Even a refusal (the job has not finished) is kept out of caches.
    results = as_lead.get(reverse("bulk:results_csv", kwargs={"job_id": job.pk}))
    assert results.status_code == 409
    assert "no-store" in results["Cache-Control"]


def test_the_response_that_signs_in_is_not_stored_either(client, moderator):
    response = sign_in(client)
    assert "no-store" in response["Cache-Control"]
