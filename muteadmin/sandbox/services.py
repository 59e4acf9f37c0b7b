"""Sandbox services: answer calls from database-backed state, queue faults, reset."""

from dataclasses import dataclass
from datetime import datetime
from http import HTTPStatus
from urllib.parse import parse_qsl, urlsplit

from django.conf import settings

from muteadmin.sandbox.models import SandboxFault, SandboxMessage, SandboxMute
from muteadmin.sandbox.protocol import (
    CONTENT_TYPE_HTML,
    CONTENT_TYPE_JSON,
    AccountMutes,
    Credentials,
    MuteState,
    RateLimiter,
    protocol_error_body,
    protocol_handle,
)
from muteadmin.sandbox.runtime import SandboxRuntime, sandbox_runtime

# Keeps a careless `--count` from filling the table.
MAX_FAULTS_PER_PUSH = 1000
# ErrorCode is stored in a signed 32-bit column.
_ERROR_CODE_MAX = 2**31 - 1
_MILLISECONDS = 1000

# What a gateway in front of Tencent answers when the service behind it is down.
_HTTP502_BODY = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n"
    b"<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n"
)
# A success answer cut off mid-stream.
_BADJSON_BODY = b'{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":"","C2CmsgNospea'


@dataclass(frozen=True)
class SandboxAnswer:
    """An HTTP answer from the emulator: status, body and its content type."""

    status: int
    body: bytes
    content_type: str = CONTENT_TYPE_JSON

    def headers(self) -> dict[str, str]:
        """The response headers a server would send with this answer."""
        headers = {"Content-Type": self.content_type, "Content-Length": str(len(self.body))}
        if self.status == HTTPStatus.METHOD_NOT_ALLOWED:
            headers["Allow"] = "POST"
        return headers


class SandboxRefused(Exception):
    """A "refused" fault: the caller is to get no connection at all."""


class SandboxTimedOut(Exception):
    """No answer in time: a "timeout" fault, or a latency longer than the caller waits."""


class DatabaseMuteStore:
    """Mutes kept in `SandboxMute` rows, so they survive restarts and every process sees them."""

    def mutes_read(self, *, sdkappid: int, account: str) -> AccountMutes:
        """Both mutes of `account`, off for an account never set."""
        row = SandboxMute.objects.filter(sdkappid=sdkappid, account=account).first()
        if row is None:
            return AccountMutes()
        return AccountMutes(
            c2c=MuteState(until=row.c2c_until, permanent=row.c2c_permanent),
            group=MuteState(until=row.group_until, permanent=row.group_permanent),
        )

    def mutes_write(
        self,
        *,
        sdkappid: int,
        account: str,
        c2c: MuteState | None,
        group: MuteState | None,
        now: datetime,
    ) -> None:
        """Store the mutes given, leaving a mute passed as None exactly as it is."""
        columns: dict[str, object] = {"changed_at": now}
        if c2c is not None:
            columns |= {"c2c_until": c2c.until, "c2c_permanent": c2c.permanent}
        if group is not None:
            columns |= {"group_until": group.until, "group_permanent": group.permanent}
        # One upsert of only the given columns, with no read first: concurrent sets of the two
        # mutes cannot undo each other, and SQLite takes its write lock at once instead of
        # failing to upgrade a read lock.
        SandboxMute.objects.bulk_create(
            [SandboxMute(sdkappid=sdkappid, account=account, **columns)],
            update_conflicts=True,
            unique_fields=["sdkappid", "account"],
            update_fields=list(columns),
        )

    def message_deliver(
        self,
        *,
        sdkappid: int,
        from_account: str,
        to_account: str,
        text: str,
        msg_random: int,
        now: datetime,
    ) -> int:
        """Record a delivered message; its row number is its MsgSeq."""
        message = SandboxMessage.objects.create(
            sdkappid=sdkappid,
            from_account=from_account,
            to_account=to_account,
            text=text,
            msg_random=msg_random,
            delivered_at=now,
        )
        return message.pk


def sandbox_latency_seconds() -> float:
    """The delay added to every emulated call (TIM_SANDBOX_LATENCY_MS), read at call time."""
    return max(getattr(settings, "TIM_SANDBOX_LATENCY_MS", 0), 0) / _MILLISECONDS


def sandbox_exchange(
    *,
    method: str,
    url: str,
    body: bytes,
    credentials: Credentials,
    runtime: SandboxRuntime,
    read_timeout: float | None = None,
) -> SandboxAnswer:
    """Answer one call as both of the emulator's faces do: the oldest queued fault, then latency.

    Raises SandboxRefused or SandboxTimedOut where the caller must see a transport failure. A
    latency longer than `read_timeout` waits only that long, as the caller stops listening then;
    either way the state is left untouched. Tencent's rate window and the time a mute changes
    count from the call's arrival, not from when the emulated latency has passed.
    """
    arrived_at = runtime.clock()
    fault = sandbox_fault_take()
    if fault is not None and fault.kind == SandboxFault.Kind.REFUSED:
        raise SandboxRefused
    latency = sandbox_latency_seconds()
    if read_timeout is not None and latency > read_timeout:
        runtime.sleep(read_timeout)
        raise SandboxTimedOut
    if latency:
        runtime.sleep(latency)
    if fault is not None and fault.kind == SandboxFault.Kind.TIMEOUT:
        raise SandboxTimedOut
    if fault is not None:
        return sandbox_fault_answer(fault)
    return sandbox_call(
        method=method,
        url=url,
        body=body,
        credentials=credentials,
        now=arrived_at,
        limiter=runtime.rate_limiter,
    )


def sandbox_call(
    *,
    method: str,
    url: str,
    body: bytes,
    credentials: Credentials,
    now: datetime,
    limiter: RateLimiter,
) -> SandboxAnswer:
    """Answer one REST call from the database-backed state, as Tencent would."""
    parts = urlsplit(url)
    query: dict[str, str] = {}
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        query.setdefault(name, value)
    status, answer = protocol_handle(
        method=method,
        path=parts.path,
        query=query,
        body=body,
        credentials=credentials,
        now=now,
        store=DatabaseMuteStore(),
        limiter=limiter,
    )
    return SandboxAnswer(status=status, body=answer)


def sandbox_fault_push(*, kind: str, code: int | None = None, count: int = 1) -> None:
    """Queue `count` faults of `kind` for the next calls; "error" faults need an ErrorCode."""
    if kind not in SandboxFault.Kind.values:
        choices = ", ".join(SandboxFault.Kind.values)
        raise ValueError(f"Unknown fault kind {kind!r}: choose one of {choices}.")
    if not 1 <= count <= MAX_FAULTS_PER_PUSH:
        raise ValueError(f"The count must be from 1 to {MAX_FAULTS_PER_PUSH}.")
    if kind == SandboxFault.Kind.ERROR:
        if code is None or not 0 < code <= _ERROR_CODE_MAX:
            raise ValueError("An error fault needs a positive ErrorCode, such as 130014.")
    elif code is not None:
        raise ValueError("Only error faults take an ErrorCode.")
    SandboxFault.objects.bulk_create([SandboxFault(kind=kind, code=code) for _ in range(count)])


def sandbox_fault_take() -> SandboxFault | None:
    """Remove and return the oldest queued fault, or None when the queue is empty."""
    while True:
        fault = SandboxFault.objects.order_by("pk").first()
        if fault is None:
            return None
        # The DELETE decides which caller gets the fault when processes race for it.
        deleted, _ = SandboxFault.objects.filter(pk=fault.pk).delete()
        if deleted:
            return fault


def sandbox_fault_answer(fault: SandboxFault) -> SandboxAnswer:
    """The answer an "error", "http502" or "badjson" fault gives in place of the real one."""
    match fault.kind:
        case SandboxFault.Kind.ERROR:
            info = "Error injected by the sandbox fault queue."
            return SandboxAnswer(status=HTTPStatus.OK, body=protocol_error_body(fault.code, info))
        case SandboxFault.Kind.HTTP502:
            return SandboxAnswer(
                status=HTTPStatus.BAD_GATEWAY, body=_HTTP502_BODY, content_type=CONTENT_TYPE_HTML
            )
        case SandboxFault.Kind.BADJSON:
            return SandboxAnswer(status=HTTPStatus.OK, body=_BADJSON_BODY)
    raise ValueError(f"A {fault.kind} fault has no answer: the transport fails instead.")


def sandbox_faults_queued() -> int:
    """How many faults are waiting for the next calls."""
    return SandboxFault.objects.count()


def sandbox_fault_clear() -> int:
    """Drop every queued fault; return how many there were."""
    deleted, _ = SandboxFault.objects.all().delete()
    return deleted


def sandbox_reset() -> None:
    """Forget every mute, delivered message, queued fault and recorded call: a fresh emulator."""
    SandboxMute.objects.all().delete()
    SandboxMessage.objects.all().delete()
    sandbox_fault_clear()
    sandbox_runtime().rate_limiter.clear()
