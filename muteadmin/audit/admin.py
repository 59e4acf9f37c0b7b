"""The audit log in Django's admin: browsable, never editable."""

from django.contrib import admin

from muteadmin.audit.models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = [
        "created_at",
        "operator_username",
        "action",
        "account",
        "c2c_requested",
        "group_requested",
        "outcome",
        "error_code",
        "latency_ms",
    ]
    list_filter = ["action", "outcome"]
    search_fields = ["account", "operator_username"]
    date_hierarchy = "created_at"
    show_full_result_count = False

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
