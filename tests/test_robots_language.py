# ruff: noqa: RUF001 - the Chinese sentences asserted use Chinese punctuation
"""The notifications pages in the reader's language: Chinese for zh-CN, English otherwise."""

import pytest
from django.urls import reverse

from muteadmin.robots.models import Destination
from tests.test_robots_views import WECOM

pytestmark = pytest.mark.django_db

ZH = {"Accept-Language": "zh-CN"}


def test_a_destination_is_added_and_shown_in_chinese(as_lead):
    empty = as_lead.get(reverse("robots:list"), headers=ZH).content.decode()
    assert "还没有通知目标：请在下方添加第一个。" in empty and "添加通知目标" in empty

    as_lead.post(reverse("robots:list"), WECOM, headers=ZH)

    destination = Destination.objects.get(name=WECOM["name"])
    page = as_lead.get(reverse("robots:detail", args=[destination.pk]), headers=ZH)
    text = page.content.decode()
    assert "已添加 ops group。请给它发送一条测试消息。" in text
    assert "企业微信群机器人" in text and "投递日志" in text and "尚未发送。" in text
    assert "永久禁言, 批量任务完成或失败" in text
    assert "Delivery log" not in text and "WeCom group robot" not in text


def test_a_wrong_address_is_explained_in_chinese_and_in_english(as_lead):
    wrong = WECOM | {"kind": "slack", "url": "https://example.com/hook"}

    chinese = as_lead.post(reverse("robots:list"), wrong, headers=ZH).content.decode()
    english = as_lead.post(reverse("robots:list"), wrong).content.decode()

    assert "Slack Incoming Webhook 的地址以 https://hooks.slack.com/services/ 开头" in chinese
    assert (
        "A Slack incoming webhook address starts with https://hooks.slack.com/services/; "
        "copy it from the robot&#x27;s settings."
    ) in english
    assert not Destination.objects.exists()
