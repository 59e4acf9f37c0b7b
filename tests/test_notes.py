"""Staff notes and the account page's timeline: notes append-only, lookups collapsed."""

import json
import re

import pytest
from django.db import IntegrityError, connection, transaction
from django.urls import reverse

from muteadmin.audit.chain import audit_chain_verify
from muteadmin.audit.models import AuditEntry, AuditRowLocked
from muteadmin.core.sql import reads_run
from muteadmin.mutes.notes import NOTE_MAX_LENGTH, InvalidNote, account_note_add
from muteadmin.mutes.selectors import mute_timeline_read
from tests.conftest import audit_row

pytestmark = pytest.mark.django_db


def account_url(account: str, app: str | None = None) -> str:
    url = reverse("mutes:account", args=[account])
    return f"{url}?app={app}" if app else url


def notes_url(account: str, app: str | None = None) -> str:
    url = reverse("mutes:notes", args=[account])
    return f"{url}?app={app}" if app else url


def timeline(html: str) -> str:
    return re.search(r"<section[^>]*data-timeline.*?</section>", html, re.S).group(0)


# Adding notes


@pytest.mark.parametrize("role", ["moderator", "lead", "auditor"])
def test_every_role_that_looks_accounts_up_may_add_a_note(role, client, request):
    user = request.getfixturevalue(role)
    client.force_login(user)
    response = client.post(notes_url("olga"), {"note": "Warned in DM <first>."})
    assert response.status_code == 302
    assert response["Location"].startswith(account_url("olga"))
    note = AuditEntry.objects.get(action="note")
    assert (note.account, note.reason, note.operator_username) == (
        "olga",
        "Warned in DM <first>.",
        user.username,
    )
    assert note.outcome == "ok"
    page = client.get(response["Location"]).content.decode()
    assert "Warned in DM &lt;first&gt;." in timeline(page)
    assert "Note added to olga." in page


def test_someone_who_may_not_look_accounts_up_may_not_add_a_note(client, outsider):
    client.force_login(outsider)
    assert client.post(notes_url("olga"), {"note": "hello"}).status_code == 403
    assert not AuditEntry.objects.filter(action="note").exists()


def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.post(notes_url("olga"), {"note": "hello"})
    assert response.status_code == 302
    assert "login" in response["Location"]
    assert not AuditEntry.objects.exists()


def test_a_note_over_two_thousand_characters_is_refused_and_kept_in_the_box(as_moderator):
    text = "x" * (NOTE_MAX_LENGTH + 1)
    response = as_moderator.post(notes_url("olga"), {"note": text})
    assert response.status_code == 400
    html = timeline(response.content.decode())
    assert "at most 2,000 characters" in html
    assert f">{text}</textarea>" in html
    assert not AuditEntry.objects.filter(action="note").exists()


def test_a_note_of_exactly_two_thousand_characters_is_kept(as_moderator):
    as_moderator.post(notes_url("olga"), {"note": "y" * NOTE_MAX_LENGTH})
    assert AuditEntry.objects.get(action="note").reason == "y" * NOTE_MAX_LENGTH


def test_an_empty_note_is_refused_with_a_sentence(as_moderator):
    response = as_moderator.post(notes_url("olga"), {"note": "   "})
    assert response.status_code == 400
    assert "Write the note before adding it." in response.content.decode()
    assert not AuditEntry.objects.filter(action="note").exists()


def test_a_note_on_an_invalid_account_is_refused_without_a_row(as_moderator):
    response = as_moderator.post(notes_url("x" * 40), {"note": "hello"})
    assert response.status_code == 404
    assert not AuditEntry.objects.exists()


def test_the_note_page_only_takes_posts(as_moderator):
    assert as_moderator.get(notes_url("olga")).status_code == 405


def test_notes_cannot_be_edited_or_deleted_and_a_later_note_corrects(moderator, lead):
    first = account_note_add(operator=moderator, account="olga", text="Banned twice", app="default")
    first.reason = "Banned once"
    with pytest.raises(AuditRowLocked):
        first.save()
    with pytest.raises(AuditRowLocked):
        first.delete()
    with pytest.raises(AuditRowLocked):
        AuditEntry.objects.filter(pk=first.pk).update(reason="Banned once")
    with pytest.raises(AuditRowLocked):
        AuditEntry.objects.filter(pk=first.pk).delete()
    account_note_add(operator=lead, account="olga", text="Correction: once", app="default")
    assert list(
        AuditEntry.objects.filter(action="note").order_by("id").values_list("reason", flat=True)
    ) == ["Banned twice", "Correction: once"]
    assert audit_chain_verify().intact


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's guard, open to any client")
def test_the_database_refuses_to_change_a_note_behind_the_models_back(moderator):
    note = account_note_add(operator=moderator, account="olga", text="As written", app="default")
    for sql in (
        "UPDATE audit_auditentry SET reason = 'Edited' WHERE id = %s",
        "DELETE FROM audit_auditentry WHERE id = %s",
    ):
        with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [note.pk])
    assert AuditEntry.objects.get(pk=note.pk).reason == "As written"


def test_the_service_refuses_long_and_empty_notes(moderator):
    with pytest.raises(InvalidNote):
        account_note_add(operator=moderator, account="olga", text="", app="default")
    with pytest.raises(InvalidNote):
        account_note_add(operator=moderator, account="olga", text="z" * 2001, app="default")


def test_notes_belong_to_the_app_they_were_written_in(settings, as_moderator):
    settings.TIM_APPS = json.dumps(
        [{"name": "a", "label": "App A", "sandbox": True}, {"name": "b", "sandbox": True}]
    )
    as_moderator.post(notes_url("olga", "b"), {"note": "only in b"})
    assert AuditEntry.objects.get(action="note").app == "b"
    assert "only in b" in timeline(as_moderator.get(account_url("olga", "b")).content.decode())
    assert "only in b" not in timeline(as_moderator.get(account_url("olga", "a")).content.decode())


# The timeline


def test_the_timeline_lists_changes_requests_notes_and_collapses_lookups(as_moderator, moderator):
    audit_row(action="change", account="olga", c2c_requested=600, reason="spam")
    audit_row(action="query", account="olga", operator="mod1")
    audit_row(action="query", account="olga", operator="mod2")
    audit_row(action="query", account="olga", operator="mod1")
    audit_row(action="request_filed", account="olga", operator="mod1", group_requested=86400)
    audit_row(action="change", account="olga", c2c_requested=0, reason="appeal")
    audit_row(action="note", account="olga", operator="lead", reason="Known troll")
    audit_row(action="change", account="someone-else", reason="not olga")
    html = timeline(as_moderator.get(account_url("olga")).content.decode())
    order = ["Known troll", "Lift", "Request filed", "3 lookups by mod1, mod2", "Mute"]
    positions = [html.index(text) for text in order]
    assert positions == sorted(positions)
    # The page's own lookup (by mod) is the newest entry, a run of one.
    assert html.index("1 lookup by mod") < html.index("Known troll")
    assert "<details>" in html
    assert "not olga" not in html
    assert "C2C: 10 min; group: left as it was" in html
    assert "C2C: left as it was; group: 1 d" in html


def test_a_failed_change_says_so_in_the_timeline(as_moderator):
    audit_row(action="change", account="olga", c2c_requested=600, outcome="error", error_code=20001)
    html = timeline(as_moderator.get(account_url("olga")).content.decode())
    assert "Error (20001)" in html


def test_a_flood_of_lookups_never_pushes_the_changes_out():
    audit_row(action="change", account="olga", c2c_requested=600, reason="old change")
    for _ in range(80):
        audit_row(action="query", account="olga")
    (rows,) = reads_run(mute_timeline_read(account="olga"))
    assert rows[-1]["reason"] == "old change"
    assert sum(1 for row in rows if row["action"] == "query") == 60


def test_the_timeline_reads_the_latest_steps_newest_first(django_assert_num_queries):
    for number in range(5):
        audit_row(action="note", account="olga", reason=f"n{number}")
    with django_assert_num_queries(1):
        (rows,) = reads_run(mute_timeline_read(account="olga", events=3))
    assert [row["reason"] for row in rows] == ["n4", "n3", "n2"]


def test_an_account_with_no_history_says_so(as_moderator):
    html = as_moderator.get(account_url("fresh")).content.decode()
    # The visit itself is a lookup.
    assert "1 lookup by mod" in timeline(html)
    assert "data-note-form" in timeline(html)
