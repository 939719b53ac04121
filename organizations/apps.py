from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrganizationsConfig(AppConfig):
    name = "organizations"
    verbose_name = _("Organization spine")

    def ready(self):
        from django.contrib.auth.signals import user_logged_in, user_login_failed

        from . import login_throttle

        user_login_failed.connect(login_throttle.on_login_failed, dispatch_uid="login-throttle-failed")
        user_logged_in.connect(login_throttle.on_logged_in, dispatch_uid="login-throttle-logged-in")

        from django.db.models import Field, ForeignObject

        from .bulk import AnyOf

        Field.register_lookup(AnyOf)
        ForeignObject.register_lookup(AnyOf)  # relations keep lookups of their own

        from django.db.models.signals import post_delete, post_save

        from .models import Organization, Pairing, Person, RoleAssignment
        from .permissions import role_paths_forget

        for model in (Organization, RoleAssignment, Pairing, Person):
            for signal in (post_save, post_delete):
                signal.connect(role_paths_forget, sender=model, dispatch_uid=f"role-paths-{model.__name__}-{signal}")

        from spreadsheets.registry import register_export, register_sheet

        from .exports import OrganizationTreeExport, PeopleExport
        from .sheets import OrganizationSheet, PeopleSheet

        register_sheet(OrganizationSheet())
        register_sheet(PeopleSheet())
        register_export(OrganizationTreeExport())
        register_export(PeopleExport())
