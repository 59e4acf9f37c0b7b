"""`{{ moment|ago }}`: "8 min ago", "just now", as the account page says it."""

from datetime import datetime

from django import template
from django.utils import timezone

from muteadmin.mutes.confirmation import ago_in_words

register = template.Library()


@register.filter
def ago(moment: datetime | None) -> str:
    """How long ago `moment` was, in its largest unit."""
    if moment is None:
        return ""
    return ago_in_words(moment, now=timezone.now())
