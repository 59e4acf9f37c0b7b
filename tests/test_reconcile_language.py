# ruff: noqa: RUF001 - the Chinese sentences asserted use Chinese punctuation
"""The watchlist and the reconcile's line in the reader's language: Chinese for zh-CN."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from muteadmin.reconcile.models import ReconcileRun
from muteadmin.reconcile.watchlist import watchlist_add

pytestmark = pytest.mark.django_db

URL = "/watchlist/"
ZH = {"Accept-Language": "zh-CN"}


def test_the_watchlist_its_form_and_its_messages_speak_chinese(as_lead, lead):
    watchlist_add(operator=lead, accounts=["bob"], app="default")

    as_lead.post(URL, {"accounts": "alice\nbob\ncarol"}, headers=ZH)

    page = as_lead.get(URL, headers=ZH).content.decode()
    assert "已将 2 个账号加入关注列表；1 个已在列表中。" in page
    assert "<h1>关注列表</h1>" in page and "要关注的账号" in page and "加入关注列表" in page
    assert "已关注的账号（3）" in page and "移除" in page
    assert "与腾讯核对：尚未运行。" in page
    assert "Add to the watchlist" not in page and "Reconcile with Tencent" not in page
    refused = as_lead.post(URL, {"accounts": "dave\n" + "x" * 40}, headers=ZH).content.decode()
    assert "未添加任何账号：第 2 行：" in refused


def test_one_account_added_is_said_in_the_singular_in_english(as_lead):
    as_lead.post(URL, {"accounts": "alice"})

    assert "1 account added to the watchlist." in as_lead.get(URL).content.decode()


def test_a_failed_run_is_told_in_chinese_and_in_english_as_before(as_lead):
    now = timezone.now()
    ReconcileRun.objects.create(
        trigger="worker",
        state="failed",
        started_at=now - timedelta(minutes=9),
        beat_at=now,
        finished_at=now - timedelta(minutes=8),
        total=40,
        checked=12,
        differences=2,
        error_info="Every lookup of a batch failed (timeout); the run stopped.",
    )

    chinese = as_lead.get(reverse("reports:mutes"), headers=ZH).content.decode()
    english = as_lead.get(reverse("reports:mutes")).content.decode()

    assert "与腾讯核对：上一次运行失败（8 分钟前），失败前已核对 12 / 40 个账号" in chinese
    assert "在审计日志中查看这些差异" in chinese
    assert (
        "Reconcile with Tencent: the last run failed 8 min ago after checking 12 of 40 accounts "
        "(2 differences): Every lookup of a batch failed (timeout); the run stopped."
    ) in english
    assert "See the differences in the audit log</a>." in english
