"""Time zone names a user may choose: the IANA names zoneinfo knows on this server."""

from functools import cache
from zoneinfo import available_timezones


@cache
def zone_names() -> frozenset[str]:
    """Every zone name zoneinfo can load; read once (it walks the tz database)."""
    return frozenset(available_timezones())


def is_zone(name: str) -> bool:
    """Whether `name` is a time zone zoneinfo knows (checked before ZoneInfo ever sees it)."""
    return name in zone_names()
