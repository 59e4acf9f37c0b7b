"""The Simplified Chinese catalog: complete, compiled as committed, and used by every engine."""

import re
from pathlib import Path

import pytest
from babel.messages.mofile import read_mo
from django.urls import reverse
from django.utils import translation

from muteadmin.core.fragments import fragment
from muteadmin.sandbox.services import sandbox_fault_push
from tools.messages import LOCALES, catalog_path, compiled, messages, read_catalog


def _key(message) -> tuple:
    ids = message.id
    # Babel's .mo reader gives a message's context as bytes.
    context = message.context
    context = context.decode() if isinstance(context, bytes) else context
    return (tuple(ids) if isinstance(ids, list | tuple) else ids, context)


def _text(string: str | list | tuple) -> str | tuple:
    return tuple(string) if isinstance(string, list | tuple) else string


def _translated(message) -> bool:
    string = message.string
    return all(string) if isinstance(string, tuple) else bool(string)


@pytest.mark.parametrize("locale", LOCALES)
def test_every_message_in_the_code_and_templates_has_a_translation(locale):
    catalog = read_catalog(locale)
    missing = set()
    for where, message, context in messages():
        key = message[0] if isinstance(message, tuple) else message
        found = catalog.get(key, context)
        if found is None or found.fuzzy or not _translated(found):
            missing.add(f"{where}: {key!r}")
    assert not missing, (
        f"{len(missing)} messages lack a {locale} translation; run `python -m tools.messages` "
        "and translate them in "
        + str(catalog_path(locale, "po"))
        + ":\n"
        + "\n".join(sorted(missing))
    )


TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
# What a template may write without a translation: the product's name, and code (<code>, <pre>).
_UNTRANSLATED_OK = {"muteadmin"}
_DROPPED = [
    re.compile(r"\{%\s*blocktranslate\b.*?\{%\s*endblocktranslate\s*%\}", re.S),
    re.compile(r"\{#.*?#\}", re.S),
    re.compile(r"\{%\s*comment\s*%\}.*?\{%\s*endcomment\s*%\}", re.S),
    re.compile(r"<(script|style|code|pre)\b.*?</\1>", re.S),
    re.compile(r"\{%.*?%\}", re.S),
    re.compile(r"\{\{.*?\}\}", re.S),
]
_WORDED_ATTRIBUTE = re.compile(r'\b(?:title|aria-label|placeholder|alt)="([^"]*)"')


def _unmarked_words(source: str) -> list[str]:
    """Words a template writes as they are, outside every translate tag, code and expression."""
    for pattern in _DROPPED:
        source = pattern.sub(" ", source)
    found = _WORDED_ATTRIBUTE.findall(source)
    found += re.sub(r"<[^>]*>", "\n", source).splitlines()
    return [
        text.strip() for text in found if set(re.findall(r"[A-Za-z]{2,}", text)) - _UNTRANSLATED_OK
    ]


def test_no_template_writes_words_outside_a_translate_tag():
    unmarked = {
        f"{path.relative_to(TEMPLATES)}: {text[:80]!r}"
        for path in [*TEMPLATES.rglob("*.html"), *TEMPLATES.rglob("*.jinja")]
        for text in _unmarked_words(path.read_text())
    }
    assert not unmarked, "words no translation reaches:\n" + "\n".join(sorted(unmarked))


def test_the_template_check_finds_a_sentence_left_unmarked():
    template = '<p><a href="{% url \'x\' %}">Schedule later</a> {% translate "Fine" %}</p>'
    assert _unmarked_words(template) == ["Schedule later"]
    assert _unmarked_words('<b title="Open it">{{ name }}</b>') == ["Open it"]
    assert not _unmarked_words("<code>Authorization: Bearer</code> muteadmin")


@pytest.mark.parametrize("locale", LOCALES)
def test_every_translation_keeps_its_messages_placeholders(locale):
    problems = [
        f"{message.id!r}: {error}"
        for message, errors in read_catalog(locale).check()
        for error in errors
    ]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("locale", LOCALES)
def test_the_committed_mo_is_the_po_compiled(locale):
    catalog = read_catalog(locale)
    with catalog_path(locale, "mo").open("rb") as mo:
        committed = read_mo(mo)
    written = {_key(m): _text(m.string) for m in committed if m.id}
    expected = {
        _key(m): _text(m.string) for m in catalog if m.id and _translated(m) and not m.fuzzy
    }
    assert written == expected, "run `python -m tools.messages` to compile the .mo again"
    assert catalog_path(locale, "mo").read_bytes() == compiled(catalog)


def test_django_reads_the_committed_catalog():
    with translation.override("zh-hans"):
        assert translation.gettext("Audit log") == "审计日志"


def test_the_fragments_engine_translates_with_djangos_catalog():
    rows = [{"kind": "note", "time": "t", "title": "Note", "operator": "", "reason": "r"}]
    with translation.override("zh-hans"):
        chinese = fragment("mutes/timeline.jinja", entries=rows)
    english = fragment("mutes/timeline.jinja", entries=rows)
    assert "nobody (automatic)" in english
    assert "nobody (automatic)" not in chinese and "自动" in chinese


@pytest.mark.django_db
def test_a_tencent_error_is_explained_in_the_readers_language(as_moderator):
    sandbox_fault_push(kind="error", code=70107, count=20)
    url = reverse("mutes:account", args=["ivy"])
    chinese = as_moderator.get(url, headers={"accept-language": "zh-CN"}).content.decode()
    english = as_moderator.get(url).content.decode()
    assert "该账号在即时通信应用中不存在" in chinese and "腾讯云错误码 70107" in chinese
    assert "This account does not exist in the chat app" in english
    assert "Tencent error 70107" in english


def _command_help(app: str, name: str) -> str:
    from django.core.management import load_command_class

    return load_command_class(app, name).create_parser("manage.py", name).format_help()


@pytest.mark.django_db
def test_commands_speak_language_code_and_english_by_default(settings, capsys):
    from django.core.management import CommandError, call_command

    create = ["create", "--name", "ci", "--scopes", "read", "--role", "Auditor", "--days", "7"]
    call_command("api_token", *create)
    assert "Created token ci (read; acts as Auditor; expires " in capsys.readouterr().err
    call_command("api_token", "list")
    assert capsys.readouterr().out.endswith("\tlast used never\n")
    assert "Create, list or revoke API tokens" in _command_help("muteadmin.api", "api_token")

    settings.LANGUAGE_CODE = "zh-hans"
    call_command("api_token", "list")
    listed = capsys.readouterr().out
    assert listed.startswith("ci\tread\tAuditor\t") and listed.endswith("\t最近使用 从未\n")
    call_command("api_token", "revoke", "ci")
    assert capsys.readouterr().out == "已吊销令牌 ci；其下一次请求将被拒绝。\n"  # noqa: RUF001
    call_command("audit_verify")
    verified = capsys.readouterr().out
    # The chain's own sentence (the token's two audit rows) is read by scripts and robots.
    assert verified.startswith("Chain intact: 2 rows checked.\n带密钥的记录：从链上第 1 位起")  # noqa: RUF001
    assert "检查点：未读取任何检查点（请设置 AUDIT_CHECKPOINT_PATH" in verified  # noqa: RUF001
    with pytest.raises(CommandError, match="--batch-size 至少为 1。"):
        call_command("audit_verify", "--batch-size", "0")
    assert "创建、列出或吊销 API 令牌" in _command_help("muteadmin.api", "api_token")
    assert "每次查询读取的记录数（默认：5000）" in _command_help("muteadmin.audit", "audit_verify")  # noqa: RUF001


def test_an_account_id_refused_is_explained_in_the_readers_language(client, moderator):
    client.force_login(moderator)
    english = client.get("/mutes/", {"account": "x" * 40}).content.decode()
    assert "An account ID is at most 32 characters long." in english
    chinese = client.get(
        "/mutes/", {"account": "x" * 40}, headers={"Accept-Language": "zh-CN"}
    ).content.decode()
    assert "账号 ID 最长 32 个字符。" in chinese
