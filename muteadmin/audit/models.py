"""The audit log: one append-only row per call muteadmin makes to Tencent, per export, per
step of a mute request, per change of a role's limits, per change to the staff (team page),
per sign-in attempt, per staff note on an account, per difference the reconcile found, per
change of its watchlist and per change to a notification destination."""

from collections.abc import Sequence
from datetime import UTC, datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from muteadmin.audit.operators import SCHEDULER_USERNAME, operator_label


class AuditRowLocked(Exception):
    """A completed audit row may not be changed or deleted."""


class AuditEntryQuerySet(models.QuerySet):
    """Refuses bulk changes that would touch completed rows."""

    def update(self, **kwargs):
        # Deleting a user nulls the operator link; the username copy keeps the history readable.
        unlinks_operator = kwargs.keys() == {"operator"} and kwargs["operator"] is None
        if not unlinks_operator and self.exclude(outcome=AuditEntry.Outcome.PENDING).exists():
            raise AuditRowLocked("Completed audit rows cannot be changed.")
        return super().update(**kwargs)

    update.queryset_only = True

    def delete(self):
        raise AuditRowLocked("Audit rows cannot be deleted.")

    delete.queryset_only = True


class SQLiteCoveringIndex(models.Index):
    """An index that on SQLite also holds the `covering` columns, so a query reads it alone.

    SQLite has no INCLUDE, so they follow `fields` in the key. PostgreSQL gets the index on
    `fields` only: one of its btree entries must fit in about 2.7 kB, and a reason need not.
    """

    def __init__(self, *args, covering: Sequence[str] = (), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.covering = tuple(covering)

    def deconstruct(self):
        path, args, kwargs = super().deconstruct()
        if self.covering:
            kwargs["covering"] = self.covering
        return path, args, kwargs

    def create_sql(self, model, schema_editor, using="", **kwargs):
        if schema_editor.connection.vendor != "sqlite" or not self.covering:
            return super().create_sql(model, schema_editor, using=using, **kwargs)
        widened = models.Index(
            fields=[*self.fields, *self.covering],
            name=self.name,
            condition=self.condition,
            db_tablespace=self.db_tablespace,
        )
        return widened.create_sql(model, schema_editor, using=using, **kwargs)


class AuditEntry(models.Model):
    """One upstream call (or export): written as pending before it, completed after it.

    Rows are listed in the order they were written (`id`), newest first.
    """

    class Action(models.TextChoices):
        QUERY = "query", _("Query")
        CHANGE = "change", _("Change")
        EXPORT = "export", _("Export")
        # Steps of a mute request (muteadmin.approvals) and changes of a role's limits
        # (muteadmin.policies): recorded without a call to Tencent, chained like the rest.
        REQUEST_FILED = "request_filed", _("Request filed")
        REQUEST_APPROVED = "request_approved", _("Request approved")
        REQUEST_REJECTED = "request_rejected", _("Request rejected")
        REQUEST_EXPIRED = "request_expired", _("Request expired")
        LIMIT_CHANGE = "limit_change", _("Limit change")
        # A change to the staff (muteadmin.team): recorded without a call to Tencent.
        TEAM = "team", _("Team change")
        LOGIN = "login", _("Sign-in")
        LOGIN_FAILED = "login_failed", _("Failed sign-in")
        # A policy rule created, edited or retired (muteadmin.rules).
        RULE_CHANGE = "rule_change", _("Rule change")
        # A bulk job stopped by someone (its id in job_id); not a call to Tencent.
        CANCEL = "cancel", _("Cancel")
        # Something asked and refused (a 403 on a change, a permanent mute without the right):
        # what was asked, and why it was refused in error_info. Nothing was sent.
        DENIED = "denied", _("Denied")
        # A one-to-one message telling the account of a change (sendmsg), after the change.
        NOTICE = "notice", _("Notice")
        # A staff note on an account (muteadmin.mutes.notes): the text is the reason. Append-only
        # like every row, so a note is corrected by a later one, never edited or deleted.
        NOTE = "note", _("Note")
        # A change scheduled for later or cancelled (muteadmin.scheduled); its run is the usual
        # query and change rows, sharing its correlation id.
        SCHEDULED = "scheduled", _("Scheduled change")
        # The account's mutes were found otherwise than muteadmin expected (a change made
        # elsewhere): what was expected and found in details, the sentence in error_info. Written
        # by a scheduled change that was skipped, and by the reconcile (muteadmin.reconcile).
        DRIFT = "drift", _("Drift")
        # An account added to or removed from the reconcile's watchlist (muteadmin.reconcile).
        WATCHLIST = "watchlist", _("Watchlist change")
        # A chat-robot notification destination created, changed, paused, resumed or deleted
        # (muteadmin.robots); its secrets only ever masked in the details.
        ROBOT = "robot", _("Notification change")

    class Outcome(models.TextChoices):
        PENDING = "pending", _("Pending")
        OK = "ok", _("OK")
        ERROR = "error", _("Error")
        # Still pending long after any call could have answered (a crash, a database outage):
        # completed by the sweeper (sweeper.py), which says what it found in error_info.
        UNKNOWN = "unknown", _("Outcome unknown")

    # Indexed for ?since= / ?until=, which are turned into bounds on id.
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Kept beside the foreign key so history still names the operator after the user is deleted.
    operator_username = models.CharField(max_length=150)
    # Whose request the operator carried out (an approved mute request): its requester's
    # username, kept as text for the same reason. Null on every other row; nullable without a
    # default so adding it did not make SQLite rebuild the table, which drops its guard.
    on_behalf_of = models.CharField(max_length=150, null=True, blank=True)  # noqa: DJ001
    # The code of the policy rule a change was made under (muteadmin.rules), or the rule a rule
    # change changed; null on other rows. Nullable without a default, like on_behalf_of.
    rule = models.CharField(max_length=32, null=True, blank=True)  # noqa: DJ001
    action = models.CharField(max_length=16, choices=Action)
    account = models.CharField(max_length=64)
    c2c_requested = models.BigIntegerField(null=True, blank=True)
    group_requested = models.BigIntegerField(null=True, blank=True)
    c2c_observed = models.BigIntegerField(null=True, blank=True)
    group_observed = models.BigIntegerField(null=True, blank=True)
    reason = models.TextField(blank=True)
    outcome = models.CharField(max_length=16, choices=Outcome, default=Outcome.PENDING)
    error_code = models.IntegerField(null=True, blank=True)
    error_info = models.TextField(blank=True)
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    request_random = models.BigIntegerField(null=True, blank=True)
    client_ip = models.GenericIPAddressField(null=True, blank=True)
    # What else an auditor needs to read the row: an export's filters and row count.
    details = models.JSONField(default=dict, blank=True)
    # Ties together the rows of one bulk job (a correlation id, kept even if the job is pruned).
    job_id = models.PositiveBigIntegerField(null=True, blank=True)
    # Ties together the rows of one operation: the query before a change and the change, one
    # bulk job, one export. Null on rows written before it existed.
    correlation_id = models.UUIDField(null=True, blank=True)
    # The Chat app called (its name in TIM_APPS). Null on rows written before apps had names:
    # those were all calls to the one app, now called "default" (DEFAULT_APP). Nullable without
    # a default so adding it did not make SQLite rebuild the table, which drops its guard.
    app = models.CharField(max_length=32, null=True, blank=True)  # noqa: DJ001
    completed_at = models.DateTimeField(null=True, blank=True)
    # The hash chain: completed rows are numbered in the order they completed, and each one's hash
    # covers its own fields and the previous completed row's hash.
    chain_seq = models.PositiveBigIntegerField(null=True, blank=True, unique=True)
    chain_hash = models.CharField(max_length=64, blank=True)

    objects = AuditEntryQuerySet.as_manager()

    class Meta:
        verbose_name = "audit entry"
        verbose_name_plural = "audit entries"
        ordering = ["-created_at", "-id"]
        permissions = [
            ("view_audit_log", "Can browse the audit log"),
            ("export_audit_log", "Can export the audit log and reports as CSV"),
        ]
        # Every list query is "rows matching X, newest first, from a cursor": (X, id) serves it.
        indexes = [
            # ?account=: an account's history, and the account page's recent activity. On SQLite
            # the entries also carry what the chart counts, so it does not visit the table.
            SQLiteCoveringIndex(
                fields=["account", "-id"],
                covering=["action", "created_at"],
                name="audit_account_recent",
            ),
            # ?operator=: what one moderator did.
            models.Index(fields=["operator_username", "-id"], name="audit_operator_recent"),
            # ?action=: rare actions (change, export) without walking every query row.
            models.Index(fields=["action", "-id"], name="audit_action_recent"),
            # ?outcome=: errors and pending rows without walking every success.
            models.Index(fields=["outcome", "-id"], name="audit_outcome_recent"),
            # ?job=: one bulk job's rows.
            models.Index(fields=["job_id", "-id"], name="audit_job_recent"),
            # ?rule=: the rows made under one rule; only rows with a rule are in it.
            models.Index(
                fields=["rule", "-id"], condition=Q(rule__isnull=False), name="audit_rule_recent"
            ),
            # ?app=: one app's rows.
            models.Index(fields=["app", "-id"], name="audit_app_recent"),
            # The detail page's "other rows of this operation", in the order they were written.
            models.Index(fields=["correlation_id", "id"], name="audit_correlation"),
            # ?q=: only rows with a reason can contain the text, so the search and its chart walk
            # these (about one row in eight) instead of the whole log; audit_filtered adds the
            # same condition so the database can use it. On SQLite the entries carry what the
            # search and the chart read, so neither visits the table for rows that do not match.
            # PostgreSQL also has a trigram index on the reason (migration 0006), which finds
            # a rare word without walking these.
            SQLiteCoveringIndex(
                fields=["-id"],
                covering=["reason", "action", "created_at"],
                condition=~Q(reason=""),
                name="audit_reason_recent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.account} by {self.operator_username} ({self.outcome})"

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            stored = type(self).objects.filter(pk=self.pk).values_list("outcome", flat=True).first()
            if stored is not None and stored != self.Outcome.PENDING:
                raise AuditRowLocked("Completed audit rows cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AuditRowLocked("Audit rows cannot be deleted.")

    @property
    def operator_label(self) -> str:
        """The operator as pages show it: the scheduler named in the reader's language."""
        return operator_label(self.operator_username)

    @property
    def operator_deleted(self) -> bool:
        """Whether the row names a user since deleted (the scheduler is no user)."""
        named = self.operator_username not in ("", SCHEDULER_USERNAME)
        return named and self.operator_id is None

    @property
    def is_completed(self) -> bool:
        return self.outcome != self.Outcome.PENDING


class AuditHourlyCount(models.Model):
    """Completed audit rows per UTC hour, action, outcome and app: the audit chart reads these.

    Rows without an app (written before apps had names) are counted under DEFAULT_APP.
    """

    hour = models.DateTimeField()
    action = models.CharField(max_length=16, choices=AuditEntry.Action)
    outcome = models.CharField(max_length=16, choices=AuditEntry.Outcome)
    app = models.CharField(max_length=32)
    count = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["hour", "action", "outcome", "app"], name="audit_hourly_app_unique"
            )
        ]
        indexes = [
            # The chart's query, the hours in a range (of one app, or summed over all), read from
            # the index alone (with count).
            models.Index(
                fields=["hour", "action", "outcome", "app", "count"], name="audit_hourly_app_chart"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.hour:%Y-%m-%d %H}:00 {self.action} {self.outcome}: {self.count}"


class AuditOperatorHourlyCount(models.Model):
    """AuditHourlyCount per operator as well: the chart of one moderator's rows reads these.

    Rows without an operator name are counted in AuditHourlyCount only.
    """

    operator_username = models.CharField(max_length=150)
    hour = models.DateTimeField()
    action = models.CharField(max_length=16, choices=AuditEntry.Action)
    outcome = models.CharField(max_length=16, choices=AuditEntry.Outcome)
    app = models.CharField(max_length=32)
    count = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["operator_username", "hour", "action", "outcome", "app"],
                name="audit_operator_hourly_app_unique",
            )
        ]
        indexes = [
            # The chart's ?operator= query, one operator's hours in a range, read from the index
            # alone (with count).
            models.Index(
                fields=["operator_username", "hour", "action", "outcome", "app", "count"],
                name="audit_operator_hourly_app",
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.hour:%Y-%m-%d %H}:00 {self.operator_username} {self.action} {self.outcome}: "
            f"{self.count}"
        )


class AccountMuteState(models.Model):
    """The last state the dashboard saw for an account, kept up to date as audit rows complete.

    The mute report reads this instead of searching a million audit rows for each account's latest.
    An account is one per app: `alice` in one app is not `alice` in another.
    """

    # Stands for "permanent" in `active_until`, so one indexed column answers "muted now?".
    FOREVER = datetime(9999, 12, 31, tzinfo=UTC)

    app = models.CharField(max_length=32)
    account = models.CharField(max_length=64)
    c2c_seconds = models.PositiveBigIntegerField(default=0)
    group_seconds = models.PositiveBigIntegerField(default=0)
    observed_at = models.DateTimeField()
    c2c_expires_at = models.DateTimeField(null=True, blank=True)
    group_expires_at = models.DateTimeField(null=True, blank=True)
    # The later of the two ends (FOREVER if either is permanent); null when neither was muted.
    active_until = models.DateTimeField(null=True, blank=True)
    observed_entry = models.ForeignKey(
        AuditEntry, on_delete=models.PROTECT, related_name="+", db_constraint=False
    )
    last_change_entry = models.ForeignKey(
        AuditEntry,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
    )
    last_change_at = models.DateTimeField(null=True, blank=True)
    last_operator = models.CharField(max_length=150, blank=True)
    last_reason = models.TextField(blank=True)
    # The code of the policy rule that change was made under, "" for none.
    last_rule = models.CharField(max_length=32, blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["app", "account"], name="mutestate_app_account_unique")
        ]
        indexes = [
            # The mute report: "accounts still muted at <now>", and with expired ones included.
            models.Index(fields=["active_until"], name="mutestate_active_until"),
            # The report's operator filter.
            models.Index(fields=["last_operator", "active_until"], name="mutestate_operator"),
            # The report's app filter.
            models.Index(fields=["app", "active_until"], name="mutestate_app"),
            # The report's rule filter.
            models.Index(fields=["last_rule", "active_until"], name="mutestate_rule"),
        ]

    def __str__(self) -> str:
        return f"{self.account} ({self.app}) as seen {self.observed_at:%Y-%m-%d %H:%M:%S}"
