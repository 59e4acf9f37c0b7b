"""PostgreSQL: a trigram index for the audit page's ?q=, text anywhere in a reason.

`reason__icontains` is `UPPER(reason) LIKE UPPER('%text%')` on PostgreSQL, which no B-tree can
serve: without this index the page walked every row with a reason (about 120,000 in the bench's
million) to find a rare word. pg_trgm is a trusted extension (PostgreSQL 13 and later), so the
database's owner can create it; where it cannot be created the index is left out with a warning
and ?q= stays correct, only slower. SQLite has no such index.
"""

import warnings

from django.db import DatabaseError, migrations, transaction

INDEX = "audit_reason_trigrams"


def trigram_index_create(apps, schema_editor) -> None:
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    table = schema_editor.quote_name(apps.get_model("audit", "AuditEntry")._meta.db_table)
    try:
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except DatabaseError as exc:
        warnings.warn(
            f"pg_trgm could not be created ({exc}); the audit log's text search (?q=) works "
            "without the trigram index, only slower. Run CREATE EXTENSION pg_trgm as a "
            "superuser, then migrate audit 0005 and migrate again.",
            stacklevel=1,
        )
        return
    with connection.cursor() as cursor:
        # The audit page's ?q= (audit_filtered): rows whose reason contains the text.
        cursor.execute(
            f"CREATE INDEX IF NOT EXISTS {INDEX} ON {table} "
            "USING gin (UPPER(reason) gin_trgm_ops) WHERE NOT reason = ''"
        )


def trigram_index_drop(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        # The extension stays: something else may use it.
        cursor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("audit", "0005_operator_hourly_reason_index")]

    operations = [migrations.RunPython(trigram_index_create, trigram_index_drop)]
