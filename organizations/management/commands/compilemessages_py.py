from pathlib import Path

import polib
from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    """compilemessages without GNU gettext: a fresh machine may lack msgfmt (NOTES.md)."""

    help = "Compile every locale/*/LC_MESSAGES/*.po into its .mo with polib (pure Python)."

    def handle(self, *args, **options):
        for locale_path in settings.LOCALE_PATHS:
            for po_path in sorted(Path(locale_path).glob("*/LC_MESSAGES/*.po")):
                catalog = polib.pofile(str(po_path))
                catalog.save_as_mofile(str(po_path.with_suffix(".mo")))
                self.stdout.write(f"{po_path}: {len(catalog.translated_entries())} translated")
