from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from muteadmin.core import health

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("healthz", health.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("audit/", include("muteadmin.audit.urls")),
    path("reports/", include("muteadmin.reports.urls")),
    path("bulk/", include("muteadmin.bulk.urls")),
    path("policies/", include("muteadmin.policies.urls")),
    path("requests/", include("muteadmin.approvals.urls")),
    path("team/", include("muteadmin.team.urls")),
    path("", include("muteadmin.mutes.urls")),
]

# Error pages in the base layout; the 500 page is drawn without the database.
handler400 = "muteadmin.core.errors.bad_request"
handler403 = "muteadmin.core.errors.permission_denied"
handler404 = "muteadmin.core.errors.page_not_found"
handler500 = "muteadmin.core.errors.server_error"
