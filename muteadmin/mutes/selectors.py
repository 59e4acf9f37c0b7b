"""What the account page reads besides Tencent: the account's recent changes from the audit log."""

import uuid
from typing import Any

from django.db import connections

from muteadmin.audit.models import AuditEntry
from muteadmin.audit.selectors import audit_app_condition
from muteadmin.core.sql import rows_as_read
from muteadmin.upstream.registry import DEFAULT_APP

RECENT_CHANGES = 10
# What the page shows of each change.
RECENT_CHANGE_FIELDS = (
    "created_at",
    "operator_username",
    "c2c_requested",
    "group_requested",
    "reason",
    "outcome",
    "error_code",
)


def mute_recent_changes(
    *, account: str, app: str = DEFAULT_APP, limit: int = RECENT_CHANGES
) -> list[dict[str, Any]]:
    """The latest change attempts on `account` in `app`, newest first: who, what, why, outcome.

    Written out, not built by the ORM: every account page reads it, and the ORM's query costs
    more to build than this costs to run (bench/README.md, the account page).
    """
    connection = connections[AuditEntry.objects.db]
    meta = AuditEntry._meta
    qn = connection.ops.quote_name

    def column(name: str) -> str:
        return qn(meta.get_field(name).column)

    in_app, app_params = audit_app_condition(app, column=column("app"))
    # Only quoted names from the model are formatted in; every value is a parameter.
    sql = (
        f"SELECT {', '.join(column(name) for name in RECENT_CHANGE_FIELDS)}"  # noqa: S608
        f" FROM {qn(meta.db_table)} WHERE {column('account')} = %s AND {column('action')} = %s"
        f" AND {in_app} ORDER BY {column('id')} DESC LIMIT %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [account, AuditEntry.Action.CHANGE.value, *app_params, limit])
        rows = cursor.fetchall()
    return rows_as_read(AuditEntry, RECENT_CHANGE_FIELDS, rows, connection=connection)


def notice_sent_for(*, correlation_id: uuid.UUID) -> bool:
    """Whether a notice went out for the change with this correlation id."""
    return AuditEntry.objects.filter(
        correlation_id=correlation_id,
        action=AuditEntry.Action.NOTICE,
        outcome=AuditEntry.Outcome.OK,
    ).exists()
