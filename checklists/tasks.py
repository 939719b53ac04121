from celery import shared_task

from . import services


@shared_task
def reminders_send():
    return services.reminders_send()


@shared_task
def progress_snapshot_take():
    return services.progress_snapshot_take()
