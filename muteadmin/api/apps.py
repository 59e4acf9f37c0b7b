from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "muteadmin.api"
    verbose_name = "API"
