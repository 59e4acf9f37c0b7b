"""allauth's pages under /accounts/ (two-factor set-up, password change), with its own sign-in
address sending to /login/ and the e-mail pages, which muteadmin does not use, replaced."""

from django.urls import include, path
from django.views.generic import RedirectView

from muteadmin.signin import views

urlpatterns = [
    path("login/", views.ToSignIn.as_view()),
    path("password/reset/", views.PasswordResetNotice.as_view()),
    # Nobody is sent a reset link, so a link's own pages only say how passwords are reset here.
    path("password/reset/done/", views.PasswordResetNotice.as_view()),
    path("password/reset/key/<path:link>", views.PasswordResetNotice.as_view()),
    path("email/", RedirectView.as_view(pattern_name="mfa_index")),
    path("", include("allauth.urls")),
]
