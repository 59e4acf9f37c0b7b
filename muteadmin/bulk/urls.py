from django.urls import path

from muteadmin.bulk import views

app_name = "bulk"

urlpatterns = [
    path("", views.BulkFormView.as_view(), name="form"),
    path("<int:job_id>/", views.BulkJobView.as_view(), name="job"),
    path("<int:job_id>/status.json", views.BulkJobStatusView.as_view(), name="status"),
    path("<int:job_id>/cancel/", views.BulkJobCancelView.as_view(), name="cancel"),
    path("<int:job_id>/follow-up/", views.BulkJobFollowUpView.as_view(), name="follow_up"),
    path("<int:job_id>/results.csv", views.BulkResultsCsvView.as_view(), name="results_csv"),
]
