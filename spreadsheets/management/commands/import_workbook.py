import sys

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from spreadsheets.reading import WorkbookRefused, check_upload
from spreadsheets.services import collapse_errors, nothing_changes, workbook_import


class Command(BaseCommand):
    help = (
        "Import a workbook (.xlsx, .xls or .csv; every registered sheet in it), all or nothing; --dry-run only checks."
    )

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--dry-run", action="store_true", help="check and show what would change; write nothing")
        parser.add_argument(
            "--user",
            help="import as this user, within that user's area (default: no limit; "
            "the 问题台账 sheet needs a user, who is recorded as having listed the problems)",
        )

    def handle(self, path, dry_run, user, **options):
        with translation.override(settings.LANGUAGE_CODE):
            self._import(path, dry_run, user)

    def _import(self, path, dry_run, user):
        actor = None
        if user:
            actor = get_user_model().objects.filter(username=user).first()
            if actor is None:
                raise CommandError(_("There is no user %(user)s.") % {"user": user})
        try:
            with open(path, "rb") as file:
                check_upload(file, name=path)
                plans, errors = workbook_import(file, user=actor, dry_run=dry_run, name=path)
        except (OSError, WorkbookRefused) as error:
            raise CommandError(str(error)) from error
        if errors:
            for error in collapse_errors(errors):
                self.stderr.write(
                    _("%(sheet)s row %(row)s [%(column)s] %(message)s")
                    % {
                        "sheet": error["sheet"],
                        "row": error["row"],
                        "column": error["column"],
                        "message": error["message"],
                    }
                )
                for example in error.get("examples", []):
                    self.stderr.write(f"    {example}")
            self.stderr.write(
                ngettext("%(count)s error: nothing was imported", "%(count)s errors: nothing was imported", len(errors))
                % {"count": len(errors)}
            )
            sys.exit(1)
        for plan in plans:
            for note in plan.get("notes", []):
                self.stdout.write(note)
            self.stdout.write(
                _("%(sheet)s: %(created)s new, %(updated)s changed, %(unchanged)s unchanged")
                % {k: plan[k] for k in ("sheet", "created", "updated", "unchanged")}
            )
        if dry_run:
            self.stdout.write(_("Dry run: nothing was written."))
        elif nothing_changes(plans):
            self.stdout.write(_("No change: the platform already holds what the file says."))
        else:
            self.stdout.write(_("Imported."))
