"""Policy rules: why an account is muted (spam, harassment...) and how long, offence by offence."""

from django.db import models

from muteadmin.tencent.nospeaking import PERMANENT

KINDS = ("c2c", "group")
DEFAULT_WINDOW_DAYS = 90


class Rule(models.Model):
    """A policy a change of mutes is made under, with a ladder of lengths per kind of mute.

    `ladders` maps a kind ("c2c", "group") to the lengths in seconds for the first, second...
    offence within `window_days` (PERMANENT for a permanent mute); a kind without a ladder gets
    no suggestion. A rule once used is retired (`retired_at`), never deleted: audit rows name it.
    """

    code = models.SlugField(max_length=32, unique=True)
    title_en = models.CharField(max_length=100)
    title_zh_hans = models.CharField(max_length=100)
    description_en = models.TextField(blank=True)
    description_zh_hans = models.TextField(blank=True)
    ladders = models.JSONField(default=dict, blank=True)
    window_days = models.PositiveIntegerField(default=DEFAULT_WINDOW_DAYS)
    # Whether the muted user is told by default when a change is made under this rule.
    notify_by_default = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    changed_at = models.DateTimeField(auto_now=True)
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(window_days__gte=1), name="rule_window_at_least_a_day"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code}: {self.title_en}"

    @property
    def retired(self) -> bool:
        return self.retired_at is not None

    def ladder(self, kind: str) -> list[int]:
        """The lengths for `kind`, first offence first (empty when the rule suggests none)."""
        steps = self.ladders.get(kind) or []
        return [int(seconds) for seconds in steps if 0 < int(seconds) <= PERMANENT]
