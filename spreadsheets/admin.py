from django import forms
from django.contrib import admin, messages
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from . import services
from .models import ExportJob, ImportJob
from .reading import WorkbookRefused, check_upload


class ImportUploadForm(forms.ModelForm):
    class Meta:
        model = ImportJob
        fields = ["file"]

    def clean_file(self):
        upload = self.cleaned_data["file"]
        try:
            check_upload(upload, name=upload.name)
        except WorkbookRefused as refused:
            raise forms.ValidationError(str(refused)) from refused
        return upload


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    """The Django admin way in: upload (checked as a dry run), read the preview, then confirm
    with the action. The same services as the upload page and the command line."""

    list_display = ["original_name", "requester", "status", "error_count", "created_at", "applied_at"]
    list_filter = ["status"]
    search_fields = ["original_name", "requester__username"]
    actions = ["confirm"]
    readonly_fields = [
        "original_name",
        "requester",
        "status",
        "message",
        "preview",
        "created_at",
        "checked_at",
        "applied_at",
    ]

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = ImportUploadForm
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        return ["file"] if obj is None else self.readonly_fields

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.readonly_fields

    def save_model(self, request, obj, form, change):
        if change:
            return
        job = services.import_job_create(actor=request.user, upload=form.cleaned_data["file"])
        obj.pk = job.pk

    @admin.display(description=_("preview"))
    def preview(self, obj):
        if obj.errors:
            rows = format_html_join(
                "",
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                ((e["sheet"], e["row"], e["column"], e["message"]) for e in obj.errors),
            )
            return format_html(
                "<table><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>{}</table>",
                _("sheet"),
                _("row"),
                _("column"),
                _("reason"),
                rows,
            )
        counts = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            ((p["sheet"], p["created"], p["updated"], p["unchanged"]) for p in obj.plans),
        )
        changes = format_html_join("", "<li>{}</li>", ((line,) for p in obj.plans for line in p["changes"]))
        return format_html(
            "<table><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>{}</table><ul>{}</ul>",
            _("sheet"),
            _("new"),
            _("changed"),
            _("unchanged"),
            counts,
            changes,
        )

    @admin.action(description=_("Confirm and import the selected checked files"))
    def confirm(self, request, queryset):
        confirmed = sum(
            services.import_job_confirm(actor=request.user, job=job) for job in queryset.filter(requester=request.user)
        )
        messages.info(request, _("%(count)s file(s) confirmed for import.") % {"count": confirmed})


@admin.register(ExportJob)
class ExportJobAdmin(admin.ModelAdmin):
    list_display = ["title", "kind", "requester", "status", "progress", "total", "created_at", "finished_at"]
    list_filter = ["status", "kind"]
    search_fields = ["title", "requester__username"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
