import time

from django.core.management.base import BaseCommand, CommandError

from spreadsheets.registry import EXPORTS
from spreadsheets.services import export_to_path


class Command(BaseCommand):
    help = "Write an export (the same code as the background jobs) to an .xlsx file."

    def add_arguments(self, parser):
        parser.add_argument("kind", help="one of the registered exports")
        parser.add_argument("--org", default="", help="organization code: the subtree to export")
        parser.add_argument("--session", default="", help="the review, for the review exports")
        parser.add_argument("--scheme", default="", help="the assessment scheme, for the scoring exports")
        parser.add_argument("--year", default="", help="the year, where the export has one")
        parser.add_argument("--bar", default="", help="review_barred: no_subsidy or no_awards (default both)")
        parser.add_argument("--out", required=True, help="where to write the .xlsx file")

    def handle(self, kind, org, out, **options):
        spec = EXPORTS.get(kind)
        if spec is None:
            raise CommandError(f"unknown export {kind!r}; known: {', '.join(sorted(EXPORTS))}")
        data = {
            "org": org,
            "session": options["session"],
            "scheme": options["scheme"],
            "year": options["year"],
            "bar": options["bar"],
        }
        params = spec.params_from({key: value for key, value in data.items() if value})
        if hasattr(spec, "organization") and spec.organization(params) is None:
            raise CommandError(f"no organization with code {org!r}")
        if hasattr(spec, "session") and spec.session(params) is None:
            raise CommandError(f"no review with id {options['session']!r}")
        if hasattr(spec, "scheme") and spec.scheme(params) is None:
            raise CommandError(f"no assessment scheme with id {options['scheme']!r}")
        started = time.perf_counter()
        rows = export_to_path(kind=kind, params=params, path=out)
        self.stdout.write(f"{rows} rows written to {out} in {time.perf_counter() - started:.1f} s")
