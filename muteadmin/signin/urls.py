"""allauth's pages under /accounts/ (two-factor set-up, password change), with its own sign-in
address sending to /login/ and the e-mail pages, which muteadmin does not use, replaced; and
single sign-on's, answering only while a provider is configured (404 otherwise)."""

from allauth.socialaccount import views as social_views
from allauth.socialaccount.providers.openid_connect import views as oidc_views
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
    # Single sign-on: the provider's sign-in and its way back (the redirect URI to register is
    # /accounts/oidc/sso/login/callback/), and allauth's pages for a cancelled or failed one.
    path(
        "oidc/<str:provider_id>/login/",
        views.sso_only(oidc_views.login),
        name="openid_connect_login",
    ),
    path(
        "oidc/<str:provider_id>/login/callback/",
        views.sso_only(oidc_views.callback),
        name="openid_connect_callback",
    ),
    path(
        "3rdparty/login/cancelled/",
        views.sso_only(social_views.login_cancelled),
        name="socialaccount_login_cancelled",
    ),
    path(
        "3rdparty/login/error/",
        views.sso_only(social_views.login_error),
        name="socialaccount_login_error",
    ),
    # No sign-up form and no linking of accounts: the provider's people are added as they sign
    # in, and an account here is never joined to an identity there.
    path("3rdparty/signup/", views.ToSignIn.as_view(), name="socialaccount_signup"),
    path(
        "3rdparty/",
        RedirectView.as_view(pattern_name="mfa_index"),
        name="socialaccount_connections",
    ),
    path("", include("allauth.account.urls")),
    path("2fa/", include("allauth.mfa.urls")),
]
