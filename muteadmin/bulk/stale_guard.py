"""The stale guard of a bulk job started later: accounts changed since it was scheduled are skipped.

A scheduled change (muteadmin.scheduled) queries the account when it is scheduled and again
before it runs. A bulk job does neither (one call per account keeps its rate), so its guard is
the audit log instead: the log's last row is noted when the job is scheduled, and at the start
an account with a change or a drift recorded after that row (other than the job's own) is
skipped, with a drift row and a notification, rather than overwritten. One query per batch of
accounts, no call to Tencent. A change made outside muteadmin that the reconcile has not yet
found is not seen: the guard covers what muteadmin knows.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext as _

from muteadmin.audit.models import AuditEntry
from muteadmin.audit.operators import SCHEDULER, operator_label
from muteadmin.audit.selectors import audit_app_matches
from muteadmin.audit.services import audit_record
from muteadmin.bulk.models import BulkJob
from muteadmin.core.moments import moment_text
from muteadmin.robots.events import notify_event
from muteadmin.robots.models import EVENT_DRIFT

ACTION_LABELS = dict(AuditEntry.Action.choices)
# At most this many accounts are named in a batch's notification; the job's results list all.
NAMED_IN_NOTIFICATION = 10


@dataclass(frozen=True)
class ChangedSince:
    """The latest row that changed an account after its job was scheduled."""

    account: str
    entry_id: int
    action: str
    operator: str
    at: str


def audit_head_id() -> int:
    """The id of the audit log's last row (0 for an empty log): what a scheduled job saw."""
    return AuditEntry.objects.order_by("-id").values_list("id", flat=True).first() or 0


def bulk_changed_since(*, job: BulkJob, accounts: Sequence[str]) -> dict[str, ChangedSince]:
    """The accounts of a job started later changed since it was scheduled, by account.

    A change (any outcome but a refusal: one whose answer was lost may have gone through) or a
    drift after `job.seen_audit_id`, in the job's app, not written by the job itself. Empty for a
    job that started at once or only looks up.
    """
    if job.seen_audit_id is None or job.operation == BulkJob.Operation.LOOKUP or not accounts:
        return {}
    rows = (
        AuditEntry.objects.filter(
            audit_app_matches(job.app),
            account__in=accounts,
            id__gt=job.seen_audit_id,
            action__in=(AuditEntry.Action.CHANGE, AuditEntry.Action.DRIFT),
        )
        .exclude(job_id=job.pk)
        .exclude(action=AuditEntry.Action.CHANGE, outcome=AuditEntry.Outcome.ERROR)
        .order_by("id")
        .values_list("account", "id", "action", "operator_username", "created_at")
    )
    return {
        account: ChangedSince(account, entry_id, action, operator, moment_text(at))
        for account, entry_id, action, operator, at in rows
    }


def bulk_skips_record(*, job: BulkJob, changed: Sequence[ChangedSince]) -> dict[str, str]:
    """A drift row for each skipped account and one notification; each account's sentence.

    The rows name the scheduler on behalf of the job's author and carry the job's id, so the
    job's audit rows list them with its calls.
    """
    sentences = {}
    with transaction.atomic():
        for found in changed:
            sentence = _(
                "Skipped: the account changed after the job was scheduled (%(action)s by "
                "%(operator)s at %(at)s, audit row %(row)s); it was not overwritten. Start a new "
                "job for it if it is still wanted."
            ) % {
                "action": ACTION_LABELS.get(found.action, found.action),
                "operator": operator_label(found.operator) or _("nobody"),
                "at": found.at,
                "row": found.entry_id,
            }
            sentences[found.account] = sentence
            audit_record(
                operator=SCHEDULER,
                action=AuditEntry.Action.DRIFT,
                account=found.account,
                app=job.app,
                reason=job.reason,
                c2c_requested=job.c2c_seconds,
                group_requested=job.group_seconds,
                on_behalf_of=job.created_by_username,
                job_id=job.pk,
                error_info=sentence,
                details={"bulk_job": job.pk, "by": "scheduler", "changed_by_row": found.entry_id},
            )
        notify_event(
            EVENT_DRIFT,
            bulk_job=f"#{job.pk}",
            app=job.app,
            skipped=len(changed),
            accounts=", ".join(found.account for found in changed[:NAMED_IN_NOTIFICATION]),
        )
    return sentences
