"""The keyset paginator: cursors written and read back, pages of N from N + 1 rows, both ways."""

from datetime import UTC, datetime, timedelta

import pytest

from muteadmin.audit.models import AccountMuteState, AuditEntry
from muteadmin.core.pagination import CursorError, Keyset

pytestmark = pytest.mark.django_db

NEWEST_FIRST = Keyset(("-id", int))
BY_END_THEN_ID = Keyset(("active_until", datetime), ("id", int))


def entries(count: int) -> list[int]:
    """`count` audit rows; their ids, newest first."""
    AuditEntry.objects.bulk_create(
        AuditEntry(action="query", account=f"user{n}", operator_username="mod", outcome="ok")
        for n in range(count)
    )
    return list(AuditEntry.objects.order_by("-id").values_list("id", flat=True))


def states(ends: list[datetime]) -> list[int]:
    """Mute states ending at `ends`; their ids in report order (end, then id)."""
    entry = AuditEntry.objects.create(action="query", account="x", operator_username="mod")
    AccountMuteState.objects.bulk_create(
        AccountMuteState(
            account=f"user{n}",
            c2c_seconds=60,
            observed_at=end,
            active_until=end,
            observed_entry=entry,
        )
        for n, end in enumerate(ends)
    )
    return list(
        AccountMuteState.objects.order_by("active_until", "id").values_list("id", flat=True)
    )


def ids(page) -> list[int]:
    return [row.pk for row in page.rows]


def test_cursors_round_trip_integers_and_times_to_the_microsecond():
    moment = datetime(2026, 11, 24, 10, 30, 5, 123456, tzinfo=UTC)
    assert NEWEST_FIRST.encode((42,)) == "42"
    assert NEWEST_FIRST.decode("42") == (42,)
    cursor = BY_END_THEN_ID.encode((moment, 7))
    assert BY_END_THEN_ID.decode(cursor) == (moment, 7)


@pytest.mark.parametrize(
    "cursor", ["", "x", "0", "-3", "1.2", "١٢", " 1 2", "12abc", "1e3", "1.", ".1"]
)
def test_a_tampered_integer_cursor_is_refused_clearly(cursor):
    with pytest.raises(CursorError, match="page link is damaged"):
        NEWEST_FIRST.decode(cursor)


@pytest.mark.parametrize("cursor", ["5", "5.x", "a.5", "5.0", "9" * 40 + ".5", "1.2.3"])
def test_a_tampered_two_key_cursor_is_refused_clearly(cursor):
    with pytest.raises(CursorError):
        BY_END_THEN_ID.decode(cursor)


def test_a_page_reads_one_row_more_to_know_another_follows(django_assert_num_queries):
    newest_first = entries(5)
    with django_assert_num_queries(1):
        page = NEWEST_FIRST.page(AuditEntry.objects.all(), size=2)
    assert ids(page) == newest_first[:2]
    assert page.has_next and not page.has_previous
    assert page.next_cursor == str(newest_first[1])
    assert page.previous_cursor is None


def test_walking_forward_then_back_repeats_and_skips_nothing():
    newest_first = entries(5)
    rows = AuditEntry.objects.all()
    first = NEWEST_FIRST.page(rows, size=2)
    second = NEWEST_FIRST.page(rows, after=NEWEST_FIRST.decode(first.next_cursor), size=2)
    third = NEWEST_FIRST.page(rows, after=NEWEST_FIRST.decode(second.next_cursor), size=2)
    assert [ids(first), ids(second), ids(third)] == [
        newest_first[:2],
        newest_first[2:4],
        newest_first[4:],
    ]
    assert not third.has_next and third.next_cursor is None
    back = NEWEST_FIRST.page(rows, before=NEWEST_FIRST.decode(third.previous_cursor), size=2)
    assert ids(back) == ids(second)
    assert back.has_previous and back.has_next
    again = NEWEST_FIRST.page(rows, before=NEWEST_FIRST.decode(back.previous_cursor), size=2)
    assert ids(again) == ids(first)
    assert not again.has_previous


def test_exact_asks_the_database_about_the_side_a_cursor_came_from():
    newest_first = entries(3)
    rows = AuditEntry.objects.all()
    # Nothing is newer than the newest row: an exact page says so, a plain one assumes more.
    after_newest = (newest_first[0],)
    assert NEWEST_FIRST.page(rows, before=after_newest, size=2).has_next
    assert not NEWEST_FIRST.page(rows, before=after_newest, size=2, exact=True).rows
    from_top = NEWEST_FIRST.page(rows, after=(newest_first[0] + 1,), size=2, exact=True)
    assert ids(from_top) == newest_first[:2]
    assert not from_top.has_previous
    assert NEWEST_FIRST.page(rows, after=(newest_first[0] + 1,), size=2).has_previous


def test_ties_on_the_first_key_are_split_by_the_second():
    now = datetime(2026, 11, 24, tzinfo=UTC)
    ends = [now + timedelta(minutes=n // 3) for n in range(7)]  # three at each end time
    order = states(ends)
    rows = AccountMuteState.objects.all()
    seen, cursor = [], None
    while True:
        page = BY_END_THEN_ID.page(
            rows, after=BY_END_THEN_ID.decode(cursor) if cursor else None, size=2
        )
        seen.append(ids(page))
        if not page.has_next:
            break
        cursor = page.next_cursor
    assert [pk for chunk in seen for pk in chunk] == order
    assert [len(chunk) for chunk in seen] == [2, 2, 2, 1]
    back = BY_END_THEN_ID.page(rows, before=BY_END_THEN_ID.decode(page.previous_cursor), size=2)
    assert ids(back) == seen[-2]
    # Rows strictly before a row's own cursor: the two ahead of it, through the tie.
    before_sixth = BY_END_THEN_ID.page(rows, before=BY_END_THEN_ID.decode(cursor), size=2)
    assert ids(before_sixth) == order[3:5]


def test_one_cursor_at_a_time():
    with pytest.raises(ValueError, match="one cursor"):
        NEWEST_FIRST.page(AuditEntry.objects.all(), after=(1,), before=(2,), size=2)


def test_only_one_or_two_integer_or_time_keys():
    with pytest.raises(ValueError):
        Keyset(("a", int), ("b", int), ("c", int))
    with pytest.raises(ValueError):
        Keyset(("name", str))
