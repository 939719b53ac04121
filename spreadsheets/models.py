"""Import and export jobs: the record of every workbook that came in or went out."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from config.models import Model


class ImportJob(Model):
    class Status(models.TextChoices):
        UPLOADED = "uploaded", _("uploaded")
        CHECKING = "checking", _("checking")
        INVALID = "invalid", _("has errors")
        VALID = "valid", _("checked, waiting for confirmation")
        APPLYING = "applying", _("importing")
        APPLIED = "applied", _("imported")
        FAILED = "failed", _("failed")

    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("imported by"), on_delete=models.PROTECT, related_name="import_jobs"
    )
    original_name = models.CharField(_("file name"), max_length=255)
    file = models.FileField(_("file"), upload_to="imports/%Y/%m/")
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.UPLOADED)
    # What the file is for when a page uploaded it for one record (see ImportContext.target).
    target = models.JSONField(_("imported into"), default=dict, blank=True)
    plans = models.JSONField(_("preview"), default=list, blank=True)
    errors = models.JSONField(_("errors"), default=list, blank=True)
    error_count = models.PositiveIntegerField(_("number of errors"), default=0)
    message = models.TextField(_("message"), blank=True)
    created_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    # When the running check or import began: one that outlives its time limit has died.
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    checked_at = models.DateTimeField(_("checked at"), null=True, blank=True)
    applied_at = models.DateTimeField(_("imported at"), null=True, blank=True)

    class Meta:
        verbose_name = _("import job")
        verbose_name_plural = _("import jobs")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.original_name} ({self.get_status_display()})"

    @property
    def in_progress(self):
        return self.status in {self.Status.UPLOADED, self.Status.CHECKING, self.Status.APPLYING} and not self.stalled

    @property
    def stalled(self):
        """Checking or importing for longer than its time limit: its worker died."""
        from .services import stalled_before

        return (
            self.status in {self.Status.CHECKING, self.Status.APPLYING}
            and self.started_at is not None
            and self.started_at < stalled_before()
        )

    @property
    def can_retry(self):
        return self.status == self.Status.FAILED or self.stalled

    @property
    def nothing_changed(self):
        return bool(self.plans) and all(plan["created"] == 0 and plan["updated"] == 0 for plan in self.plans)

    @property
    def errors_truncated(self):
        return sum(error.get("count", 1) for error in self.errors) < self.error_count


class ExportJob(Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("waiting")
        RUNNING = "running", _("exporting")
        DONE = "done", _("ready")
        FAILED = "failed", _("failed")
        EXPIRED = "expired", _("expired")

    kind = models.CharField(_("export"), max_length=64)
    params = models.JSONField(_("parameters"), default=dict)
    title = models.CharField(_("title"), max_length=200)
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("requested by"), on_delete=models.PROTECT, related_name="export_jobs"
    )
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    progress = models.PositiveIntegerField(_("rows written"), default=0)
    total = models.PositiveIntegerField(_("rows in all"), default=0)
    file = models.FileField(_("file"), upload_to="exports/%Y/%m/", blank=True)
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("export job")
        verbose_name_plural = _("export jobs")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["requester", "-created_at"], name="export_requester_idx")]

    def __str__(self):
        return self.title

    @property
    def in_progress(self):
        return self.status in {self.Status.PENDING, self.Status.RUNNING}

    @property
    def percent(self):
        if self.status == self.Status.DONE:
            return 100
        return min(99, self.progress * 100 // self.total) if self.total else 0
