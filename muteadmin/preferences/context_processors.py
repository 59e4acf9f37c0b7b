"""What the layout needs from the user's preferences (read once by the middleware)."""

from django.http import HttpRequest

from muteadmin.preferences.services import Chosen


def preferences(request: HttpRequest) -> dict:
    """`offer_time_zone`: the signed-in user has not chosen a time zone yet."""
    chosen = getattr(request, "preferences", Chosen())
    user = getattr(request, "user", None)
    signed_in = bool(user and user.is_authenticated)
    return {"offer_time_zone": signed_in and not chosen.time_zone}
