"""Pausing destinations that have failed for a day: nothing more is sent to them until a Lead
resumes them. Run every minute by the worker (a periodic job); each pause is an audit row."""

from datetime import timedelta

from django.db import transaction

from muteadmin.audit.models import AuditEntry
from muteadmin.audit.services import audit_record
from muteadmin.robots.delivery import robots_now
from muteadmin.robots.masking import mask_url
from muteadmin.robots.models import Destination

PAUSE_AFTER = timedelta(days=1)


def destinations_pause_failing() -> list[int]:
    """Pause every destination whose attempts have all failed for PAUSE_AFTER; their ids."""
    now = robots_now()
    cutoff = now - PAUSE_AFTER
    paused = []
    failing = Destination.objects.filter(paused_at__isnull=True, failing_since__lte=cutoff)
    for destination in failing:
        reason = (
            f"Every attempt since {destination.failing_since:%Y-%m-%d %H:%M} UTC failed, "
            "so nothing more is sent until a Lead resumes it."
        )
        with transaction.atomic():
            # Conditional: of several workers, one pauses it (and writes the row).
            if not Destination.objects.filter(
                pk=destination.pk, paused_at__isnull=True, failing_since__lte=cutoff
            ).update(paused_at=now, paused_reason=reason):
                continue
            audit_record(
                operator=None,
                action=AuditEntry.Action.ROBOT,
                error_info=reason,
                details={
                    "change": "paused",
                    "destination": destination.name,
                    "kind": destination.kind,
                    "url": mask_url(destination.url),
                    "failing_since": destination.failing_since.isoformat(),
                },
            )
        paused.append(destination.pk)
    return paused
