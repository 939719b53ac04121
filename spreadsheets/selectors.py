from .models import ExportJob, ImportJob
from .registry import EXPORTS, sheets_in_order


def sheets_importable_by(user):
    return [importer for importer in sheets_in_order() if importer.allowed(user)]


def import_jobs_of(user, *, limit=20):
    return ImportJob.objects.filter(requester=user)[:limit]


def export_jobs_of(user, *, limit=50):
    return ExportJob.objects.filter(requester=user)[:limit]


def export_spec_for(kind):
    return EXPORTS.get(kind)
