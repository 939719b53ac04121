import time

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from organizations.models import User
from scoring import services
from scoring.models import AggregationRun, Scheme


class Command(BaseCommand):
    help = "Run a scheme's year-end aggregation here and now: the same service as the Celery job."

    def add_arguments(self, parser):
        parser.add_argument("scheme", type=int, help="the scheme's id")
        parser.add_argument("--user", default="", help="who asks (recorded in the operation log)")

    def handle(self, scheme, user, **options):
        found = Scheme.objects.filter(pk=scheme).first()
        if found is None:
            raise CommandError(f"no scheme with id {scheme}")
        actor = None
        if user:
            actor = User.objects.filter(username=user).first()
            if actor is None:
                raise CommandError(f"no user {user!r}")
        try:
            run = services.aggregation_start(actor=actor, scheme=found, enqueue=False)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        started = time.perf_counter()
        try:
            services.aggregation_run(run_id=run.pk)
        except Exception as error:
            raise CommandError(f"the aggregation failed: {error}") from error
        run = AggregationRun.objects.get(pk=run.pk)
        if run.status != "done":
            raise CommandError(f"the aggregation failed: {run.error}")
        count = found.results.count()
        self.stdout.write(f"{found}: {count} results in {time.perf_counter() - started:.1f} s")
