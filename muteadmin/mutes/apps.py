from django.apps import AppConfig


class MutesConfig(AppConfig):
    name = "muteadmin.mutes"
    verbose_name = "Mutes"
