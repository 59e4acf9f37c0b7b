"""The audit list's rows as the page shows them: every value put into words once, here.

The template (templates/audit/rows.jinja) only places these values; they are plain text and
are escaped there like any other.
"""

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from django.urls import reverse
from django.utils import timezone
from django.utils.text import Truncator
from django.utils.translation import gettext as _

from muteadmin.audit.models import AuditEntry
from muteadmin.audit.operators import operator_label
from muteadmin.core.account_paths import AccountUrls
from muteadmin.core.durations import describe_seconds, duration
from muteadmin.core.moments import moment_cell
from muteadmin.tencent.nospeaking import PERMANENT
from muteadmin.upstream.registry import DEFAULT_APP
from muteadmin.upstream.selection import app_query, several_apps

# Characters of a reason shown in the list; the whole reason is on the detail page.
REASON_PREVIEW = 60
NO_VALUE = "—"
ACTION_LABELS = dict(AuditEntry.Action.choices)
# Rows whose requested lengths are shown: changes, and the steps of a mute request.
REQUESTING_ACTIONS = frozenset(
    {
        AuditEntry.Action.CHANGE,
        AuditEntry.Action.REQUEST_FILED,
        AuditEntry.Action.REQUEST_APPROVED,
        AuditEntry.Action.REQUEST_REJECTED,
        AuditEntry.Action.REQUEST_EXPIRED,
    }
)
OUTCOME_LABELS = dict(AuditEntry.Outcome.choices)
# Stands for the one argument when a URL is reversed once for a whole page.
_PLACEHOLDER = "9876543210"


def requested_words(seconds: int | None) -> str:
    """What a change asked for: a length, "permanent", "lift", or "unchanged" when left out."""
    if seconds is None:
        return _("unchanged")
    if seconds == 0:
        return _("lift")
    if seconds == PERMANENT:
        return _("permanent")
    return duration(seconds)


def _url_around_argument(name: str) -> tuple[str, str]:
    """The URL named `name` split around its one argument, so it is reversed once a page."""
    head, _, tail = reverse(name, args=[_PLACEHOLDER]).rpartition(_PLACEHOLDER)
    return head, tail


@dataclass(slots=True)
class AuditListRow:
    """One row of the list, every cell as the page shows it (before escaping)."""

    pk: str
    time_iso: str
    time: str
    operator: str
    on_behalf_of: str
    rule: str
    action: str
    account: str
    account_url: str
    app: str
    requested: str
    observed: str
    reason: str
    reason_preview: str
    outcome: str
    outcome_label: str
    error_code: str
    detail_url: str


def audit_list_rows(entries: Sequence[AuditEntry]) -> list[AuditListRow]:
    """Each entry's cells as text, in the moderator's time zone, with its links.

    With several apps configured, an account's link opens it in the row's app.
    """
    zone = timezone.get_current_timezone()
    several = several_apps()
    account_url = AccountUrls()
    detail_head, detail_tail = _url_around_argument("audit:detail")
    # Translated once for the page, not once a row.
    c2c, group, colon = _("C2C"), _("Group"), _(": ")
    rows = []
    for entry in entries:
        requested = observed = NO_VALUE
        if entry.action in REQUESTING_ACTIONS:
            requested = (
                f"{c2c}{colon}{requested_words(entry.c2c_requested)}\n"
                f"{group}{colon}{requested_words(entry.group_requested)}"
            )
        if entry.c2c_observed is not None or entry.group_observed is not None:
            observed = "\n".join(
                f"{label}{colon}{NO_VALUE if seconds is None else describe_seconds(seconds)}"
                for label, seconds in ((c2c, entry.c2c_observed), (group, entry.group_observed))
            )
        reason = entry.reason
        preview = unicodedata.normalize("NFC", reason)
        if len(preview) > REASON_PREVIEW:
            # Truncator asks the translation catalogue for its ellipsis each time: only when needed.
            preview = Truncator(reason).chars(REASON_PREVIEW)
        local = entry.created_at.astimezone(zone)
        app = entry.app or DEFAULT_APP
        rows.append(
            AuditListRow(
                pk=str(entry.pk),
                time_iso=local.isoformat(),
                time=moment_cell(local),
                operator=operator_label(entry.operator_username) or NO_VALUE,
                on_behalf_of=entry.on_behalf_of or "",
                rule=entry.rule or "",
                action=ACTION_LABELS.get(entry.action, entry.action),
                account=entry.account,
                account_url=account_url(entry.account, query=app_query(app) if several else ""),
                app=app,
                requested=requested,
                observed=observed,
                reason=reason,
                reason_preview=preview,
                outcome=entry.outcome,
                outcome_label=OUTCOME_LABELS.get(entry.outcome, entry.outcome),
                error_code="" if entry.error_code is None else str(entry.error_code),
                detail_url=f"{detail_head}{entry.pk}{detail_tail}",
            )
        )
    return rows
