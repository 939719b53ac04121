from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ScoringConfig(AppConfig):
    name = "scoring"
    verbose_name = _("quantitative assessment")

    def ready(self):
        from spreadsheets.registry import register_export, register_sheet

        from . import exports, sheets

        for sheet in sheets.SHEETS:
            register_sheet(sheet)
        for spec in exports.SPECS:
            register_export(spec)
