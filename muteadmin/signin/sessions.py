"""Session limits: an idle timeout and an absolute lifetime, kept as two stamps in the session.

`signin_at` is when the session signed in, `seen_at` when it last made a request (refreshed at
most every SEEN_REFRESH_SECONDS, so a busy page does not write its session on every request).
Both are seconds since the epoch on the clock in force (muteadmin.core.clock).
"""

from dataclasses import dataclass
from typing import Literal

from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.utils.translation import gettext as _

from muteadmin.core.clock import clock

SIGNIN_AT = "muteadmin_signin_at"
SEEN_AT = "muteadmin_seen_at"
# The idle timeout may end a session up to this much early: the price of not saving every request.
SEEN_REFRESH_SECONDS = 60

Ending = Literal["idle", "lifetime"]


@dataclass(frozen=True)
class SessionEnd:
    """Why a session was ended, in a sentence for the sign-in page."""

    reason: Ending

    def sentence(self) -> str:
        if self.reason == "idle":
            minutes = settings.SESSION_IDLE_MINUTES
            return _(
                "You were signed out after %(minutes)s minutes without activity. "
                "Sign in again to continue."
            ) % {"minutes": minutes}
        hours = settings.SESSION_MAX_HOURS
        return _(
            "You were signed out: a session lasts %(hours)s hours at most. "
            "Sign in again to continue."
        ) % {"hours": hours}


def session_start(session: SessionBase) -> None:
    """Stamp a session that has just signed in."""
    now = clock().time()
    session[SIGNIN_AT] = now
    session[SEEN_AT] = now


def session_check(session: SessionBase) -> SessionEnd | None:
    """Whether a signed-in session has run out; if not, note that it was seen now.

    A session signed in before these stamps existed (or by a test's force_login) starts its
    clocks at its first request.
    """
    now = clock().time()
    signed_in = session.get(SIGNIN_AT)
    seen = session.get(SEEN_AT)
    if signed_in is None or seen is None:
        session_start(session)
        return None
    if now - signed_in >= settings.SESSION_MAX_HOURS * 3600:
        return SessionEnd("lifetime")
    if now - seen >= settings.SESSION_IDLE_MINUTES * 60:
        return SessionEnd("idle")
    if now - seen >= SEEN_REFRESH_SECONDS:
        session[SEEN_AT] = now
    return None
