import time
from importlib import import_module
from importlib.util import find_spec

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import translation

from organizations import scale


class Command(BaseCommand):
    help = (
        "Build a province-sized year in the configured PostgreSQL database with INSERT … SELECT: "
        "organizations, accounts, checklists, occurrences, ledger entries, problems, schemes with "
        "judge scores and review sessions with ballots (organizations.scale). --scale county for CI."
    )

    def add_arguments(self, parser):
        parser.add_argument("--scale", choices=sorted(scale.SCALES), default="province")

    def handle(self, *args, **options):
        if connection.vendor != "postgresql":
            raise CommandError("seed_scale 需要 PostgreSQL：请设置 DATABASE_URL=postgres://…")
        translation.activate("zh-hans")
        if scale.province() is not None:
            self.stdout.write("规模数据已存在（组织编码 SCP），未重复生成。要重建，请使用一个新的数据库。")
            return
        spec = scale.SCALES[options["scale"]]
        self.stdout.write(f"生成规模数据（{options['scale']}）：{spec.organizations:,} 个组织")
        started = time.perf_counter()
        # Each app with a `scale` module adds its part, in INSTALLED_APPS order (the spine first).
        with transaction.atomic():
            for config in apps.get_app_configs():
                if find_spec(f"{config.name}.scale") is None:
                    continue
                step = time.perf_counter()
                self.stdout.write(f"[{config.label}]")
                import_module(f"{config.name}.scale").build(spec, self.stdout)
                self.stdout.write(f"  用时 {time.perf_counter() - step:.1f} 秒")
        self.stdout.write(self.style.SUCCESS(f"完成，共用时 {time.perf_counter() - started:.0f} 秒"))
