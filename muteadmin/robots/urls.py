from django.urls import path

from muteadmin.robots.views import (
    DestinationDeleteView,
    DestinationDetailView,
    DestinationListView,
    DestinationResumeView,
    DestinationTestView,
)

app_name = "robots"

urlpatterns = [
    path("", DestinationListView.as_view(), name="list"),
    path("<int:pk>/", DestinationDetailView.as_view(), name="detail"),
    path("<int:pk>/test", DestinationTestView.as_view(), name="test"),
    path("<int:pk>/resume", DestinationResumeView.as_view(), name="resume"),
    path("<int:pk>/delete", DestinationDeleteView.as_view(), name="delete"),
]
