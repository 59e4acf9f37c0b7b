from django.urls import path, register_converter

from muteadmin.core.account_paths import AccountConverter
from muteadmin.mutes import note_views, views
from muteadmin.mutes.notice_preview import NoticePreviewView
from muteadmin.mutes.notify import NoticeSendView

app_name = "mutes"

# An account's ID is one path segment, encoded so that any UserID comes back as typed.
register_converter(AccountConverter, "account")

urlpatterns = [
    path("", views.LookupView.as_view(), name="lookup"),
    path("mutes/", views.LookupView.as_view(), name="find"),
    path("mutes/<account:account>/cards/", views.AccountCardsView.as_view(), name="cards"),
    path("mutes/<account:account>/notice/", NoticeSendView.as_view(), name="notice"),
    path(
        "mutes/<account:account>/notice-preview/",
        NoticePreviewView.as_view(),
        name="notice_preview",
    ),
    path("mutes/<account:account>/", views.AccountView.as_view(), name="account"),
    path("mutes/<account:account>/notes/", note_views.AccountNoteView.as_view(), name="notes"),
]
