from celery import shared_task

from . import services


@shared_task
def import_check(job_id):
    services.import_job_check(job_id=job_id)


@shared_task
def import_apply(job_id):
    services.import_job_apply(job_id=job_id)


@shared_task
def export_run(job_id):
    services.export_job_run(job_id=job_id)


@shared_task
def exports_clean():
    return services.export_files_clean()
