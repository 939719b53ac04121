"""The in-app inbox every app uses: due dates, returned entries, new problems, scoring tasks."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from config.models import Model


class Notification(Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recipient"), on_delete=models.CASCADE, related_name="notifications"
    )
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("content"), blank=True)
    url = models.CharField(_("link"), max_length=500, blank=True)
    # Makes a reminder idempotent: a job that runs twice notifies once ("due:occurrence:17").
    key = models.CharField(_("key"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("sent at"), auto_now_add=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["user", "read_at"], name="notification_unread_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "key"], condition=~models.Q(key=""), name="notification_unique_key"
            ),
        ]

    def __str__(self):
        return self.title
