"""Template filters that put mute lengths into words."""

from django import template

from muteadmin.core.durations import describe_seconds, duration, requested_in_words

register = template.Library()
register.filter("duration", duration)
register.filter("describe_seconds", describe_seconds)
register.filter("requested_in_words", requested_in_words)
