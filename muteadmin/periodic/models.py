"""What the periodic work remembers between ticks, in the database every worker shares."""

from django.db import models


class PeriodicJob(models.Model):
    """One registered periodic job: when it is due next, and how its last run went.

    A worker claims a run by moving `next_run` forward with a conditional UPDATE (where it still
    holds the value read), so two workers never start the same run.
    """

    name = models.CharField(max_length=100, unique=True)
    next_run = models.DateTimeField()
    last_started_at = models.DateTimeField(null=True, blank=True)
    last_finished_at = models.DateTimeField(null=True, blank=True)
    # Empty when the last run succeeded; else the exception's type and words.
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]
        default_permissions = ()

    def __str__(self) -> str:
        return f"{self.name} (next {self.next_run:%Y-%m-%d %H:%M:%S})"


class PeriodicTicker(models.Model):
    """The one row naming the current tick task: any other tick task ends without a successor.

    `beat_at` is when the current tick was queued by its predecessor (or started afresh); a
    running tick whose beat is long past died before queuing its successor.
    """

    task_id = models.CharField(max_length=64, blank=True)
    beat_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        default_permissions = ()

    def __str__(self) -> str:
        return f"tick {self.task_id or '(none)'}"
