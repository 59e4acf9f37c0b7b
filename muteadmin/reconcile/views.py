"""The watchlist page: everyone who looks up accounts reads it; Leads add and remove."""

from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext, ngettext
from django.views import View

from muteadmin.core.http import client_ip
from muteadmin.reconcile.forms import WatchlistAddForm, WatchlistRemoveForm
from muteadmin.reconcile.models import WatchedAccount
from muteadmin.reconcile.selectors import reconcile_latest
from muteadmin.reconcile.watchlist import MANAGE_PERMISSION, watchlist_add, watchlist_remove
from muteadmin.upstream.selection import AppRequestedMixin, app_query


class WatchlistView(PermissionRequiredMixin, AppRequestedMixin, View):
    """The watched accounts of the app; a Lead's form to add more."""

    permission_required = "reconcile.view_watchedaccount"

    def get(self, request: HttpRequest) -> HttpResponse:
        return self.page(WatchlistAddForm())

    def post(self, request: HttpRequest) -> HttpResponse:
        if not request.user.has_perm(MANAGE_PERMISSION):
            raise PermissionDenied
        form = WatchlistAddForm(data=request.POST)
        if not form.is_valid():
            return self.page(form, status=400)
        added = watchlist_add(
            operator=request.user,
            accounts=form.cleaned_data["accounts"],
            app=self.app.name,
            client_ip=client_ip(request),
        )
        skipped = len(form.cleaned_data["accounts"]) - len(added)
        words = {"added": f"{len(added):,}", "skipped": f"{skipped:,}"}
        if skipped:
            said = ngettext(
                "%(added)s account added to the watchlist; %(skipped)s already on it.",
                "%(added)s accounts added to the watchlist; %(skipped)s already on it.",
                len(added),
            )
        else:
            said = ngettext(
                "%(added)s account added to the watchlist.",
                "%(added)s accounts added to the watchlist.",
                len(added),
            )
        messages.success(request, said % words)
        return redirect(reverse("reconcile:watchlist") + app_query(self.app.name))

    def page(self, form: WatchlistAddForm, *, status: int = 200) -> HttpResponse:
        context = {
            "form": form,
            "watched": WatchedAccount.objects.filter(app=self.app.name).order_by("account"),
            "editable": self.request.user.has_perm(MANAGE_PERMISSION),
            "app_query": app_query(self.app.name),
            "run": reconcile_latest(),
        }
        return render(self.request, "reconcile/watchlist.html", context, status=status)


class WatchlistRemoveView(PermissionRequiredMixin, AppRequestedMixin, View):
    """Stop watching one account (POST `account`)."""

    permission_required = MANAGE_PERMISSION

    def post(self, request: HttpRequest) -> HttpResponse:
        form = WatchlistRemoveForm(data=request.POST)
        back = reverse("reconcile:watchlist") + app_query(self.app.name)
        if not form.is_valid():
            return HttpResponse(
                gettext(
                    "That is not an account on the watchlist; "
                    "go back to the watchlist and pick one."
                ),
                status=400,
                content_type="text/plain; charset=utf-8",
            )
        account = form.cleaned_data["account"]
        if watchlist_remove(
            operator=request.user, account=account, app=self.app.name, client_ip=client_ip(request)
        ):
            messages.success(
                request,
                gettext("%(account)s is no longer on the watchlist.") % {"account": account},
            )
        else:
            messages.info(
                request, gettext("%(account)s was not on the watchlist.") % {"account": account}
            )
        return redirect(back)
