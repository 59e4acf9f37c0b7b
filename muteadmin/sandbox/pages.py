"""The dashboard's view of the sandbox: the messages the emulator "delivered" (sendmsg)."""

from django.contrib.auth.mixins import PermissionRequiredMixin
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views import View

from muteadmin.sandbox.models import SandboxMessage
from muteadmin.upstream.registry import tim_apps

# The newest messages shown; the sandbox is for demonstrations, not an archive.
MESSAGES_SHOWN = 200


class SandboxMessagesView(PermissionRequiredMixin, View):
    """What the emulator delivered, newest first; there is no such page without a sandbox app."""

    permission_required = "mutes.query_mute"

    def get(self, request: HttpRequest) -> HttpResponse:
        apps = {app.sdkappid: app for app in tim_apps().values() if app.sandbox}
        if not apps:
            raise Http404("No app uses the sandbox, so no messages are emulated.")
        rows = [
            (message, apps.get(message.sdkappid))
            for message in SandboxMessage.objects.filter(sdkappid__in=apps)[:MESSAGES_SHOWN]
        ]
        context = {"rows": rows, "shown": MESSAGES_SHOWN, "show_app": len(apps) > 1}
        return render(request, "sandbox/messages.html", context)
