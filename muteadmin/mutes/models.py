"""Permissions for mutes. Tencent, not this database, holds the mutes themselves."""

from django.db import models


class Mute(models.Model):
    """Anchors the mute permissions; it has no table.

    How long a mute someone may set (permanent included) is their groups' limit
    (muteadmin.policies), not a permission.
    """

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [
            ("query_mute", "Can look up an account's mutes"),
            ("change_mute", "Can mute, extend, shorten and lift mutes"),
        ]

    def __str__(self) -> str:
        return "mute permissions"
