from django.apps import AppConfig


class PoliciesConfig(AppConfig):
    name = "muteadmin.policies"
    verbose_name = "Mute policies"
