from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrganizationsConfig(AppConfig):
    name = "organizations"
    verbose_name = _("Organization spine")

    def ready(self):
        from spreadsheets.registry import register_export, register_sheet

        from .exports import OrganizationTreeExport, PeopleExport
        from .sheets import OrganizationSheet, PeopleSheet

        register_sheet(OrganizationSheet())
        register_sheet(PeopleSheet())
        register_export(OrganizationTreeExport())
        register_export(PeopleExport())
