"""Each user's language and time zone: negotiation, the switch, the profile, day edges."""

import re
from datetime import UTC, datetime

import pytest
from django.urls import reverse

from muteadmin.preferences.models import Preference
from muteadmin.preferences.services import preference_get
from tests.conftest import audit_row

pytestmark = pytest.mark.django_db

CHINESE = "zh-Hans,zh;q=0.9,en;q=0.5"


def nav(html: str) -> str:
    return re.search(r'<nav class="topnav">.*?</nav>', html, re.S).group(0)


def entries(response) -> list[int]:
    return [int(pk) for pk in re.findall(r'<tr data-entry="(\d+)"', response.content.decode())]


# The language


def test_a_chinese_browser_gets_chinese_pages(as_lead):
    response = as_lead.get(reverse("audit:list"), headers={"accept-language": "zh-CN,zh;q=0.9"})
    html = response.content.decode()
    assert response["Content-Language"] == "zh-hans"
    assert '<html lang="zh-hans"' in html
    assert "审计日志" in nav(html) and "Audit log" not in nav(html)


def test_without_a_choice_or_a_header_pages_are_in_english(as_lead):
    html = as_lead.get(reverse("audit:list")).content.decode()
    assert '<html lang="en"' in html
    assert "Audit log" in nav(html)


def test_the_saved_choice_beats_the_browser(as_lead, lead):
    Preference.objects.create(user=lead, language="en")
    html = as_lead.get(reverse("audit:list"), headers={"accept-language": CHINESE}).content
    assert "Audit log" in nav(html.decode())
    Preference.objects.filter(user=lead).update(language="zh-hans")
    html = as_lead.get(reverse("audit:list")).content.decode()
    assert "审计日志" in nav(html)


def test_the_choices_are_read_with_the_signed_in_user_in_one_statement(as_lead, lead):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    Preference.objects.create(user=lead, language="zh-hans", time_zone="Asia/Shanghai")
    with CaptureQueriesContext(connection) as read:
        response = as_lead.get(reverse("preferences:edit"))
    assert '<html lang="zh-hans"' in response.content.decode()
    reading = [q["sql"] for q in read.captured_queries if "preferences_preference" in q["sql"]]
    assert len(reading) == 1 and "auth_user" in reading[0]
    # Another browser of the same user follows a choice saved elsewhere at its next page.
    Preference.objects.filter(user=lead).update(language="en")
    assert '<html lang="en"' in as_lead.get(reverse("preferences:edit")).content.decode()


def test_the_switch_in_the_navigation_saves_the_choice_and_goes_back(as_lead, lead):
    page = as_lead.get(reverse("audit:list")).content.decode()
    switch = re.search(r"<form[^>]*data-language-switch.*?</form>", page, re.S).group(0)
    assert 'value="zh-hans"' in switch and "简体中文" in switch
    response = as_lead.post(
        reverse("preferences:language"), {"language": "zh-hans", "next": "/audit/?q=x"}
    )
    assert response.status_code == 302 and response["Location"] == "/audit/?q=x"
    assert preference_get(user=lead).language == "zh-hans"
    # Saved on the profile: a new session in another browser is Chinese too.
    as_lead.cookies.clear()
    as_lead.force_login(lead)
    html = as_lead.get(reverse("audit:list"), headers={"accept-language": "en"}).content
    assert "审计日志" in nav(html.decode())


def test_the_switch_works_before_sign_in_and_never_goes_off_site(client):
    response = client.post(
        reverse("preferences:language"),
        {"language": "zh-hans", "next": "https://evil.example/"},
    )
    assert response.status_code == 302 and response["Location"] == reverse("mutes:lookup")
    html = client.get(reverse("login")).content.decode()
    assert '<html lang="zh-hans"' in html


def test_the_switch_refuses_a_language_it_does_not_offer(as_lead, lead):
    response = as_lead.post(reverse("preferences:language"), {"language": "fr"})
    assert response.status_code == 400
    assert preference_get(user=lead).language == ""


def test_the_preferences_page_saves_language_zone_and_csv_choice(as_lead, lead):
    assert as_lead.get(reverse("preferences:edit")).status_code == 200
    response = as_lead.post(
        reverse("preferences:edit"),
        {"language": "zh-hans", "time_zone": "Asia/Shanghai", "csv_bom": "on"},
    )
    assert response.status_code == 302
    chosen = preference_get(user=lead)
    assert (chosen.language, chosen.time_zone, chosen.csv_bom) == ("zh-hans", "Asia/Shanghai", True)
    followed = as_lead.get(response["Location"]).content.decode()
    assert "你的偏好设置已保存。" in followed


@pytest.mark.parametrize("zone", ["Mars/Olympus", "asia/shanghai", "Asia/Shanghai\x00", ""])
def test_the_preferences_page_refuses_a_zone_zoneinfo_does_not_know(as_lead, lead, zone):
    response = as_lead.post(reverse("preferences:edit"), {"language": "", "time_zone": zone})
    assert response.status_code == 400
    assert preference_get(user=lead).time_zone == ""


# The time zone


def test_the_browsers_zone_is_offered_until_one_is_chosen(as_lead, lead):
    home = as_lead.get(reverse("mutes:lookup")).content.decode()
    offer = re.search(r"<form[^>]*data-zone-offer.*?</form>", home, re.S).group(0)
    assert 'name="time_zone" value="UTC"' in offer and "data-browser-zone" in offer
    assert "/static/js/zone.js" in home
    response = as_lead.post(
        reverse("preferences:time_zone"), {"time_zone": "Asia/Shanghai", "next": "/"}
    )
    assert response.status_code == 302
    assert preference_get(user=lead).time_zone == "Asia/Shanghai"
    assert "data-zone-offer" not in as_lead.get(reverse("mutes:lookup")).content.decode()


def test_an_offered_zone_zoneinfo_does_not_know_is_not_saved(as_lead, lead):
    as_lead.post(reverse("preferences:time_zone"), {"time_zone": "../../etc/passwd"})
    assert preference_get(user=lead).time_zone == ""


# A row at 07:30 UTC on the 25th is 23:30 on the 24th in Los Angeles (UTC-8) and 15:30 on the
# 25th in Shanghai; one at 16:30 UTC on the 24th is 08:30 on the 24th in Los Angeles and 00:30 on
# the 25th in Shanghai. The server stays on UTC: only the profile's zone moves them.
DAY_EDGES = {
    "America/Los_Angeles": ("2026-11-24 23:30:00", "2026-11-24 08:30:00"),
    "Asia/Shanghai": ("2026-11-25 15:30:00", "2026-11-25 00:30:00"),
}


@pytest.fixture
def two_rows():
    early = audit_row(at=datetime(2026, 11, 24, 16, 30, tzinfo=UTC), account="early")
    late = audit_row(at=datetime(2026, 11, 25, 7, 30, tzinfo=UTC), account="late")
    return early.pk, late.pk


@pytest.mark.parametrize("zone", DAY_EDGES)
def test_times_are_shown_in_the_profiles_zone(as_lead, lead, two_rows, zone):
    Preference.objects.create(user=lead, time_zone=zone)
    html = as_lead.get(reverse("audit:list")).content.decode()
    assert f"Time ({zone})" in html
    late_local, early_local = DAY_EDGES[zone]
    assert f'<time datetime="2026-11-25T07:30:00+00:00">{late_local}</time>' not in html
    assert re.search(rf"<time [^>]*>{late_local}</time>", html)
    assert re.search(rf"<time [^>]*>{early_local}</time>", html)
    detail = as_lead.get(reverse("audit:detail", args=[two_rows[1]])).content.decode()
    assert f"{late_local} ({zone})" in detail


def test_the_audit_date_filters_read_days_in_the_profiles_zone(as_lead, lead, two_rows):
    early, late = two_rows
    Preference.objects.create(user=lead, time_zone="America/Los_Angeles")
    # Both rows fall on the 24th in Los Angeles.
    assert entries(as_lead.get(reverse("audit:list"), {"since": "2026-11-25"})) == []
    assert entries(as_lead.get(reverse("audit:list"), {"until": "2026-11-24"})) == [late, early]
    assert entries(
        as_lead.get(reverse("audit:list"), {"since": "2026-11-24T23:00", "until": "2026-11-25"})
    ) == [late]
    Preference.objects.filter(user=lead).update(time_zone="Asia/Shanghai")
    # Both fall on the 25th in Shanghai, the early one 30 minutes after midnight.
    assert entries(as_lead.get(reverse("audit:list"), {"until": "2026-11-24"})) == []
    assert entries(as_lead.get(reverse("audit:list"), {"since": "2026-11-25"})) == [late, early]
    assert entries(
        as_lead.get(reverse("audit:list"), {"since": "2026-11-25T00:30:01", "until": "2026-11-26"})
    ) == [late]


def test_the_date_filters_are_date_time_boxes_showing_what_the_url_meant(as_lead, lead):
    Preference.objects.create(user=lead, time_zone="Asia/Shanghai")
    html = as_lead.get(
        reverse("audit:list"), {"since": "2026-11-25T00:00:00Z", "until": "2026-11-25"}
    ).content.decode()
    since = re.search(r'<input type="datetime-local" name="since"[^>]*>', html).group(0)
    until = re.search(r'<input type="datetime-local" name="until"[^>]*>', html).group(0)
    # Midnight UTC is 08:00 in Shanghai; "until" a date runs to the start of the next one.
    assert 'value="2026-11-25T08:00:00"' in since and 'step="1"' in since
    assert 'value="2026-11-26T00:00:00"' in until
