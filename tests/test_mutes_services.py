"""The one door to Tencent: audit rows around every call, on the sandbox and on a real server."""

import json
import logging
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.urls import reverse

from muteadmin.audit.models import AuditEntry
from muteadmin.mutes import services
from muteadmin.mutes.services import mute_change, mute_get
from muteadmin.sandbox.credentials import sandbox_credentials
from muteadmin.tencent.accounts import InvalidAccount
from muteadmin.tencent.apis import SET_NOSPEAKING
from muteadmin.tencent.errors import TencentConfigurationError, TencentTimeout
from muteadmin.tencent.nospeaking import PERMANENT, nospeaking_get
from muteadmin.tencent.usersig import usersig_decode
from muteadmin.upstream.clients import tim_client

BASE_URL = "https://tim.example.test"
SECRET_KEY = "0123456789abcdef-tencent-secret-key"
GET_URL = f"{BASE_URL}/v4/openconfigsvr/getnospeaking"
SET_URL = f"{BASE_URL}/v4/openconfigsvr/setnospeaking"


@pytest.fixture
def tencent(settings):
    """Point the dashboard at a Tencent-speaking server whose answers `responses` provides."""
    settings.TIM_SDKAPPID = 1400012345
    settings.TIM_SECRET_KEY = SECRET_KEY
    settings.TIM_ADMIN_IDENTIFIER = "administrator"
    settings.TIM_API_BASE_URL = BASE_URL
    with responses.RequestsMock() as mock:
        yield mock


class SpyingAdapter(requests.adapters.BaseAdapter):
    """A transport that shows each request to `before`, then sends it with the one it wraps."""

    def __init__(
        self,
        inner: requests.adapters.BaseAdapter,
        before: Callable[[requests.PreparedRequest], None],
    ) -> None:
        super().__init__()
        self.inner = inner
        self.before = before

    def send(self, request: requests.PreparedRequest, **kwargs) -> requests.Response:
        self.before(request)
        return self.inner.send(request, **kwargs)

    def close(self) -> None:
        self.inner.close()


def transport_before(client, before: Callable[[requests.PreparedRequest], None]) -> None:
    """Run `before` on every HTTP attempt `client` makes, just before it goes out."""
    adapter = client.session.get_adapter(client.base_url)
    client.session.mount(client.base_url, SpyingAdapter(adapter, before))


def sent_query(call) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(call.request.url).query).items()}


def signed(request) -> tuple[bool, str]:
    """A `responses` matcher: the request carries our app's admin signature and Tencent's fields."""
    query = dict(parse_qs(urlsplit(request.url).query))
    expected = {
        "sdkappid": ["1400012345"],
        "identifier": ["administrator"],
        "contenttype": ["json"],
    }
    if any(query.get(name) != value for name, value in expected.items()):
        return False, f"unexpected query {sorted(query)}"
    if not 0 <= int(query["random"][0]) <= 0xFFFFFFFF:
        return False, "random out of range"
    document = usersig_decode(query["usersig"][0])
    if (document["TLS.identifier"], document["TLS.sdkappid"]) != ("administrator", 1400012345):
        return False, "UserSig signed for another admin or app"
    if request.headers["Content-Type"] != "application/json":
        return False, "body not sent as JSON"
    return True, ""


def get_body(account: str) -> list:
    return [signed, responses.matchers.json_params_matcher({"Get_Account": account})]


def set_body(**body) -> list:
    return [signed, responses.matchers.json_params_matcher(body)]


@pytest.mark.django_db
def test_query_against_a_tencent_server(tencent, moderator):
    tencent.post(
        GET_URL,
        json={
            "ErrorCode": 0,
            "ErrorInfo": "",
            "C2CmsgNospeakingTime": 7196,
            "GroupmsgNospeakingTime": PERMANENT,
        },
        match=get_body("alice"),
    )
    status = mute_get(account="alice", operator=moderator, client_ip="10.0.0.9")
    (call,) = tencent.calls
    assert (status.c2c_seconds, status.group_permanent) == (7196, True)
    entry = AuditEntry.objects.get()
    assert (entry.c2c_observed, entry.group_observed, entry.outcome) == (7196, PERMANENT, "ok")
    assert entry.request_random == int(sent_query(call)["random"])
    assert entry.client_ip == "10.0.0.9"


@pytest.mark.django_db
def test_change_sends_only_the_chosen_field(tencent, moderator):
    tencent.post(
        GET_URL,
        json={"ErrorCode": 0, "C2CmsgNospeakingTime": 0, "GroupmsgNospeakingTime": 500},
        match=get_body("alice"),
    )
    tencent.post(
        SET_URL,
        json={"ErrorCode": 0, "ErrorInfo": ""},
        match=set_body(Set_Account="alice", C2CmsgNospeakingTime=600),
    )
    result = mute_change(account="alice", operator=moderator, reason="spam", c2c_seconds=600)
    assert (result.c2c_after, result.before.group_seconds) == (600, 500)
    assert 495 <= result.group_after <= 500


@pytest.mark.django_db
def test_account_page_against_a_tencent_server_has_no_sandbox_banner(tencent, as_moderator):
    tencent.post(
        GET_URL,
        json={"ErrorCode": 0, "C2CmsgNospeakingTime": 60, "GroupmsgNospeakingTime": 0},
        match=get_body("alice"),
    )
    response = as_moderator.get(reverse("mutes:account", kwargs={"account": "alice"}))
    assert b'data-remaining-seconds="60"' in response.content
    assert b"data-sandbox-banner" not in response.content


@pytest.mark.django_db
def test_configuration_error_is_audited_and_not_retried(tencent, moderator):
    tencent.post(
        GET_URL,
        json={"ErrorCode": 70009, "ErrorInfo": "sig check failed"},
        match=get_body("alice"),
    )
    with pytest.raises(TencentConfigurationError):
        mute_get(account="alice", operator=moderator)
    assert len(tencent.calls) == 1
    entry = AuditEntry.objects.get()
    assert (entry.outcome, entry.error_code, entry.error_info) == (
        "error",
        70009,
        "sig check failed",
    )


@pytest.mark.django_db
def test_timeouts_are_audited_with_the_last_random(tencent, moderator):
    import requests

    tencent.post(
        GET_URL, body=requests.exceptions.ReadTimeout("read timed out"), match=get_body("alice")
    )
    with pytest.raises(TencentTimeout) as caught:
        mute_get(account="alice", operator=moderator)
    entry = AuditEntry.objects.get()
    assert entry.outcome == "error"
    assert entry.request_random == caught.value.random
    assert entry.request_random == int(sent_query(tencent.calls[-1])["random"])


@pytest.mark.django_db
def test_invalid_account_never_reaches_tencent_or_the_log(tencent, moderator):
    with pytest.raises(InvalidAccount):
        mute_get(account="", operator=moderator)
    assert len(tencent.calls) == 0
    assert AuditEntry.objects.count() == 0


@pytest.mark.django_db
def test_services_refuse_changes_the_operator_may_not_make(moderator, auditor):
    with pytest.raises(PermissionDenied):
        mute_change(account="alice", operator=auditor, reason="r", c2c_seconds=60)
    with pytest.raises(PermissionDenied):
        mute_change(account="alice", operator=moderator, reason="r", group_seconds=PERMANENT)
    # Nothing was sent: each refusal is recorded, and nothing else.
    assert list(AuditEntry.objects.order_by("id").values_list("action", "operator_username")) == [
        ("denied", "auditor"),
        ("denied", "mod"),
    ]


@pytest.mark.django_db(transaction=True)
def test_the_pending_row_is_committed_before_the_call(moderator):
    seen = []

    def spy(request: requests.PreparedRequest) -> None:
        seen.append(
            (
                transaction.get_autocommit(),
                list(AuditEntry.objects.values_list("outcome", flat=True)),
            )
        )

    transport_before(tim_client(), spy)
    mute_get(account="alice", operator=moderator)
    assert seen == [(True, ["pending"])]
    assert AuditEntry.objects.get().outcome == "ok"


@pytest.mark.django_db
def test_a_crash_during_the_call_leaves_a_pending_row(moderator):
    def dies(request: requests.PreparedRequest) -> None:
        raise SystemExit("worker killed")

    transport_before(tim_client(), dies)
    with pytest.raises(SystemExit):
        mute_get(account="alice", operator=moderator)
    assert AuditEntry.objects.get().outcome == "pending"


@pytest.mark.django_db
def test_a_bug_during_the_call_closes_the_row_as_an_error(moderator):
    def broken(request: requests.PreparedRequest) -> None:
        raise KeyError("oops")

    transport_before(tim_client(), broken)
    with pytest.raises(KeyError):
        mute_get(account="alice", operator=moderator)
    entry = AuditEntry.objects.get()
    assert (entry.outcome, entry.error_info) == ("error", "Internal error (KeyError).")


def test_one_client_per_configuration(settings):
    first = tim_client()
    assert tim_client() is first
    settings.TIM_SDKAPPID = 1400012345
    settings.TIM_SECRET_KEY = SECRET_KEY
    other = tim_client()
    assert other is not first
    assert other.base_url == "https://console.tim.qq.com"
    settings.TIM_REGION = "singapore"
    singapore = tim_client()
    assert singapore.base_url == "https://adminapisgp.im.qcloud.com"
    assert tim_client() is singapore
    # Back to the sandbox: its client, signature and connections are reused, not rebuilt.
    settings.TIM_SDKAPPID = None
    assert tim_client() is first


@pytest.mark.django_db
def test_no_secret_in_pages_audit_rows_or_logs(as_lead, settings, caplog):
    caplog.set_level(logging.DEBUG)
    account_url = reverse("mutes:account", kwargs={"account": "alice"})
    pages = [
        as_lead.get(account_url),
        as_lead.post(account_url, {"c2c_seconds": "600", "reason": "spam"}, follow=True),
    ]
    usersig = tim_client()._usersig[0]
    secrets = [settings.SECRET_KEY, sandbox_credentials().secret_key, usersig]
    rows = "\n".join(str(row) for row in AuditEntry.objects.values())
    for secret in secrets:
        assert all(secret not in page.content.decode() for page in pages)
        assert secret not in rows
        assert secret not in caplog.text


@pytest.mark.django_db
def test_a_change_answers_within_the_interactive_deadline(tencent, moderator, clock):
    """A slow query then a set that keeps timing out still ends within about 15 s in all."""
    import requests

    started = clock.now

    def slow_answer(request):
        clock.advance(5.0)
        return 200, {}, '{"ErrorCode": 0, "C2CmsgNospeakingTime": 0, "GroupmsgNospeakingTime": 0}'

    def hanging(request):
        clock.advance(3.0)
        raise requests.exceptions.ReadTimeout("read timed out")

    tencent.add_callback(responses.POST, GET_URL, callback=slow_answer, match=get_body("alice"))
    tencent.add_callback(
        responses.POST,
        SET_URL,
        callback=hanging,
        match=set_body(Set_Account="alice", C2CmsgNospeakingTime=60),
    )
    with pytest.raises(TencentTimeout):
        mute_change(account="alice", operator=moderator, reason="r", c2c_seconds=60)
    assert clock.now - started <= services.INTERACTIVE_DEADLINE
    assert len([call for call in tencent.calls if "setnospeaking" in call.request.url]) >= 2
    assert AuditEntry.objects.get(action="change").outcome == "error"


@pytest.mark.django_db
def test_a_bulk_change_can_skip_the_query_and_carries_its_job_id(lead):
    result = mute_change(
        account="alice", operator=lead, reason="raid", c2c_seconds=600, query_before=False, job_id=7
    )
    (entry,) = AuditEntry.objects.all()
    assert (entry.action, entry.job_id, entry.outcome) == ("change", 7, "ok")
    assert (result.before, result.c2c_after, result.group_after) == (None, 600, None)
    assert (entry.c2c_observed, entry.group_observed) == (600, None)
    mute_get(account="alice", operator=lead, job_id=7)
    assert AuditEntry.objects.filter(job_id=7).count() == 2


# Calls in batches (bulk jobs)


@pytest.mark.django_db(transaction=True)
def test_a_batch_commits_every_pending_row_before_its_first_call(django_user_model):
    from muteadmin.mutes.services import mute_change_many

    # A transactional test starts without the groups the migrations make.
    lead = django_user_model.objects.create_superuser("root", password="unused-password-1234")
    seen = []

    def spy(request: requests.PreparedRequest) -> None:
        rows = AuditEntry.objects.order_by("id").values_list("account", "outcome")
        if urlsplit(request.url).path == f"/{SET_NOSPEAKING.path}":
            account = json.loads(request.body)["Set_Account"]
            seen.append((account, transaction.get_autocommit(), list(rows)))

    transport_before(tim_client(), spy)
    calls = mute_change_many(
        accounts=["alice", "bob", "carol"], operator=lead, reason="raid", c2c_seconds=600, job_id=4
    )
    pending = [("alice", "pending"), ("bob", "pending"), ("carol", "pending")]
    assert seen[0] == ("alice", True, pending)
    assert [account for account, _, _ in seen] == ["alice", "bob", "carol"]
    assert [call.account for call in calls] == ["alice", "bob", "carol"]
    assert [call.error for call in calls] == [None, None, None]
    assert [call.change.c2c_after for call in calls] == [600, 600, 600]
    entries = AuditEntry.objects.order_by("id")
    assert list(entries.values_list("account", "outcome", "job_id", "c2c_observed")) == [
        ("alice", "ok", 4, 600),
        ("bob", "ok", 4, 600),
        ("carol", "ok", 4, 600),
    ]
    assert [call.entry_id for call in calls] == list(entries.values_list("id", flat=True))
    assert nospeaking_get(tim_client(), "bob").c2c_seconds > 590


@pytest.mark.django_db
def test_one_failure_in_a_batch_is_recorded_for_its_account_and_the_rest_go_on(lead):
    from muteadmin.mutes.services import mute_get_many
    from muteadmin.sandbox.services import sandbox_fault_push
    from muteadmin.tencent.errors import TencentError

    sandbox_fault_push(kind="error", code=70107)
    calls = mute_get_many(accounts=["ghost", "x" * 33, "alice"], operator=lead, job_id=9)
    ghost, invalid, alice = calls
    assert isinstance(ghost.error, TencentError) and ghost.error.error_code == 70107
    assert isinstance(invalid.error, InvalidAccount) and invalid.entry_id is None
    assert alice.error is None and alice.status.c2c_seconds == 0
    rows = AuditEntry.objects.order_by("id").values_list("account", "outcome", "error_code")
    assert list(rows) == [("ghost", "error", 70107), ("alice", "ok", None)]


@pytest.mark.django_db
def test_a_batch_checks_the_operators_rights_before_anything_is_written(moderator):
    from muteadmin.mutes.services import mute_change_many

    with pytest.raises(PermissionDenied):
        mute_change_many(
            accounts=["alice"], operator=moderator, reason="forever", c2c_seconds=PERMANENT
        )
    assert not AuditEntry.objects.exists()
