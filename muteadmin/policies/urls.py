from django.urls import path

from muteadmin.policies import views

app_name = "policies"

urlpatterns = [
    path("", views.LimitsView.as_view(), name="limits"),
]
