"""The notice after a change: its text shown before sending, then sent as its own audited call.

A page's change shows the notice's final text with a Send button; a scripted post (no seen_*
fields) sends it at once. The text is not editable on the page: what is sent is the template's
text with the placeholders filled, carried to the send step signed so it cannot be altered.
A notice that fails never undoes the change: the page says so in a sentence.
"""

import uuid

from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core import signing
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views import View

from muteadmin.core.account_paths import account_url
from muteadmin.core.http import client_ip
from muteadmin.mutes.calls import MuteChangeResult
from muteadmin.mutes.forms import MuteChangeForm
from muteadmin.mutes.selectors import notice_sent_for
from muteadmin.mutes.services import notice_send
from muteadmin.notices.services import DEFAULT_LANGUAGE, LANGUAGES, NoticeUnavailable, notice_render
from muteadmin.tencent.accounts import InvalidAccount
from muteadmin.tencent.errors import TencentError
from muteadmin.upstream.selection import app_query

NOTICE_SALT = "muteadmin.mutes.notice"
# How long a notice's page may wait before its Send button is refused.
NOTICE_MAX_AGE = 30 * 60


class NoticeMixin:
    """For the account page: after a successful change, the notice step (see the module)."""

    def notice_step(
        self,
        account: str,
        *,
        form: MuteChangeForm,
        result: MuteChangeResult,
        correlation_id: uuid.UUID,
        scripted: bool,
    ) -> HttpResponse:
        language = form.cleaned_data.get("notice_language") or DEFAULT_LANGUAGE
        back = redirect(self.account_url(account))
        if result.change is None:
            messages.info(self.request, _("No notice was sent: nothing was changed."))
            return back
        try:
            text = notice_render(
                c2c_seconds=result.change.c2c_seconds,
                group_seconds=result.change.group_seconds,
                reason=form.cleaned_data["reason"],
                now=result.change.observed_at,
                language=language,
                rule_code=form.cleaned_data["rule"] or "",
            )
        except NoticeUnavailable as exc:
            messages.warning(self.request, str(exc))
            return back
        notice = {
            "text": text,
            "language": language,
            "correlation_id": str(correlation_id),
            "rule": form.cleaned_data["rule"] or "",
        }
        if scripted:
            notice_deliver(self.request, account=account, app=self.app.name, **notice)
            return back
        signed = signing.dumps(
            {"account": account, "app": self.app.name, **notice}, salt=NOTICE_SALT
        )
        context = {
            "account": account,
            "text": text,
            "language": LANGUAGES(language).label,
            "notice": signed,
            "app_query": app_query(self.app.name),
        }
        return render(self.request, "mutes/notice.html", context)


def notice_deliver(
    request: HttpRequest,
    *,
    account: str,
    app: str,
    text: str,
    language: str,
    correlation_id: str,
    rule: str = "",
) -> None:
    """Send the notice and say how it went, as a message on the next page."""
    try:
        notice_send(
            account=account,
            text=text,
            language=language,
            rule=rule,
            operator=request.user,
            correlation_id=uuid.UUID(correlation_id),
            client_ip=client_ip(request),
            app=app,
        )
    except (InvalidAccount, ValueError) as exc:
        messages.error(
            request, _("The change stands, but the notice was not sent: %(why)s") % {"why": exc}
        )
        return
    except TencentError as exc:
        if exc.may_have_applied:
            messages.error(
                request,
                _(
                    "The change stands, but the notice may not have reached the account: "
                    "%(why)s Check the audit log before sending another."
                )
                % {"why": exc.lost_answer},
            )
        else:
            messages.error(
                request,
                _("The change stands, but the notice was not sent: %(why)s")
                % {"why": exc.moderator_message},
            )
        return
    messages.success(request, _("Notice sent to %(account)s.") % {"account": account})


class NoticeSendView(PermissionRequiredMixin, View):
    """The notice page's Send button: sends the text it showed, once."""

    permission_required = "mutes.change_mute"

    def post(self, request: HttpRequest, account: str) -> HttpResponse:
        try:
            notice = signing.loads(
                request.POST.get("notice", ""), salt=NOTICE_SALT, max_age=NOTICE_MAX_AGE
            )
        except signing.BadSignature:
            notice = None
        if not isinstance(notice, dict) or notice.get("account") != account:
            messages.error(
                request,
                _(
                    "The notice was not sent: its page is over 30 minutes old or was altered. "
                    "The change stands; send a notice with your next change if one is needed."
                ),
            )
            return redirect(account_url(account))
        target = redirect(account_url(account, query=app_query(notice["app"])))
        if notice_sent_for(correlation_id=uuid.UUID(notice["correlation_id"])):
            messages.info(request, _("That notice was sent already; it was not sent again."))
            return target
        notice_deliver(
            request,
            account=account,
            app=notice["app"],
            text=notice["text"],
            language=notice["language"],
            correlation_id=notice["correlation_id"],
            rule=notice.get("rule", ""),
        )
        return target
