"""Permissions for mutes. Tencent, not this database, holds the mutes themselves."""

from django.db import models


class Mute(models.Model):
    """Anchors the mute permissions; it has no table."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [
            ("query_mute", "Can look up an account's mutes"),
            ("change_mute", "Can mute, extend, shorten and lift mutes"),
            ("mute_permanently", "Can mute an account permanently"),
        ]

    def __str__(self) -> str:
        return "mute permissions"
