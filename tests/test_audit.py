"""The audit log is append-only and says who did what, even after the operator is gone."""

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from muteadmin.audit.models import AuditEntry, AuditRowLocked
from muteadmin.audit.services import audit_begin, audit_complete
from tests.conftest import audit_completed

pytestmark = pytest.mark.django_db


@pytest.fixture
def completed(moderator) -> AuditEntry:
    return AuditEntry.objects.get(pk=audit_completed(moderator).pk)


def test_a_row_starts_pending_and_is_completed_once(moderator):
    entry = audit_begin(operator=moderator, action="query", account="alice")
    assert AuditEntry.objects.get(pk=entry.pk).outcome == "pending"
    audit_complete(
        entry=entry, outcome="ok", latency_ms=5, request_random=1, c2c_observed=0, group_observed=0
    )
    audit_complete(entry=entry, outcome="error", latency_ms=9, request_random=2, error_code=1)
    stored = AuditEntry.objects.get(pk=entry.pk)
    assert (stored.outcome, stored.request_random, stored.error_code) == ("ok", 1, None)
    assert stored.completed_at is not None


def test_completed_rows_cannot_be_saved_again(completed):
    completed.reason = "rewritten"
    with pytest.raises(AuditRowLocked):
        completed.save()
    assert AuditEntry.objects.get(pk=completed.pk).reason == "spam"


def test_completed_rows_cannot_be_updated_in_bulk(completed):
    with pytest.raises(AuditRowLocked):
        AuditEntry.objects.filter(pk=completed.pk).update(reason="rewritten")
    assert AuditEntry.objects.get(pk=completed.pk).reason == "spam"


def test_rows_cannot_be_deleted(completed):
    with pytest.raises(AuditRowLocked):
        completed.delete()
    with pytest.raises(AuditRowLocked):
        AuditEntry.objects.all().delete()
    assert AuditEntry.objects.filter(pk=completed.pk).exists()


def test_history_survives_deleting_the_operator(completed, moderator):
    moderator.delete()
    entry = AuditEntry.objects.get(pk=completed.pk)
    assert entry.operator is None
    assert entry.operator_username == "mod"
    assert entry.reason == "spam"


@pytest.fixture
def superuser_client(client):
    user = User.objects.create_superuser("root", password="pw-for-tests")
    client.force_login(user)
    return client


def test_admin_shows_rows_read_only(superuser_client, completed):
    changelist = superuser_client.get(reverse("admin:audit_auditentry_changelist"))
    assert changelist.status_code == 200
    assert b"alice" in changelist.content
    detail = superuser_client.get(reverse("admin:audit_auditentry_change", args=[completed.pk]))
    assert detail.status_code == 200
    assert b'name="_save"' not in detail.content
    assert b'name="reason"' not in detail.content


def test_admin_refuses_to_change_add_or_delete(superuser_client, completed):
    change_url = reverse("admin:audit_auditentry_change", args=[completed.pk])
    assert superuser_client.post(change_url, {"reason": "rewritten"}).status_code == 403
    assert superuser_client.get(reverse("admin:audit_auditentry_add")).status_code == 403
    delete_url = reverse("admin:audit_auditentry_delete", args=[completed.pk])
    assert superuser_client.post(delete_url, {"post": "yes"}).status_code == 403
    assert AuditEntry.objects.get(pk=completed.pk).reason == "spam"
