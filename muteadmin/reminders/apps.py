from django.apps import AppConfig


class RemindersConfig(AppConfig):
    name = "muteadmin.reminders"
    verbose_name = "Review reminders"
