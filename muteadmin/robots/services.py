"""Configuring destinations: Leads create, change, resume, delete and test them; each change is
an audit row (action `robot`) in the same transaction, its secrets masked."""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils.translation import gettext

from muteadmin.audit.models import AuditEntry
from muteadmin.audit.services import audit_record
from muteadmin.robots.delivery import robots_now
from muteadmin.robots.masking import mask_secret, mask_url
from muteadmin.robots.models import EVENT_TEST, Delivery, Destination
from muteadmin.robots.tasks import delivery_enqueue

MANAGE_PERMISSION = "robots.manage_notifications"
# What a destination holds that a Lead sets; compared, and audited, when it changes.
SETTINGS = ("name", "kind", "url", "secret", "language", "events")
MASKED = {"url": mask_url, "secret": mask_secret}


class DestinationInvalid(ValueError):
    """What was asked of a destination cannot be done; the message says why."""


@dataclass(frozen=True)
class DestinationSettings:
    """What a Lead types for a destination; `url` or `secret` None keeps the stored one."""

    name: str
    kind: str
    language: str
    events: tuple[str, ...]
    url: str | None = None
    secret: str | None = None

    def values(self) -> dict[str, Any]:
        values = {"name": self.name, "kind": self.kind, "language": self.language}
        values["events"] = list(self.events)
        if self.url is not None:
            values["url"] = self.url
        if self.secret is not None:
            values["secret"] = self.secret
        return values


def _checked(operator: AbstractBaseUser) -> None:
    if not operator.has_perm(MANAGE_PERMISSION):
        raise PermissionDenied(gettext("Only Leads may configure notifications."))


def _shown(name: str, value: Any) -> Any:
    return MASKED[name](value) if name in MASKED else value


def _audit(
    operator: AbstractBaseUser | None,
    destination: Destination,
    change: str,
    *,
    changed: dict[str, Any] | None = None,
    client_ip: str | None = None,
) -> AuditEntry:
    details: dict[str, Any] = {
        "change": change,
        "destination": destination.name,
        "kind": destination.kind,
        "url": mask_url(destination.url),
    }
    if changed:
        details["changed"] = changed
    return audit_record(
        operator=operator, action=AuditEntry.Action.ROBOT, client_ip=client_ip, details=details
    )


@contextmanager
def _named(name: str) -> Iterator[None]:
    """A transaction that saves a destination called `name`: DestinationInvalid if it is taken."""
    try:
        with transaction.atomic():
            yield
    except IntegrityError:
        raise DestinationInvalid(
            gettext("There is already a destination called %(name)s; choose another name.")
            % {"name": name}
        ) from None


def destination_create(
    *, operator: AbstractBaseUser, settings: DestinationSettings, client_ip: str | None = None
) -> Destination:
    """A new destination, audited; DestinationInvalid if its name is taken."""
    _checked(operator)
    if not settings.url:
        raise DestinationInvalid(gettext("Give the destination's address."))
    now = robots_now()
    with _named(settings.name):
        destination = Destination.objects.create(
            **settings.values(), created_at=now, updated_at=now
        )
        changed = {name: _shown(name, getattr(destination, name)) for name in SETTINGS}
        _audit(operator, destination, "created", changed=changed, client_ip=client_ip)
    return destination


def destination_update(
    *,
    operator: AbstractBaseUser,
    destination_id: int,
    settings: DestinationSettings,
    client_ip: str | None = None,
) -> Destination:
    """Change a destination; each changed setting is audited as [before, after], masked."""
    _checked(operator)
    with _named(settings.name):
        destination = Destination.objects.select_for_update().get(pk=destination_id)
        changed = {}
        for name, value in settings.values().items():
            before = getattr(destination, name)
            if before != value:
                changed[name] = [_shown(name, before), _shown(name, value)]
                setattr(destination, name, value)
        if not changed:
            return destination
        destination.updated_at = robots_now()
        destination.save()
        _audit(operator, destination, "updated", changed=changed, client_ip=client_ip)
    return destination


def destination_delete(
    *, operator: AbstractBaseUser, destination_id: int, client_ip: str | None = None
) -> None:
    """Delete a destination and its delivery log, audited."""
    _checked(operator)
    with transaction.atomic():
        destination = Destination.objects.select_for_update().get(pk=destination_id)
        _audit(operator, destination, "deleted", client_ip=client_ip)
        destination.delete()


def destination_resume(
    *, operator: AbstractBaseUser, destination_id: int, client_ip: str | None = None
) -> Destination:
    """Send to a paused destination again (its day of failures starts afresh), audited."""
    _checked(operator)
    with transaction.atomic():
        destination = Destination.objects.select_for_update().get(pk=destination_id)
        if not destination.paused:
            return destination
        changed = {"paused_reason": destination.paused_reason}
        destination.paused_at = None
        destination.paused_reason = ""
        destination.failing_since = None
        destination.updated_at = robots_now()
        destination.save()
        _audit(operator, destination, "resumed", changed=changed, client_ip=client_ip)
    return destination


def destination_test(*, operator: AbstractBaseUser, destination_id: int) -> Delivery:
    """Queue a test message to the destination (paused or not), tried once by the worker."""
    _checked(operator)
    with transaction.atomic():
        destination = Destination.objects.get(pk=destination_id)
        delivery = Delivery.objects.create(
            destination=destination,
            event=EVENT_TEST,
            facts={"destination": destination.name, "operator": operator.get_username()},
            created_at=robots_now(),
        )
        delivery_enqueue(delivery_id=delivery.pk)
    return delivery
