"""Notice texts in the admin, beside the page Leads edit them on."""

from django.contrib import admin

from muteadmin.notices.models import NoticeTemplate


@admin.register(NoticeTemplate)
class NoticeTemplateAdmin(admin.ModelAdmin):
    list_display = ("__str__", "time_zone", "updated_at")
