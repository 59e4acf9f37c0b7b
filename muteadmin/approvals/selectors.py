"""Reading mute requests: those waiting, those decided lately, an account's waiting one."""

from django.db.models import QuerySet

from muteadmin.approvals.models import MuteRequest
from muteadmin.approvals.services import mute_request_now
from muteadmin.core.sql import Read, Statement, quoted_names, rows_as_read

RECENT_DECIDED = 20


def mute_requests_waiting() -> QuerySet[MuteRequest]:
    """Requests still waiting for a decision (not expired by now), oldest first."""
    return MuteRequest.objects.filter(
        status=MuteRequest.Status.PENDING, expires_at__gt=mute_request_now()
    ).order_by("created_at", "id")


def mute_requests_waiting_count() -> int:
    """How many requests wait for a decision: the navigation's count."""
    return mute_requests_waiting().count()


def mute_requests_recent(*, limit: int = RECENT_DECIDED) -> list[MuteRequest]:
    """The requests decided or expired most recently, newest first."""
    closed = MuteRequest.objects.exclude(status=MuteRequest.Status.PENDING)
    return list(closed.order_by("-decided_at", "-id")[:limit])


def mute_request_waiting_read(*, account: str, app: str) -> Read[MuteRequest | None]:
    """The account's request waiting for approval in `app`, if there is one.

    As mute_requests_waiting().filter(account=account, app=app).first(), written out and run
    by core.sql.reads_run with the account page's other reads: every account page asks, and
    the ORM's query costs more to build than to run.
    """
    connection, table, column = quoted_names(MuteRequest)
    fields = MuteRequest._meta.concrete_fields
    # Only quoted names from the model are formatted in; every value is a parameter.
    sql = (
        f"SELECT {', '.join(column(field.name) for field in fields)} FROM {table}"  # noqa: S608
        f" WHERE {column('account')} = %s AND {column('app')} = %s AND {column('status')} = %s"
        f" AND {column('expires_at')} > %s ORDER BY {column('created_at')}, {column('id')} LIMIT 1"
    )
    expires_at = MuteRequest._meta.get_field("expires_at")
    expires = expires_at.get_db_prep_value(mute_request_now(), connection)
    params = [account, app, MuteRequest.Status.PENDING.value, expires]

    def result(rows: list[tuple]) -> MuteRequest | None:
        if not rows:
            return None
        names = [field.name for field in fields]
        (read,) = rows_as_read(MuteRequest, names, rows, connection=connection)
        attnames = [field.attname for field in fields]
        return MuteRequest.from_db(connection.alias, attnames, [read[name] for name in names])

    return Read(Statement(sql, params), result, using=connection.alias)
