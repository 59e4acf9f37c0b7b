"""How long a mute each role's members may set alone, per kind of mute."""

from django.contrib.auth.models import Group
from django.db import models
from django.utils.translation import gettext_lazy as _

from muteadmin.tencent.nospeaking import PERMANENT

# What `longest_seconds` holds besides a length: no mute at all (lifting only), or any length
# up to and including a permanent mute.
NO_MUTES = 0
UNLIMITED = PERMANENT


class MuteLimit(models.Model):
    """The longest mute of one kind a group's members may set without a Lead's approval.

    A group without a row for a kind may set none of that kind (lifting is always allowed).
    """

    class Kind(models.TextChoices):
        C2C = "c2c", _("One-to-one (C2C) messages")
        GROUP = "group", _("Group messages")

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="mute_limits")
    kind = models.CharField(max_length=8, choices=Kind)
    # NO_MUTES, a length in seconds, or UNLIMITED (permanent mutes included).
    longest_seconds = models.PositiveBigIntegerField(default=NO_MUTES)
    changed_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["group__name", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["group", "kind"], name="mutelimit_group_kind_unique"),
            models.CheckConstraint(
                condition=models.Q(longest_seconds__lte=UNLIMITED),
                name="mutelimit_longest_in_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.group} {self.kind}: {self.longest_seconds} s"
