from django.apps import AppConfig


class NoticesConfig(AppConfig):
    name = "muteadmin.notices"
    verbose_name = "Notices"
