from django.apps import AppConfig


class TeamConfig(AppConfig):
    name = "muteadmin.team"
    verbose_name = "Team"
