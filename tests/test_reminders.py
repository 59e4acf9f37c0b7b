"""Review reminders: asked for with a change, shown on the home page when the mute ends, to the
moderator who set it or to every Lead, until marked reviewed."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from muteadmin.reminders.models import Reminder
from muteadmin.reminders.services import reminders_announce_due
from muteadmin.robots.texts import message_render
from muteadmin.tencent.nospeaking import PERMANENT
from tests.conftest import signed_in, user_in
from tests.test_robots_events import listening, queued

pytestmark = pytest.mark.django_db

HOUR = 3600


def change(client: Client, account: str = "raider", **fields):
    data = {"c2c_seconds": str(HOUR), "reason": "flooding", "review": "me"} | fields
    return client.post(f"/mutes/{account}/", data, follow=True)


def due_now() -> None:
    """Every reminder's mute has ended."""
    Reminder.objects.update(due_at=timezone.now() - timedelta(seconds=1))


def home(user) -> str:
    return signed_in(user).get("/").content.decode()


def test_a_reminder_for_me_is_due_when_the_mute_ends_and_shown_only_then(moderator):
    before = timezone.now()
    response = change(signed_in(moderator))
    assert "You will be reminded on the home page to review raider" in response.content.decode()
    reminder = Reminder.objects.get()
    assert (reminder.account, reminder.remind, reminder.created_by_username) == (
        "raider",
        "me",
        "mod",
    )
    assert (
        before + timedelta(seconds=HOUR)
        <= reminder.due_at
        <= timezone.now() + timedelta(seconds=HOUR)
    )
    assert 'data-home-list="reviews-due"' not in home(moderator)
    due_now()
    page = home(moderator)
    assert 'data-home-list="reviews-due"' in page and "flooding" in page
    assert 'data-home-list="reviews-due"' not in home(user_in("mod2", "Moderator"))


def test_marking_it_reviewed_takes_it_off_the_home_page(moderator):
    change(signed_in(moderator))
    due_now()
    reminder = Reminder.objects.get()
    other = signed_in(user_in("mod2", "Moderator"))
    assert (
        "someone else"
        in other.post(f"/reminders/{reminder.pk}/done/", follow=True).content.decode()
    )
    assert Reminder.objects.get().done_at is None
    signed_in(moderator).post(f"/reminders/{reminder.pk}/done/")
    reminder.refresh_from_db()
    assert reminder.done_at is not None and reminder.done_by_username == "mod"
    assert 'data-home-list="reviews-due"' not in home(moderator)


def test_a_reminder_for_the_leads_shows_to_every_lead(moderator, lead):
    change(signed_in(moderator), review="leads")
    due_now()
    assert 'data-home-list="reviews-due"' in home(lead)
    assert 'data-home-list="reviews-due"' in home(user_in("lead2", "Lead"))
    assert 'data-home-list="reviews-due"' not in home(moderator)
    signed_in(lead).post(f"/reminders/{Reminder.objects.get().pk}/done/")
    assert 'data-home-list="reviews-due"' not in home(user_in("lead3", "Lead"))


def test_a_permanent_mute_or_a_lift_sets_no_reminder_and_says_why(lead):
    response = change(signed_in(lead), c2c_seconds=str(PERMANENT), confirm="1")
    assert "a permanent mute never ends" in response.content.decode()
    response = change(signed_in(lead), c2c_seconds="0", confirm="1")
    assert "a lift leaves no mute to review" in response.content.decode()
    assert not Reminder.objects.exists()


def test_no_reminder_unless_asked(moderator):
    change(signed_in(moderator), review="")
    assert not Reminder.objects.exists()
    assert 'name="review"' in signed_in(moderator).get("/mutes/raider/").content.decode()


def test_a_due_reminder_is_told_to_the_team_chat_once(moderator):
    listening("review_due")
    change(signed_in(moderator), review="leads")
    assert reminders_announce_due() == []
    due_now()
    (told,) = reminders_announce_due()
    assert told == Reminder.objects.get().pk
    assert reminders_announce_due() == []
    (facts,) = queued("review_due")
    assert (facts["account"], facts["remind"], facts["operator"]) == ("raider", "leads", "mod")
    text = message_render("review_due", facts, language="en").text
    assert text.startswith("The mute mod set on raider (app default) has ended: a Lead is asked")
    assert "复核" in message_render("review_due", facts, language="zh-hans").text


def test_a_reminder_done_before_it_came_due_is_not_told(moderator):
    listening("review_due")
    change(signed_in(moderator))
    reminder = Reminder.objects.get()
    signed_in(moderator).post(f"/reminders/{reminder.pk}/done/")
    due_now()
    assert reminders_announce_due() == []
    assert queued("review_due") == []


def test_the_reminder_is_confirmed_in_the_readers_language(moderator):
    client = signed_in(moderator)
    data = {"c2c_seconds": str(HOUR), "reason": "flooding", "review": "me"}
    response = client.post("/mutes/raider/", data, follow=True, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert "你会在首页收到复查 raider 的提醒" in response.content.decode()
