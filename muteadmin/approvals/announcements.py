"""Telling the team's chat that a mute request waits for a Lead (muteadmin.robots)."""

from muteadmin.approvals.models import MuteRequest
from muteadmin.robots.events import notify_event
from muteadmin.robots.models import EVENT_REQUEST_WAITING


def request_filed_announced(request: MuteRequest) -> None:
    """Queue a notification that the request waits for a Lead's decision."""
    notify_event(
        EVENT_REQUEST_WAITING,
        request=request.pk,
        account=request.account,
        app=request.app,
        requester=request.requested_by_username,
        reason=request.reason,
        rule=request.rule,
        c2c_seconds=request.c2c_seconds,
        group_seconds=request.group_seconds,
        expires_at=request.expires_at,
    )
