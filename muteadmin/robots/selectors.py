"""What the notifications page reads: destinations as a Lead sees them (secrets masked) and
each one's recent deliveries."""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy

from muteadmin.robots.masking import mask_secret, mask_url
from muteadmin.robots.models import EVENT_CHOICES, Delivery, Destination

DELIVERY_LOG_SIZE = 50
EVENT_LABELS = dict(EVENT_CHOICES) | {"test": gettext_lazy("Test message")}


@dataclass(frozen=True)
class DestinationView:
    """A destination as the page shows it: never its address or secret in full."""

    destination: Destination
    url: str
    secret: str
    events: list[str]


def destination_view(destination: Destination) -> DestinationView:
    return DestinationView(
        destination=destination,
        url=mask_url(destination.url),
        secret=mask_secret(destination.secret),
        events=[EVENT_LABELS.get(event, event) for event in destination.events],
    )


def destinations_all() -> list[DestinationView]:
    return [destination_view(destination) for destination in Destination.objects.all()]


def deliveries_recent(destination: Destination) -> list[Delivery]:
    """The destination's latest deliveries, newest first, each with its event's label."""
    deliveries = list(Delivery.objects.filter(destination=destination)[:DELIVERY_LOG_SIZE])
    for delivery in deliveries:
        delivery.event_label = EVENT_LABELS.get(delivery.event, delivery.event)
    return deliveries
