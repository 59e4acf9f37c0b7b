"""The start page's lists: your recent actions, mutes ending soon, requests waiting for you,
your recent lookups. Each is short, one indexed query, and links to the full view."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth.base_user import AbstractBaseUser
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from muteadmin.approvals.selectors import mute_requests_waiting
from muteadmin.approvals.services import DECIDE_PERMISSION
from muteadmin.audit.models import AccountMuteState, AuditEntry
from muteadmin.audit.selectors import audit_app_matches
from muteadmin.core.account_paths import AccountUrls
from muteadmin.core.durations import requested_in_words
from muteadmin.reminders.selectors import reminders_due
from muteadmin.upstream.selection import app_query

HOME_LIST_SIZE = 10
ENDING_WITHIN = timedelta(hours=24)
# Lookups read to find HOME_LIST_SIZE different accounts: the same account is often looked up
# many times in a row.
LOOKUPS_READ = 200
# Your steps the page lists: what you changed, asked for or decided, and wrote down.
ACTION_KINDS = (
    "change",
    "request_filed",
    "request_approved",
    "request_rejected",
    "notice",
    "note",
)
_ACTION_LABELS = dict(AuditEntry.Action.choices)
_TITLES = {
    "change": gettext_lazy("Change"),
    "notice": gettext_lazy("Notice sent"),
    "note": gettext_lazy("Note"),
}


@dataclass(frozen=True)
class HomeLine:
    """One line of a list: the account it is about, its link, and what to say of it."""

    account: str
    url: str
    when: datetime | None
    text: str = ""


def _actions_known() -> list[str]:
    known = set(AuditEntry.Action.values)
    return [action for action in ACTION_KINDS if action in known]


def home_recent_actions(*, user: AbstractBaseUser, app: str, urls: AccountUrls) -> list[HomeLine]:
    """Your latest changes, request steps and notes in `app`, newest first."""
    rows = (
        AuditEntry.objects.filter(operator_username=user.get_username())
        .filter(audit_app_matches(app), action__in=_actions_known())
        .order_by("-id")
        .values("account", "action", "created_at", "c2c_requested", "group_requested", "outcome")
    )[:HOME_LIST_SIZE]
    query = app_query(app)
    lines = []
    for row in rows:
        text = str(_TITLES.get(row["action"]) or _ACTION_LABELS.get(row["action"], row["action"]))
        if row["action"] != "note" and row["action"] != "notice":
            text = _("%(title)s: C2C %(c2c)s, group %(group)s") % {
                "title": text,
                "c2c": requested_in_words(row["c2c_requested"]),
                "group": requested_in_words(row["group_requested"]),
            }
        if row["outcome"] != AuditEntry.Outcome.OK:
            text = _("%(text)s (%(outcome)s)") % {
                "text": text,
                "outcome": AuditEntry.Outcome(row["outcome"]).label.lower(),
            }
        lines.append(
            HomeLine(row["account"], urls(row["account"], query=query), row["created_at"], text)
        )
    return lines


def home_mutes_ending(
    *, app: str, urls: AccountUrls, now: datetime | None = None
) -> list[HomeLine]:
    """Accounts in `app` whose mutes all end within ENDING_WITHIN, soonest first.

    Read from the mute report's data (AccountMuteState): `active_until` is when the last of an
    account's mutes ends, so each account listed may speak freely again within the day.
    """
    now = now or timezone.now()
    states = (
        AccountMuteState.objects.filter(app=app, active_until__gt=now)
        .filter(active_until__lte=now + ENDING_WITHIN)
        .order_by("active_until", "id")
        .values("account", "active_until")
    )[:HOME_LIST_SIZE]
    query = app_query(app)
    return [
        HomeLine(state["account"], urls(state["account"], query=query), state["active_until"])
        for state in states
    ]


def home_requests_waiting(*, user: AbstractBaseUser, app: str, urls: AccountUrls) -> list[HomeLine]:
    """Requests in `app` that you may decide and did not file, oldest first (Leads only)."""
    if not user.has_perm(DECIDE_PERMISSION):
        return []
    waiting = (
        mute_requests_waiting()
        .filter(app=app)
        .exclude(requested_by_username=user.get_username())
        .values("account", "created_at", "requested_by_username", "c2c_seconds", "group_seconds")
    )[:HOME_LIST_SIZE]
    query = app_query(app)
    return [
        HomeLine(
            request["account"],
            urls(request["account"], query=query),
            request["created_at"],
            _("%(person)s asks: C2C %(c2c)s, group %(group)s")
            % {
                "person": request["requested_by_username"],
                "c2c": requested_in_words(request["c2c_seconds"]),
                "group": requested_in_words(request["group_seconds"]),
            },
        )
        for request in waiting
    ]


def home_recent_lookups(*, user: AbstractBaseUser, app: str, urls: AccountUrls) -> list[HomeLine]:
    """The different accounts you looked up lately in `app`, most recent first."""
    rows = (
        AuditEntry.objects.filter(operator_username=user.get_username(), action="query")
        .filter(audit_app_matches(app))
        .order_by("-id")
        .values_list("account", "created_at")
    )[:LOOKUPS_READ]
    latest: dict[str, datetime] = {}
    for account, created_at in rows:
        latest.setdefault(account, created_at)
        if len(latest) == HOME_LIST_SIZE:
            break
    query = app_query(app)
    return [HomeLine(account, urls(account, query=query), when) for account, when in latest.items()]


def home_lists(*, user: AbstractBaseUser, app: str) -> dict[str, list[HomeLine]]:
    """Every list of the start page for `user` in `app`."""
    urls = AccountUrls()
    return {
        "recent_actions": home_recent_actions(user=user, app=app, urls=urls),
        "mutes_ending": home_mutes_ending(app=app, urls=urls),
        "requests_waiting": home_requests_waiting(user=user, app=app, urls=urls),
        "recent_lookups": home_recent_lookups(user=user, app=app, urls=urls),
        "reviews_due": reminders_due(user=user, app=app),
    }
