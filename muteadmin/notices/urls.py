from django.urls import path

from muteadmin.notices.views import NoticeTemplatesView

app_name = "notices"

urlpatterns = [
    path("", NoticeTemplatesView.as_view(), name="templates"),
]
