"""Throttling password guessing: failed sign-ins counted per account and per client address.

After `LOGIN_FAILURES_PER_ACCOUNT` failures for one account whose span fits in
`LOGIN_LOCKOUT_MINUTES`, that account's sign-in is refused until `LOGIN_LOCKOUT_MINUTES` after the
last of them, even with the right password; after `LOGIN_FAILURES_PER_ADDRESS` such failures from
one address, that address is refused likewise. Refused attempts are not failures (they never
reach the password check), so hammering a locked account does not prolong its lock-out, and a
successful sign-in is never counted. The counts live in the database, shared by every worker.
"""

import ipaddress
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from django.conf import settings
from django.utils.translation import ngettext

from muteadmin.core.clock import clock
from muteadmin.core.moments import moment_text
from muteadmin.signin.models import LoginFailure

# An IPv6 client usually holds a whole /64: counted as one address, or it could rotate through it.
IPV6_PREFIX = 64

Scope = Literal["account", "address"]


@dataclass(frozen=True)
class Lockout:
    """Sign-in refused for an account or an address until `until`."""

    scope: Scope
    until: datetime

    def minutes_left(self, *, now: datetime) -> int:
        return max(1, math.ceil((self.until - now).total_seconds() / 60))

    def sentence(self, *, now: datetime) -> str:
        """What the sign-in page says: what happened and when to try again."""
        minutes = self.minutes_left(now=now)
        words = {"until": moment_text(self.until), "minutes": minutes}
        if self.scope == "account":
            sentence = ngettext(
                "Too many failed sign-ins for this account: sign-in is locked until %(until)s "
                "(in %(minutes)s minute). Try again then, or ask an administrator to reset your "
                "password.",
                "Too many failed sign-ins for this account: sign-in is locked until %(until)s "
                "(in %(minutes)s minutes). Try again then, or ask an administrator to reset your "
                "password.",
                minutes,
            )
        else:
            sentence = ngettext(
                "Too many failed sign-ins for your network address: sign-in is locked until "
                "%(until)s (in %(minutes)s minute). Try again then, or ask an administrator to "
                "reset your password.",
                "Too many failed sign-ins for your network address: sign-in is locked until "
                "%(until)s (in %(minutes)s minutes). Try again then, or ask an administrator to "
                "reset your password.",
                minutes,
            )
        return sentence % words


def throttle_now() -> datetime:
    """The time the throttle keeps, from the clock in force (a test's fake one included)."""
    return datetime.fromtimestamp(clock().time(), UTC)


def account_key(username: str) -> str:
    """The name failures are counted under: case-folded, so `Admin` and `admin` share a count."""
    return username.strip().casefold()[: LoginFailure._meta.get_field("account").max_length]


def address_key(address: str | None) -> str:
    """The address failures are counted under; empty when the server was not told one."""
    if not address:
        return ""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address[: LoginFailure._meta.get_field("address").max_length]
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.IPv6Network(f"{parsed}/{IPV6_PREFIX}", strict=False).network_address)
    return str(parsed)


def _window() -> timedelta:
    return timedelta(minutes=settings.LOGIN_LOCKOUT_MINUTES)


def _lockout_until(*, field: str, key: str, limit: int, now: datetime) -> datetime | None:
    """When the lock-out on `key` ends, or None if it is not locked out now."""
    if not key or limit <= 0:
        return None
    window = _window()
    latest = list(
        LoginFailure.objects.filter(**{field: key}, at__gt=now - 2 * window)
        .order_by("-at")
        .values_list("at", flat=True)[:limit]
    )
    if len(latest) < limit or latest[0] - latest[-1] > window:
        return None
    until = latest[0] + window
    return until if until > now else None


def signin_lockout(*, username: str, address: str | None, now: datetime) -> Lockout | None:
    """The lock-out in force for this account or this address, if any (the account's first)."""
    for scope, field, key, limit in (
        ("account", "account", account_key(username), settings.LOGIN_FAILURES_PER_ACCOUNT),
        ("address", "address", address_key(address), settings.LOGIN_FAILURES_PER_ADDRESS),
    ):
        until = _lockout_until(field=field, key=key, limit=limit, now=now)
        if until is not None:
            return Lockout(scope=scope, until=until)
    return None


def signin_failure_record(*, username: str, address: str | None, now: datetime) -> None:
    """Count one failed sign-in, and forget those too old to matter any more."""
    LoginFailure.objects.filter(at__lt=now - 2 * _window()).delete()
    LoginFailure.objects.create(at=now, account=account_key(username), address=address_key(address))
