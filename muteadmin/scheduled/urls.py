from django.urls import path

from muteadmin.scheduled import views

app_name = "scheduled"

urlpatterns = [
    path("", views.ScheduledListView.as_view(), name="list"),
    path("<int:scheduled_id>/cancel/", views.ScheduledCancelView.as_view(), name="cancel"),
]
