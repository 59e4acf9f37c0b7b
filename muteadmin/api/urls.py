from django.urls import path, re_path

from muteadmin.api import docs, jobs, logs, mutes
from muteadmin.api.base import NotFoundView

app_name = "api"

# The account converter (`<account:account>`) is the account pages' (muteadmin.mutes.urls).
urlpatterns = [
    path("mutes/<account:account>", mutes.MuteView.as_view(), name="mute"),
    path("bulk", jobs.BulkJobsView.as_view(), name="bulk"),
    path("bulk/<int:job_id>", jobs.BulkJobView.as_view(), name="bulk_job"),
    path("bulk/<int:job_id>/results", jobs.BulkResultsView.as_view(), name="bulk_results"),
    path("audit", logs.AuditView.as_view(), name="audit"),
    path("reports/mutes", logs.MuteReportView.as_view(), name="report_mutes"),
    path("schema", docs.schema_view(), name="schema"),
    path("docs", docs.DocsView.as_view(), name="docs"),
    re_path(r"^(?P<rest>.*)$", NotFoundView.as_view(), name="not_found"),
]
