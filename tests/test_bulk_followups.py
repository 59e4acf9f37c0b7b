"""Bulk follow-ups: a finished job's failed accounts retried and unsent ones sent as new jobs,
the results table filtered by outcome, and lines that look like several ids flagged."""

import html
import re

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from muteadmin.bulk.follow_ups import bulk_job_follow_up
from muteadmin.bulk.models import BulkJob
from muteadmin.bulk.runner import RunnerConfig, bulk_job_run
from muteadmin.bulk.tasks import task_queue
from muteadmin.sandbox.services import sandbox_fault_push
from tests.conftest import bulk_job, user_in

pytestmark = pytest.mark.django_db

FORM_URL = reverse("bulk:form")


def run(job: BulkJob) -> BulkJob:
    bulk_job_run(job_id=job.pk, worker="test:1:a", config=RunnerConfig(threads=1))
    job.refresh_from_db()
    return job


def job_page(client, job: BulkJob, **query) -> str:
    response = client.get(reverse("bulk:job", args=[job.pk]), query)
    assert response.status_code == 200
    return response.content.decode()


def follow_up(client, job: BulkJob, which: str):
    return client.post(reverse("bulk:follow_up", args=[job.pk]), {"which": which})


def failed_set_job(lead) -> BulkJob:
    """A set job over three accounts whose first call Tencent refused."""
    job = bulk_job(
        operator=lead,
        operation="set",
        accounts=["first", "second", "third"],
        c2c_seconds=600,
        reason="raid",
    )
    sandbox_fault_push(kind="error", code=70107)
    return run(job)


# Retry the failed, send the not sent


def test_retrying_the_failed_starts_a_linked_job_with_the_same_change(as_lead, lead):
    old = failed_set_job(lead)
    assert (old.state, old.errors, old.ok) == ("done", 1, 2)
    page = job_page(as_lead, old)
    assert "Retry the failed (1)" in page
    assert "data-send-not-sent" not in page
    response = follow_up(as_lead, old, "failed")
    new = BulkJob.objects.get(follow_up_of=old)
    assert response["Location"] == reverse("bulk:job", args=[new.pk])
    assert list(new.items.values_list("account", flat=True)) == ["first"]
    assert (new.operation, new.c2c_seconds, new.group_seconds, new.reason, new.app) == (
        "set",
        600,
        None,
        "raid",
        "default",
    )
    assert new.created_by_username == "lead"
    assert run(new).ok == 1
    new_page = job_page(as_lead, new)
    assert f'href="{reverse("bulk:job", args=[old.pk])}">job #{old.pk}</a>' in new_page
    assert "data-retry-failed" not in new_page
    assert f'href="{reverse("bulk:job", args=[new.pk])}">job #{new.pk}</a>' in job_page(
        as_lead, old
    )


def test_sending_the_not_sent_of_a_cancelled_job(as_lead, lead):
    old = bulk_job(operator=lead, operation="lift", accounts=["ann", "bo"], reason="appeal")
    as_lead.post(reverse("bulk:cancel", args=[old.pk]))
    assert "Send the not sent (2)" in job_page(as_lead, old)
    follow_up(as_lead, old, "not_sent")
    new = BulkJob.objects.get(follow_up_of=old)
    assert list(new.items.values_list("account", flat=True)) == ["ann", "bo"]
    assert (new.operation, new.c2c_seconds, new.group_seconds, new.reason) == (
        "lift",
        0,
        0,
        "appeal",
    )
    assert run(new).ok == 2


def test_a_running_job_offers_no_follow_up_and_refuses_one(as_lead, lead):
    job = bulk_job(operator=lead, operation="lookup", accounts=["alice"])
    assert "data-follow-up-form" not in job_page(as_lead, job)
    response = follow_up(as_lead, job, "not_sent")
    assert response["Location"] == reverse("bulk:job", args=[job.pk])
    page = as_lead.get(response["Location"]).content.decode()
    assert "is still running: wait until it is done or cancelled" in page
    assert BulkJob.objects.count() == 1


def test_nothing_to_retry_says_so_and_starts_nothing(as_lead, lead):
    job = run(bulk_job(operator=lead, operation="lookup", accounts=["alice"]))
    assert "data-follow-up-form" not in job_page(as_lead, job)
    response = follow_up(as_lead, job, "failed")
    page = as_lead.get(response["Location"]).content.decode()
    assert f"No account of job #{job.pk} failed: nothing to send." in page
    assert html.escape("Choose") not in page
    response = follow_up(as_lead, job, "everything")
    assert (
        "Choose to retry the failed accounts" in as_lead.get(response["Location"]).content.decode()
    )
    assert BulkJob.objects.count() == 1


def test_a_follow_up_needs_the_right_to_run_bulk_jobs(client, lead, moderator):
    old = failed_set_job(lead)
    client.force_login(moderator)
    assert follow_up(client, old, "failed").status_code == 403
    assert BulkJob.objects.count() == 1


def test_a_follow_up_is_checked_like_a_new_job(client, lead):
    old = failed_set_job(lead)
    runner = user_in("runner")
    runner.user_permissions.set(Permission.objects.filter(codename="run_bulk"))
    client.force_login(runner)
    response = follow_up(client, old, "failed")
    assert "You may not change mutes." in client.get(response["Location"]).content.decode()
    assert BulkJob.objects.count() == 1


def test_the_service_keeps_the_app_and_links_the_jobs(lead, settings):
    settings.TIM_APPS = '[{"name": "a", "sandbox": true}, {"name": "b", "sandbox": true}]'
    old = bulk_job(operator=lead, operation="lookup", accounts=["x", "y"], app="b")
    sandbox_fault_push(kind="error", code=70107)
    old = run(old)
    with pytest.raises(ValueError, match="was left unsent: nothing to send"):
        bulk_job_follow_up(job=old, which="not_sent", operator=lead, queue=task_queue)
    new = bulk_job_follow_up(job=old, which="failed", operator=lead, queue=task_queue)
    assert (new.app, new.operation, new.total, new.follow_up_of) == ("b", "lookup", 1, old)
    assert list(old.follow_ups.all()) == [new]


# The results table


def test_the_results_filter_by_outcome_and_link_each_account(as_lead, lead):
    job = bulk_job(
        operator=lead, operation="set", accounts=["a/b", "..", "ok2"], c2c_seconds=60, reason="r"
    )
    sandbox_fault_push(kind="error", code=70107)
    run(job)

    def shown(**query) -> list[str]:
        return re.findall(r'data-account="([^"]+)"', job_page(as_lead, job, **query))

    assert shown() == ["a/b", "..", "ok2"]
    assert shown(outcome="error") == ["a/b"]
    assert shown(outcome="ok") == ["..", "ok2"]
    assert shown(outcome="not_sent") == []
    assert "No account of this job has that outcome." in job_page(as_lead, job, outcome="not_sent")
    page = job_page(as_lead, job, outcome="nonsense")
    assert "There is no outcome called that: every account is shown." in page
    assert shown(outcome="nonsense") == ["a/b", "..", "ok2"]
    errors = job_page(as_lead, job, outcome="error")
    assert f'href="{reverse("mutes:account", args=["a/b"])}"' in errors
    assert 'href="/mutes/%252E%252E/"' in job_page(as_lead, job, outcome="ok")


def test_the_filter_is_kept_from_page_to_page(as_lead, lead, settings):
    settings.BULK_RESULTS_PAGE_SIZE = 1
    job = run(bulk_job(operator=lead, operation="lookup", accounts=["a1", "a2", "a3"]))
    page = job_page(as_lead, job, outcome="ok")
    next_page = html.unescape(re.search(r'href="([^"]+)" data-next-page', page).group(1))
    assert "outcome=ok" in next_page
    assert re.findall(r'data-account="([^"]+)"', as_lead.get(next_page).content.decode()) == ["a2"]


# The preview flags lines that look like several ids


def test_the_preview_flags_lines_with_commas_semicolons_or_tabs_and_splits_them(as_lead):
    accounts = "alice, bob\ncarol;dan\nerin\tfay\ngus"
    response = as_lead.post(FORM_URL, {"operation": "lookup", "accounts": accounts})
    page = response.content.decode()
    flagged = re.search(r"<section[^>]*data-several-ids.*?</section>", page, re.S).group(0)
    assert "3 lines look like several ids: split?" in flagged
    assert re.findall(r'data-several-line="(\d+)"', flagged) == ["1", "2", "3"]
    table = re.search(r"<table.*?</table>", flagged, re.S).group(0)
    assert "gus" not in table
    split_form = re.search(r"<form[^>]*data-split-form.*?</form>", flagged, re.S).group(0)
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', split_form))
    text = re.search(r'<textarea name="accounts"[^>]*>(.*?)</textarea>', split_form, re.S).group(1)
    assert text == "alice\nbob\ncarol\ndan\nerin\nfay\ngus"
    fields.pop("csrfmiddlewaretoken", None)
    again = as_lead.post(FORM_URL, {**fields, "accounts": html.unescape(text)}).content.decode()
    assert re.search(r"data-valid-count>7<", again)
    assert "data-several-ids" not in again
    assert BulkJob.objects.count() == 0


def test_a_list_of_only_tabbed_lines_still_offers_the_split(as_lead):
    page = as_lead.post(FORM_URL, {"operation": "lookup", "accounts": "a\tb"}).content.decode()
    assert "1 line looks like several ids: split?" in page
    assert "data-split-form" in page


def test_a_plain_list_is_not_flagged(as_lead):
    page = as_lead.post(FORM_URL, {"operation": "lookup", "accounts": "a\nb"}).content.decode()
    assert "data-several-ids" not in page
