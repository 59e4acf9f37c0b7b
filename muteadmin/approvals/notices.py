"""The notice an approved request asked for, sent once its change is made."""

from django.contrib.auth.base_user import AbstractBaseUser

from muteadmin.approvals.models import MuteRequest
from muteadmin.mutes.services import MuteChangeResult, notice_send
from muteadmin.notices.services import NoticeUnavailable, notice_render
from muteadmin.tencent.errors import TencentError


def request_notice_send(
    request: MuteRequest,
    *,
    change: MuteChangeResult,
    approver: AbstractBaseUser,
    client_ip: str | None,
) -> Exception | None:
    """Send the notice the request asked for, once its change is made; why it failed, if so.

    Its own audited call (sharing the request's correlation id); its failure never undoes the
    change.
    """
    if not request.notice_language or change.change is None:
        return None
    try:
        text = notice_render(
            c2c_seconds=request.c2c_seconds,
            group_seconds=request.group_seconds,
            reason=request.reason,
            now=change.change.observed_at,
            language=request.notice_language,
            rule_code=request.rule,
        )
        notice_send(
            account=request.account,
            text=text,
            language=request.notice_language,
            rule=request.rule or None,
            operator=approver,
            correlation_id=request.correlation_id,
            client_ip=client_ip,
            app=request.app,
        )
    except (NoticeUnavailable, TencentError, ValueError) as exc:
        return exc
    return None
