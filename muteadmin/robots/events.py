"""notify_event: tell every destination that chose an event, through the worker.

Called where things happen (a permanent mute, a request filed, a bulk job's end, a failed
audit verification, a checkpoint, a saturated limiter). It only writes a delivery per
destination and queues its task, inside the caller's transaction when there is one, so the
moderator's request never waits for a chat service. A failure to queue is logged and never
fails the action that was being reported.
"""

import logging
from datetime import date, datetime
from typing import Any

from django.db import DatabaseError, transaction

from muteadmin.robots.delivery import robots_now
from muteadmin.robots.models import Delivery, Destination
from muteadmin.robots.tasks import delivery_enqueue

logger = logging.getLogger(__name__)


def _plain(value: Any) -> Any:
    """A fact as JSON holds it: numbers, text and None as they are, moments as ISO text."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def notify_event(kind: str, **facts: Any) -> list[int]:
    """Queue a message about `kind` for each destination that chose it and is not paused.

    Returns the deliveries' ids (none when no destination wants it: one small query).
    """
    facts = {name: _plain(value) for name, value in facts.items()}
    try:
        # A savepoint: a failure here must not break the caller's transaction either.
        with transaction.atomic():
            wanted = [
                destination
                for destination in Destination.objects.filter(paused_at__isnull=True).only(
                    "id", "events"
                )
                if kind in destination.events
            ]
            if not wanted:
                return []
            now = robots_now()
            made = Delivery.objects.bulk_create(
                Delivery(destination=destination, event=kind, facts=facts, created_at=now)
                for destination in wanted
            )
            for delivery in made:
                delivery_enqueue(delivery_id=delivery.pk)
    except DatabaseError:
        logger.exception("The %s notification could not be queued.", kind)
        return []
    return [delivery.pk for delivery in made]
