"""Importing and exporting workbooks: check, preview, confirm, apply; export as jobs."""

import logging
import re
import tempfile
import unicodedata
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files import File
from django.db import transaction
from django.db.models import Q
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

HEADER_ROWS = 10  # the header row is looked for among the first rows (title rows above it)
EMPTY_RUN = 1000  # a run of this many empty rows ends a sheet (styled rows below the data)
DECORATIONS = re.compile(r"[(\[【]\s*(?:必填|选填|必填项|选填项)\s*[)\]】]|[*※]|[:：]$")
LEADING_NUMBER = "序号"


def header_key(value):
    """A header as written, without spaces and decorations such as （必填） or *."""
    if value is None:
        return ""
    text = unicodedata.normalize("NFKC", str(value))
    text = "".join(text.split())
    return DECORATIONS.sub("", text)


def sheet_key(name):
    return "".join(unicodedata.normalize("NFKC", str(name)).split())


def _find_header(first_rows, importer):
    """(row number, header keys) of the first row among `first_rows` holding every required
    header, or (None, (hits, row number, headers found)) for the row that came closest."""
    wanted = {header_key(column.header): column for column in importer.columns}
    required = {key for key, column in wanted.items() if column.required}
    best = (0, None, [])
    for number, cells in first_rows:
        keys = [header_key(cell.value) for cell in cells]
        hits = [key for key in keys if key in wanted]
        if required <= set(hits) and hits:
            return number, keys
        if len(hits) > best[0]:
            best = (len(hits), number, [key for key in keys if key])
    return None, best


def _header_columns(number, keys, importer, context):
    """({column key: index}, ignored headers) from a header row, or (None, []) after reporting
    the columns it lacks."""
    index = {}
    for position, key in enumerate(keys):
        if key and key not in index:
            index[key] = position
    missing = [column.header for column in importer.columns if header_key(column.header) not in index]
    if missing:
        context.errors.append(
            RowError(
                importer.name,
                number,
                _("header"),
                _("The header row lacks the columns %(missing)s; the columns are, in any order: %(headers)s.")
                % {"missing": "、".join(missing), "headers": "、".join(importer.headers)},
            )
        )
        return None, []
    known = {header_key(column.header) for column in importer.columns}
    ignored = [key for key in index if key not in known and key != LEADING_NUMBER]
    return {column.key: index[header_key(column.header)] for column in importer.columns}, ignored


def _no_header(importer, best, context):
    _hits, number, found = best
    required = [column.header for column in importer.columns if column.required]
    if found:
        message = _(
            "No header row was found in the first %(count)s rows. Row %(row)s has the headers %(found)s; "
            "missing: %(missing)s."
        ) % {
            "count": HEADER_ROWS,
            "row": number,
            "found": "、".join(found),
            "missing": "、".join(
                column.header for column in importer.columns if header_key(column.header) not in set(found)
            ),
        }
    else:
        message = _("No header row was found in the first %(count)s rows; the header row must hold %(headers)s.") % {
            "count": HEADER_ROWS,
            "headers": "、".join(required),
        }
    context.errors.append(RowError(importer.name, number or 1, _("header"), message))


def _first_rows(book, name):
    rows = []
    for number, cells in book.rows(name):
        rows.append((number, cells))
        if len(rows) >= HEADER_ROWS:
            break
    return rows


def _sheets_to_read(book, wanted):
    """[(importer, sheet name in the file, note)]: sheets by their name (spaces trimmed), else
    a workbook's only sheet by its header row when that matches exactly one known sheet."""
    by_key = {}
    for name in book.sheetnames:
        by_key.setdefault(sheet_key(name), name)
    importers = [importer for importer in sheets_in_order() if not wanted or importer.name in wanted]
    present = [(importer, by_key[importer.name], None) for importer in importers if importer.name in by_key]
    if present or len(book.sheetnames) != 1:
        return present
    only = book.sheetnames[0]
    first = _first_rows(book, only)
    matches = [importer for importer in importers if _find_header(first, importer)[0] is not None]
    if len(matches) != 1:
        return []
    note = _("The sheet 「%(found)s」 was read as 「%(sheet)s」: its header row is that sheet's.") % {
        "found": only,
        "sheet": matches[0].name,
    }
    return [(matches[0], only, note)]


def workbook_plan(file, *, user, limits=None, target=None, name="upload.xlsx"):
    """Check every registered sheet of the workbook and plan what importing would do.

    Returns (context, [(importer, plan)]); context.errors lists every bad row. Writes nothing.
    """
    limits = limits or Limits.from_settings()
    book = open_workbook(file, name=name, limits=limits)
    try:
        # An upload from an object's page (target["sheets"]) imports those sheets only.
        wanted = (target or {}).get("sheets")
        present = _sheets_to_read(book, wanted)
        if wanted and not present:
            raise WorkbookRefused(
                _("The workbook has no sheet named %(names)s, the sheet this page takes.")
                % {"names": "、".join(wanted)}
            )
        if not present:
            names = "、".join(importer.name for importer in sheets_in_order())
            raise WorkbookRefused(
                _("The workbook has no sheet that can be imported; sheets are named %(names)s.") % {"names": names}
            )
        importers = [importer for importer, _name, _note in present]
        refused = [importer.name for importer in importers if not importer.allowed(user)]
        if refused:
            raise WorkbookRefused(
                _("Your roles do not allow importing the sheet %(names)s.") % {"names": "、".join(refused)}
            )
        if user is None:
            needing = [importer.name for importer in importers if importer.needs_user]
            if needing:
                raise WorkbookRefused(needs_user_message(needing))
        context = ImportContext(user=user, target=dict(target or {}))
        plans = []
        for importer, sheet_name, note in present:
            notes = [note] if note else []
            rows = _sheet_rows(book, sheet_name, importer, context, limits, notes)
            # A streaming importer checks the rows a chunk at a time as they are read (memory
            # bounded whatever the size); the others get the sheet's rows as a list.
            plan = importer.plan(rows if importer.streams else list(rows), context)
            plan.notes[:0] = notes
            plans.append((importer, plan))
        context.errors.sort(key=_error_order(importers))
        return context, plans
    finally:
        book.close()


def needs_user_message(sheets):
    return _("The sheet %(sheets)s records who imported it: give the user to import as (--user username).") % {
        "sheets": "、".join(sheets)
    }


def _is_empty(cells, indexes):
    for index in indexes:
        if index < len(cells):
            value = cells[index].value
            if value is not None and str(value).strip() != "":
                return False
    return True


def _sheet_rows(book, sheet_name, importer, context, limits, notes):
    """The sheet's data rows, parsed, as they are read (a generator); bad cells are reported,
    and so is a missing header row once the sheet is read."""
    first = []
    columns = None
    empty_run = counted = 0
    for number, cells in book.rows(sheet_name):
        if number % 500 == 0:
            book.deadline.check()
        if len(cells) > limits.columns and any(
            cell.value is not None and str(cell.value).strip() for cell in cells[limits.columns :]
        ):
            raise WorkbookRefused(
                _("The sheet %(sheet)s has more than %(limit)s columns.")
                % {"sheet": sheet_name, "limit": limits.columns}
            )
        book.count_text(cells)
        if columns is None:
            first.append((number, cells))
            found = _find_header([(number, cells)], importer)
            if found[0] is not None:
                columns, ignored = _header_columns(found[0], found[1], importer, context)
                if columns is None:
                    return
                if ignored:
                    notes.append(_("Columns not imported: %(columns)s.") % {"columns": "、".join(ignored)})
                indexes = list(columns.values())
            elif len(first) >= HEADER_ROWS:
                break
            continue
        if _is_empty(cells, indexes):
            empty_run += 1
            if empty_run >= EMPTY_RUN:
                break  # styled empty rows below the data
            continue
        empty_run = 0
        counted += 1
        if counted > limits.rows:
            raise WorkbookRefused(
                _("The sheet %(sheet)s has more than %(limit)s rows.") % {"sheet": sheet_name, "limit": limits.rows}
            )
        row = Row(sheet=importer.name, number=number, values={})
        for column in importer.columns:
            index = columns[column.key]
            cell = cells[index] if index < len(cells) else None
            try:
                row.values[column.key] = column.parse(cell)
            except CellError as error:
                row.values[column.key] = None
                row.failed = True
                context.error(row, column.header, error)
        yield row
    if columns is None:
        _no_header(importer, _find_header(first, importer)[1], context)


def _error_order(importers):
    """Errors as the workbook reads: by sheet, then row, then column from left to right."""
    sheets = {importer.name: index for index, importer in enumerate(importers)}
    columns = {
        (importer.name, header): index for importer in importers for index, header in enumerate(importer.headers)
    }
    return lambda error: (sheets[error.sheet], error.row, columns.get((error.sheet, error.column), -1))


QUOTED = re.compile(r"「[^」]*」")
COLLAPSE_FROM = 4  # this many rows with the same mistake are shown as one line
EXAMPLES = 3


def row_ranges(numbers, *, limit=12):
    """2, 3, 4, 7 → "2–4、7"."""
    ranges = []
    for number in sorted(set(numbers)):
        if ranges and number == ranges[-1][1] + 1:
            ranges[-1][1] = number
        else:
            ranges.append([number, number])
    parts = [str(a) if a == b else f"{a}–{b}" for a, b in ranges]
    if len(parts) > limit:
        parts = [*parts[:limit], "…"]
    return "、".join(parts)


def _error_key(error):
    return (error["sheet"], error["column"], QUOTED.sub("「」", error["message"]))


def collapse_errors(errors):
    """Error dicts, those of the same mistake in many rows (same sheet, column and message
    but for the quoted value) as one line with the row ranges and the first examples."""
    groups = {}
    for error in errors:
        groups.setdefault(_error_key(error), []).append(error)
    collapsed, emitted = [], set()
    for error in errors:
        key = _error_key(error)
        group = groups[key]
        if len(group) < COLLAPSE_FROM:
            collapsed.append(error)
        elif key not in emitted:
            emitted.add(key)
            collapsed.append(
                {
                    "sheet": error["sheet"],
                    "row": row_ranges(member["row"] for member in group),
                    "column": error["column"],
                    "message": _("%(count)s rows: %(message)s") % {"count": len(group), "message": error["message"]},
                    "count": len(group),
                    "examples": [
                        _("row %(row)s: %(message)s") % {"row": member["row"], "message": member["message"]}
                        for member in group[:EXAMPLES]
                    ],
                }
            )
    return collapsed


def workbook_apply(context, plans):
    """Write the plans. Call inside a transaction, only when context.errors is empty."""
    for importer, plan in plans:
        importer.apply(plan, context)


def workbook_import(file, *, user, dry_run, target=None, name="upload.xlsx"):
    """Check and (unless dry_run) import a workbook in one transaction: all or nothing.

    Returns (plans as dicts, errors as dicts, one per bad cell). Used by the command line and
    the jobs below; collapse_errors() makes the list people read.
    """
    with transaction.atomic():
        context, plans = workbook_plan(file, user=user, target=target, name=name)
        if not context.errors and not dry_run:
            workbook_apply(context, plans)
    return [plan.as_dict() for _importer, plan in plans], [error.as_dict() for error in context.errors]


def nothing_changes(plans):
    return all(plan["created"] == 0 and plan["updated"] == 0 for plan in plans)


# --- import jobs (the upload page) ---------------------------------------------------------


def stalled_before(now=None):
    """A check or an import that started before this moment has outlived its time limit: its
    worker died (or was killed), and the job is failed."""
    return (now or timezone.now()) - timedelta(seconds=settings.SPREADSHEET_CHECK_SECONDS * 2 + 60)


@transaction.atomic
def import_job_create(*, actor, upload, target=None):
    """Keep an uploaded workbook (already refused or accepted by check_upload) and start its
    check as a job: the web request only stores the file."""
    from .tasks import import_check

    kind = check_upload(upload, name=upload.name)
    job = ImportJob(requester=actor, original_name=upload.name[:255], target=dict(target or {}))
    job.file.save(f"upload.{kind}", upload, save=False)
    job.save()
    import_check.delay_on_commit(job.pk)
    return job


def import_job_check(*, job_id, redelivered=False):
    """The dry run: check the file and store the preview or the errors. Safe to run twice.
    A check delivered again because its worker died is not run again: the file may be what
    killed it, so the job is failed and its requester may retry it."""
    if redelivered and ImportJob.objects.filter(pk=job_id, status=ImportJob.Status.CHECKING).update(
        status=ImportJob.Status.FAILED, message=_("The check was interrupted (the worker stopped).")
    ):
        return
    if not ImportJob.objects.filter(pk=job_id, status=ImportJob.Status.UPLOADED).update(
        status=ImportJob.Status.CHECKING, started_at=timezone.now()
    ):
        return
    job = ImportJob.objects.select_related("requester").get(pk=job_id)
    try:
        with translation.override(settings.LANGUAGE_CODE), job.file.open("rb") as file:
            try:
                plans, errors = workbook_import(
                    file, user=job.requester, dry_run=True, target=job.target, name=job.original_name
                )
            except WorkbookRefused as refused:
                plans, errors, job.message = [], [], str(refused)
            _store_outcome(job, plans, errors, ok_status=ImportJob.Status.VALID)
    except Exception as error:
        logger.exception("import check %s failed", job_id)
        ImportJob.objects.filter(pk=job_id).update(status=ImportJob.Status.FAILED, message=str(error)[:2000])
        raise
    job.checked_at = timezone.now()
    job.save()


def _store_outcome(job, plans, errors, *, ok_status):
    with translation.override(settings.LANGUAGE_CODE):
        shown = collapse_errors(errors)
    job.plans = plans
    job.errors = shown[:MAX_STORED_ERRORS]
    job.error_count = len(errors)
    job.status = ImportJob.Status.INVALID if errors or job.message else ok_status


def import_job_confirm(*, actor, job):
    """The requester confirms a checked preview; the import runs as a job."""
    from .tasks import import_apply

    if job.requester_id != actor.pk:
        raise PermissionDenied
    with transaction.atomic():
        claimed = ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.VALID).update(
            status=ImportJob.Status.APPLYING, started_at=timezone.now()
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
            # A second delivery of the same job waits here, then finds it applied: one import.
            # One whose worker died finds it still applying, with nothing written: it imports.
            job = ImportJob.objects.select_for_update(of=("self",)).select_related("requester").get(pk=job_id)
            if job.status != ImportJob.Status.APPLYING:
                return
            context, plans = workbook_plan(file, user=job.requester, target=job.target, name=job.original_name)
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


def import_jobs_fail_stalled(*, now=None):
    """Mark as failed the checks, imports and exports whose worker died: a check can then be
    retried, an export asked for again. An import that died wrote nothing (one transaction)."""
    now = now or timezone.now()
    failed = ImportJob.objects.filter(
        status__in=[ImportJob.Status.CHECKING, ImportJob.Status.APPLYING], started_at__lt=stalled_before(now)
    ).update(status=ImportJob.Status.FAILED, message=_("The check was interrupted (the worker stopped)."))
    failed += ExportJob.objects.filter(
        status=ExportJob.Status.RUNNING, started_at__lt=now - timedelta(seconds=settings.EXPORT_SECONDS + 60)
    ).update(
        status=ExportJob.Status.FAILED, error=_("The export was interrupted (the worker stopped)."), finished_at=now
    )
    return failed


def import_job_retry(*, actor, job):
    """Check a failed (or stalled) job's file again from the start; the requester confirms the
    new preview. Returns False when the job cannot be retried."""
    from .tasks import import_check

    if job.requester_id != actor.pk:
        raise PermissionDenied
    with transaction.atomic():
        retried = (
            ImportJob.objects.filter(pk=job.pk)
            .filter(
                Q(status=ImportJob.Status.FAILED)
                | Q(
                    status__in=[ImportJob.Status.CHECKING, ImportJob.Status.APPLYING],
                    started_at__lt=stalled_before(),
                )
            )
            .update(status=ImportJob.Status.UPLOADED, message="", errors=[], error_count=0, plans=[], started_at=None)
        )
        if retried:
            import_check.delay_on_commit(job.pk)
    return bool(retried)


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


def export_job_run(*, job_id, redelivered=False):
    """Write the export's file, streaming rows from the database. Safe to run twice: only the
    run that moves the job from waiting to exporting does the work, or, when the broker
    delivers it again because its worker died, the run that takes it over (the visibility
    timeout outlasts the time limit, so the first run is dead by then)."""
    claimable = [ExportJob.Status.PENDING, ExportJob.Status.RUNNING] if redelivered else [ExportJob.Status.PENDING]
    if not ExportJob.objects.filter(pk=job_id, status__in=claimable).update(
        status=ExportJob.Status.RUNNING, started_at=timezone.now(), progress=0
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
