"""One way to write a moment everywhere: in the reader's time zone, to the second, zone named.

"2026-12-06 10:31:58 (Asia/Shanghai)" reads the same in English and Chinese, sorts as text, and
never ties two rows a few seconds apart. Tables name the zone once, in their header, and write
each cell with `moment_cell`.
"""

from datetime import UTC, datetime, tzinfo

from django.utils import timezone

# What a datetime-local input sends (with seconds when the browser offers them), read in the
# user's time zone; the plain forms a person types are taken too.
LOCAL_INPUT_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]


def zone_name(zone: tzinfo | None = None) -> str:
    """The name of `zone` (the active one by default), e.g. Asia/Shanghai."""
    if zone is None:
        return timezone.get_current_timezone_name()
    return getattr(zone, "key", None) or str(zone)


def moment_cell(moment: datetime, zone: tzinfo | None = None) -> str:
    """`moment` in the zone (the active one by default), as 2026-12-06 10:31:58."""
    local = moment.astimezone(zone or timezone.get_current_timezone())
    return f"{local:%Y-%m-%d %H:%M:%S}"


def moment_text(moment: datetime, zone: tzinfo | None = None) -> str:
    """`moment` in the zone, zone named: 2026-12-06 10:31:58 (Asia/Shanghai)."""
    zone = zone or timezone.get_current_timezone()
    return f"{moment_cell(moment, zone)} ({zone_name(zone)})"


def moment_iso(moment: datetime) -> str:
    """`moment` for a <time datetime> attribute: UTC, to the second, as 2026-12-06T02:31:58Z."""
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
