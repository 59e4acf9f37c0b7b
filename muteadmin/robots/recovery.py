"""Deliveries whose worker died mid-send: queued again by a periodic job, so none is stuck.

Such a message may or may not have reached the chat; sending it again risks a repeat (the
webhook's X-Muteadmin-Delivery lets a receiver drop it), never a loss.
"""

from datetime import timedelta

from django.db import transaction

from muteadmin.robots.delivery import robots_now
from muteadmin.robots.models import Delivery
from muteadmin.robots.tasks import delivery_enqueue

# Far past one attempt's longest wait (its connect and read timeouts).
STUCK_AFTER = timedelta(minutes=2)


def deliveries_recover() -> list[int]:
    """Queue again every delivery left sending for STUCK_AFTER; their ids."""
    now = robots_now()
    stuck = Delivery.objects.filter(
        status=Delivery.Status.SENDING, last_attempt_at__lt=now - STUCK_AFTER
    ).values_list("pk", flat=True)
    recovered = []
    for pk in stuck:
        with transaction.atomic():
            # Conditional: of several workers, one queues it.
            if Delivery.objects.filter(pk=pk, status=Delivery.Status.SENDING).update(
                status=Delivery.Status.RETRYING,
                next_attempt_at=now,
                last_error="The worker sending it stopped; it is sent again.",
            ):
                delivery_enqueue(delivery_id=pk)
                recovered.append(pk)
    return recovered
