from celery import shared_task

from . import services


@shared_task
def aggregate(run_id):
    """Thin: the service computes and replaces the results in one transaction, so a rerun after
    a lost worker gives the result of one clean run."""
    services.aggregation_run(run_id=run_id)
