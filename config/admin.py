from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.utils.translation import gettext_lazy as _


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
