import io

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from . import selectors, services
from .forms import UploadForm
from .models import ExportJob, ImportJob
from .registry import SHEETS
from .writing import column_example, write_template


def _importable_or_403(user):
    sheets = selectors.sheets_importable_by(user)
    if not sheets:
        raise PermissionDenied
    return sheets


@login_required
def import_upload(request):
    sheets = _importable_or_403(request.user)
    form = UploadForm()
    if request.method == "POST":
        # Refuse an oversized body before reading it (DESIGN.md 7: 20 MB by default).
        if int(request.META.get("CONTENT_LENGTH") or 0) > settings.SPREADSHEET_MAX_FILE_BYTES + 64 * 1024:
            form.errors["file"] = form.error_class(
                [
                    _("The file is larger than %(limit)s MB.")
                    % {"limit": settings.SPREADSHEET_MAX_FILE_BYTES // 1024 // 1024}
                ]
            )
        else:
            form = UploadForm(request.POST, request.FILES)
            if form.is_valid():
                job = services.import_job_create(actor=request.user, upload=form.cleaned_data["file"])
                return redirect("spreadsheets:import_detail", pk=job.pk)
    context = {"form": form, "sheets": sheets, "jobs": selectors.import_jobs_of(request.user)}
    return render(request, "spreadsheets/import.html", context)


def _own_import(request, pk):
    return get_object_or_404(ImportJob, pk=pk, requester=request.user)


@login_required
def import_detail(request, pk):
    job = _own_import(request, pk)
    template = "spreadsheets/_import_status.html" if request.htmx else "spreadsheets/import_detail.html"
    return render(request, template, {"job": job})


@login_required
@require_POST
def import_confirm(request, pk):
    job = _own_import(request, pk)
    if not services.import_job_confirm(actor=request.user, job=job):
        messages.error(request, _("This file cannot be imported in its present state."))
    return redirect("spreadsheets:import_detail", pk=job.pk)


@login_required
@require_POST
def import_retry(request, pk):
    job = _own_import(request, pk)
    if not services.import_job_retry(actor=request.user, job=job):
        messages.error(request, _("This file cannot be checked again in its present state."))
    return redirect("spreadsheets:import_detail", pk=job.pk)


@login_required
def template_download(request, sheet):
    importer = SHEETS.get(sheet)
    if importer is None:
        raise Http404
    if not importer.allowed(request.user):
        raise PermissionDenied
    buffer = io.BytesIO()
    write_template(
        buffer,
        importer,
        guide_title=_("How to fill in"),
        guide_headers=[_("column"), _("required"), _("what to write"), _("example")],
        guide_rows=[
            (column.header, _("yes") if column.required else _("no"), _column_guide(column), column_example(column))
            for column in importer.columns
        ],
        example_title=_("An example row of the sheet %(sheet)s:") % {"sheet": importer.name},
    )
    buffer.seek(0)
    return FileResponse(buffer, as_attachment=True, filename=f"{importer.name}模板.xlsx")


def _column_guide(column):
    if column.kind == "choice":
        return _("one of: %(choices)s") % {"choices": "、".join(column.choices)}
    if column.kind == "date":
        return _("a date, e.g. 2017-03-10, 2017/3/10, 2017.3.10 or 2017年3月10日")
    return column.help or ""


@login_required
def export_list(request):
    jobs = selectors.export_jobs_of(request.user)
    context = {"jobs": jobs, "polling": any(job.in_progress for job in jobs)}
    if request.htmx:
        return render(request, "spreadsheets/_export_rows.html", context)
    return render(request, "spreadsheets/exports.html", context)


@login_required
@require_POST
def export_create(request):
    spec = selectors.export_spec_for(request.POST.get("kind", ""))
    if spec is None:
        raise Http404
    params = spec.params_from(request.POST)
    services.export_job_create(actor=request.user, kind=spec.kind, params=params)
    messages.success(request, _("The export has started; it appears below when it is ready."))
    return redirect("spreadsheets:exports")


@login_required
def export_download(request, pk):
    job = get_object_or_404(ExportJob, pk=pk, requester=request.user, status=ExportJob.Status.DONE)
    spec = selectors.export_spec_for(job.kind)
    # The right to the data is checked again: roles may have changed since the export ran.
    if spec is None or not spec.allowed(request.user, job.params) or not job.file:
        raise PermissionDenied
    return FileResponse(job.file.open("rb"), as_attachment=True, filename=spec.filename(job.params))
