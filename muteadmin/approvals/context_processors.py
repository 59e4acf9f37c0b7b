"""The navigation's count of mute requests waiting, for those who may decide them."""

from functools import cache

from django.http import HttpRequest

from muteadmin.approvals.selectors import mute_requests_waiting_count
from muteadmin.approvals.services import DECIDE_PERMISSION


def waiting_requests(request: HttpRequest) -> dict:
    """`waiting_requests`: counted only when a page shows it, and only for those who decide."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.has_perm(DECIDE_PERMISSION):
        return {}
    return {"waiting_requests": cache(mute_requests_waiting_count)}
