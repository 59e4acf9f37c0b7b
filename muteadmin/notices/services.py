"""A notice's text: the template for the rule and language, its placeholders filled."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.utils.translation import gettext as _

from muteadmin.notices.models import NoticeTemplate
from muteadmin.tencent.nospeaking import PERMANENT

DEFAULT_LANGUAGE = NoticeTemplate.Language.ENGLISH
LANGUAGES = NoticeTemplate.Language


@dataclass(frozen=True)
class _Words:
    kinds: dict[tuple[str, ...], str]
    units: tuple[tuple[int, str, str], ...]  # seconds, singular, plural
    separator: str
    permanent: str
    never: str


_WORDS = {
    LANGUAGES.ENGLISH: _Words(
        kinds={
            ("c2c",): "one-to-one messages",
            ("group",): "group messages",
            ("c2c", "group"): "one-to-one or group messages",
        },
        units=((86400, "day", "days"), (3600, "hour", "hours"), (60, "minute", "minutes")),
        separator=" ",
        permanent="permanent",
        never="never (permanent)",
    ),
    LANGUAGES.SIMPLIFIED_CHINESE: _Words(
        kinds={("c2c",): "单聊消息", ("group",): "群聊消息", ("c2c", "group"): "单聊和群聊消息"},
        units=((86400, "天", "天"), (3600, "小时", "小时"), (60, "分钟", "分钟")),
        separator="",
        permanent="永久",
        never="不会自动结束(永久)",
    ),
}


class NoticeUnavailable(Exception):
    """No notice can be written for this change; the message says why, as a sentence."""


def notice_language_valid(language: str) -> bool:
    """Whether `language` is one notices are written in."""
    return language in LANGUAGES.values


def notice_render(
    *,
    c2c_seconds: int | None,
    group_seconds: int | None,
    reason: str,
    now: datetime,
    language: str = DEFAULT_LANGUAGE,
    rule_code: str = "",
) -> str:
    """The notice for a change that set these mutes (None: left alone, 0: lifted) at `now`.

    The template is the rule's in `language`, else the default one in it. {duration} and
    {ends_at} are those of the longest mute set. Raises NoticeUnavailable when the change mutes
    nothing (a lift needs no notice) or no template exists for the language.
    """
    requested = {"c2c": c2c_seconds, "group": group_seconds}
    muted = tuple(kind for kind, seconds in requested.items() if seconds)
    if not muted:
        raise NoticeUnavailable(_("No notice was sent: the change muted nothing, it only lifted."))
    template = _template(rule_code=rule_code, language=language)
    words = _WORDS[LANGUAGES(template.language)]
    longest = max(requested[kind] for kind in muted)
    return template.text.format(
        kinds=words.kinds[muted],
        duration=_duration(longest, words),
        ends_at=_ends_at(longest, now=now, zone_name=template.time_zone, words=words),
        reason=reason,
    )


def _template(*, rule_code: str, language: str) -> NoticeTemplate:
    if not notice_language_valid(language):
        raise NoticeUnavailable(_("Choose English or Simplified Chinese for the notice."))
    candidates = NoticeTemplate.objects.filter(language=language, rule_code__in={rule_code, ""})
    found = {template.rule_code: template for template in candidates}
    template = found.get(rule_code) or found.get("")
    if template is None:
        raise NoticeUnavailable(
            _("No notice was sent: there is no %(language)s notice text; ask a Lead to write one.")
            % {"language": LANGUAGES(language).label}
        )
    return template


def _duration(seconds: int, words: _Words) -> str:
    if seconds == PERMANENT:
        return words.permanent
    parts = []
    for size, singular, plural in words.units:
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count}{words.separator}{singular if count == 1 else plural}")
    if not parts:  # under a minute
        return f"1{words.separator}{words.units[-1][1]}"
    return words.separator.join(parts) if words.separator else "".join(parts)


def _ends_at(seconds: int, *, now: datetime, zone_name: str, words: _Words) -> str:
    if seconds == PERMANENT:
        return words.never
    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        zone, zone_name = ZoneInfo("UTC"), "UTC"
    ends = (now + timedelta(seconds=seconds)).astimezone(zone)
    return f"{ends:%Y-%m-%d %H:%M} ({zone_name})"
