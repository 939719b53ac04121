from importlib import import_module
from importlib.util import find_spec

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import translation

from organizations.demo import DEMO_PASSWORD


class Command(BaseCommand):
    help = "Build (or complete) the demo: Zhanjiang city and its counties, people, roles and each app's demo data."

    def handle(self, *args, **options):
        translation.activate("zh-hans")
        logins = []
        # Each app with a `demo` module adds its part, in INSTALLED_APPS order (the spine first).
        with transaction.atomic():
            for config in apps.get_app_configs():
                if find_spec(f"{config.name}.demo") is None:
                    continue
                self.stdout.write(f"[{config.label}] ", ending="")
                logins += import_module(f"{config.name}.demo").build(self.stdout) or []
        self.stdout.write(self.style.SUCCESS("\nDemo ready at http://127.0.0.1:8000/ — log in as any of these"))
        self.stdout.write(f"(password for every demo account: {DEMO_PASSWORD})\n")
        width = max(len(username) for username, *_ in logins)
        for username, organization, role in logins:
            self.stdout.write(f"  {username.ljust(width)}  {role}  @ {organization}")
