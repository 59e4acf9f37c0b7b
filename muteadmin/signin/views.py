"""Pages of the sign-in app beyond allauth's own."""

from django.contrib.auth.decorators import login_not_required
from django.utils.decorators import method_decorator
from django.views.generic import RedirectView, TemplateView


@method_decorator(login_not_required, name="dispatch")
class ToSignIn(RedirectView):
    """Another address for signing in (the admin's, allauth's own): sends to `/login/`, the one
    door, keeping `?next=`."""

    pattern_name = "login"
    query_string = True


@method_decorator(login_not_required, name="dispatch")
class PasswordResetNotice(TemplateView):
    """No password reset by e-mail: an administrator sets a new password."""

    template_name = "signin/password_reset.html"
