from django.urls import path

from muteadmin.team import views

app_name = "team"

urlpatterns = [
    path("", views.TeamView.as_view(), name="list"),
    path("<int:pk>/role/", views.MemberActionView.as_view(action="role"), name="role"),
    path(
        "<int:pk>/deactivate/",
        views.MemberActionView.as_view(action="deactivate"),
        name="deactivate",
    ),
    path(
        "<int:pk>/reactivate/",
        views.MemberActionView.as_view(action="reactivate"),
        name="reactivate",
    ),
    path(
        "<int:pk>/two-factor-reset/",
        views.MemberActionView.as_view(action="two_factor_reset"),
        name="two_factor_reset",
    ),
    path("<int:pk>/link/", views.MemberActionView.as_view(action="link"), name="link"),
    path("welcome/", views.WelcomeView.as_view(), name="welcome_form"),
    path("welcome/<str:token>/", views.WelcomeLinkView.as_view(), name="welcome"),
]
