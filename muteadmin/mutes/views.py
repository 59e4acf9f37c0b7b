"""Account pages: look up an account, see its mutes count down, change them."""

import uuid
from collections.abc import Mapping

from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views import View

from muteadmin.approvals.selectors import mute_request_waiting_read
from muteadmin.approvals.services import RequestClosed, mute_request_file
from muteadmin.core.account_paths import account_url
from muteadmin.core.fragments import fragment
from muteadmin.core.http import client_ip
from muteadmin.core.sql import reads_run
from muteadmin.mutes.cards import mute_cards
from muteadmin.mutes.change_guard import ChangeGuardMixin
from muteadmin.mutes.change_messages import change_message
from muteadmin.mutes.confirmation import Confirmation
from muteadmin.mutes.forms import LookupForm, MuteChangeForm
from muteadmin.mutes.history import recent_change_rows
from muteadmin.mutes.home import home_lists
from muteadmin.mutes.notice_preview import notice_preview
from muteadmin.mutes.notify import NoticeMixin
from muteadmin.mutes.permissions import ApprovalRequired, mute_change_checked, mute_permissions
from muteadmin.mutes.refusals import mute_change_refusal_audit
from muteadmin.mutes.seen import StaleMuteState
from muteadmin.mutes.selectors import account_history_read
from muteadmin.mutes.services import MuteChangeNotSent, mute_change, mute_get
from muteadmin.mutes.setters import MuteSetter, mute_status_setters
from muteadmin.mutes.timeline import timeline_context
from muteadmin.notices.services import DEFAULT_LANGUAGE
from muteadmin.reconcile.selectors import drift_since_change_read
from muteadmin.reminders.services import NothingToReview, reminder_for_change, reminder_sentence
from muteadmin.rules.selectors import rule_ladder_step, rules_active
from muteadmin.tencent.accounts import InvalidAccount, validate_account
from muteadmin.tencent.errors import TencentError
from muteadmin.tencent.nospeaking import MuteStatus
from muteadmin.upstream.selection import AppRequestedMixin, app_query


class AccountAppMixin(AppRequestedMixin):
    """The app a page works on, and the account pages' URLs in it."""

    def account_url(self, account: str) -> str:
        """The account's page in this app."""
        return account_url(account, query=app_query(self.app.name))

    def lookup_page(self, form: LookupForm, *, status: int = 200, home=None) -> HttpResponse:
        """The lookup form (and `home`, the start page's lists); when it refused an ID for its
        spaces, a link to the ID without them."""
        suggestion = form.suggestion
        context = {
            "form": form,
            "suggestion": suggestion,
            "suggestion_url": self.account_url(suggestion) if suggestion else "",
            "home": home,
        }
        return render(self.request, "mutes/lookup.html", context, status=status)


class PaddedAccountMixin:
    """Refuses an account in the URL that starts or ends with whitespace, before any call.

    Such an ID is a different account to Tencent from the one without the spaces, yet looks the
    same on the page: the lookup form explains and links to the ID without them. Placed after
    AccountAppMixin, whose app and lookup page it uses.
    """

    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        account = kwargs.get("account", "")
        if account != account.strip():
            form = LookupForm(data={"account": account})
            if not form.is_valid():
                return self.lookup_page(form, status=404)
        return super().dispatch(request, *args, **kwargs)


class LookupView(PermissionRequiredMixin, AccountAppMixin, View):
    """The start page: a form that takes a UserID to the account's page."""

    permission_required = "mutes.query_mute"

    def get(self, request: HttpRequest) -> HttpResponse:
        if "account" not in request.GET:
            return self.lookup_page(
                LookupForm(), home=home_lists(user=request.user, app=self.app.name)
            )
        form = LookupForm(data=request.GET)
        if not form.is_valid():
            return self.lookup_page(form)
        return redirect(self.account_url(form.cleaned_data["account"]))


class AccountView(
    PermissionRequiredMixin,
    AccountAppMixin,
    PaddedAccountMixin,
    ChangeGuardMixin,
    NoticeMixin,
    View,
):
    """An account's two mutes (queried from Tencent on every visit) and the form to change them."""

    permission_required = "mutes.query_mute"

    def get(self, request: HttpRequest, account: str) -> HttpResponse:
        form = self.change_form()
        try:
            if form is not None and (code := request.GET.get("rule", "")):
                # Checked before the log is read for it: PostgreSQL refuses a NUL in a query.
                validate_account(account)
                self.suggest(form, account=account, code=code)
            return self.render_account(account, form=form, query=True)
        except InvalidAccount:
            return self.invalid_account(account)

    def post(self, request: HttpRequest, account: str) -> HttpResponse:
        try:
            # Before anything reads the log for it: PostgreSQL refuses a NUL in a query.
            validate_account(account)
        except InvalidAccount:
            return self.invalid_account(account)
        form = self.change_form(data=request.POST)
        if form is None:
            self.refusal_audit(account, form=None)
            raise PermissionDenied
        if not form.is_valid():
            self.refusal_audit(account, form=form)
            return self.render_account(account, form=form)
        if request.POST.get("request_approval"):
            return self.file_request(account, form=form)
        if notice := self.above_limit(account, form):
            # Above the user's limit, whatever the form offered: offer a request instead.
            form.approval_required(notice)
            return self.render_account(account, form=form)
        expected = form.cleaned_data["expected"]
        # A post without seen_* comes from a script: no picture to check, nobody to ask.
        if expected is not None and not form.cleaned_data["confirm"]:
            confirmation = self.seen_confirmation(account, form=form, seen=expected)
            if confirmation.required:
                return self.render_account(account, form=form, confirmation=confirmation)
        correlation_id = uuid.uuid4()  # the change's rows, and its notice's
        try:
            result = mute_change(
                account=account,
                operator=request.user,
                reason=form.cleaned_data["reason"],
                rule=form.cleaned_data["rule"],
                c2c_seconds=form.cleaned_data["c2c_seconds"],
                group_seconds=form.cleaned_data["group_seconds"],
                client_ip=client_ip(request),
                app=self.app.name,
                expected=expected,
                correlation_id=correlation_id,
            )
        except InvalidAccount:
            return self.invalid_account(account)
        except StaleMuteState as exc:
            return self.render_stale(account, form=form, stale=exc)
        except MuteChangeNotSent as exc:
            return self.render_account(account, form=form, change_error=exc.error, sent=False)
        except TencentError as exc:
            # It may have gone through: the cards, asked afresh, show what Tencent has now.
            return self.render_account(account, form=form, query=True, change_error=exc)
        messages.success(request, change_message(result))
        self.review_reminder(account, form=form, correlation_id=correlation_id)
        if form.cleaned_data["notify"]:
            return self.notice_step(
                account,
                form=form,
                result=result,
                correlation_id=correlation_id,
                scripted=expected is None,
            )
        return redirect(self.account_url(account))

    def review_reminder(
        self, account: str, *, form: MuteChangeForm, correlation_id: uuid.UUID
    ) -> None:
        """The reminder "Review when this mute ends" asked for with the change, if any."""
        data = form.cleaned_data
        if not data.get("review"):
            return
        try:
            reminder = reminder_for_change(
                account=account,
                app=self.app.name,
                operator=self.request.user,
                remind=data["review"],
                lengths=(data["c2c_seconds"], data["group_seconds"]),
                reason=data["reason"],
                correlation_id=correlation_id,
            )
        except NothingToReview as exc:
            messages.info(self.request, str(exc))
            return
        messages.info(self.request, reminder_sentence(reminder))

    def above_limit(self, account: str, form: MuteChangeForm) -> str:
        """Why the change asked for needs a Lead's approval, or "" when the user may make it.

        A change above the limit is refused (and audited as such) even though a request for it
        is offered.
        """
        try:
            mute_change_checked(
                operator=self.request.user,
                c2c_seconds=form.cleaned_data["c2c_seconds"],
                group_seconds=form.cleaned_data["group_seconds"],
                account=account,
                reason=form.cleaned_data["reason"],
                client_ip=client_ip(self.request),
                app=self.app.name,
            )
        except ApprovalRequired as exc:
            return str(exc)
        return ""

    def file_request(self, account: str, *, form: MuteChangeForm) -> HttpResponse:
        """File the change as a request for a Lead's approval ("Request approval")."""
        try:
            filed = mute_request_file(
                requester=self.request.user,
                account=account,
                reason=form.cleaned_data["reason"],
                rule=form.cleaned_data["rule"],
                c2c_seconds=form.cleaned_data["c2c_seconds"],
                group_seconds=form.cleaned_data["group_seconds"],
                app=self.app.name,
                client_ip=client_ip(self.request),
                notice_language=(
                    (form.cleaned_data["notice_language"] or DEFAULT_LANGUAGE)
                    if form.cleaned_data["notify"]
                    else ""
                ),
            )
        except InvalidAccount:
            return self.invalid_account(account)
        except (RequestClosed, ValueError) as exc:
            form.add_error(None, str(exc))
            return self.render_account(account, form=form)
        messages.success(
            self.request,
            _(
                "Request #%(number)s for %(account)s is waiting for a Lead's approval; "
                "nothing changes until one approves it."
            )
            % {"number": filed.pk, "account": account},
        )
        if filed.notice_language:
            messages.info(
                self.request,
                _("The account is sent the notice once a Lead approves the request."),
            )
        return redirect(self.account_url(account))

    def refusal_audit(self, account: str, *, form: MuteChangeForm | None) -> None:
        mute_change_refusal_audit(
            operator=self.request.user,
            account=account,
            form=form,
            data=self.request.POST,
            client_ip=client_ip(self.request),
            app=self.app.name,
        )

    def change_form(self, data=None) -> MuteChangeForm | None:
        allowed = mute_permissions(self.request.user)
        if not allowed.change:
            return None
        return MuteChangeForm(
            data=data,
            can_mute_permanently=allowed.mute_permanently,
            allowed=allowed,
            offer_requests=True,
            rules=rules_active(),
        )

    def suggest(self, form: MuteChangeForm, *, account: str, code: str) -> None:
        """Pre-select the next step of rule `code`'s ladder for `account` (?rule=spam)."""
        rule = next((rule for rule in form.rules if rule.code == code), None)
        if rule is None:
            form.ladder_sentence = _(
                "There is no rule %(code)s to pick; pick one from the list."
            ) % {"code": code[:32]}
            return
        form.suggest(rule_ladder_step(rule=rule, account=account, app=self.app.name))

    def invalid_account(self, account: str) -> HttpResponse:
        """The lookup form explaining why `account` is not a UserID (the service refused it)."""
        form = LookupForm(data={"account": account})
        form.is_valid()
        return self.lookup_page(form, status=404)

    def render_account(
        self,
        account: str,
        *,
        form: MuteChangeForm | None,
        query: bool = False,
        status: MuteStatus | None = None,
        setters: Mapping[str, MuteSetter | None] | None = None,
        change_error: TencentError | None = None,
        sent: bool = True,
        confirmation: Confirmation | None = None,
        stale: tuple[str, ...] = (),
        note: tuple[str, str] = ("", ""),
    ) -> HttpResponse:
        """The account's page; `note` is a note refused, as typed, and why."""
        error = None
        if query:
            try:
                status = mute_get(
                    account=account,
                    operator=self.request.user,
                    client_ip=client_ip(self.request),
                    app=self.app.name,
                )
            except TencentError as exc:
                error = exc
        # What the page reads besides Tencent, in one round trip (reads_run).
        history, drift, waiting = reads_run(
            account_history_read(account=account, app=self.app.name),
            drift_since_change_read(app=self.app.name, account=account),
            mute_request_waiting_read(account=account, app=self.app.name),
        )
        if status is not None and setters is None:
            setters = mute_status_setters(status=status, app=self.app.name, history=history)
        rows = recent_change_rows(history.recent_changes())
        context = {
            "account": account,
            "cards": mute_cards(status, setters, drift) if status is not None else None,
            "form": form,
            "error": error,
            "recent_changes": fragment("mutes/recent_changes.jinja", rows=rows) if rows else "",
            "app_query": app_query(self.app.name),
            "waiting_request": waiting,
            "notice_preview": notice_preview(form) if form is not None else None,
        }
        context |= timeline_context(history=history, note=note)
        context |= self.change_context(
            form,
            status=status,
            unknown=error or (change_error if not sent else None),
            change_error=change_error,
            sent=sent,
            confirmation=confirmation,
            stale=stale,
        )
        return render(self.request, "mutes/account.html", context)


class AccountCardsView(PermissionRequiredMixin, AccountAppMixin, PaddedAccountMixin, View):
    """Just the two cards, queried afresh: the page's script fetches this when a countdown ends."""

    permission_required = "mutes.query_mute"

    def get(self, request: HttpRequest, account: str) -> HttpResponse:
        query = app_query(self.app.name)
        try:
            status = mute_get(
                account=account,
                operator=request.user,
                client_ip=client_ip(request),
                app=self.app.name,
            )
        except InvalidAccount:
            return HttpResponse(
                _("That is not a valid UserID."), status=404, content_type="text/plain"
            )
        except TencentError as exc:
            context = {"account": account, "cards": None, "error": exc, "app_query": query}
            return render(request, "mutes/account.html#cards", context, status=502)
        setters = mute_status_setters(status=status, app=self.app.name)
        drift, waiting = reads_run(
            drift_since_change_read(app=self.app.name, account=account),
            mute_request_waiting_read(account=account, app=self.app.name),
        )
        cards = mute_cards(status, setters, drift)
        context = {
            "account": account,
            "cards": cards,
            "app_query": query,
            "waiting_request": waiting,
        }
        return render(request, "mutes/account.html#cards", context)
