from django.apps import AppConfig


class BulkConfig(AppConfig):
    name = "muteadmin.bulk"
    verbose_name = "Bulk jobs"
