from datetime import date, datetime

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop
from simple_history.admin import SimpleHistoryAdmin
from simple_history.models import DeletedObject
from simple_history.template_utils import HistoricalRecordContextHelper

# Words of Django 5.2's admin and of django-simple-history that their own catalogs leave in
# English; the platform's catalog (LOCALE_PATHS, read first) gives their Chinese.
UNTRANSLATED_UPSTREAM = [
    gettext_noop("Model name"),
    gettext_noop("Add link"),
    gettext_noop("Change or view list link"),
    gettext_noop("Changes"),
]


class SuperuserAdminSite(admin.AdminSite):
    """The Django admin is for superusers only (DESIGN.md 2): staff status alone is not enough."""

    site_header = _("Party-building checklists · administration")
    site_title = _("Party-building checklists")
    index_title = _("Configuration and repair")

    def has_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def login(self, request, extra_context=None):
        # Wrong passwords are throttled here too (issue 13); imported late: this module loads
        # before the apps are ready.
        from organizations.forms import AdminLoginForm

        self.login_form = AdminLoginForm
        return super().login(request, extra_context)


class SuperuserAdminConfig(AdminConfig):
    default_site = "config.admin.SuperuserAdminSite"


class HistoryContextHelper(HistoricalRecordContextHelper):
    """The admin's history in the users' words: states by their label, people by name, times
    in Asia/Shanghai, "—" for nothing (not "None", nor "Deleted … (pk=None)")."""

    def prepare_delta_change_value(self, change, value):
        value = super().prepare_delta_change_value(change, value)
        field = self.model._meta.get_field(change.field)
        return display_value(field, value)


def display_value(field, value):
    if value is None or value == "" or (isinstance(value, DeletedObject) and value.pk is None):
        return "—"
    if isinstance(value, DeletedObject):
        return _("deleted %(kind)s no. %(pk)s") % {"kind": value.model._meta.verbose_name, "pk": value.pk}
    if isinstance(value, list):
        return [display_value(field, item) for item in value]
    if getattr(field, "flatchoices", None):
        return dict(field.flatchoices).get(value, value)
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, datetime):
        return date_format(timezone.localtime(value) if timezone.is_aware(value) else value, "Y-m-d H:i")
    if isinstance(value, date):
        return date_format(value, "Y-m-d")
    return value


class HistoryAdmin(SimpleHistoryAdmin):
    """Every model's admin with its history (django-simple-history), shown as HistoryContextHelper says."""

    def get_historical_record_context_helper(self, request, historical_record):
        return HistoryContextHelper(self.model, historical_record)
