from django.urls import path

from muteadmin.reports import views

app_name = "reports"

urlpatterns = [
    path("mutes/", views.MuteReportView.as_view(), name="mutes"),
    path("mutes.csv", views.MuteReportCsvView.as_view(), name="mutes_csv"),
]
