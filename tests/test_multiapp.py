"""Several Chat apps configured by TIM_APPS end to end on the sandbox: each its own accounts."""

import csv
import io
import json

import pytest
from django.contrib.auth.models import User
from django.db import IntegrityError, connection, transaction
from django.urls import reverse

from muteadmin.audit.chain import CHAIN_FIELDS, GENESIS_HASH, audit_chain_verify, chain_serialise
from muteadmin.audit.derived import audit_derived_rebuild
from muteadmin.audit.models import (
    AccountMuteState,
    AuditEntry,
    AuditHourlyCount,
    AuditOperatorHourlyCount,
)
from muteadmin.audit.services import audit_call
from muteadmin.mutes.services import mute_change, mute_get
from muteadmin.sandbox.adapter import SANDBOX_BASE_URL, SandboxAdapter
from muteadmin.sandbox.credentials import sandbox_credentials
from muteadmin.tencent.client import TencentClient
from muteadmin.tencent.errors import TencentError
from muteadmin.tencent.nospeaking import nospeaking_get
from muteadmin.upstream.clients import tim_client, tim_sandbox_active
from muteadmin.upstream.registry import SANDBOX_SDKAPPID, tim_app

pytestmark = pytest.mark.django_db

APPS = [
    {"name": "a", "label": "App A", "sandbox": True},
    {"name": "b", "label": "App B", "sandbox": True, "admin_identifier": "ops"},
]


@pytest.fixture
def two_apps(settings):
    settings.TIM_APPS = json.dumps(APPS)


def account_url(account: str, app: str | None = None) -> str:
    url = reverse("mutes:account", args=[account])
    return f"{url}?app={app}" if app else url


def older_row(operator: User, account: str) -> AuditEntry:
    """A completed query row as written before audit rows named their app (app is NULL)."""
    with audit_call(account=account, operator=operator, action=AuditEntry.Action.QUERY) as call:
        AuditEntry.objects.filter(pk=call.entry.pk).update(app=None)
        call.ok(request_random=1, c2c_observed=0, group_observed=0)
    return AuditEntry.objects.get(pk=call.entry.pk)


# The door: one client per app, the emulator answering each sandbox app apart


def test_each_sandbox_app_has_its_own_sdkappid_and_client(two_apps):
    assert (tim_app("a").sdkappid, tim_app("b").sdkappid) == (
        SANDBOX_SDKAPPID,
        SANDBOX_SDKAPPID + 1,
    )
    assert tim_client("a") is tim_client("a") is tim_client()
    assert tim_client("b") is not tim_client("a")
    assert tim_client("b").sdkappid == SANDBOX_SDKAPPID + 1
    assert tim_sandbox_active("b")
    with pytest.raises(KeyError):
        tim_client("c")


def test_muting_in_one_app_leaves_the_same_userid_in_another_alone(two_apps, lead):
    mute_change(account="alice", operator=lead, reason="raid", c2c_seconds=3600, app="b")
    assert mute_get(account="alice", operator=lead, app="b").c2c_seconds > 3500
    assert mute_get(account="alice", operator=lead, app="a").c2c_seconds == 0
    assert mute_get(account="alice", operator=lead).c2c_seconds == 0  # the default app is a
    apps = list(AuditEntry.objects.order_by("id").values_list("action", "app"))
    assert apps == [("query", "b"), ("change", "b"), ("query", "b"), ("query", "a"), ("query", "a")]


def test_the_emulator_refuses_an_unknown_sdkappid_and_another_apps_key(two_apps):
    session_adapter = SandboxAdapter(
        credentials=[
            sandbox_credentials(sdkappid=app.sdkappid, identifier=app.identifier)
            for app in (tim_app("a"), tim_app("b"))
        ]
    )

    def client(*, sdkappid: int, key_of: int, identifier: str) -> TencentClient:
        made = TencentClient(
            sdkappid=sdkappid,
            secret_key=sandbox_credentials(sdkappid=key_of).secret_key,
            identifier=identifier,
            base_url=SANDBOX_BASE_URL,
        )
        made.session.mount(SANDBOX_BASE_URL, session_adapter)
        return made

    b = tim_app("b")
    assert nospeaking_get(client(sdkappid=b.sdkappid, key_of=b.sdkappid, identifier="ops"), "x")
    refusals = {
        70020: client(sdkappid=SANDBOX_SDKAPPID + 7, key_of=SANDBOX_SDKAPPID + 7, identifier="ops"),
        70009: client(sdkappid=b.sdkappid, key_of=SANDBOX_SDKAPPID, identifier="ops"),
        60010: client(sdkappid=b.sdkappid, key_of=b.sdkappid, identifier="administrator"),
    }
    for code, refused in refusals.items():
        with pytest.raises(TencentError) as caught:
            nospeaking_get(refused, "x")
        assert caught.value.error_code == code


# The audit log: every row names its app, and the chain still verifies older rows


def test_a_row_without_an_app_hashes_as_before_and_one_with_an_app_covers_it():
    fields = dict.fromkeys(CHAIN_FIELDS) | {"id": 1, "action": "query", "outcome": "ok"}
    before = json.dumps(
        {"prev": GENESIS_HASH, "row": fields}, sort_keys=True, separators=(",", ":")
    ).encode()
    assert chain_serialise(previous=GENESIS_HASH, fields=fields | {"app": None}) == before
    assert b'"app":"b"' in chain_serialise(previous=GENESIS_HASH, fields=fields | {"app": "b"})


def test_the_chain_verifies_rows_from_before_apps_and_rows_of_each_app(two_apps, lead):
    older = older_row(lead, "alice")
    mute_get(account="alice", operator=lead, app="b")
    mute_get(account="alice", operator=lead, app="a")
    assert older.app is None
    assert list(AuditEntry.objects.order_by("id").values_list("app", flat=True)) == [None, "b", "a"]
    assert audit_chain_verify().sentence == "Chain intact: 3 rows checked."
    # A completed row's app is as guarded as the rest of it.
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditentry SET app = 'a' WHERE id = %s", [older.pk + 1])
    assert AuditEntry.objects.get(pk=older.pk + 1).app == "b"


def test_services_record_the_default_app_by_name(lead):
    mute_get(account="alice", operator=lead)
    assert AuditEntry.objects.get().app == "default"


def test_the_audit_log_filters_by_app_and_the_default_app_includes_older_rows(
    two_apps, as_lead, lead
):
    older_row(lead, "old")
    mute_get(account="alice", operator=lead, app="a")
    mute_get(account="bob", operator=lead, app="b")

    def accounts(query: str) -> set[str]:
        html = as_lead.get(reverse("audit:list") + query).content.decode()
        return {name for name in ("old", "alice", "bob") if f">{name}</code>" in html}

    assert accounts("") == {"old", "alice", "bob"}
    assert accounts("?app=b") == {"bob"}
    assert accounts("?app=a") == {"alice"}
    # Rows from before apps had names belong to the one app there was, now called "default".
    assert accounts("?app=default") == {"old"}
    html = as_lead.get(reverse("audit:list") + "?app=b").content.decode()
    assert '<th scope="col">App</th>' in html
    assert f'href="{account_url("bob", "b")}"' in html
    assert '<option value="b" selected>b</option>' in html
    bob = AuditEntry.objects.get(account="bob")
    detail = as_lead.get(reverse("audit:detail", args=[bob.pk])).content.decode()
    assert '<dt>App</dt><dd data-field="app">b</dd>' in detail
    assert f'href="{account_url("bob", "b")}"' in detail
    older = AuditEntry.objects.get(account="old")
    detail = as_lead.get(reverse("audit:detail", args=[older.pk])).content.decode()
    assert '<dd data-field="app">default</dd>' in detail


def test_an_unknown_app_in_the_audit_filter_is_an_error_naming_the_apps(two_apps, as_lead):
    html = as_lead.get(reverse("audit:list") + "?app=nope").content.decode()
    assert "There is no app named nope here; choose one of: a, b." in html
    response = as_lead.get(reverse("audit:export") + "?app=nope")
    assert response.status_code == 400
    assert "choose one of: a, b" in response.content.decode()


def test_the_export_keeps_its_columns_and_records_the_app_filter(two_apps, as_lead, lead):
    mute_get(account="alice", operator=lead, app="a")
    mute_get(account="bob", operator=lead, app="b")
    response = as_lead.get(reverse("audit:export") + "?app=b")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:5] == ["id", "time_utc", "operator", "action", "account"]
    assert [row[4] for row in rows[1:]] == ["bob"]
    export = AuditEntry.objects.get(action="export")
    assert (export.app, export.details["filters"]) == ("b", {"app": ["b"]})


def test_the_chart_counts_one_apps_rows(two_apps, as_lead, lead):
    for account in ("u1", "u2"):
        mute_get(account=account, operator=lead, app="a")
    mute_get(account="u3", operator=lead, app="b")
    counts = {
        app: sum(row.count for row in AuditHourlyCount.objects.filter(app=app))
        for app in ("a", "b")
    }
    assert counts == {"a": 2, "b": 1}
    assert AuditOperatorHourlyCount.objects.get(app="b").count == 1

    def chart_total(query: str) -> str:
        html = as_lead.get(reverse("audit:list") + query).content.decode()
        return html.split(" rows in all")[0].rsplit(". ", 1)[-1]

    assert chart_total("?app=a&operator=lead") == "2"
    assert chart_total("?app=b") == "1"
    assert chart_total("") == "3"


# Tables derived from the log, per app


def test_account_states_are_kept_per_app_and_the_rebuild_reproduces_them(two_apps, lead):
    older_row(lead, "alice")
    mute_change(account="alice", operator=lead, reason="raid", c2c_seconds=3600, app="b")
    mute_change(account="alice", operator=lead, reason="spam", group_seconds=600, app="a")
    mute_get(account="carol", operator=lead, app="b")
    fields = ("app", "account", "c2c_seconds", "group_seconds", "active_until", "last_reason")

    def states() -> list[tuple]:
        return list(AccountMuteState.objects.order_by("app", "account").values_list(*fields))

    def counts() -> list[tuple]:
        return list(
            AuditHourlyCount.objects.order_by("app", "action", "outcome").values_list(
                "app", "action", "outcome", "count"
            )
        )

    kept, counted = states(), counts()
    assert [(app, account) for app, account, *_ in kept] == [
        ("a", "alice"),
        ("b", "alice"),
        ("b", "carol"),
        ("default", "alice"),
    ]
    assert kept[0][2:4] == (0, 600) and kept[1][2:4] == (3600, 0)
    result = audit_derived_rebuild()
    assert result.accounts == 4
    assert states() == kept
    assert counts() == counted


# The mute report


def test_the_report_separates_apps(two_apps, as_lead, lead):
    mute_change(account="alice", operator=lead, reason="raid", c2c_seconds=3600, app="b")
    mute_change(account="bob", operator=lead, reason="spam", c2c_seconds=3600, app="a")
    report = reverse("reports:mutes")
    html = as_lead.get(report + "?app=b").content.decode()
    assert 'data-account="alice" data-app="b"' in html
    assert 'data-account="bob"' not in html
    assert f'href="{account_url("alice", "b")}"' in html
    both = as_lead.get(report).content.decode()
    assert 'data-account="alice"' in both and 'data-account="bob"' in both
    response = as_lead.get(reverse("reports:mutes_csv") + "?app=a")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][0] == "account" and "app" not in rows[0]
    assert [row[0] for row in rows[1:]] == ["bob"]
    unknown = as_lead.get(report + "?app=nope")
    assert unknown.status_code == 400
    assert "choose one of: a, b" in unknown.content.decode()


# The pages


def test_with_several_apps_the_navigation_names_the_app_and_links_the_others(two_apps, as_lead):
    html = as_lead.get(account_url("alice", "b")).content.decode()
    assert 'data-current-app="b">App B</strong>' in html
    assert f'href="{account_url("alice", "a")}" data-app="a">App A</a>' in html
    lookup = as_lead.get(reverse("mutes:lookup") + "?app=b").content.decode()
    assert '<input type="hidden" name="app" value="b">' in lookup
    found = as_lead.get(reverse("mutes:find"), {"account": "alice", "app": "b"})
    assert found.url == account_url("alice", "b")


def test_with_one_app_pages_name_no_app(as_lead):
    html = as_lead.get(account_url("alice")).content.decode()
    assert "data-app-switcher" not in html
    assert "?app=" not in html
    assert as_lead.get(reverse("mutes:find"), {"account": "alice"}).url == account_url("alice")
    mute_get(account="alice", operator=User.objects.get())
    audit = as_lead.get(reverse("audit:list")).content.decode()
    assert 'name="app"' not in audit and '<th scope="col">App</th>' not in audit
    assert f'href="{account_url("alice")}"' in audit
    detail = as_lead.get(reverse("audit:detail", args=[AuditEntry.objects.first().pk]))
    assert 'data-field="app"' not in detail.content.decode()


def test_a_change_in_app_b_stays_in_app_b(two_apps, as_lead):
    response = as_lead.post(account_url("alice", "b"), {"reason": "raid", "c2c_seconds": "3600"})
    assert response.status_code == 302
    assert response.url == account_url("alice", "b")
    page = as_lead.get(response.url).content.decode()
    assert 'action="/mutes/alice/?app=b"' in page
    assert 'data-refresh-url="/mutes/alice/cards/?app=b"' in page
    assert "raid" in page  # the recent changes are app b's
    assert "raid" not in as_lead.get(account_url("alice", "a")).content.decode()
    assert mute_get(account="alice", operator=User.objects.get(), app="a").c2c_seconds == 0
    cards = as_lead.get(reverse("mutes:cards", args=["alice"]) + "?app=b").content.decode()
    assert 'data-mute="c2c" data-remaining-seconds="3' in cards


def test_an_unknown_app_is_a_clear_404_naming_the_configured_apps(two_apps, as_lead):
    for url in (
        account_url("alice", "nope"),
        reverse("mutes:cards", args=["alice"]) + "?app=nope",
        reverse("mutes:lookup") + "?app=nope",
    ):
        response = as_lead.get(url)
        assert response.status_code == 404
        assert "Configured apps: a, b." in response.content.decode()
    assert not AuditEntry.objects.exists()


def test_an_export_of_every_app_is_recorded_under_the_default_app(two_apps, as_lead):
    response = as_lead.get(reverse("audit:export"))
    b"".join(response.streaming_content)
    export = AuditEntry.objects.get()
    assert (export.action, export.app, export.details["filters"]) == ("export", "a", {})


# Bulk jobs


def test_a_bulk_job_calls_for_the_accounts_of_its_app(
    two_apps, as_lead, lead, django_capture_on_commit_callbacks
):
    from django.test import override_settings

    from muteadmin.bulk.models import BulkJob

    form_url = reverse("bulk:form") + "?app=b"
    page = as_lead.get(form_url).content.decode()
    assert 'action="/bulk/?app=b"' in page and "App B" in page
    data = {"operation": "set", "accounts": "alice\nbob", "c2c_seconds": "3600", "reason": "raid"}
    preview = as_lead.post(form_url, data).content.decode()
    assert 'action="/bulk/?app=b"' in preview and "App B" in preview
    immediate = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    with (
        override_settings(TASKS=immediate, BULK_WORKER_THREADS=1),
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = as_lead.post(form_url, {**data, "confirm": "1"})
    job = BulkJob.objects.get()
    assert response.status_code == 302 and job.app == "b"
    job.refresh_from_db()
    assert (job.state, job.ok) == ("done", 2)
    assert mute_get(account="alice", operator=lead, app="b").c2c_seconds > 3500
    assert mute_get(account="alice", operator=lead, app="a").c2c_seconds == 0
    changes = AuditEntry.objects.filter(job_id=job.pk, action="change")
    assert set(changes.values_list("app", flat=True)) == {"b"}
    assert (
        "App <strong data-job-app>b</strong>"
        in as_lead.get(reverse("bulk:job", args=[job.pk])).content.decode()
    )


def test_a_bulk_form_for_an_unknown_app_is_a_clear_404(two_apps, as_lead):
    response = as_lead.get(reverse("bulk:form") + "?app=nope")
    assert response.status_code == 404
    assert "Configured apps: a, b." in response.content.decode()


def test_a_bulk_job_for_an_app_not_configured_is_refused(lead):
    from muteadmin.bulk.services import bulk_job_create
    from muteadmin.bulk.tasks import task_queue

    with pytest.raises(ValueError, match="no Chat app named 'nope'"):
        bulk_job_create(
            operator=lead, operation="lookup", accounts=["alice"], queue=task_queue, app="nope"
        )
