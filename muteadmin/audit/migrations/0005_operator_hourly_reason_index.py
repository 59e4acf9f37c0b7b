"""Hourly counts per operator for the chart of one moderator's rows; indexes for the chart and ?q=.

The per-operator counts of rows completed so far are filled here, from the log itself, while
completions wait (the chain's lock on PostgreSQL, the write lock this transaction holds on SQLite).

AddIndex and CreateModel leave the audit table as it is on SQLite, so the guard's triggers
(0004_guard) stay in place.
"""

from datetime import UTC

from django.db import migrations, models
from django.db.models import Count
from django.db.models.functions import TruncHour

import muteadmin.audit.models
from muteadmin.audit.chain import CHAIN_LOCK_KEY

PENDING = "pending"
FILL_BATCH = 2_000

ACCOUNT_INDEX = models.Index(fields=["account", "-id"], name="audit_account_recent")
ACCOUNT_INDEX_COVERING = muteadmin.audit.models.SQLiteCoveringIndex(
    covering=("action", "created_at"), fields=["account", "-id"], name="audit_account_recent"
)


def _account_index_swap(apps, schema_editor, *, old: models.Index, new: models.Index) -> None:
    # Only SQLite's index changes; PostgreSQL's is the same before and after.
    if schema_editor.connection.vendor != "sqlite":
        return
    model = apps.get_model("audit", "AuditEntry")
    schema_editor.remove_index(model, old)
    schema_editor.add_index(model, new)


def account_index_widen(apps, schema_editor) -> None:
    _account_index_swap(apps, schema_editor, old=ACCOUNT_INDEX, new=ACCOUNT_INDEX_COVERING)


def account_index_narrow(apps, schema_editor) -> None:
    _account_index_swap(apps, schema_editor, old=ACCOUNT_INDEX_COVERING, new=ACCOUNT_INDEX)


def operator_hourly_counts_fill(apps, schema_editor) -> None:
    """Count every completed row with an operator name per operator, UTC hour, action, outcome."""
    connection = schema_editor.connection
    entries = apps.get_model("audit", "AuditEntry").objects.using(connection.alias)
    counts = apps.get_model("audit", "AuditOperatorHourlyCount")
    if connection.vendor == "postgresql":
        # What audit_complete takes before it marks a row completed and counts it.
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CHAIN_LOCK_KEY])
    totals = (
        entries.exclude(outcome=PENDING)
        .exclude(operator_username="")
        .order_by()
        .values_list(
            "operator_username",
            TruncHour("created_at", tzinfo=UTC),
            "action",
            "outcome",
        )
        .annotate(total=Count("id"))
    )
    counts.objects.using(connection.alias).bulk_create(
        (
            counts(operator_username=operator, hour=hour, action=action, outcome=outcome, count=n)
            for operator, hour, action, outcome, n in totals.iterator(chunk_size=FILL_BATCH)
        ),
        batch_size=FILL_BATCH,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0004_guard"),
    ]

    operations = [
        migrations.CreateModel(
            name="AuditOperatorHourlyCount",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("operator_username", models.CharField(max_length=150)),
                ("hour", models.DateTimeField()),
                (
                    "action",
                    models.CharField(
                        choices=[("query", "Query"), ("change", "Change"), ("export", "Export")],
                        max_length=16,
                    ),
                ),
                (
                    "outcome",
                    models.CharField(
                        choices=[("pending", "Pending"), ("ok", "OK"), ("error", "Error")],
                        max_length=16,
                    ),
                ),
                ("count", models.PositiveBigIntegerField(default=0)),
            ],
        ),
        migrations.AddConstraint(
            model_name="auditoperatorhourlycount",
            constraint=models.UniqueConstraint(
                fields=("operator_username", "hour", "action", "outcome"),
                name="audit_operator_hourly_unique",
            ),
        ),
        migrations.AddIndex(
            model_name="auditoperatorhourlycount",
            index=models.Index(
                fields=["operator_username", "hour", "action", "outcome", "count"],
                name="audit_operator_hourly_chart",
            ),
        ),
        migrations.AddIndex(
            model_name="audithourlycount",
            index=models.Index(
                fields=["hour", "action", "outcome", "count"], name="audit_hourly_chart"
            ),
        ),
        migrations.AddIndex(
            model_name="auditentry",
            index=muteadmin.audit.models.SQLiteCoveringIndex(
                condition=models.Q(("reason", ""), _negated=True),
                covering=("reason", "action", "created_at"),
                fields=["-id"],
                name="audit_reason_recent",
            ),
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveIndex(model_name="auditentry", name="audit_account_recent"),
                migrations.AddIndex(model_name="auditentry", index=ACCOUNT_INDEX_COVERING),
            ],
            database_operations=[
                migrations.RunPython(account_index_widen, account_index_narrow, elidable=False)
            ],
        ),
        migrations.RunPython(
            operator_hourly_counts_fill, migrations.RunPython.noop, elidable=False
        ),
    ]
