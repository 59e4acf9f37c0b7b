"""The emulator's URLconf, served on its own (`tim_emulator`), never by the dashboard."""

from django.urls import re_path

from muteadmin.sandbox.views import EmulatorView

app_name = "sandbox"

urlpatterns = [
    # Every path: the protocol core answers unknown services and commands as Tencent does (60009).
    re_path(r"", EmulatorView.as_view(), name="emulator"),
]
