"""The sandbox's pages in the dashboard (the emulator itself is served by `tim_emulator`)."""

from django.urls import path

from muteadmin.sandbox.pages import SandboxMessagesView

app_name = "sandbox_pages"

urlpatterns = [
    path("messages/", SandboxMessagesView.as_view(), name="messages"),
]
