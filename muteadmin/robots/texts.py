"""What each event's message says, in the destination's language (English or Simplified Chinese).

The English texts are the msgids; the Chinese ones are in locale/zh_Hans/LC_MESSAGES/django.po.
`message_render` is called inside translation.override(destination.language) by the worker.
Times are written in UTC for English and in China Standard Time for Chinese readers.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext, gettext_lazy, ngettext, pgettext, pgettext_lazy

from muteadmin.robots import models as robots_models
from muteadmin.tencent.nospeaking import PERMANENT

TIME_ZONES = {"en": UTC, "zh-hans": ZoneInfo("Asia/Shanghai")}
_UNITS = (86400, 3600, 60, 1)


@dataclass(frozen=True)
class Message:
    """A title and a body, plain text, ready for any service's format."""

    title: str
    text: str

    @property
    def plain(self) -> str:
        return f"{self.title}\n{self.text}"


def length_words(seconds: int | None) -> str:
    """A mute length as words in the active language: "permanent", "2 days 3 hours"."""
    if seconds is None:
        return pgettext("mute length", "unchanged")
    if seconds == PERMANENT:
        return pgettext("mute length", "permanent")
    if seconds <= 0:
        return pgettext("mute length", "lifted")
    parts = []
    for size in _UNITS:
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(_unit(count, size))
    return " ".join(parts)


def _unit(count: int, size: int) -> str:
    if size == 86400:
        return ngettext("%(count)d day", "%(count)d days", count) % {"count": count}
    if size == 3600:
        return ngettext("%(count)d hour", "%(count)d hours", count) % {"count": count}
    if size == 60:
        return ngettext("%(count)d minute", "%(count)d minutes", count) % {"count": count}
    return ngettext("%(count)d second", "%(count)d seconds", count) % {"count": count}


def moment_words(iso: str | None) -> str:
    """An ISO moment written in the active language's time zone, the zone named."""
    if not iso:
        return "-"
    zone = TIME_ZONES.get(translation.get_language() or "en", UTC)
    moment = datetime.fromisoformat(iso).astimezone(zone)
    if zone is UTC:
        return f"{moment:%Y-%m-%d %H:%M} UTC"
    return pgettext("time zone", "%(moment)s China Standard Time") % {
        "moment": f"{moment:%Y-%m-%d %H:%M}"
    }


def _lengths(facts: dict[str, Any]) -> str:
    parts = []
    if facts.get("c2c_seconds") is not None:
        parts.append(
            pgettext("mute kind", "one-to-one: %(length)s")
            % {"length": length_words(facts["c2c_seconds"])}
        )
    if facts.get("group_seconds") is not None:
        parts.append(
            pgettext("mute kind", "group: %(length)s")
            % {"length": length_words(facts["group_seconds"])}
        )
    return pgettext("list separator", ", ").join(parts) or "-"


def _permanent_mute(facts: dict[str, Any]) -> Message:
    text = gettext(
        "%(account)s (app %(app)s) was muted permanently by %(operator)s: %(lengths)s. "
        "Reason: %(reason)s"
    ) % _Defaulted(facts, lengths=_lengths(facts))
    if facts.get("on_behalf_of"):
        text += "\n" + gettext("Requested by %(requester)s.") % {"requester": facts["on_behalf_of"]}
    return Message(pgettext("notification title", "Permanent mute"), text)


def _request_waiting(facts: dict[str, Any]) -> Message:
    text = gettext(
        "%(requester)s asks to mute %(account)s (app %(app)s): %(lengths)s. Reason: %(reason)s\n"
        "A Lead decides it at /requests/ before %(expires_at)s."
    ) % _Defaulted(facts, lengths=_lengths(facts), expires_at=moment_words(facts.get("expires_at")))
    return Message(pgettext("notification title", "Mute request awaiting approval"), text)


def _bulk_finished(facts: dict[str, Any]) -> Message:
    numbers = _Defaulted(facts, operation=_operation(facts.get("operation", "")))
    if facts.get("state") == "cancelled":
        title = pgettext("notification title", "Bulk job cancelled")
        text = gettext(
            "Bulk job %(job)s (%(operation)s, by %(operator)s) was cancelled: %(ok)s succeeded, "
            "%(errors)s failed, %(not_sent)s not sent."
        )
    elif facts.get("errors"):
        title = pgettext("notification title", "Bulk job finished with failures")
        text = gettext(
            "Bulk job %(job)s (%(operation)s, by %(operator)s) finished: %(ok)s succeeded, "
            "%(errors)s failed."
        )
    else:
        title = pgettext("notification title", "Bulk job finished")
        text = gettext(
            "Bulk job %(job)s (%(operation)s, by %(operator)s) finished: all %(ok)s succeeded."
        )
    return Message(title, text % numbers)


def _operation(operation: str) -> str:
    names = {
        "lookup": pgettext("bulk operation", "look up"),
        "set": pgettext("bulk operation", "set mutes"),
        "lift": pgettext("bulk operation", "lift mutes"),
    }
    return names.get(operation, operation)


def _drift(facts: dict[str, Any]) -> Message:
    kinds = []
    for kind, name in (("c2c", pgettext("mute kind", "one-to-one")), ("group", _group_kind())):
        # Facts are flat: expected_c2c and found_c2c, present for each kind that drifted.
        if facts.get(f"found_{kind}") is not None:
            kinds.append(
                gettext("%(kind)s: expected %(expected)s, found %(found)s")
                % {
                    "kind": name,
                    "expected": length_words(facts.get(f"expected_{kind}")),
                    "found": length_words(facts.get(f"found_{kind}")),
                }
            )
    numbers = _Defaulted(facts, kinds=pgettext("list separator", ", ").join(kinds) or "-")
    if facts.get("bulk_job"):
        text = gettext(
            "Bulk job %(bulk_job)s (app %(app)s) skipped %(skipped)s accounts whose mutes "
            "changed after it was scheduled: %(accounts)s."
        )
    elif facts.get("scheduled"):
        text = gettext(
            "Scheduled change %(scheduled)s for %(account)s (app %(app)s) was skipped: the "
            "account's mutes changed after it was scheduled (%(kinds)s)."
        )
    else:
        text = gettext(
            "%(account)s (app %(app)s) had its mutes changed outside muteadmin: %(kinds)s."
        )
    return Message(
        pgettext("notification title", "Mutes changed outside muteadmin"), text % numbers
    )


def _review_due(facts: dict[str, Any]) -> Message:
    if facts.get("remind") == "leads":
        text = gettext(
            "The mute %(operator)s set on %(account)s (app %(app)s) has ended: a Lead is asked "
            "to review the account. Reason given: %(reason)s"
        )
    else:
        text = gettext(
            "The mute %(operator)s set on %(account)s (app %(app)s) has ended: %(operator)s is "
            "asked to review the account. Reason given: %(reason)s"
        )
    return Message(pgettext("notification title", "Review due"), text % _Defaulted(facts))


def _group_kind() -> str:
    return pgettext("mute kind", "group")


def _sentence(title: Promise, text: Promise) -> Callable[[dict[str, Any]], Message]:
    """A renderer whose message is `text` with the event's facts put in, under `title`."""

    def render(facts: dict[str, Any]) -> Message:
        return Message(str(title), text % facts)

    return render


RENDERERS = {
    robots_models.EVENT_PERMANENT_MUTE: _permanent_mute,
    robots_models.EVENT_REQUEST_WAITING: _request_waiting,
    robots_models.EVENT_BULK_FINISHED: _bulk_finished,
    robots_models.EVENT_AUDIT_VERIFY_FAILED: _sentence(
        pgettext_lazy("notification title", "Audit verification failed"),
        gettext_lazy(
            "The audit log did not verify: %(sentence)s\n"
            "Someone may have changed or removed rows; keep the database as it is and check it."
        ),
    ),
    robots_models.EVENT_LIMITER_SATURATED: _sentence(
        pgettext_lazy("notification title", "Rate limiter saturated"),
        gettext_lazy(
            "Calls to Tencent's %(api)s (app %(app)s) have waited for the rate limiter for "
            "%(seconds)s seconds: pages and bulk jobs are slowed down."
        ),
    ),
    robots_models.EVENT_CHECKPOINT_WRITTEN: _sentence(
        pgettext_lazy("notification title", "Chain checkpoint written"),
        gettext_lazy(
            "Audit chain checkpoint: %(rows)s rows chained, last row %(last_id)s, head hash "
            "%(head)s."
        ),
    ),
    robots_models.EVENT_DRIFT: _drift,
    robots_models.EVENT_REVIEW_DUE: _review_due,
    robots_models.EVENT_TEST: _sentence(
        pgettext_lazy("notification title", "Test message"),
        gettext_lazy(
            "A test message from muteadmin to %(destination)s, sent by %(operator)s. "
            "If you can read this, the destination works."
        ),
    ),
}


def message_render(event: str, facts: dict[str, Any], *, language: str) -> Message:
    """The message for `event` with `facts`, written in `language` ("en" or "zh-hans")."""
    with translation.override(language):
        message = RENDERERS[event](_Defaulted(facts))
        return Message(f"[muteadmin] {message.title}", message.text)


class _Defaulted(dict):
    """Facts that answer "-" for any missing one, so an older delivery still renders."""

    def __missing__(self, key: str) -> str:
        return "-"
