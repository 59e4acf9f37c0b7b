"""One audit row's results written and read back in one statement on PostgreSQL: a fast path.

Every account page completes one row. audit_complete_many writes its results, reads it back
and seals it; here the first two are one UPDATE ... RETURNING instead of an UPDATE and a query
built by the ORM, which costs more to build than to run (bench/README.md, the account page).
The row read back is what the database holds after the write, converted as the ORM converts it.
"""

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from django.db import connections

from muteadmin.audit.chain import HASHED_FIELDS
from muteadmin.audit.models import AuditEntry


def returning_supported(*, using: str) -> bool:
    """Whether complete_returning can run on this database."""
    return connections[using].vendor == "postgresql"


def complete_returning(
    *,
    entry_id: int,
    values: Mapping[str, Any],
    completed_at: datetime,
    using: str,
    then_lock: int,
    flush_on_commit: bool,
) -> dict[str, Any] | None:
    """Set a pending row's `values` and completed_at; return its HASHED_FIELDS as now stored.

    Once the row is written (and so locked), the same statement takes the transaction-level
    advisory lock `then_lock` (the chain lock: rows first, then the chain, as every completion
    takes them) and, unless `flush_on_commit`, turns synchronous_commit off for the transaction
    (completion._chain_lock says why). None when the row was not pending (completed already):
    nothing is written or locked then.
    """
    connection = connections[using]
    meta = AuditEntry._meta
    qn = connection.ops.quote_name
    assigned = [meta.get_field(name) for name in (*values, "completed_at")]
    hashed = [meta.get_field(name) for name in HASHED_FIELDS]
    outcome = qn(meta.get_field("outcome").column)
    # Only quoted names from the model are formatted in; every value is a parameter.
    sql = (
        f"UPDATE {qn(meta.db_table)} SET {', '.join(f'{qn(f.column)} = %s' for f in assigned)}"  # noqa: S608
        f" WHERE {qn(meta.pk.column)} = %s AND {outcome} = %s"
        f" RETURNING {', '.join(qn(f.column) for f in hashed)}, pg_advisory_xact_lock(%s)"
        + ("" if flush_on_commit else ", set_config('synchronous_commit', 'off', true)")
    )
    params = [
        *(
            field.get_db_prep_save(value, connection)
            for field, value in zip(assigned, (*values.values(), completed_at), strict=True)
        ),
        entry_id,
        AuditEntry.Outcome.PENDING,
        then_lock,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        stored = cursor.fetchone()
    if stored is None:
        return None
    return _as_orm_reads(hashed, stored[: len(hashed)], connection)


def _as_orm_reads(fields: Sequence, stored: Sequence[Any], connection) -> dict[str, Any]:
    # PostgreSQL hands back every column as .values() reads it but JSON, which arrives as
    # text and which JSONField.from_db_value decodes.
    return {
        field.name: (
            field.from_db_value(value, None, connection)
            if hasattr(field, "from_db_value")
            else value
        )
        for field, value in zip(fields, stored, strict=True)
    }
