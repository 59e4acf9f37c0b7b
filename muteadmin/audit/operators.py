"""Who an audit row names as its operator when no person made the call: the scheduler.

A scheduled change is made by the worker on behalf of the person who scheduled it: its rows name
SCHEDULER_USERNAME as operator (no user: no account can be called that, since usernames never
hold parentheses) and the person as `on_behalf_of`. Pages show it as "scheduler", translated.
"""

from django.contrib.auth.models import AnonymousUser
from django.utils.translation import gettext as _

SCHEDULER_USERNAME = "(scheduler)"


class SchedulerOperator(AnonymousUser):
    """What the worker's scheduled calls are audited as: no user, named SCHEDULER_USERNAME."""

    username = SCHEDULER_USERNAME


SCHEDULER = SchedulerOperator()


def operator_label(username: str) -> str:
    """An audit row's operator as a page shows it: the scheduler in the reader's language."""
    return _("scheduler") if username == SCHEDULER_USERNAME else username
