from celery import shared_task

from . import services


@shared_task
def results_compute(session_id):
    """Thin: the service replaces the results in one transaction, so a rerun after a lost
    worker gives the result of one clean run."""
    services.results_compute_now(session_id=session_id)
