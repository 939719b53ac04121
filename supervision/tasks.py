from celery import shared_task

from . import services


@shared_task
def deadlines_check():
    return services.deadlines_check()
