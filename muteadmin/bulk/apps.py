from django.apps import AppConfig


class BulkConfig(AppConfig):
    name = "muteadmin.bulk"
    verbose_name = "Bulk jobs"

    def ready(self) -> None:
        from muteadmin.bulk.schedule import START_EVERY_SECONDS
        from muteadmin.periodic.registry import periodic_register

        periodic_register(name="bulk_jobs_start_due", every=START_EVERY_SECONDS, run=_start_due)


def _start_due() -> int:
    from muteadmin.bulk.schedule import bulk_jobs_start_due
    from muteadmin.bulk.tasks import task_queue

    return len(bulk_jobs_start_due(queue=task_queue))
