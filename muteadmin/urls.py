from allauth.account import views as account_views
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from muteadmin.core import health
from muteadmin.signin.views import ToSignIn

urlpatterns = [
    # allauth's sign-in, taking `username` and `password` (muteadmin/signin).
    path("login/", account_views.login, name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("healthz", health.healthz, name="healthz"),
    path("metrics", include("muteadmin.metrics.urls")),
    # The admin signs in through the same door, throttled and audited alike.
    path("admin/login/", ToSignIn.as_view()),
    path("admin/", admin.site.urls),
    path("accounts/", include("muteadmin.signin.urls")),
    path("audit/", include("muteadmin.audit.urls")),
    path("reports/", include("muteadmin.reports.urls")),
    path("bulk/", include("muteadmin.bulk.urls")),
    path("policies/", include("muteadmin.policies.urls")),
    path("requests/", include("muteadmin.approvals.urls")),
    path("team/tokens/", include("muteadmin.api.page_urls")),
    path("team/", include("muteadmin.team.urls")),
    path("rules/", include("muteadmin.rules.urls")),
    path("sandbox/", include("muteadmin.sandbox.page_urls")),
    path("notices/", include("muteadmin.notices.urls")),
    path("scheduled/", include("muteadmin.scheduled.urls")),
    path("reminders/", include("muteadmin.reminders.urls")),
    path("preferences/", include("muteadmin.preferences.urls")),
    path("watchlist/", include("muteadmin.reconcile.urls")),
    path("notifications/", include("muteadmin.robots.urls")),
    path("", include("muteadmin.mutes.urls")),
    # After the account pages, whose URLconf registers the account converter the API uses too.
    path("api/v1/", include("muteadmin.api.urls")),
]

# Error pages in the base layout; the 500 page is drawn without the database.
handler400 = "muteadmin.core.errors.bad_request"
handler403 = "muteadmin.core.errors.permission_denied"
handler404 = "muteadmin.core.errors.page_not_found"
handler500 = "muteadmin.core.errors.server_error"
