import sys

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from spreadsheets.reading import WorkbookRefused, check_upload
from spreadsheets.services import workbook_import


class Command(BaseCommand):
    help = "Import an .xlsx workbook (every registered sheet in it), all or nothing; --dry-run only checks."

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--dry-run", action="store_true", help="check and show what would change; write nothing")
        parser.add_argument("--user", help="import as this user, within that user's area (default: no limit)")

    def handle(self, path, dry_run, user, **options):
        actor = None
        if user:
            actor = get_user_model().objects.filter(username=user).first()
            if actor is None:
                raise CommandError(f"no user {user!r}")
        try:
            with open(path, "rb") as file:
                check_upload(file, name=path)
                plans, errors = workbook_import(file, user=actor, dry_run=dry_run)
        except (OSError, WorkbookRefused) as error:
            raise CommandError(str(error)) from error
        if errors:
            for error in errors:
                self.stderr.write(f"{error['sheet']} 第{error['row']}行 [{error['column']}] {error['message']}")
            self.stderr.write(f"{len(errors)} errors: nothing was imported")
            sys.exit(1)
        for plan in plans:
            self.stdout.write(
                f"{plan['sheet']}: created {plan['created']}, updated {plan['updated']}, unchanged {plan['unchanged']}"
            )
        self.stdout.write("dry run: nothing was written" if dry_run else "imported")
