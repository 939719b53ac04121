"""Benchmark (not a test): Excel export and import speed and peak memory.

    .venv/bin/python benchmarks/spreadsheets.py            # SQLite in benchmarks/out/
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench .venv/bin/python benchmarks/spreadsheets.py

Builds 1,000,000 organizations once (reused on later runs), then, each in a fresh process so
that peak memory is its own: exports 100,000 and 1,000,000 rows, and imports a new
100,000-row 组织机构 sheet. Prints rows/s and the peak resident memory above the process's
own baseline (measured just before the work starts).
"""

import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "out"
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DATABASE_URL", f"sqlite:///{OUT / 'bench.sqlite3'}")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

TOWNS_SMALL, TOWNS_LARGE, VILLAGES = 100, 900, 999  # 100 + 99,900 and 900 + 899,100 rows


def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def setup_django(*, migrate):
    import django

    django.setup()
    if migrate:  # only in the parent: its memory peak would hide the children's
        from django.core.management import call_command

        call_command("migrate", verbosity=0)


def build():
    from organizations.models import Organization

    if Organization.objects.filter(code="BR").exists():
        return
    print("building 1,000,000 organizations (once)…", flush=True)
    started = time.perf_counter()
    root = Organization.objects.create(code="BR", name="基准市", kind="city", party_type="committee", path="/BR/")
    for county_code, towns in [("BC1", TOWNS_SMALL), ("BC2", TOWNS_LARGE)]:
        county = Organization.objects.create(
            code=county_code,
            name=county_code,
            kind="county",
            party_type="committee",
            parent=root,
            path=f"/BR/{county_code}/",
        )
        for t in range(towns):
            town_code = f"{county_code}T{t:04d}"
            town = Organization.objects.create(
                code=town_code,
                name=f"镇{t}",
                kind="town",
                party_type="committee",
                parent=county,
                path=f"{county.path}{town_code}/",
            )
            Organization.objects.bulk_create(
                [
                    Organization(
                        code=f"{town_code}V{v:03d}",
                        name=f"=村{v}" if v == 0 else f"村{v}",
                        kind="village",
                        party_type="branch",
                        parent=town,
                        path=f"{town.path}{town_code}V{v:03d}/",
                    )
                    for v in range(VILLAGES)
                ],
                batch_size=1000,
            )
    print(f"built in {time.perf_counter() - started:.0f} s", flush=True)


def export(code):
    from spreadsheets.services import export_to_path

    baseline = peak_mb()
    started = time.perf_counter()
    rows = export_to_path(kind="organizations", params={"org": code}, path=OUT / f"export-{code}.xlsx")
    seconds = time.perf_counter() - started
    print(
        f"export {rows:>9,} rows: {seconds:6.1f} s, {rows / seconds:8,.0f} rows/s, "
        f"peak memory +{peak_mb() - baseline:5.1f} MB (process peak {peak_mb():.0f} MB)"
    )


def make_import_workbook(path, rows):
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("组织机构")
    sheet.append(["组织编码", "组织名称", "单位类别", "党组织类别", "上级组织编码"])
    towns = rows // 1000
    for t in range(towns):
        sheet.append([f"NI{t:04d}", f"新镇{t}", "镇", "党委", "BC1"])
        for v in range(999):
            sheet.append([f"NI{t:04d}V{v:03d}", f"新村{v}", "村", "党支部", f"NI{t:04d}"])
    workbook.save(path)


def import_rows(rows):
    from django.db import transaction

    from organizations.models import Organization
    from spreadsheets.services import workbook_import

    path = OUT / f"import-{rows}.xlsx"
    if not path.exists():
        make_import_workbook(path, rows)
    baseline = peak_mb()
    started = time.perf_counter()
    with transaction.atomic():
        with open(path, "rb") as file:
            plans, errors = workbook_import(file, user=None, dry_run=False)
        assert not errors, errors[:3]
        created = plans[0]["created"]
        seconds = time.perf_counter() - started
        transaction.set_rollback(True)  # leave the benchmark database as it was
    print(
        f"import {created:>9,} rows: {seconds:6.1f} s, {created / seconds:8,.0f} rows/s, "
        f"peak memory +{peak_mb() - baseline:5.1f} MB (file {path.stat().st_size / 1e6:.1f} MB)"
    )
    assert Organization.objects.filter(code__startswith="NI").count() == 0


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    if len(sys.argv) > 1:  # a child process: one measurement
        setup_django(migrate=False)
        if sys.argv[1] == "export":
            export(sys.argv[2])
        else:
            import_rows(int(sys.argv[2]))
        return
    setup_django(migrate=True)
    from django.conf import settings

    print(f"database: {settings.DATABASES['default']['ENGINE']}; Python {sys.version.split()[0]}")
    build()
    for args in [["export", "BC1"], ["export", "BR"], ["import", "100000"]]:
        subprocess.run([sys.executable, __file__, *args], check=True)


if __name__ == "__main__":
    main()
