"""No silent overwrites: changes checked against what the moderator saw, confirmed when they undo
someone else's work, and pages that say who set each mute and whether a failed change was sent.

The concurrency cases use two signed-in sessions (two test clients, two users) on the sandbox.
"""

import html as markup
import re

import pytest
import requests
import responses
from django.test import Client
from django.urls import reverse

from muteadmin.audit.models import AuditEntry
from muteadmin.mutes.seen import TOLERANCE_SECONDS, SeenMutes, StaleMuteState
from muteadmin.mutes.services import MuteChangeNotSent, mute_change, mute_get
from muteadmin.sandbox.runtime import SandboxRuntime
from muteadmin.sandbox.services import sandbox_fault_push
from muteadmin.tencent.errors import (
    TencentInvalidRequest,
    TencentRateLimited,
    TencentTimeout,
    TencentTransportError,
)
from muteadmin.tencent.nospeaking import PERMANENT, nospeaking_set
from muteadmin.upstream.clients import tim_client
from tests.conftest import user_in

pytestmark = pytest.mark.django_db

ACCOUNT = "alice_01"
SEVEN_DAYS = 7 * 86400
HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')
# A number with a fractional part, as a raw timeout ("read timeout=5.0") would show one.
FLOAT = re.compile(r"\d+\.\d+")


@pytest.fixture
def mod_a(db):
    return user_in("moda", "Moderator")


@pytest.fixture
def mod_b(db):
    return user_in("modb", "Lead")


@pytest.fixture
def session_a(mod_a) -> Client:
    client = Client()
    client.force_login(mod_a)
    return client


@pytest.fixture
def session_b(mod_b) -> Client:
    client = Client()
    client.force_login(mod_b)
    return client


@pytest.fixture
def timed(clock, settings):
    """One fake clock for Tencent's answers, the sandbox and the audit rows' times."""
    settings.TIM_SANDBOX_RUNTIME = SandboxRuntime(clock=clock, sleep=clock.sleep)
    with clock.freeze_django():
        yield clock


def url(account: str = ACCOUNT) -> str:
    return reverse("mutes:account", args=[account])


def text(response) -> str:
    """The page's text as a reader sees it: tags dropped, entities decoded, spaces collapsed."""
    plain = re.sub(r"<[^>]+>", " ", response.content.decode())
    return " ".join(markup.unescape(plain).split())


def change_form(page) -> str:
    match = re.search(r'<form[^>]*class="change".*?</form>', page.content.decode(), re.S)
    assert match, "no change form on the page"
    return match.group(0)


def confirm_form(page) -> str:
    match = re.search(r'<form[^>]*class="confirm-form".*?</form>', page.content.decode(), re.S)
    assert match, "no confirmation on the page"
    return match.group(0)


def seen_on(page) -> dict[str, str]:
    """The seen_* fields the page's change form posts."""
    return {
        name: markup.unescape(value)
        for name, value in HIDDEN.findall(change_form(page))
        if name.startswith("seen_")
    }


def submit(client, page, account: str = ACCOUNT, **fields):
    """Post the change form of `page` as a browser would: its seen_* fields and the choices."""
    return client.post(url(account), {"reason": "spam raid", **seen_on(page), **fields})


def confirm(client, page, account: str = ACCOUNT):
    """Press Confirm on `page`: post exactly the fields its confirmation form holds."""
    fields = {}
    for name, value in HIDDEN.findall(confirm_form(page)):
        fields.setdefault(name, markup.unescape(value))
    return client.post(url(account), fields)


def state(user, account: str = ACCOUNT) -> tuple[int, int]:
    status = mute_get(account=account, operator=user)
    return status.c2c_seconds, status.group_seconds


def changes() -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action="change").order_by("id"))


# No silent overwrites


def test_a_change_made_on_a_stale_page_is_refused_and_sends_nothing(
    session_a, session_b, mod_a, mod_b
):
    page_a = session_a.get(url())
    assert "Not muted" in text(page_a)
    page_b = session_b.get(url())
    assert submit(session_b, page_b, c2c_seconds=str(SEVEN_DAYS), reason="raid").status_code == 302

    refused = submit(session_a, page_a, c2c_seconds="600", reason="first offence")

    assert refused.status_code == 200
    words = text(refused)
    assert "Nothing was sent: the mutes changed since you loaded this page" in words
    assert re.search(
        r"C2C mute: you saw not muted; now (7 d|6 d 23 h 59 min \d+ s) left, "
        r"set by modb just now: 'raid'\.",
        words,
    )
    assert "Set by modb just now" in words
    assert re.search(
        r"Shorten alice_01's C2C mute to 10 min \(now (7 d|6 d 23 h 59 min \d+ s) left, "
        r"set by modb just now: 'raid'\)\.",
        words,
    )
    assert [entry.operator_username for entry in changes()] == ["modb"]
    assert SEVEN_DAYS - 5 <= state(mod_a)[0] <= SEVEN_DAYS


def test_after_a_stale_refusal_the_form_carries_the_fresh_state_so_confirming_goes_through(
    session_a, session_b, mod_a
):
    page_a = session_a.get(url())
    submit(session_b, session_b.get(url()), group_seconds=str(SEVEN_DAYS), reason="raid")

    refused = submit(session_a, page_a, group_seconds="600", reason="first offence")
    fresh = seen_on(refused)
    assert fresh["seen_group"] != seen_on(page_a)["seen_group"]
    assert SEVEN_DAYS - 5 <= int(fresh["seen_group"]) <= SEVEN_DAYS

    done = confirm(session_a, refused)
    assert done.status_code == 302
    assert [entry.operator_username for entry in changes()] == ["modb", "moda"]
    assert 590 <= state(mod_a)[1] <= 600


def test_a_mute_changed_outside_muteadmin_is_caught_as_well(session_a, mod_a):
    page = session_a.get(url())
    nospeaking_set(tim_client(), ACCOUNT, group=3600)  # Tencent's console, another tool

    refused = submit(session_a, page, group_seconds="86400")

    assert "Group mute: you saw not muted; now 1 h left, set outside muteadmin." in text(refused)
    assert "Set outside muteadmin" in text(refused)
    assert changes() == []


def test_time_passing_is_not_a_change(session_a, session_b, mod_a, timed):
    submit(session_b, session_b.get(url()), c2c_seconds="3600", reason="flood")
    page = session_a.get(url())
    timed.advance(1200)

    response = submit(session_a, page, c2c_seconds="86400")

    assert response.status_code == 302
    assert state(mod_a)[0] == 86400


def test_a_stale_check_allows_only_the_tolerance(mod_b, timed):
    mute_change(account=ACCOUNT, operator=mod_b, reason="flood", c2c_seconds=3600)
    seen_at = timed()
    timed.advance(100)
    agreeing = SeenMutes(c2c_seconds=3600 + TOLERANCE_SECONDS, group_seconds=0, seen_at=seen_at)
    mute_change(account=ACCOUNT, operator=mod_b, reason="r", group_seconds=60, expected=agreeing)

    off_by_more = SeenMutes(
        c2c_seconds=3500 + TOLERANCE_SECONDS + 1, group_seconds=60, seen_at=timed()
    )
    with pytest.raises(StaleMuteState) as refused:
        mute_change(
            account=ACCOUNT, operator=mod_b, reason="r", c2c_seconds=0, expected=off_by_more
        )
    assert refused.value.kinds == ("c2c",)
    assert refused.value.status.c2c_seconds == 3500
    assert [entry.reason for entry in changes()] == ["flood", "r"]


def test_a_permanent_mute_stays_permanent_and_no_mute_stays_none(mod_b, timed):
    mute_change(account=ACCOUNT, operator=mod_b, reason="r", c2c_seconds=PERMANENT)
    seen = SeenMutes(c2c_seconds=PERMANENT, group_seconds=0, seen_at=timed())
    timed.advance(30 * 86400)
    result = mute_change(
        account=ACCOUNT, operator=mod_b, reason="r", group_seconds=600, expected=seen
    )
    assert result.group_after == 600


def test_a_post_without_seen_fields_is_neither_refused_nor_confirmed(session_a, session_b, mod_a):
    submit(session_b, session_b.get(url()), c2c_seconds=str(SEVEN_DAYS), reason="raid")

    scripted = session_a.post(url(), {"c2c_seconds": "600", "reason": "scripted"})

    assert scripted.status_code == 302
    assert [entry.reason for entry in changes()] == ["raid", "scripted"]
    assert 590 <= state(mod_a)[0] <= 600


def test_a_scripted_post_still_meets_every_other_rule(session_a):
    refused = session_a.post(url(), {"c2c_seconds": str(PERMANENT), "reason": "scripted"})
    assert refused.status_code == 200
    assert "ask a Lead" in text(refused)
    missing_reason = session_a.post(url(), {"c2c_seconds": "600"})
    assert "Give a reason" in text(missing_reason)
    assert changes() == []


def test_damaged_seen_fields_are_a_sentence_not_a_script(session_a):
    response = session_a.post(
        url(), {"c2c_seconds": "600", "reason": "r", "seen_c2c": "0", "seen_group": "x"}
    )
    assert response.status_code == 200
    assert "load the account again" in text(response)
    assert AuditEntry.objects.count() == 0


# Lifting a mute that is not there


def test_lifting_a_kind_that_is_not_muted_sends_nothing_and_says_so(session_a):
    page = session_a.get(url())
    response = submit(session_a, page, group_seconds="0", reason="appeal")

    assert response.status_code == 302
    messages = [str(m) for m in session_a.get(response["Location"]).context["messages"]]
    assert messages == [
        "Nothing was sent for alice_01: its group mute was not on, so there was nothing to lift."
    ]
    assert changes() == []
    assert list(AuditEntry.objects.values_list("action", flat=True)) == ["query"] * 3


def test_a_scripted_lift_of_nothing_sends_nothing_either(mod_a, settings):
    result = mute_change(account=ACCOUNT, operator=mod_a, reason="r", c2c_seconds=0)
    assert result.change is None
    assert result.not_muted == ("c2c",)
    assert changes() == []


def test_a_lift_of_nothing_beside_a_real_change_sends_only_the_change(session_a, mod_a):
    page = session_a.get(url())
    response = submit(session_a, page, c2c_seconds="0", group_seconds="600")

    assert response.status_code == 302
    (entry,) = changes()
    assert (entry.c2c_requested, entry.group_requested) == (None, 600)
    messages = [str(m) for m in session_a.get(response["Location"]).context["messages"]]
    assert messages == [
        "Saved for alice_01. C2C: not muted, nothing to lift; "
        "Group: not muted → muted, 10 min left."
    ]


def test_a_bulk_change_without_the_query_still_sends_its_lift(mod_b):
    result = mute_change(
        account=ACCOUNT, operator=mod_b, reason="r", c2c_seconds=0, query_before=False, job_id=3
    )
    assert result.change is not None
    assert changes()[0].c2c_requested == 0


# The confirmation step


def test_lifting_someone_elses_mute_says_exactly_what_will_happen_first(
    session_a, session_b, mod_a, timed
):
    submit(session_b, session_b.get(url()), group_seconds="86400", reason="threats in DMs")
    timed.advance(3 * 3600 + 60)
    page = session_a.get(url())

    asked = submit(session_a, page, group_seconds="0", reason="appeal")

    assert asked.status_code == 200
    assert "Lift alice_01's group mute, set by modb 3 h ago: 'threats in DMs'." in text(asked)
    assert [entry.operator_username for entry in changes()] == ["modb"]
    assert state(mod_a)[1] > 0

    done = confirm(session_a, asked)
    assert done.status_code == 302
    assert state(mod_a)[1] == 0
    assert changes()[-1].reason == "appeal"


def test_shortening_someone_elses_mute_asks_first(session_a, session_b, timed):
    submit(session_b, session_b.get(url()), c2c_seconds="86400", reason="spam")
    asked = submit(session_a, session_a.get(url()), c2c_seconds="600")
    sentence = "Shorten alice_01's C2C mute to 10 min (now 1 d left, set by modb just now: 'spam')."
    assert sentence in text(asked)
    assert len(changes()) == 1


def test_shortening_a_mute_set_outside_muteadmin_asks_first(session_a):
    nospeaking_set(tim_client(), ACCOUNT, c2c=86400)
    asked = submit(session_a, session_a.get(url()), c2c_seconds="0")
    assert "Lift alice_01's C2C mute, set outside muteadmin." in text(asked)
    assert changes() == []


def test_shortening_or_extending_your_own_mute_goes_straight_through(session_a):
    submit(session_a, session_a.get(url()), c2c_seconds="86400", reason="spam")
    assert submit(session_a, session_a.get(url()), c2c_seconds="600").status_code == 302
    assert submit(session_a, session_a.get(url()), c2c_seconds="3600").status_code == 302
    assert [entry.c2c_requested for entry in changes()] == [86400, 600, 3600]


def test_extending_someone_elses_mute_goes_straight_through(session_a, session_b):
    submit(session_b, session_b.get(url()), c2c_seconds="600", reason="spam")
    assert submit(session_a, session_a.get(url()), c2c_seconds="86400").status_code == 302


def test_every_permanent_mute_asks_first(session_b, mod_b):
    asked = submit(session_b, session_b.get(url()), group_seconds=str(PERMANENT))
    assert "Mute alice_01's group messages permanently (now not muted)." in text(asked)
    assert changes() == []

    assert confirm(session_b, asked).status_code == 302
    assert state(mod_b)[1] == PERMANENT


def test_a_confirmation_is_checked_against_tencent_again(session_a, session_b, mod_a):
    submit(session_b, session_b.get(url()), c2c_seconds="86400", reason="spam")
    asked = submit(session_a, session_a.get(url()), c2c_seconds="0")
    # While moderator A reads the confirmation, B makes it permanent.
    submit(session_b, session_b.get(url()), c2c_seconds=str(PERMANENT), confirm="on")

    refused = confirm(session_a, asked)

    assert "C2C mute: you saw 1 d left; now permanent, set by modb just now: 'spam raid'." in (
        text(refused)
    )
    assert state(mod_a)[0] == PERMANENT


def test_a_refusal_says_who_lifted_a_mute_meanwhile(session_a, session_b, mod_a, timed):
    submit(session_b, session_b.get(url()), group_seconds="86400", reason="threats")
    timed.advance(600)
    page_a = session_a.get(url())
    timed.advance(60)
    submit(session_b, session_b.get(url()), group_seconds="0", reason="appeal upheld", confirm="on")

    refused = submit(session_a, page_a, group_seconds="604800", reason="repeat offence")

    words = text(refused)
    assert "Group mute: you saw 23 h 50 min left; now not muted, lifted by modb just now: " in words
    assert "'appeal upheld'." in words
    assert state(mod_a)[1] == 0


# The cards


def test_each_card_says_who_set_its_mute_when_and_why(session_a, session_b, mod_b, timed, settings):
    # Two idle hours pass: the sessions must outlast them (the default idle timeout is 30 min).
    settings.SESSION_IDLE_MINUTES = 180
    submit(session_b, session_b.get(url()), c2c_seconds="86400", reason="spam <b>links</b>")
    timed.advance(7200)
    page = session_b.get(url())
    entry = changes()[0]

    c2c = re.search(r'<article[^>]*data-mute="c2c".*?</article>', page.content.decode(), re.S)
    card = c2c.group(0)
    assert "Set by <strong>modb</strong> 2 h ago" in card
    assert "spam &lt;b&gt;links&lt;/b&gt;" in card
    assert f'href="{reverse("audit:detail", args=[entry.pk])}"' in card
    # A moderator, who cannot open the audit log, is told the same without the link.
    moderator_page = session_a.get(url()).content.decode()
    assert "Set by <strong>modb</strong>" in moderator_page
    assert reverse("audit:detail", args=[entry.pk]) not in moderator_page


def test_the_setter_and_recent_changes_survive_a_timeline_full_of_notes(session_b, mod_b):
    from muteadmin.mutes.notes import account_note_add
    from muteadmin.mutes.selectors import RECENT_CHANGES, TIMELINE_EVENTS

    submit(session_b, session_b.get(url()), c2c_seconds="86400", reason="spam")
    submit(session_b, session_b.get(url()), group_seconds="3600", reason="group check")
    for n in range(TIMELINE_EVENTS + 1):
        account_note_add(operator=mod_b, account=ACCOUNT, text=f"note {n}", app="default")

    page = session_b.get(url()).content.decode()

    c2c = re.search(r'<article[^>]*data-mute="c2c".*?</article>', page, re.S).group(0)
    assert "Set by <strong>modb</strong>" in c2c and "spam" in c2c
    recent = re.search(r"<section[^>]*data-recent-changes.*?</section>", page, re.S).group(0)
    assert recent.count("<tr") - 1 == 2 <= RECENT_CHANGES
    assert "group check" in recent and "spam" in recent


def test_a_mute_no_recorded_change_explains_is_set_outside_muteadmin(session_a, session_b):
    submit(session_b, session_b.get(url()), c2c_seconds="600", reason="spam")
    nospeaking_set(tim_client(), ACCOUNT, c2c=86400)
    assert "Set outside muteadmin" in text(session_a.get(url()))


def test_the_refreshed_cards_say_who_set_the_mute_too(session_b):
    submit(session_b, session_b.get(url()), c2c_seconds="600", reason="spam")
    cards = session_b.get(reverse("mutes:cards", args=[ACCOUNT]))
    assert "Set by modb" in text(cards)


# Unknown state, missing accounts and upstream errors


def test_the_form_is_disabled_when_the_lookup_fails(session_a):
    sandbox_fault_push(kind="http502", count=20)
    page = session_a.get(url())
    form = change_form(page)
    assert '<fieldset class="change-fields" disabled>' in form
    assert "the current mutes could not be read" in text(page)


def test_the_form_is_disabled_when_tencent_says_the_account_does_not_exist(session_a):
    sandbox_fault_push(kind="error", code=70107, count=20)
    page = session_a.get(url())
    assert '<fieldset class="change-fields" disabled>' in change_form(page)
    assert "Tencent says this account does not exist" in text(page)

    # A post made anyway is checked by the service: the query before refuses, nothing is sent.
    response = session_a.post(url(), {"c2c_seconds": "600", "reason": "r"})
    assert "Nothing was changed" in text(response)
    assert "does not exist" in text(response)
    assert '<fieldset class="change-fields" disabled>' in change_form(response)
    assert changes() == []


def test_the_form_is_enabled_when_the_state_is_known(session_a):
    assert '<fieldset class="change-fields">' in change_form(session_a.get(url()))


BASE_URL = "https://tim.example.test"
GET_URL = f"{BASE_URL}/v4/openconfigsvr/getnospeaking"
SET_URL = f"{BASE_URL}/v4/openconfigsvr/setnospeaking"
RAW_TIMEOUT = (
    f"HTTPSConnectionPool(host='tim.example.test', port=443): Read timed out. (read timeout=5.5) "
    f"{GET_URL}?usersig=eJyrVspLzE1VslI"
)


@pytest.fixture
def tencent(settings):
    """The dashboard pointed at a Tencent server whose answers `responses` provides."""
    settings.TIM_SDKAPPID = 1400012345
    settings.TIM_SECRET_KEY = "0123456789abcdef-tencent-secret-key"
    settings.TIM_API_BASE_URL = BASE_URL
    with responses.RequestsMock() as mock:
        yield mock


def assert_no_raw_error(page) -> None:
    body = page.content.decode()
    words = text(page)
    assert "http" not in words.lower()
    assert "?usersig" not in body.lower()
    assert "Read timed out" not in body
    assert not FLOAT.search(words), FLOAT.search(words)


def test_a_timeout_on_the_query_before_a_change_says_nothing_was_changed(tencent, session_a):
    tencent.post(GET_URL, body=requests.exceptions.ReadTimeout(RAW_TIMEOUT))

    response = session_a.post(url(), {"c2c_seconds": "600", "reason": "r"})

    words = text(response)
    assert response.status_code == 200
    assert "Nothing was changed: muteadmin could not read the account's current mutes" in words
    assert "may have gone through" not in words
    assert "timeout" in words
    assert_no_raw_error(response)
    assert not [call for call in tencent.calls if "setnospeaking" in call.request.url]
    assert '<fieldset class="change-fields" disabled>' in change_form(response)


def test_a_timeout_on_the_change_itself_says_it_may_have_gone_through(tencent, session_a):
    answer = {"ErrorCode": 0, "C2CmsgNospeakingTime": 0, "GroupmsgNospeakingTime": 0}
    tencent.post(GET_URL, json=answer)
    tencent.post(SET_URL, body=requests.exceptions.ReadTimeout(RAW_TIMEOUT))

    response = session_a.post(url(), {"c2c_seconds": "600", "reason": "r"})

    words = text(response)
    assert "The change may have gone through: Tencent did not answer in time." in words
    assert "Check the current mutes above" in words
    # The cards were asked for afresh, so the moderator can check them.
    assert 'data-mute="c2c"' in response.content.decode()
    assert_no_raw_error(response)


def test_a_lookup_timeout_does_not_talk_of_changes(tencent, session_a):
    tencent.post(GET_URL, body=requests.exceptions.ReadTimeout(RAW_TIMEOUT))
    page = session_a.get(url())
    assert "did not answer in time" in text(page)
    assert "gone through" not in text(page)
    assert_no_raw_error(page)


def test_the_service_says_the_change_was_not_sent_when_the_query_before_fails(mod_a):
    sandbox_fault_push(kind="error", code=70107, count=5)
    with pytest.raises(MuteChangeNotSent) as caught:
        mute_change(account=ACCOUNT, operator=mod_a, reason="r", c2c_seconds=60)
    assert caught.value.error.account_missing
    assert list(AuditEntry.objects.values_list("action", "outcome")) == [("query", "error")]


@pytest.mark.parametrize(
    ("error", "sent", "opening"),
    [
        (TencentTimeout("ReadTimeout: read timeout=5.5"), False, "Nothing was changed: muteadmin"),
        (TencentTimeout("ReadTimeout: read timeout=5.5"), True, "The change may have gone through"),
        (TencentTransportError("HTTP 502"), True, "The change may have gone through"),
        (
            TencentInvalidRequest("x", error_code=70107),
            True,
            "Nothing was changed: Tencent refused",
        ),
        (TencentRateLimited("x", error_code=60007), True, "Nothing was changed: Tencent refused"),
        (TencentRateLimited("x", error_code=60007), False, "Nothing was changed: muteadmin"),
    ],
)
def test_a_failed_change_says_first_whether_it_could_have_reached_tencent(error, sent, opening):
    message = error.change_message(sent=sent)
    assert message.startswith(opening)
    assert error.moderator_message in message or error.lost_answer in message
    assert "5.5" not in message and "ReadTimeout" not in message
