"""Admin pages to inspect the sandbox's mutes and queue or drop faults without a shell."""

from django.contrib import admin

from muteadmin.sandbox.models import SandboxFault, SandboxMute


@admin.register(SandboxMute)
class SandboxMuteAdmin(admin.ModelAdmin):
    """Read-only: mutes change only through setnospeaking, as on Tencent."""

    list_display = (
        "account",
        "sdkappid",
        "c2c_permanent",
        "c2c_until",
        "group_permanent",
        "group_until",
        "changed_at",
    )
    search_fields = ("account",)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(SandboxFault)
class SandboxFaultAdmin(admin.ModelAdmin):
    """The fault queue, oldest (next to fire) first."""

    list_display = ("pk", "kind", "code", "created_at")
    fields = ("kind", "code")
