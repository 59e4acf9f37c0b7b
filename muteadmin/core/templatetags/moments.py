"""Template filters writing moments one way (muteadmin/core/moments.py), in <time> elements."""

from datetime import datetime

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

from muteadmin.core.moments import moment_cell, moment_iso, moment_text

register = template.Library()


@register.filter
def moment(value: datetime | None) -> SafeString | str:
    """<time> with the moment in the active zone, zone named; empty for no moment."""
    if not isinstance(value, datetime):
        return ""
    return format_html('<time datetime="{}">{}</time>', moment_iso(value), moment_text(value))


@register.filter
def moment_in_cell(value: datetime | None) -> SafeString | str:
    """<time> with the moment in the active zone, for a table whose header names the zone."""
    if not isinstance(value, datetime):
        return ""
    return format_html('<time datetime="{}">{}</time>', moment_iso(value), moment_cell(value))
