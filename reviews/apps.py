from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReviewsConfig(AppConfig):
    name = "reviews"
    verbose_name = _("work-report reviews")

    def ready(self):
        from spreadsheets.registry import register_export, register_sheet

        from . import exports
        from .sheets import PastResultSheet

        register_sheet(PastResultSheet())
        for spec in exports.SPECS:
            register_export(spec)
