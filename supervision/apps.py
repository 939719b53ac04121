from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SupervisionConfig(AppConfig):
    name = "supervision"
    verbose_name = _("Problem tracking and supervision")

    def ready(self):
        from spreadsheets.registry import register_export, register_sheet

        from . import exports
        from .sheets import ProblemSheet

        register_sheet(ProblemSheet())
        for spec in exports.SPECS:
            register_export(spec)
