"""The notifications page: Leads add chat-robot destinations, change, test, resume and delete
them, and read each one's delivery log."""

from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext
from django.views import View

from muteadmin.core.http import client_ip
from muteadmin.robots.forms import DestinationForm
from muteadmin.robots.models import Destination
from muteadmin.robots.selectors import deliveries_recent, destination_view, destinations_all
from muteadmin.robots.services import (
    MANAGE_PERMISSION,
    DestinationInvalid,
    destination_create,
    destination_delete,
    destination_resume,
    destination_test,
    destination_update,
)

# Longer ids cannot be rows (and overflow a database integer): they are refused as not found.
MAX_ID = 2**63 - 1


def _destination(pk: int) -> Destination:
    destination = Destination.objects.filter(pk=pk).first() if 0 < pk <= MAX_ID else None
    if destination is None:
        raise Http404(gettext("There is no such destination."))
    return destination


class DestinationListView(PermissionRequiredMixin, View):
    """Every destination and how it fares; a form to add one."""

    permission_required = MANAGE_PERMISSION

    def get(self, request: HttpRequest) -> HttpResponse:
        return self.page(DestinationForm())

    def post(self, request: HttpRequest) -> HttpResponse:
        form = DestinationForm(data=request.POST)
        if form.is_valid():
            try:
                destination = destination_create(
                    operator=request.user, settings=form.settings(), client_ip=client_ip(request)
                )
            except DestinationInvalid as exc:
                form.add_error("name", str(exc))
            else:
                messages.success(
                    request,
                    gettext("Added %(name)s. Send it a test message.") % {"name": destination.name},
                )
                return redirect(reverse("robots:detail", args=[destination.pk]))
        return self.page(form, status=400)

    def page(self, form: DestinationForm, *, status: int = 200) -> HttpResponse:
        context = {"rows": destinations_all(), "form": form}
        return render(self.request, "robots/list.html", context, status=status)


class DestinationDetailView(PermissionRequiredMixin, View):
    """One destination: its settings (secrets masked), its delivery log and its actions."""

    permission_required = MANAGE_PERMISSION

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        destination = _destination(pk)
        return self.page(destination, DestinationForm(instance=destination))

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        destination = _destination(pk)
        form = DestinationForm(data=request.POST, instance=destination)
        if form.is_valid():
            try:
                destination_update(
                    operator=request.user,
                    destination_id=destination.pk,
                    settings=form.settings(),
                    client_ip=client_ip(request),
                )
            except DestinationInvalid as exc:
                form.add_error("name", str(exc))
            else:
                messages.success(request, gettext("Saved."))
                return redirect(reverse("robots:detail", args=[destination.pk]))
        return self.page(destination, form, status=400)

    def page(
        self, destination: Destination, form: DestinationForm, *, status: int = 200
    ) -> HttpResponse:
        context = {
            "row": destination_view(destination),
            "form": form,
            "deliveries": deliveries_recent(destination),
        }
        return render(self.request, "robots/detail.html", context, status=status)


class DestinationTestView(PermissionRequiredMixin, View):
    """POST: queue a test message to the destination."""

    permission_required = MANAGE_PERMISSION

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        destination = _destination(pk)
        destination_test(operator=request.user, destination_id=destination.pk)
        messages.success(
            request,
            gettext(
                "A test message is queued; its outcome appears in the delivery log below "
                "within moments (reload the page)."
            ),
        )
        return redirect(reverse("robots:detail", args=[destination.pk]))


class DestinationResumeView(PermissionRequiredMixin, View):
    """POST: send to a paused destination again."""

    permission_required = MANAGE_PERMISSION

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        destination = _destination(pk)
        destination_resume(
            operator=request.user, destination_id=destination.pk, client_ip=client_ip(request)
        )
        messages.success(
            request,
            gettext("%(name)s is sent notifications again.") % {"name": destination.name},
        )
        return redirect(reverse("robots:detail", args=[destination.pk]))


class DestinationDeleteView(PermissionRequiredMixin, View):
    """POST: delete the destination and its delivery log."""

    permission_required = MANAGE_PERMISSION

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        destination = _destination(pk)
        destination_delete(
            operator=request.user, destination_id=destination.pk, client_ip=client_ip(request)
        )
        messages.success(request, gettext("Deleted %(name)s.") % {"name": destination.name})
        return redirect(reverse("robots:list"))
