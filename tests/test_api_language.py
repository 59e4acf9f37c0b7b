# ruff: noqa: RUF001 - the Chinese sentences asserted use Chinese punctuation
"""The API and its tokens page in the reader's language: Chinese for zh-CN, else English."""

import pytest
from django.urls import reverse

from muteadmin.mutes.services import mute_change
from tests.api_support import ApiClient, api_as, problem, token_for
from tests.conftest import user_in

pytestmark = pytest.mark.django_db

ZH = {"Accept-Language": "zh-CN"}


def url(account: str = "alice") -> str:
    return reverse("api:mute", args=[account])


def test_the_tokens_page_its_form_and_its_messages_speak_chinese(as_lead):
    page = reverse("api_tokens:list")
    shown = as_lead.get(page, headers=ZH).content.decode()
    assert "令牌" in shown and "有效期（天）" in shown and "查询账号" in shown
    assert "Expires in (days)" not in shown and "Look up accounts" not in shown
    refused = as_lead.post(page, {"scopes": ["read"], "role": "Lead", "days": "x"}, headers=ZH)
    assert refused.status_code == 400
    text = refused.content.decode()
    assert "请为令牌命名，例如 spam-classifier。" in text and "请输入整数天数。" in text
    created = as_lead.post(
        page, {"name": "bot", "scopes": ["read"], "role": "Lead", "days": "30"}, headers=ZH
    )
    assert "令牌 bot 已创建；请立即复制。" in created.content.decode()


def test_the_tokens_page_stays_english_without_a_chinese_browser(as_lead):
    refused = as_lead.post(reverse("api_tokens:list"), {"scopes": ["read"], "days": "30"})
    text = refused.content.decode()
    assert "Name the token, for example spam-classifier." in text
    assert "Expires in (days)" in text and "令牌" not in text


def test_a_problem_detail_is_in_chinese_for_a_chinese_client_and_english_otherwise():
    _, secret = token_for("Lead", "read", name="reader")
    body = {"c2c_seconds": 600, "reason": "spam"}
    chinese = problem(ApiClient(secret).post(url(), body, **ZH), 403)
    assert chinese["title"] == "无权访问"
    assert chinese["detail"] == "此令牌缺少 change 权限范围；请向组长申请具有该权限范围的令牌。"
    assert chinese["type"] == "urn:muteadmin:problem:forbidden"
    english = problem(ApiClient(secret).post(url(), body), 403)
    assert english["title"] == "Not allowed"
    assert english["detail"] == (
        "This token lacks the change scope; ask a Lead for a token that has it."
    )


def test_an_unknown_address_and_a_bad_key_answer_in_chinese():
    missing = problem(ApiClient(None).get("/api/v1/nothing-here", **ZH), 404)
    assert missing["title"] == "未找到"
    assert missing["detail"].startswith("此地址没有 API 端点")
    reply = api_as("Lead", "change").post(
        url(), {"c2c_seconds": 600, "reason": "spam"}, **ZH, **{"Idempotency-Key": "x" * 300}
    )
    bad_key = problem(reply, 400)
    assert bad_key["title"] == "请求无效"
    assert bad_key["errors"][0] == {
        "field": "Idempotency-Key",
        "message": "不是可用的键。",
        "code": "invalid",
    }


def test_a_change_on_a_stale_state_is_refused_in_chinese_for_a_chinese_client():
    api = api_as("Moderator", "read", "change")
    seen = api.get(url()).json()
    mute_change(account="alice", operator=user_in("lead", "Lead"), reason="x", c2c_seconds=600)
    body = {"group_seconds": 3600, "reason": "spam", "expected": seen}
    chinese = problem(api.post(url(), body, **ZH), 409)
    assert chinese["title"] == "禁言状态在你查看之后已发生变化"
    assert chinese["detail"].startswith("单聊禁言在你查看之后已发生变化。未发送任何请求。")
    assert chinese["changed"] == ["c2c"]
    english = problem(api.post(url(), body), 409)
    assert english["title"] == "The mutes changed since you saw them"
    assert english["detail"].startswith("The C2C mute changed since it was seen. Nothing was sent.")
