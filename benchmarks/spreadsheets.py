"""Benchmark (not a test): Excel import and export beside the plain library loops (issue 10).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sheets_bench .venv/bin/python benchmarks/spreadsheets.py
    .venv/bin/python benchmarks/spreadsheets.py --repeat 1 --import-rows 10000 --export-rows 100000
    … --job export --export-org BC1      # only the export, of the first county (100,102 rows)

Builds a tree of organizations once under its own root BR (reused on later runs): a county of
100 towns × 999 villages, and another county with as many towns as the export needs. Then, each
measurement in a fresh process so that its peak memory is its own (Django included), prints

    bench import_people ours=MEDIAN_S floor=MEDIAN_S ratio=X queries=N peak_rss_mb=M floor_rss_mb=F
    bench export_organizations ours=… floor=… ratio=… queries=N peak_rss_mb=M openpyxl=… xlsxwriter=…

- import_people: a 人员 sheet of --import-rows new people, one post each at a village of the
  first county, imported for real (`workbook_import`, dry_run=False) and rolled back. Floor:
  openpyxl read-only reading every row's values (`iter_rows(values_only=True)`), nothing else,
  as installed here (parsing through defusedxml, which openpyxl uses when it is installed); and
  the same with OPENPYXL_DEFUSEDXML=False (the C parser), printed beside it
  (floor_without_defusedxml), since our reader parses with the C parser.
- export_organizations: the 组织机构 export of the whole tree (`export_to_path`). Floors: the same
  rows from the same query written by a plain openpyxl write-only loop (lxml when installed) and
  by a plain xlsxwriter constant_memory loop; the ratio is against the faster of the two.
"""

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "out"
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DATABASE_URL", f"sqlite:///{OUT / 'bench.sqlite3'}")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# As in production (README, Production): DEBUG off, so that no query is kept in memory for the
# debug page and templates are compiled once; TLS is the proxy's (no redirect on loopback).
os.environ.setdefault("DJANGO_DEBUG", "false")
os.environ.setdefault("DJANGO_SECRET_KEY", "benchmark-only-secret-key-not-for-any-deployment-0123456789")
os.environ.setdefault("DJANGO_SECURE_SSL_REDIRECT", "false")
os.environ.setdefault("SPREADSHEET_CHECK_SECONDS", "3600")  # measure the work, not the time limit

VILLAGES = 999  # per town


def import_towns(rows):
    """Towns of the first county (999 villages each) where the imported people work: 100 for
    100,000 rows."""
    return max(1, -(-rows // VILLAGES))


EXPORT_QUERY = ("code", "name", "kind", "party_type", "parent__code")


def peak_mb():
    """This process's own peak resident memory. On Linux VmHWM, which starts afresh with the
    program: ru_maxrss also carries what the parent held when it forked the measuring child
    (the parent that built a million organizations: every child then reported its 273 MB)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def setup_django(*, migrate):
    import django

    django.setup()
    if migrate:  # only in the parent: its memory peak would hide the children's
        from django.core.management import call_command

        call_command("migrate", verbosity=0)


def build(export_rows, import_rows):
    """Organizations under BR until the tree holds at least export_rows (built once, extended)."""
    from organizations.models import Organization

    root = Organization.objects.filter(code="BR").first()
    if root is None:
        root = Organization.objects.create(code="BR", name="基准市", kind="city", party_type="committee", path="/BR/")
    have = Organization.objects.filter(path__startswith="/BR/").count()
    if have >= export_rows:
        return
    print(f"building organizations under BR ({have:,} → {export_rows:,})…", flush=True)
    started = time.perf_counter()
    counties = {}
    for code in ("BC1", "BC2"):
        counties[code] = Organization.objects.filter(code=code).first() or Organization.objects.create(
            code=code, name=code, kind="county", party_type="committee", parent=root, path=f"/BR/{code}/"
        )
    t, towns = 0, import_towns(import_rows)
    while Organization.objects.filter(path__startswith="/BR/").count() < export_rows or t < towns:
        county = counties["BC1" if t < towns else "BC2"]
        town_code = f"{county.code}T{t:04d}"
        t += 1
        if Organization.objects.filter(code=town_code).exists():
            continue
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
                    name=f"=村{v}" if v == 0 else f"村{v}",  # a formula-like name: escaped on export
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
    _analyze()


def _vacuum_people():
    """Each import_ours run is rolled back, which leaves its rows behind as dead tuples with the
    same phone numbers as the next run's: 2.4 million of them a table after a day of runs, which
    every insert's unique check and every index then walked through. A live database's
    autovacuum clears them; here the parent does it before each run, not timed."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for table in ("person", "historicalperson", "post", "historicalpost"):
                cursor.execute(f"VACUUM organizations_{table}")


def _analyze():
    """Fresh statistics for the tables just filled, as autovacuum gives a live database within a
    minute: planned on the statistics of an empty table, a lookup of 2,000 codes scanned all the
    organizations instead of using the index."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


class QueryCounter:
    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def counted(function):
    from django.db import connection

    counter = QueryCounter()
    with connection.execute_wrapper(counter):
        result = function()
    return result, counter.count


# --- import --------------------------------------------------------------------------------


def import_path(rows):
    return OUT / f"people-{rows}.xlsx"


def make_people_workbook(path, rows):
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("人员")
    sheet.append(["姓名", "性别", "手机号码", "政治面貌", "所在组织编码", "职务", "任职日期"])
    towns = import_towns(rows)
    for n in range(rows):
        town, village = divmod(n % (towns * VILLAGES), VILLAGES)
        sheet.append(
            [
                f"基准{n}",
                "男" if n % 2 else "女",
                f"139{n:08d}",
                "中共党员",
                f"BC1T{town:04d}V{village:03d}",
                "书记" if n < towns * VILLAGES else "组织委员",
                "2024-03-01",
            ]
        )
    workbook.save(path)


def import_ours(rows):
    from django.db import transaction

    from organizations.models import Person
    from spreadsheets.services import workbook_import

    def run():
        with transaction.atomic():
            with open(import_path(rows), "rb") as file:
                plans, errors = workbook_import(file, user=None, dry_run=False)
            assert not errors, errors[:3]
            assert plans[0]["created"] == rows, plans[0]
            transaction.set_rollback(True)  # leave the benchmark database as it was

    started = time.perf_counter()
    _result, queries = counted(run)
    seconds = time.perf_counter() - started
    assert not Person.objects.filter(phone__startswith="139").exists()
    return {"seconds": seconds, "queries": queries}


def import_floor(rows):
    from openpyxl import load_workbook

    started = time.perf_counter()
    workbook = load_workbook(import_path(rows), read_only=True)
    count = sum(1 for _values in workbook["人员"].iter_rows(values_only=True))
    workbook.close()
    assert count == rows + 1
    return {"seconds": time.perf_counter() - started, "queries": 0}


def import_floor_expat(rows):
    """import_floor in a process started with OPENPYXL_DEFUSEDXML=False (JOB_ENVIRONMENT)."""
    import openpyxl.xml

    assert not openpyxl.xml.DEFUSEDXML
    return import_floor(rows)


# --- export --------------------------------------------------------------------------------


def export_rows_query():
    """The export's own query and labels, as a plain generator."""
    from organizations.exports import CHUNK
    from organizations.models import Organization
    from organizations.sheets import KIND_LABEL_OF, PARTY_TYPE_LABEL_OF

    root = Organization.objects.get(code=os.environ["BENCH_EXPORT_ORG"])
    query = Organization.objects.filter(path__startswith=root.path).order_by("path").values_list(*EXPORT_QUERY)
    return (
        (code, name, KIND_LABEL_OF[kind], PARTY_TYPE_LABEL_OF[party_type], parent or "")
        for code, name, kind, party_type, parent in query.iterator(chunk_size=CHUNK)
    )


def export_ours(_rows):
    from spreadsheets.services import export_to_path

    started = time.perf_counter()
    params = {"org": os.environ["BENCH_EXPORT_ORG"]}
    path = OUT / "export-ours.xlsx"
    written, queries = counted(lambda: export_to_path(kind="organizations", params=params, path=path))
    return {"seconds": time.perf_counter() - started, "queries": queries, "rows": written}


def export_openpyxl(_rows):
    from openpyxl import Workbook

    started = time.perf_counter()
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("组织机构")
    sheet.append(["组织编码", "组织名称", "单位类别", "党组织类别", "上级组织编码"])
    written = 0
    for row in export_rows_query():
        sheet.append(row)
        written += 1
    workbook.save(OUT / "export-openpyxl.xlsx")
    return {"seconds": time.perf_counter() - started, "queries": 1, "rows": written}


def export_xlsxwriter(_rows):
    import xlsxwriter

    started = time.perf_counter()
    # Text stays text (no formulas, no links), as our writer keeps it.
    options = {"constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
    workbook = xlsxwriter.Workbook(str(OUT / "export-xlsxwriter.xlsx"), options)
    sheet = workbook.add_worksheet("组织机构")
    sheet.write_row(0, 0, ["组织编码", "组织名称", "单位类别", "党组织类别", "上级组织编码"])
    written = 0
    for row in export_rows_query():
        written += 1
        sheet.write_row(written, 0, row)
    workbook.close()
    return {"seconds": time.perf_counter() - started, "queries": 1, "rows": written}


JOBS = {
    "import_ours": import_ours,
    "import_floor": import_floor,
    "import_floor_expat": import_floor_expat,
    "export_ours": export_ours,
    "export_openpyxl": export_openpyxl,
    "export_xlsxwriter": export_xlsxwriter,
}


def child(job, rows):
    setup_django(migrate=False)
    result = JOBS[job](rows)
    result["peak_rss_mb"] = peak_mb()
    print("RESULT " + json.dumps(result), flush=True)


# The jobs run with something set in their environment
JOB_ENVIRONMENT = {"import_floor_expat": {"OPENPYXL_DEFUSEDXML": "False"}}


def measure(job, rows):
    done = subprocess.run(
        [sys.executable, __file__, "--child", job, "--rows", str(rows)],
        capture_output=True,
        text=True,
        env={**os.environ, **JOB_ENVIRONMENT.get(job, {})},
    )
    if done.returncode:
        sys.exit(f"{job} failed:\n{done.stderr[-3000:]}")
    output = done.stdout
    return json.loads(next(line for line in output.splitlines() if line.startswith("RESULT "))[7:])


def runs(jobs, rows, repeat, warmup):
    """{job: [results]}, the jobs run back to back in each round, after the warm-up rounds."""
    results = {job: [] for job in jobs}
    for round_ in range(warmup + repeat):
        for job in jobs:
            if job == "import_ours":
                _vacuum_people()
            result = measure(job, rows)
            if round_ >= warmup:  # a warm-up round fills the caches
                results[job].append(result)
    return results


def median(results, key="seconds"):
    return statistics.median(result[key] for result in results)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=1, help="rounds run first and not counted")
    parser.add_argument("--import-rows", type=int, default=100_000)
    parser.add_argument("--export-rows", type=int, default=1_000_000)
    parser.add_argument("--export-org", default="BR", help="the subtree exported: BR (all), BC1 (100,102 rows)")
    parser.add_argument("--child")
    parser.add_argument("--rows", type=int)
    parser.add_argument("--job", choices=["import", "export"], help="only this one")
    options = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("BENCH_EXPORT_ORG", options.export_org)  # for the children
    if options.child:
        child(options.child, options.rows)
        return
    setup_django(migrate=True)
    from django.conf import settings

    print(f"database: {settings.DATABASES['default']['ENGINE']}; Python {sys.version.split()[0]}", flush=True)
    build(options.export_rows, options.import_rows)
    if options.job in (None, "import"):
        rows = options.import_rows
        if not import_path(rows).exists():
            make_people_workbook(import_path(rows), rows)
        results = runs(["import_floor", "import_floor_expat", "import_ours"], rows, options.repeat, options.warmup)
        ours, floor = median(results["import_ours"]), median(results["import_floor"])
        expat = median(results["import_floor_expat"])
        print(
            f"bench import_people ours={ours:.3f} floor={floor:.3f} ratio={ours / floor:.2f} "
            f"queries={results['import_ours'][-1]['queries']} "
            f"peak_rss_mb={max(r['peak_rss_mb'] for r in results['import_ours']):.0f} "
            f"floor_rss_mb={max(r['peak_rss_mb'] for r in results['import_floor']):.0f} "
            f"floor_without_defusedxml={expat:.3f} ratio_without_defusedxml={ours / expat:.2f} rows={rows}",
            flush=True,
        )
    if options.job in (None, "export"):
        results = runs(["export_openpyxl", "export_xlsxwriter", "export_ours"], 0, options.repeat, options.warmup)
        written = {result["rows"] for job in results.values() for result in job}
        assert len(written) == 1, written  # every writer wrote the same rows
        floors = {job: median(results[job]) for job in ("export_openpyxl", "export_xlsxwriter")}
        ours, floor = median(results["export_ours"]), min(floors.values())
        print(
            f"bench export_organizations ours={ours:.3f} floor={floor:.3f} ratio={ours / floor:.2f} "
            f"queries={results['export_ours'][-1]['queries']} "
            f"peak_rss_mb={max(r['peak_rss_mb'] for r in results['export_ours']):.0f} "
            f"openpyxl={floors['export_openpyxl']:.3f} xlsxwriter={floors['export_xlsxwriter']:.3f} "
            f"rows={written.pop()}",
            flush=True,
        )


if __name__ == "__main__":
    main()
