"""One audit row completed and read back in one statement on PostgreSQL: a page's fast path.

Every account page completes one row. audit_complete_many writes its results, reads it back
(with the chain's head) and seals it; here the first two are one UPDATE ... RETURNING, joined
to the head, instead of an UPDATE and a query built by the ORM, which cost more to build
than to run (bench/README.md, the account page). The row read back is what the database
holds after the write, converted as the ORM converts it.
"""

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from django.db import connections

from muteadmin.audit.chain import GENESIS_HASH, HASHED_FIELDS
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
) -> tuple[dict[str, Any] | None, tuple[int, str]]:
    """Set a pending row's `values` and completed_at; return its HASHED_FIELDS and chain_head().

    The row is None when it was not pending (completed already: nothing is written). Run
    under the chain lock (taken before, in the same transaction), like chain_head().
    """
    connection = connections[using]
    meta = AuditEntry._meta
    qn = connection.ops.quote_name
    assigned = [meta.get_field(name) for name in (*values, "completed_at")]
    hashed = [meta.get_field(name) for name in HASHED_FIELDS]
    table, outcome = qn(meta.db_table), qn(meta.get_field("outcome").column)
    seq, digest = qn(meta.get_field("chain_seq").column), qn(meta.get_field("chain_hash").column)
    # Only quoted names from the model are formatted in; every value is a parameter.
    sql = (
        f"WITH done AS (UPDATE {table} SET {', '.join(f'{qn(f.column)} = %s' for f in assigned)}"  # noqa: S608
        f" WHERE {qn(meta.pk.column)} = %s AND {outcome} = %s"
        f" RETURNING {', '.join(qn(f.column) for f in hashed)})"
        f" SELECT done.*, head.{seq}, head.{digest} FROM done LEFT JOIN"
        f" (SELECT {seq}, {digest} FROM {table} WHERE {seq} IS NOT NULL"
        f" ORDER BY {seq} DESC LIMIT 1) AS head ON TRUE"
    )
    params = [
        *(
            field.get_db_prep_save(value, connection)
            for field, value in zip(assigned, (*values.values(), completed_at), strict=True)
        ),
        entry_id,
        AuditEntry.Outcome.PENDING,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        found = cursor.fetchone()
    if found is None:
        return None, _head(None, None)
    *stored, head_seq, head_hash = found
    return _as_orm_reads(hashed, stored, connection), _head(head_seq, head_hash)


def _head(seq: int | None, digest: str | None) -> tuple[int, str]:
    return (seq, digest) if seq is not None else (0, GENESIS_HASH)


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
