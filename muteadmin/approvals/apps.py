from django.apps import AppConfig


class ApprovalsConfig(AppConfig):
    name = "muteadmin.approvals"
    verbose_name = "Mute requests"
