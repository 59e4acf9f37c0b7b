"""The bulk pages: the form and its preview, who may use them, a job's page, status, cancel, CSV."""

import csv
import io
import re

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from muteadmin.audit.models import AuditEntry
from muteadmin.bulk.models import BulkItem, BulkJob
from muteadmin.bulk.runner import RunnerConfig, bulk_job_run
from muteadmin.tencent.nospeaking import PERMANENT
from tests.conftest import bulk_job, user_in

pytestmark = pytest.mark.django_db

FORM_URL = reverse("bulk:form")


def preview(client, accounts: str = "alice\nbob", **fields):
    data = {"operation": "lookup", "accounts": accounts, **fields}
    return client.post(FORM_URL, data)


def confirm_fields(html: str) -> dict[str, str]:
    """What the preview's confirm form would post, read from the page like a browser would."""
    form = re.search(r"<form[^>]*data-confirm-form.*?</form>", html, re.S).group(0)
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form))
    fields.pop("csrfmiddlewaretoken", None)
    accounts = re.search(r'<textarea name="accounts"[^>]*>(.*?)</textarea>', form, re.S).group(1)
    fields["accounts"] = accounts
    return {name: _unescape(value) for name, value in fields.items()}


def _unescape(text: str) -> str:
    import html

    return html.unescape(text)


def results_csv(client, job: BulkJob) -> list[list[str]]:
    response = client.get(reverse("bulk:results_csv", args=[job.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    body = b"".join(response.streaming_content).decode("utf-8")
    return list(csv.reader(io.StringIO(body, newline="")))


def bulk_tasks() -> list[DBTaskResult]:
    return list(DBTaskResult.objects.filter(task_path="muteadmin.bulk.tasks.bulk_job_drain"))


# Who may use the pages


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get(FORM_URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("role", ["moderator", "auditor", "outsider"])
def test_only_bulk_runners_see_any_bulk_page(client, request, role, lead):
    job = bulk_job(operator=lead, operation="lookup", accounts=["alice"])
    client.force_login(request.getfixturevalue(role))
    for url in (
        FORM_URL,
        reverse("bulk:job", args=[job.pk]),
        reverse("bulk:status", args=[job.pk]),
        reverse("bulk:results_csv", args=[job.pk]),
    ):
        assert client.get(url).status_code == 403, url
    assert preview(client).status_code == 403
    assert client.post(reverse("bulk:cancel", args=[job.pk])).status_code == 403
    job.refresh_from_db()
    assert not job.cancel_requested


def test_leads_have_the_bulk_permission(lead, moderator):
    assert lead.has_perm("bulk.run_bulk")
    assert not moderator.has_perm("bulk.run_bulk")
    assert Group.objects.get(name="Lead").permissions.filter(codename="run_bulk").exists()


def test_a_bulk_runner_without_permanent_mutes_cannot_mute_permanently(client):
    user = user_in("senior", "Moderator")
    user.user_permissions.add(Permission.objects.get(codename="run_bulk"))
    client.force_login(user)
    response = preview(client, operation="set", c2c_seconds=str(PERMANENT), reason="raid")
    assert "You may not mute accounts permanently" in response.content.decode()
    assert "data-confirm-form" not in response.content.decode()
    response = preview(client, operation="set", c2c_seconds="3600", reason="raid", confirm="1")
    assert response.status_code == 302
    assert BulkJob.objects.get().c2c_seconds == 3600


def test_a_bulk_runner_who_may_not_change_mutes_may_only_look_up(client):
    user = user_in("watcher", "Auditor")
    user.user_permissions.add(Permission.objects.get(codename="run_bulk"))
    client.force_login(user)
    response = preview(client, operation="lift", reason="appeal")
    assert "You may not change mutes" in response.content.decode()
    assert preview(client, operation="lookup").status_code == 200
    assert "data-confirm-form" in preview(client, operation="lookup").content.decode()


# The preview


def test_the_form_page_offers_the_fields_of_the_contract(as_lead):
    html = as_lead.get(FORM_URL).content.decode()
    for name in ("accounts", "file", "operation", "c2c_seconds", "group_seconds", "reason"):
        assert f'name="{name}"' in html, name
    assert 'enctype="multipart/form-data"' in html
    # The account page's presets, Permanently included for a Lead.
    assert f'value="{PERMANENT}"' in html
    assert "<script>" not in html and "style=" not in html


def test_preview_counts_valid_lists_invalid_with_why_and_merges_duplicates(as_lead):
    accounts = "alice\nbob\n\nalice\ncarol\nbad\tid\n" + "x" * 33 + "\nbob\nalice\n"
    response = preview(as_lead, accounts)
    assert response.status_code == 200
    html = response.content.decode()
    assert re.search(r"data-valid-count>3<", html)
    assert re.search(r"data-invalid-count>2<", html)
    assert re.search(r"data-duplicate-count>3<", html)
    # The reasons are the account page's own sentences, with the line they came from.
    assert re.search(r'data-invalid-line="6".*?may contain only letters', html, re.S)
    assert re.search(r'data-invalid-line="7".*?at most 32 characters', html, re.S)
    assert confirm_fields(html)["accounts"] == "alice\nbob\ncarol"
    assert BulkJob.objects.count() == 0
    assert AuditEntry.objects.count() == 0


def test_preview_flags_ids_that_start_or_end_with_a_space(as_lead):
    html = preview(as_lead, " alice\nbob").content.decode()
    assert "data-padded" in html
    assert confirm_fields(html)["accounts"] == " alice\nbob"


def test_an_empty_list_is_refused_with_a_sentence(as_lead):
    for accounts in ("", "\n  \n"):
        html = preview(as_lead, accounts).content.decode()
        assert "Paste at least one account" in html
        assert "data-confirm-form" not in html


def test_a_list_of_only_invalid_ids_shows_why_and_offers_nothing_to_start(as_lead):
    html = preview(as_lead, "bad\tone\n" + "y" * 40).content.decode()
    assert "None of the lines is a valid account" in html
    assert "data-invalid-lines" in html
    assert "data-confirm-form" not in html


@override_settings(BULK_MAX_ACCOUNTS=3)
def test_too_many_accounts_are_refused_with_the_limit(as_lead):
    html = preview(as_lead, "a\nb\nc\nd").content.decode()
    assert "A job takes at most 3 accounts and this list has 4" in html
    assert "data-confirm-form" not in html
    assert "data-confirm-form" in preview(as_lead, "a\nb\nc\nc").content.decode()


def test_csv_upload_with_a_header_reads_the_first_column(as_lead):
    upload = SimpleUploadedFile(
        "raid.csv", b'\xef\xbb\xbfUserID,note\nalice,spam\nbob,"a, b"\nalice,again\n'
    )
    response = as_lead.post(FORM_URL, {"operation": "lookup", "file": upload})
    html = response.content.decode()
    assert re.search(r"data-valid-count>2<", html)
    assert re.search(r"data-duplicate-count>1<", html)
    assert confirm_fields(html)["accounts"] == "alice\nbob"


def test_csv_upload_without_a_header_keeps_the_first_row(as_lead):
    upload = SimpleUploadedFile("raid.csv", b"alice\r\nbob,2\r\n\r\ncarol\r\n")
    html = as_lead.post(FORM_URL, {"operation": "lookup", "file": upload}).content.decode()
    assert confirm_fields(html)["accounts"] == "alice\nbob\ncarol"


def test_a_file_that_is_not_utf8_is_refused(as_lead):
    upload = SimpleUploadedFile("raid.csv", "älice\n".encode("latin-1"))
    html = as_lead.post(FORM_URL, {"operation": "lookup", "file": upload}).content.decode()
    assert "not UTF-8 text" in html


def test_a_change_needs_a_reason_and_a_set_needs_a_length(as_lead):
    html = preview(as_lead, operation="lift").content.decode()
    assert "Give a reason: it is kept in the audit log." in html
    html = preview(as_lead, operation="set", reason="raid").content.decode()
    assert "Choose a new C2C mute, a new group mute, or both." in html
    assert BulkJob.objects.count() == 0


def test_the_preview_says_what_a_set_will_do(as_lead):
    html = preview(
        as_lead, operation="set", c2c_seconds="custom", c2c_custom="2", reason="raid"
    ).content.decode()
    assert "a C2C mute of <strong>2 h</strong>" in html
    assert "the other mute left as it is" in html
    fields = confirm_fields(html)
    assert fields["c2c_seconds"] == "custom" and fields["c2c_custom"] == "2"
    assert fields["confirm"] == "1"


# Confirming


def test_nothing_starts_until_the_preview_is_confirmed(as_lead, django_capture_on_commit_callbacks):
    html = preview(
        as_lead, "alice\nbob\nalice", operation="set", group_seconds="600", reason="raid"
    )
    assert BulkJob.objects.count() == 0 and not bulk_tasks()
    with django_capture_on_commit_callbacks(execute=True):
        response = as_lead.post(FORM_URL, confirm_fields(html.content.decode()))
    job = BulkJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("bulk:job", args=[job.pk])
    assert (job.operation, job.c2c_seconds, job.group_seconds, job.reason) == (
        "set",
        None,
        600,
        "raid",
    )
    assert (job.state, job.total, job.created_by_username) == ("queued", 2, "lead")
    assert list(job.items.values_list("position", "account", "state")) == [
        (1, "alice", "todo"),
        (2, "bob", "todo"),
    ]
    tasks = bulk_tasks()
    assert len(tasks) == 1
    assert tasks[0].args_kwargs == {"args": [], "kwargs": {"job_id": job.pk}}
    assert job.task_ids == [str(tasks[0].id)]
    # Still nothing sent: the worker does that.
    assert AuditEntry.objects.count() == 0


def test_a_big_job_is_queued_as_several_tasks_to_share_between_workers(
    as_lead, django_capture_on_commit_callbacks
):
    accounts = "\n".join(f"user{i}" for i in range(250))
    with django_capture_on_commit_callbacks(execute=True):
        preview(as_lead, accounts, confirm="1")
    assert len(bulk_tasks()) == 3
    with django_capture_on_commit_callbacks(execute=True):
        preview(as_lead, "\n".join(f"other{i}" for i in range(1000)), confirm="1")
    assert len(bulk_tasks()) == 3 + 4


def test_a_confirm_that_still_holds_invalid_lines_starts_nothing(as_lead):
    response = preview(as_lead, "alice\nbad\tid", confirm="1")
    assert response.status_code == 200
    assert "nothing was started" in response.content.decode()
    assert BulkJob.objects.count() == 0


# The job page, status and cancel


def test_status_json_has_the_contract_keys(as_lead, lead):
    job = bulk_job(operator=lead, operation="lookup", accounts=["alice", "bob"])
    status = as_lead.get(reverse("bulk:status", args=[job.pk])).json()
    assert {key: status[key] for key in ("state", "total", "done", "ok", "errors")} == {
        "state": "queued",
        "total": 2,
        "done": 0,
        "ok": 0,
        "errors": 0,
    }
    bulk_job_run(job_id=job.pk, worker="test:1:a", config=RunnerConfig(threads=1))
    status = as_lead.get(reverse("bulk:status", args=[job.pk])).json()
    assert {key: status[key] for key in ("state", "total", "done", "ok", "errors")} == {
        "state": "done",
        "total": 2,
        "done": 2,
        "ok": 2,
        "errors": 0,
    }
    assert status["calls_per_second"] >= 0
    assert status["eta_seconds"] is None


def test_the_job_page_shows_a_progress_bar_fed_by_status_json(as_lead, lead):
    job = bulk_job(operator=lead, operation="lookup", accounts=["alice", "bob"])
    html = as_lead.get(reverse("bulk:job", args=[job.pk])).content.decode()
    assert re.search(r'<progress[^>]*max="2"[^>]*value="0"', html)
    assert f'data-status-url="{reverse("bulk:status", args=[job.pk])}"' in html
    assert "/static/js/bulk.js" in html
    assert "<script>" not in html and "style=" not in html
    assert "Cancel the job" in html
    assert f'href="{reverse("audit:list")}?job={job.pk}"' in html
    assert "data-results" not in html
    assert as_lead.get(reverse("bulk:results_csv", args=[job.pk])).status_code == 409


def test_cancelling_a_queued_job_stops_it_before_anything_is_sent(as_lead, lead):
    job = bulk_job(operator=lead, operation="lookup", accounts=["alice", "bob"])
    response = as_lead.post(reverse("bulk:cancel", args=[job.pk]))
    assert response.status_code == 302
    job.refresh_from_db()
    assert (job.state, job.cancel_requested) == ("cancelled", True)
    bulk_job_run(job_id=job.pk, worker="test:1:a", config=RunnerConfig(threads=1))
    # Nothing was sent: the only row is the cancel's.
    assert list(AuditEntry.objects.values_list("action", "job_id", "operator_username")) == [
        ("cancel", job.pk, "lead")
    ]
    assert results_csv(as_lead, job)[1:] == [
        ["alice", "not_sent", "", "", "", ""],
        ["bob", "not_sent", "", "", "", ""],
    ]
    assert as_lead.get(reverse("bulk:status", args=[job.pk])).json()["not_sent"] == 2


def test_cancel_needs_a_post(as_lead, lead):
    job = bulk_job(operator=lead, operation="lookup", accounts=["alice"])
    assert as_lead.get(reverse("bulk:cancel", args=[job.pk])).status_code == 405


# Results


def test_results_csv_has_the_exact_header_and_a_row_per_account(as_lead, lead):
    job = bulk_job(
        operator=lead,
        operation="set",
        accounts=["bob", "=cmd"],
        c2c_seconds=600,
        reason="raid",
    )
    bulk_job_run(job_id=job.pk, worker="test:1:a", config=RunnerConfig(threads=1))
    rows = results_csv(as_lead, job)
    assert rows[0] == [
        "account",
        "outcome",
        "error_code",
        "error_info",
        "c2c_observed",
        "group_observed",
    ]
    assert rows[1:] == [["bob", "ok", "", "", "600", ""], ["'=cmd", "ok", "", "", "600", ""]]


@override_settings(BULK_RESULTS_PAGE_SIZE=2)
def test_the_finished_job_page_lists_results_a_page_at_a_time(as_lead, lead):
    job = bulk_job(operator=lead, operation="lookup", accounts=["a1", "a2", "a3"])
    bulk_job_run(job_id=job.pk, worker="test:1:a", config=RunnerConfig(threads=1))
    html = as_lead.get(reverse("bulk:job", args=[job.pk])).content.decode()
    assert re.findall(r'data-account="([^"]+)"', html) == ["a1", "a2"]
    next_page = re.search(r'href="([^"]+)" data-next-page', html).group(1)
    html = as_lead.get(next_page.replace("&amp;", "&")).content.decode()
    assert re.findall(r'data-account="([^"]+)"', html) == ["a3"]
    assert "data-next-page" not in html
    assert "data-results-csv" in html


def test_the_form_page_lists_recent_jobs(as_lead, lead):
    job = bulk_job(operator=lead, operation="lookup", accounts=["alice"])
    html = as_lead.get(FORM_URL).content.decode()
    assert f'href="{reverse("bulk:job", args=[job.pk])}"' in html
    assert BulkItem.objects.filter(job=job).count() == 1
