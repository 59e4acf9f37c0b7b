from django.apps import AppConfig


class RulesConfig(AppConfig):
    name = "muteadmin.rules"
    verbose_name = "Policy rules"
