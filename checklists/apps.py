from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ChecklistsConfig(AppConfig):
    name = "checklists"
    verbose_name = _("Responsibility checklists")

    def ready(self):
        from spreadsheets.registry import register_export, register_sheet

        from . import exports
        from .sheets import ChecklistSheet

        register_sheet(ChecklistSheet())
        for spec in exports.SPECS:
            register_export(spec)
