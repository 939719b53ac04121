from celery import shared_task
from django.conf import settings

from . import services

# A check or an import stops (and fails) past its time limit; the hard limit kills the worker
# process if the soft one was not heeded. A job whose worker died is failed and can be retried.
CHECK_LIMITS = {
    "soft_time_limit": settings.SPREADSHEET_CHECK_SECONDS + 30,
    "time_limit": settings.SPREADSHEET_CHECK_SECONDS + 60,
}


def _redelivered(task):
    """True when the broker delivers this message again because the worker that had it died
    (settings: acks late, reject on worker lost)."""
    return bool((task.request.delivery_info or {}).get("redelivered"))


@shared_task(bind=True, **CHECK_LIMITS)
def import_check(self, job_id):
    services.import_job_check(job_id=job_id, redelivered=_redelivered(self))


@shared_task(**CHECK_LIMITS)
def import_apply(job_id):
    services.import_job_apply(job_id=job_id)


@shared_task(bind=True, soft_time_limit=settings.EXPORT_SECONDS, time_limit=settings.EXPORT_SECONDS + 30)
def export_run(self, job_id):
    services.export_job_run(job_id=job_id, redelivered=_redelivered(self))


@shared_task
def exports_clean():
    return services.export_files_clean()


@shared_task
def imports_fail_stalled():
    return services.import_jobs_fail_stalled()
