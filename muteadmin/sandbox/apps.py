from django.apps import AppConfig


class SandboxConfig(AppConfig):
    name = "muteadmin.sandbox"
    verbose_name = "Sandbox emulator"
