# ruff: noqa: RUF001 - the Chinese sentences asserted use Chinese punctuation
"""The API's docs page: every operation of the schema on one of the site's own pages, in the
reader's language, for anyone signed in; the schema it is drawn from stays the programs'."""

import json
import re

import pytest
from django.utils.html import escape

from muteadmin.preferences.services import preference_set
from tests.api_support import ApiClient, api_as
from tests.conftest import user_in

pytestmark = pytest.mark.django_db

DOCS = "/api/v1/docs"
ZH = {"Accept-Language": "zh-CN"}


def schema(api: ApiClient | None = None, **headers: str) -> dict:
    """The schema as a program reads it, in the language its Accept-Language asks for."""
    api = api or api_as("Lead", "read")
    response = api.get("/api/v1/schema", {"format": "json"}, **headers)
    assert response.status_code == 200
    return json.loads(response.content)


def operations(generated: dict) -> list[tuple[str, str, dict]]:
    """(method, path, operation) of every operation in a schema."""
    return [
        (method.upper(), path, operation)
        for path, methods in generated["paths"].items()
        for method, operation in methods.items()
    ]


def article(html: str, operation_id: str) -> str:
    """The part of the page about one operation."""
    found = re.search(rf'data-operation="{operation_id}">(.*?)</article>', html, re.S)
    assert found, f"{operation_id} is not on the page"
    return found[1]


def test_the_docs_page_lists_every_operation_of_the_schema_with_its_parameters(as_lead):
    html = as_lead.get(DOCS).content.decode()
    listed = operations(schema())
    assert len(listed) >= 7
    for method, path, operation in listed:
        part = article(html, operation["operationId"])
        assert f'<span class="api-method">{method}</span> {path}' in part
        assert escape(operation["summary"]) in part and escape(operation["description"]) in part
        # In the contents too, linked to the operation's own heading.
        assert f'href="#op-{operation["operationId"]}"' in html
        assert f'id="op-{operation["operationId"]}"' in part
        for parameter in operation.get("parameters", []):
            assert parameter["description"], (operation["operationId"], parameter["name"])
            assert f'data-field="{parameter["name"]}"' in part
            assert escape(parameter["description"]) in part
        for status, answer in operation["responses"].items():
            assert f'data-status="{status}"' in part and escape(answer["description"]) in part
    assert article(html, "mutes_change").count('data-field="expected.c2c.remaining_seconds"') == 1
    # Every parameter, body field and answer field says what it is.
    assert '<td class="reason"></td>' not in html
    assert "Authorization: Bearer &lt;token&gt;" in html


def test_the_docs_page_writes_each_fields_type_as_json_has_it(as_lead):
    html = as_lead.get(DOCS).content.decode()
    change = article(html, "mutes_change")

    def type_of(part: str, field: str) -> str:
        found = re.search(
            rf'data-field="{re.escape(field)}">.*?<td data-type><code>(.*?)</code>', part, re.S
        )
        assert found, field
        return found[1]

    assert type_of(change, "c2c_seconds") == "integer | null"
    assert (
        type_of(change, "notice_language") == "&quot;en&quot; | &quot;zh-hans&quot; | &quot;&quot;"
    )
    assert type_of(change, "expected.observed_at") == "string (date-time)"
    assert type_of(article(html, "bulk_create"), "accounts") == "string[]"
    assert type_of(article(html, "audit_list"), "action") == "string[]"
    results = article(html, "bulk_results")
    outcomes = ("error", "not_sent", "ok", "skipped")
    assert type_of(results, "outcome") == " | ".join(f"&quot;{o}&quot;" for o in outcomes)
    assert type_of(results, "results[].error_code") == "integer | null"


def test_the_docs_page_is_one_of_the_sites_pages_with_nothing_from_elsewhere(client):
    assert client.get(DOCS).status_code == 302  # to sign in
    client.force_login(user_in("auditor", "Auditor"))
    page = client.get(DOCS)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'class="skip-link" href="#main"' in html and 'class="topnav"' in html
    csp = page["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "<style" not in html and "<script" not in html
    assert "http://" not in html and "https://" not in html


def test_the_docs_page_speaks_chinese_to_a_chinese_browser(as_lead):
    html = as_lead.get(DOCS, headers=ZH).content.decode()
    assert '<html lang="zh-hans"' in html
    part = article(html, "mutes_change")
    assert "修改账号的禁言" in part and "参数" in part and "请求体（JSON）" in part
    assert "从现在起的秒数：0 为解除禁言" in part
    assert "仅显示此操作人的记录" in article(html, "audit_list")
    assert "认证" in html and "目录" in html
    assert "Change an account" not in html and "Seconds from now" not in html


def test_the_docs_page_speaks_the_language_of_the_readers_profile(client, lead):
    preference_set(user=lead, language="zh-hans")
    client.force_login(lead)
    html = client.get(DOCS).content.decode()
    assert "修改账号的禁言" in html and "开始批量任务" in html
    assert "Start a bulk job" not in html


def test_every_text_of_the_schema_is_written_and_written_in_chinese_too():
    api = api_as("Lead", "read")
    en_schema, zh_schema = schema(api), schema(api, **ZH)
    assert zh_schema["info"]["description"] != en_schema["info"]["description"]
    for name, component in en_schema["components"]["schemas"].items():
        for field, described in component.get("properties", {}).items():
            zh_field = zh_schema["components"]["schemas"][name]["properties"][field]
            assert described.get("description"), f"{name}.{field} says nothing of itself"
            assert zh_field["description"] != described["description"], (name, field)
    english, chinese = operations(en_schema), operations(zh_schema)
    for (_, _, en), (_, _, zh) in zip(english, chinese, strict=True):
        assert zh["summary"] != en["summary"] and zh["description"] != en["description"]
        for ours, theirs in zip(en.get("parameters", []), zh.get("parameters", []), strict=True):
            assert theirs["description"] != ours["description"], ours["name"]
        for status, answer in en["responses"].items():
            assert zh["responses"][status]["description"] != answer["description"]


def test_the_schema_keeps_its_address_and_content_types():
    api = api_as("Moderator", "read")
    assert api.get("/api/v1/schema")["Content-Type"].startswith("application/vnd.oai.openapi")
    answer = api.get("/api/v1/schema", {"format": "json"})
    assert answer["Content-Type"].startswith("application/vnd.oai.openapi+json")
