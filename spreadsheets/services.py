"""Importing and exporting workbooks: check, preview, confirm, apply; export as jobs."""

import logging
import tempfile
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files import File
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from .models import ExportJob, ImportJob
from .reading import CellError, Limits, WorkbookRefused, check_upload, open_workbook
from .registry import EXPORTS, ImportContext, Row, RowError, sheets_in_order
from .writing import write_workbook

logger = logging.getLogger(__name__)

MAX_STORED_ERRORS = 1000


class ImportFailed(Exception):
    """Raised inside the import transaction to roll it back when the file has errors."""

    def __init__(self, errors):
        super().__init__(f"{len(errors)} errors")
        self.errors = errors


# --- reading and planning a workbook -------------------------------------------------------


def workbook_plan(file, *, user, limits=None, target=None):
    """Check every registered sheet of the workbook and plan what importing would do.

    Returns (context, [(importer, plan)]); context.errors lists every bad row. Writes nothing.
    """
    limits = limits or Limits.from_settings()
    workbook = open_workbook(file)
    try:
        present = [importer for importer in sheets_in_order() if importer.name in workbook.sheetnames]
        # An upload from an object's page (target["sheets"]) imports those sheets only.
        wanted = (target or {}).get("sheets")
        if wanted:
            present = [importer for importer in present if importer.name in wanted]
            if not present:
                raise WorkbookRefused(
                    _("The workbook has no sheet named %(names)s, the sheet this page takes.")
                    % {"names": "、".join(wanted)}
                )
        if not present:
            names = "、".join(importer.name for importer in sheets_in_order())
            raise WorkbookRefused(
                _("The workbook has no sheet that can be imported; sheets are named %(names)s.") % {"names": names}
            )
        refused = [importer.name for importer in present if not importer.allowed(user)]
        if refused:
            raise WorkbookRefused(
                _("Your roles do not allow importing the sheet %(names)s.") % {"names": "、".join(refused)}
            )
        context = ImportContext(user=user, target=dict(target or {}))
        plans = []
        for importer in present:
            rows = _sheet_rows(workbook[importer.name], importer, context, limits)
            plans.append((importer, importer.plan(rows, context)))
        context.errors.sort(key=_error_order(present))
        return context, plans
    finally:
        workbook.close()


def _sheet_rows(sheet, importer, context, limits):
    if (sheet.max_column or 0) > limits.columns:
        raise WorkbookRefused(
            _("The sheet %(sheet)s has more than %(limit)s columns.")
            % {"sheet": importer.name, "limit": limits.columns}
        )
    rows = []
    header_checked = False
    for number, cells in enumerate(sheet.iter_rows(), start=1):
        if number > limits.rows + 1:
            raise WorkbookRefused(
                _("The sheet %(sheet)s has more than %(limit)s rows.") % {"sheet": importer.name, "limit": limits.rows}
            )
        if len(cells) > limits.columns:
            raise WorkbookRefused(
                _("The sheet %(sheet)s has more than %(limit)s columns.")
                % {"sheet": importer.name, "limit": limits.columns}
            )
        if not header_checked:
            header_checked = True
            if not _header_matches(cells, importer):
                context.errors.append(
                    RowError(
                        importer.name,
                        number,
                        _("header"),
                        _("The header row must read, from column A on: %(headers)s.")
                        % {"headers": "、".join(importer.headers)},
                    )
                )
                return []
            continue
        if all(cell.value is None or str(cell.value).strip() == "" for cell in cells):
            continue  # blank lines are allowed anywhere
        row = Row(sheet=importer.name, number=number, values={})
        for index, column in enumerate(importer.columns):
            cell = cells[index] if index < len(cells) else None
            try:
                row.values[column.key] = column.parse(cell)
            except CellError as error:
                row.values[column.key] = None
                row.failed = True
                context.error(row, column.header, error)
        rows.append(row)
    return rows


def _error_order(importers):
    """Errors as the workbook reads: by sheet, then row, then column from left to right."""
    sheets = {importer.name: index for index, importer in enumerate(importers)}
    columns = {
        (importer.name, header): index for importer in importers for index, header in enumerate(importer.headers)
    }
    return lambda error: (sheets[error.sheet], error.row, columns.get((error.sheet, error.column), -1))


def _header_matches(cells, importer):
    found = ["" if cell.value is None else "".join(str(cell.value).split()) for cell in cells[: len(importer.columns)]]
    return found == importer.headers


def workbook_apply(context, plans):
    """Write the plans. Call inside a transaction, only when context.errors is empty."""
    for importer, plan in plans:
        importer.apply(plan, context)


def workbook_import(file, *, user, dry_run, target=None):
    """Check and (unless dry_run) import a workbook in one transaction: all or nothing.

    Returns (plans as dicts, errors as dicts). Used by the command line and the jobs below.
    """
    with transaction.atomic():
        context, plans = workbook_plan(file, user=user, target=target)
        if not context.errors and not dry_run:
            workbook_apply(context, plans)
    return [plan.as_dict() for _importer, plan in plans], [error.as_dict() for error in context.errors]


# --- import jobs (the upload page) ---------------------------------------------------------


@transaction.atomic
def import_job_create(*, actor, upload, target=None):
    """Keep an uploaded workbook (already refused or accepted by check_upload) and start its check."""
    from .tasks import import_check

    check_upload(upload, name=upload.name)
    job = ImportJob(requester=actor, original_name=upload.name[:255], target=dict(target or {}))
    job.file.save("upload.xlsx", upload, save=False)
    job.save()
    import_check.delay_on_commit(job.pk)
    return job


def import_job_check(*, job_id):
    """The dry run: check the file and store the preview or the errors. Safe to run twice."""
    if not ImportJob.objects.filter(pk=job_id, status=ImportJob.Status.UPLOADED).update(
        status=ImportJob.Status.CHECKING
    ):
        return
    job = ImportJob.objects.select_related("requester").get(pk=job_id)
    with translation.override(settings.LANGUAGE_CODE), job.file.open("rb") as file:
        try:
            plans, errors = workbook_import(file, user=job.requester, dry_run=True, target=job.target)
        except WorkbookRefused as refused:
            plans, errors, job.message = [], [], str(refused)
    _store_outcome(job, plans, errors, ok_status=ImportJob.Status.VALID)
    job.checked_at = timezone.now()
    job.save()


def _store_outcome(job, plans, errors, *, ok_status):
    job.plans = plans
    job.errors = errors[:MAX_STORED_ERRORS]
    job.error_count = len(errors)
    job.status = ImportJob.Status.INVALID if errors or job.message else ok_status


def import_job_confirm(*, actor, job):
    """The requester confirms a checked preview; the import runs as a job."""
    from .tasks import import_apply

    if job.requester_id != actor.pk:
        raise PermissionDenied
    with transaction.atomic():
        claimed = ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.VALID).update(
            status=ImportJob.Status.APPLYING
        )
        if claimed:
            import_apply.delay_on_commit(job.pk)
    return bool(claimed)


def import_job_apply(*, job_id):
    """Import a confirmed workbook in one transaction, checking it again first: the data may
    have changed since the preview. Any error leaves everything as it was."""
    job = ImportJob.objects.select_related("requester").get(pk=job_id)
    if job.status != ImportJob.Status.APPLYING:
        return
    try:
        with translation.override(settings.LANGUAGE_CODE), job.file.open("rb") as file, transaction.atomic():
            context, plans = workbook_plan(file, user=job.requester, target=job.target)
            if context.errors:
                raise ImportFailed([error.as_dict() for error in context.errors])
            workbook_apply(context, plans)
            _store_outcome(job, [plan.as_dict() for _importer, plan in plans], [], ok_status=ImportJob.Status.APPLIED)
            job.applied_at = timezone.now()
            job.save()
    except ImportFailed as failed:
        _store_outcome(job, job.plans, failed.errors, ok_status=ImportJob.Status.INVALID)
        job.save()
    except WorkbookRefused as refused:
        job.message = str(refused)
        _store_outcome(job, [], [], ok_status=ImportJob.Status.INVALID)
        job.save()
    except Exception as error:
        logger.exception("import job %s failed", job_id)
        ImportJob.objects.filter(pk=job_id).update(status=ImportJob.Status.FAILED, message=str(error)[:2000])


# --- export jobs ---------------------------------------------------------------------------


def export_spec(kind):
    try:
        return EXPORTS[kind]
    except KeyError:
        raise PermissionDenied from None


@transaction.atomic
def export_job_create(*, actor, kind, params):
    from .tasks import export_run

    spec = export_spec(kind)
    if not spec.allowed(actor, params):
        raise PermissionDenied
    job = ExportJob.objects.create(kind=kind, params=params, title=spec.title(params), requester=actor)
    export_run.delay_on_commit(job.pk)
    return job


def export_job_run(*, job_id):
    """Write the export's file, streaming rows from the database. Safe to run twice: only the
    run that moves the job from waiting to exporting does the work."""
    if not ExportJob.objects.filter(pk=job_id, status=ExportJob.Status.PENDING).update(
        status=ExportJob.Status.RUNNING, started_at=timezone.now()
    ):
        return
    job = ExportJob.objects.select_related("requester").get(pk=job_id)
    spec = export_spec(job.kind)
    try:
        with translation.override(settings.LANGUAGE_CODE), tempfile.TemporaryFile() as buffer:
            total, rows = spec.rows_for(job.params, job.requester)
            ExportJob.objects.filter(pk=job_id).update(total=total)

            def progress(written):
                ExportJob.objects.filter(pk=job_id).update(progress=written)

            written = write_workbook(
                buffer, [(spec.sheet_name, spec.columns_for(job.params), rows)], on_progress=progress
            )
            buffer.seek(0)
            job.file.save(spec.filename(job.params), File(buffer), save=False)
        ExportJob.objects.filter(pk=job_id).update(
            file=job.file.name,
            progress=written,
            total=max(total, written),
            status=ExportJob.Status.DONE,
            finished_at=timezone.now(),
        )
    except Exception as error:
        logger.exception("export job %s failed", job_id)
        ExportJob.objects.filter(pk=job_id).update(
            status=ExportJob.Status.FAILED, error=str(error)[:2000], finished_at=timezone.now()
        )


def export_to_path(*, kind, params, path):
    """The same export without a job, for the command line. Returns the number of rows."""
    spec = export_spec(kind)
    with translation.override(settings.LANGUAGE_CODE):
        _total, rows = spec.rows(params)
        return write_workbook(path, [(spec.sheet_name, spec.columns_for(params), rows)])


def export_files_clean(*, now=None):
    """Delete export files older than the retention period (default 7 days, DESIGN.md 7)."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.EXPORT_RETENTION_DAYS)
    expired = ExportJob.objects.filter(created_at__lt=cutoff).exclude(status=ExportJob.Status.EXPIRED)
    count = 0
    for job in expired.iterator():
        if job.file:
            job.file.delete(save=False)
        count += 1
    expired.update(status=ExportJob.Status.EXPIRED, file="")
    return count
