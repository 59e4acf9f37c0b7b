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
from muteadmin.mutes.notice_delivery import (
    NoticeOutcome,
    notice_after_change,
    notice_deliver,
    notice_text_after,
)
from muteadmin.mutes.selectors import notice_sent_for
from muteadmin.notices.services import DEFAULT_LANGUAGE, LANGUAGES, NoticeUnavailable
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
        if scripted or result.change is None:
            outcome = notice_after_change(
                account=account,
                app=self.app.name,
                result=result,
                reason=form.cleaned_data["reason"],
                language=language,
                correlation_id=correlation_id,
                operator=self.request.user,
                client_ip=client_ip(self.request),
                rule=form.cleaned_data["rule"] or "",
            )
            _tell(self.request, outcome)
            return back
        try:
            text = notice_text_after(
                result,
                reason=form.cleaned_data["reason"],
                language=language,
                rule=form.cleaned_data["rule"] or "",
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


def _tell(request: HttpRequest, outcome: NoticeOutcome) -> None:
    """The outcome of a notice as a message on the next page."""
    level = getattr(messages, outcome.level.upper())
    messages.add_message(request, level, outcome.sentence)


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
        outcome = notice_deliver(
            account=account,
            app=notice["app"],
            text=notice["text"],
            language=notice["language"],
            correlation_id=uuid.UUID(notice["correlation_id"]),
            operator=request.user,
            client_ip=client_ip(request),
            rule=notice.get("rule", ""),
        )
        _tell(request, outcome)
        return target
