from celery import shared_task

from . import services


@shared_task
def reminders_send():
    return services.reminders_send()


@shared_task
def progress_snapshot_take():
    return services.progress_snapshot_take()


@shared_task
def issue(run_id):
    """Thin: issuing adds only what is missing, so a rerun after a lost worker completes it."""
    services.issue_run(run_id=run_id)


@shared_task
def progress_counts_recount():
    """Daily: the progress counts recounted from the occurrences (returns rows, rows corrected)."""
    return services.progress_counts_recount()
