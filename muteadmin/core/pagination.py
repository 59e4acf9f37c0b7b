"""Keyset paging: a page of rows after (or before) a position in a fixed order, never counted.

A position is the values of the order's keys in one row, written in a page link as a cursor:
the values joined by ".", integers as written and times as microseconds since 1970 (UTC). A
page reads one row more than it shows, to know whether another page follows.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db.models import QuerySet

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
# Digits in the largest 64-bit integer: a key or a time in microseconds never has more.
_MOST_DIGITS = len(str(2**63 - 1))


class CursorError(ValueError):
    """A cursor this paginator did not write (damaged, edited, or for another order)."""


@dataclass(frozen=True)
class KeysetPage[T]:
    """Rows in the paginator's order, and cursors to the pages on either side (None: none there).

    `next_cursor` and `previous_cursor` go back into Keyset.page as `after` and `before`.
    """

    rows: list[T]
    has_next: bool
    has_previous: bool
    next_cursor: str | None
    previous_cursor: str | None


@dataclass(frozen=True)
class _Key:
    field: str
    descending: bool
    kind: type


class Keyset:
    """An order of one or two fields ("-id", or "active_until" then "id"), paged by cursor.

    `keys` pairs each field (prefixed "-" for descending) with its type, int or datetime. The
    last field must tell rows apart. Two fields are read as "the first from the cursor on,
    without the tie at the cursor", which keeps to a range scan of an index on both.
    """

    def __init__(self, *keys: tuple[str, type]) -> None:
        if not 1 <= len(keys) <= 2:
            raise ValueError("A keyset orders by one or two fields.")
        for _, kind in keys:
            if kind not in (int, datetime):
                raise ValueError("A keyset field is an int or a datetime.")
        self.keys = tuple(
            _Key(field=name.removeprefix("-"), descending=name.startswith("-"), kind=kind)
            for name, kind in keys
        )

    @property
    def order(self) -> tuple[str, ...]:
        return tuple(("-" if key.descending else "") + key.field for key in self.keys)

    def encode(self, position: Sequence[Any]) -> str:
        """The cursor for a position (one value per key)."""
        parts = []
        for key, value in zip(self.keys, position, strict=True):
            if key.kind is datetime:
                value = (value - _EPOCH) // _MICROSECOND
            parts.append(str(int(value)))
        return ".".join(parts)

    def decode(self, cursor: str) -> tuple[Any, ...]:
        """The position a cursor names; CursorError if this paginator could not have written it."""
        parts = cursor.strip().split(".")
        if len(parts) != len(self.keys):
            raise CursorError("The page link is damaged.")
        values = []
        for key, part in zip(self.keys, parts, strict=True):
            digits = part.removeprefix("-") if key.kind is datetime else part
            if not (digits.isascii() and digits.isdigit()):
                raise CursorError("The page link is damaged.")
            if len(digits.lstrip("0")) > _MOST_DIGITS:
                # int() refuses thousands of digits: any integer this long is past every key,
                # and no time is that far from 1970.
                if key.kind is datetime:
                    raise CursorError("The page link is damaged.")
                number = 10**_MOST_DIGITS
            else:
                number = int(part)
            if key.kind is int:
                if number < 1:
                    raise CursorError("The page link is damaged.")
                values.append(number)
                continue
            try:
                values.append(_EPOCH + number * _MICROSECOND)
            except OverflowError:
                raise CursorError("The page link is damaged.") from None
        return tuple(values)

    def position(self, row: Any) -> tuple[Any, ...]:
        """A row's position: from a model instance, or a dict as QuerySet.values() reads it."""
        if isinstance(row, Mapping):
            return tuple(row[key.field] for key in self.keys)
        return tuple(getattr(row, key.field) for key in self.keys)

    def page[T](
        self,
        rows: QuerySet,
        *,
        after: Sequence[Any] | None = None,
        before: Sequence[Any] | None = None,
        size: int,
        exact: bool = False,
    ) -> KeysetPage[T]:
        """The `size` rows after position `after`, before `before`, or the first ones.

        Coming from a cursor, rows are assumed to exist on the side it came from, unless `exact`
        asks the database (one more query).
        """
        if after is not None and before is not None:
            raise ValueError("Page from one cursor: after or before, not both.")
        if before is not None:
            found = list(
                self._beyond(rows, before, reverse=True).order_by(*self._reversed)[: size + 1]
            )
            shown = found[:size][::-1]
            has_previous = len(found) > size
            has_next = not exact or self._beyond(rows, before, inclusive=True).exists()
        else:
            ordered = rows if after is None else self._beyond(rows, after)
            found = list(ordered.order_by(*self.order)[: size + 1])
            shown = found[:size]
            has_next = len(found) > size
            has_previous = after is not None and (
                not exact or self._beyond(rows, after, reverse=True, inclusive=True).exists()
            )
        end = self.position(shown[-1]) if shown else (before or after)
        return KeysetPage(
            rows=shown,
            has_next=has_next,
            has_previous=has_previous,
            next_cursor=self.encode(end) if has_next and end is not None else None,
            previous_cursor=self.encode(self.position(shown[0]))
            if has_previous and shown
            else None,
        )

    @property
    def _reversed(self) -> tuple[str, ...]:
        return tuple(("" if key.descending else "-") + key.field for key in self.keys)

    def _beyond(
        self,
        rows: QuerySet,
        position: Sequence[Any],
        *,
        reverse: bool = False,
        inclusive: bool = False,
    ) -> QuerySet:
        """Rows past `position` in this order (before it if `reverse`), and it if `inclusive`."""
        first, *rest = self.keys
        value, *rest_values = position
        upwards = first.descending == reverse
        if not rest:
            lookup = ("gt" if upwards else "lt") + ("e" if inclusive else "")
            return rows.filter(**{f"{first.field}__{lookup}": value})
        (last,), (last_value,) = rest, rest_values
        rows = rows.filter(**{f"{first.field}__{'gte' if upwards else 'lte'}": value})
        # The tie at the first key: only rows past the cursor on the second key stay.
        last_upwards = last.descending == reverse
        lookup = ("lt" if last_upwards else "gt") + ("" if inclusive else "e")
        return rows.exclude(**{first.field: value, f"{last.field}__{lookup}": last_value})
