"""A date-and-time box (<input type="datetime-local">) for a moment typed in the reader's zone.

The filters it serves also take a bare date or an offset in a shared URL (2026-11-25,
2026-11-25T14:30+08:00); the box shows any of them as the local moment it means, so a filter
survives being sent again from the form.
"""

from datetime import date, datetime, time, timedelta

from django import forms
from django.utils import timezone


def local_input_value(typed: object, *, end_of_day: bool) -> object:
    """`typed` as a datetime-local value in the active zone; as it was when it reads as neither."""
    if not isinstance(typed, str):
        return typed
    try:
        day = date.fromisoformat(typed.strip())
    except ValueError:
        pass
    else:
        try:
            moment = datetime.combine(day + timedelta(days=1) if end_of_day else day, time.min)
        except OverflowError:
            return typed
        return moment.isoformat(timespec="seconds")
    try:
        moment = datetime.fromisoformat(typed.strip().replace(" ", "T", 1))
    except ValueError:
        return typed
    if timezone.is_aware(moment):
        try:
            moment = timezone.localtime(moment).replace(tzinfo=None)
        except OverflowError:
            return typed
    return moment.replace(microsecond=0).isoformat(timespec="seconds")


class MomentInput(forms.DateTimeInput):
    """A datetime-local box to the second; `end_of_day`: a bare date means the end of that day."""

    input_type = "datetime-local"

    def __init__(self, *, end_of_day: bool = False, attrs: dict | None = None) -> None:
        super().__init__(attrs={"step": "1", **(attrs or {})})
        self.end_of_day = end_of_day

    def format_value(self, value: object) -> object:
        return local_input_value(value, end_of_day=self.end_of_day)
