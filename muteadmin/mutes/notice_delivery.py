"""The notice after a change, as a service: its text from the template, and its delivery.

The account page shows the text before sending (a script's post and the API send it at once);
each send is its own audited call (mutes.services.notice_send). A notice that fails never undoes
the change: the outcome says so in a sentence.
"""

import uuid
from dataclasses import dataclass

from django.contrib.auth.base_user import AbstractBaseUser
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from muteadmin.mutes.calls import MuteChangeResult
from muteadmin.mutes.services import notice_send
from muteadmin.notices.services import DEFAULT_LANGUAGE, NoticeUnavailable, notice_render
from muteadmin.tencent.accounts import InvalidAccount
from muteadmin.tencent.errors import TencentError

NOTHING_CHANGED = gettext_lazy("No notice was sent: nothing was changed.")


@dataclass(frozen=True)
class NoticeOutcome:
    """Whether the notice went, and the sentence saying so (`level`: a messages level's name)."""

    sent: bool
    level: str
    sentence: str


def notice_text_after(
    result: MuteChangeResult, *, reason: str, language: str, rule: str = ""
) -> str:
    """The notice's final text for a change that went through (the template of its `rule` in
    `language`, else the default one); NoticeUnavailable without one."""
    return notice_render(
        c2c_seconds=result.change.c2c_seconds,
        group_seconds=result.change.group_seconds,
        reason=reason,
        now=result.change.observed_at,
        language=language or DEFAULT_LANGUAGE,
        rule_code=rule,
    )


def notice_deliver(
    *,
    account: str,
    app: str,
    text: str,
    language: str,
    correlation_id: uuid.UUID,
    operator: AbstractBaseUser,
    client_ip: str | None,
    rule: str = "",
) -> NoticeOutcome:
    """Send the notice as its own audited call (naming the change's `rule`), and say how it went."""
    try:
        notice_send(
            account=account,
            text=text,
            language=language,
            rule=rule,
            operator=operator,
            correlation_id=correlation_id,
            client_ip=client_ip,
            app=app,
        )
    except (InvalidAccount, ValueError) as exc:
        sentence = _("The change stands, but the notice was not sent: %(why)s") % {"why": exc}
        return NoticeOutcome(False, "error", sentence)
    except TencentError as exc:
        if exc.may_have_applied:
            sentence = _(
                "The change stands, but the notice may not have reached the account: "
                "%(why)s Check the audit log before sending another."
            ) % {"why": exc.lost_answer}
        else:
            sentence = _("The change stands, but the notice was not sent: %(why)s") % {
                "why": exc.moderator_message
            }
        return NoticeOutcome(False, "error", sentence)
    return NoticeOutcome(True, "success", _("Notice sent to %(account)s.") % {"account": account})


def notice_after_change(
    *,
    account: str,
    app: str,
    result: MuteChangeResult,
    reason: str,
    language: str,
    correlation_id: uuid.UUID,
    operator: AbstractBaseUser,
    client_ip: str | None,
    rule: str = "",
) -> NoticeOutcome:
    """The notice sent at once after a change (a script's post, the API), or why it was not."""
    if result.change is None:
        return NoticeOutcome(False, "info", str(NOTHING_CHANGED))
    language = language or DEFAULT_LANGUAGE
    try:
        text = notice_text_after(result, reason=reason, language=language, rule=rule)
    except NoticeUnavailable as exc:
        return NoticeOutcome(False, "warning", str(exc))
    return notice_deliver(
        account=account,
        app=app,
        text=text,
        language=language,
        correlation_id=correlation_id,
        operator=operator,
        client_ip=client_ip,
        rule=rule,
    )
