"""Figures read from the database when /metrics is scraped, beside the processes' counters."""

from collections.abc import Iterator

from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from muteadmin.audit.checkpoints import checkpoint_last_at
from muteadmin.audit.selectors import audit_chain_head_completed_at, audit_pending_count
from muteadmin.bulk.selectors import bulk_backlog


class DatabaseCollector(Collector):
    """Pending audit rows, the chain head's and the last checkpoint's age, the bulk backlog."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        now = timezone.now()
        yield GaugeMetricFamily(
            "muteadmin_audit_pending_rows",
            "Audit rows begun and not yet completed (the sweeper completes old ones as unknown).",
            value=audit_pending_count(),
        )
        head = audit_chain_head_completed_at()
        if head is not None:
            yield GaugeMetricFamily(
                "muteadmin_audit_chain_head_age_seconds",
                "Seconds since the audit chain's last row was completed.",
                value=(now - head).total_seconds(),
            )
        checkpoint = checkpoint_last_at()
        if checkpoint is not None:
            yield GaugeMetricFamily(
                "muteadmin_audit_checkpoint_age_seconds",
                "Seconds since the last checkpoint line in AUDIT_CHECKPOINT_PATH was written.",
                value=(now - checkpoint).total_seconds(),
            )
        yield GaugeMetricFamily(
            "muteadmin_bulk_backlog_accounts",
            "Accounts that queued and running bulk jobs have still to send.",
            value=bulk_backlog(),
        )
