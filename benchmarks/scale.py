"""Benchmark (not a test): the jobs of issue 10 on the data of `manage.py seed_scale`, each
beside its floor — the simplest hand-written SQL statement (or trivial view) giving the same
numbers, run in the same process on the same data and checked to be equal.

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/scale
    .venv/bin/python manage.py migrate && .venv/bin/python manage.py seed_scale   # once, minutes
    .venv/bin/python benchmarks/scale.py                  # every job, 5 times after a warm-up
    .venv/bin/python benchmarks/scale.py --repeat 1 --job progress_county

`make bench` runs it (and the scoring, reviews and spreadsheets benchmarks). Each job runs in a
fresh process, so that peak_rss_mb is that job's own (Django included), and prints

    bench NAME ours=MEDIAN_S floor=MEDIAN_S ratio=X queries=N peak_rss_mb=M

County jobs use the first generated county (SCX0001), city jobs the first city (SCC01); pages are
fetched with Django's test client as that county's staff, beside a trivial page on the same stack —
the site's layout with an empty body (p95 printed too).
"""

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# As in production (README, Production): DEBUG off, so that no query is kept in memory for the
# debug page and templates are compiled once; TLS is the proxy's (no redirect on loopback).
os.environ.setdefault("DJANGO_DEBUG", "false")
os.environ.setdefault("DJANGO_SECRET_KEY", "benchmark-only-secret-key-not-for-any-deployment-0123456789")
os.environ.setdefault("DJANGO_SECURE_SSL_REDIRECT", "false")

PROGRESS_FLOOR = """
SELECT split_part(substr(o.path, %(start)s), '/', 1) AS child,
       COUNT(*) FILTER (WHERE oc.deadline <= %(today)s),
       COUNT(*) FILTER (WHERE oc.deadline <= %(today)s AND oc.done_at IS NOT NULL),
       COUNT(*) FILTER (WHERE oc.deadline < %(today)s AND oc.done_at IS NULL),
       COUNT(*)
FROM checklists_occurrence oc
JOIN checklists_checklistitem i ON i.id = oc.item_id
JOIN checklists_checklist c ON c.id = i.checklist_id
JOIN checklists_checklisttemplate t ON t.id = c.template_id
JOIN organizations_organization o ON o.id = c.organization_id
WHERE t.year = %(year)s AND o.path LIKE %(prefix)s AND o.path <> %(path)s
GROUP BY 1
"""

BOARD_FLOOR = """
SELECT split_part(substr(o.path, %(start)s), '/', 1) AS child,
       COUNT(*) FILTER (WHERE p.status IN ('listed', 'claimed', 'rectifying', 'submitted')),
       COUNT(*) FILTER (WHERE p.status IN ('listed', 'claimed', 'rectifying', 'submitted') AND p.deadline < %(today)s),
       COUNT(*) FILTER (WHERE p.status = 'closed' AND p.closed_at >= %(month_start)s)
FROM supervision_problem p JOIN organizations_organization o ON o.id = p.organization_id
WHERE o.path LIKE %(prefix)s AND o.path <> %(path)s
GROUP BY 1
"""

# DESIGN.md 3, exactly: per item the score × (on time + late share × late) / required, in units
# of 1/27720 (every period count divides it), or the assessed score; per checklist the sum over
# the sum of the item scores.
COMPLETION_FLOOR = """
WITH items AS (
    SELECT i.checklist_id, i.score, i.override_score, t.late_share,
           COUNT(oc.id) FILTER (WHERE oc.deadline <= %(on)s) AS required,
           COUNT(oc.id) FILTER (WHERE oc.deadline <= %(on)s AND oc.done_at < %(end)s AND NOT oc.late) AS on_time,
           COUNT(oc.id) FILTER (WHERE oc.deadline <= %(on)s AND oc.done_at < %(end)s AND oc.late) AS late_done
    FROM checklists_checklistitem i
    JOIN checklists_checklist c ON c.id = i.checklist_id
    JOIN checklists_checklisttemplate t ON t.id = c.template_id
    JOIN organizations_organization o ON o.id = c.organization_id
    LEFT JOIN checklists_occurrence oc ON oc.item_id = i.id
    WHERE o.path LIKE %(prefix)s
    GROUP BY i.id, t.late_share
)
SELECT checklist_id,
       ROUND(100 * SUM(CASE WHEN override_score IS NOT NULL THEN override_score * 27720
                            ELSE score * (on_time + late_share * late_done) * (27720 / required) END)
             / (27720 * SUM(score)), 2)
FROM items WHERE override_score IS NOT NULL OR required > 0
GROUP BY checklist_id HAVING SUM(score) > 0
"""

# Each organization's own counts once, then added up along the prefixes of its path.
SNAPSHOT_FLOOR = """
WITH own AS (
    SELECT o.path,
           COUNT(*) FILTER (WHERE oc.deadline <= %(end)s) AS due,
           COUNT(*) FILTER (WHERE oc.deadline <= %(end)s AND oc.done_at < %(end_of_day)s) AS done
    FROM checklists_occurrence oc
    JOIN checklists_checklistitem i ON i.id = oc.item_id
    JOIN checklists_checklist c ON c.id = i.checklist_id
    JOIN checklists_checklisttemplate t ON t.id = c.template_id
    JOIN organizations_organization o ON o.id = c.organization_id
    WHERE t.year = %(year)s
    GROUP BY o.path
), up AS (
    SELECT left(own.path, position) AS prefix, SUM(due) AS due, SUM(done) AS done
    FROM own CROSS JOIN LATERAL generate_series(2, length(own.path)) AS position
    WHERE substr(own.path, position, 1) = '/'
    GROUP BY 1
)
INSERT INTO checklists_progresssnapshot (organization_id, month, due, done, overdue, taken_at)
SELECT o.id, %(month)s, up.due, up.done, up.due - up.done, now()
FROM up JOIN organizations_organization o ON o.path = up.prefix
ON CONFLICT (organization_id, month) DO UPDATE SET due = EXCLUDED.due, done = EXCLUDED.done, overdue = EXCLUDED.overdue
"""

ISSUE_FLOOR = [
    """INSERT INTO checklists_checklist (template_id, organization_id, claim_deadline, issued_at, signature,
                                         claim_snapshot, claimed_late)
       SELECT %(template)s, o.id, %(claim_deadline)s, now(), '', '{}'::jsonb, false
       FROM organizations_organization o
       WHERE o.path LIKE %(prefix)s AND o.party_type = ANY(%(types)s)""",
    """INSERT INTO checklists_checklistitem (checklist_id, template_item_id, code, category, title, requirement,
                                             evidence, frequency, deadline, score, meeting_kind, position,
                                             override_reason)
       SELECT c.id, ti.id, ti.code, ti.category, ti.title, ti.requirement, ti.evidence, ti.frequency, ti.deadline,
              ti.score, ti.meeting_kind, ti.position, ''
       FROM checklists_checklist c JOIN checklists_templateitem ti ON ti.template_id = c.template_id
       WHERE c.template_id = %(template)s""",
    """INSERT INTO checklists_occurrence (item_id, index, period_start, deadline, late)
       SELECT i.id, n, CASE WHEN i.frequency IN ('yearly', 'once') THEN make_date(%(year)s, 1, 1)
                            ELSE make_date(%(year)s, n * (12 / k) - 12 / k + 1, 1) END,
              CASE WHEN i.frequency IN ('yearly', 'once') THEN COALESCE(i.deadline, make_date(%(year)s, 12, 31))
                   ELSE (make_date(%(year)s, n * (12 / k), 1) + interval '1 month - 1 day')::date END,
              false
       FROM checklists_checklistitem i JOIN checklists_checklist c ON c.id = i.checklist_id
       CROSS JOIN LATERAL (SELECT CASE i.frequency WHEN 'monthly' THEN 12 WHEN 'quarterly' THEN 4
                                                   WHEN 'half_yearly' THEN 2 ELSE 1 END AS k) counts
       CROSS JOIN LATERAL generate_series(1, counts.k) AS n
       WHERE c.template_id = %(template)s""",
    # What ours must write besides (DESIGN.md: every write leaves an operation-log record; the
    # progress counts are kept current by every write): the history rows of the checklists and
    # items, then the progress counts of the organizations issued to, recounted.
    """INSERT INTO checklists_historicalchecklist (id, claim_deadline, issued_at, claimed_at, signature,
                                                   claim_snapshot, reopened_at, claimed_by_id, organization_id,
                                                   template_id, claimed_late, effective_from, history_date,
                                                   history_change_reason, history_type, history_user_id)
       SELECT c.id, c.claim_deadline, c.issued_at, c.claimed_at, c.signature, c.claim_snapshot, c.reopened_at,
              c.claimed_by_id, c.organization_id, c.template_id, c.claimed_late, c.effective_from, now(),
              %(reason)s, '+', %(user)s
       FROM checklists_checklist c WHERE c.template_id = %(template)s""",
    """INSERT INTO checklists_historicalchecklistitem (id, code, category, title, requirement, evidence, frequency,
                                                       deadline, score, meeting_kind, position, override_score,
                                                       override_reason, checklist_id, responsible_id,
                                                       template_item_id, history_date, history_change_reason,
                                                       history_type, history_user_id)
       SELECT i.id, i.code, i.category, i.title, i.requirement, i.evidence, i.frequency, i.deadline, i.score,
              i.meeting_kind, i.position, i.override_score, i.override_reason, i.checklist_id, i.responsible_id,
              i.template_item_id, now(), %(reason)s, '+', %(user)s
       FROM checklists_checklistitem i JOIN checklists_checklist c ON c.id = i.checklist_id
       WHERE c.template_id = %(template)s""",
    """DELETE FROM checklists_progresscount
       WHERE organization_id IN (SELECT organization_id FROM checklists_checklist WHERE template_id = %(template)s)""",
    """INSERT INTO checklists_progresscount (organization_id, year, deadline, occurrence_count, done_count, late_count,
                                             counted_at)
       SELECT c.organization_id, t.year, oc.deadline, COUNT(*), COUNT(oc.done_at), COUNT(*) FILTER (WHERE oc.late),
              now()
       FROM checklists_occurrence oc JOIN checklists_checklistitem i ON i.id = oc.item_id
       JOIN checklists_checklist c ON c.id = i.checklist_id JOIN checklists_checklisttemplate t ON t.id = c.template_id
       WHERE c.organization_id IN (SELECT organization_id FROM checklists_checklist WHERE template_id = %(template)s)
       GROUP BY c.organization_id, t.year, oc.deadline""",
]

PAGES = [
    ("progress", "checklists:progress", "?org={county}"),
    ("board", "supervision:board", "?org={county}"),
    ("checklists_home", "checklists:home", ""),
    ("review_queue", "checklists:review", ""),
    ("org_tree", "organizations:tree", ""),
    ("inbox", "notifications:inbox", ""),
    ("organization", "organizations:detail", "{town_code}"),
    ("problem", "supervision:problem", "{problem}"),
    ("checklist", "checklists:checklist", "{checklist}"),
    ("exports", "spreadsheets:exports", ""),
    ("admonishments", "supervision:admonishments", ""),
]

JOBS = [
    "progress_county",
    "progress_city",
    "board_county",
    "board_city",
    "completion_county",
    "completion_city",
    "snapshot",
    "issue_county",
    *(f"page_{name}" for name, *_ in PAGES),
]


def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(function, repeat):
    result = function()  # warm-up
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - started)
    return times, result


def report(name, ours_times, floor_times, queries, **extra):
    ours, floor = statistics.median(ours_times), statistics.median(floor_times)
    more = "".join(f" {key}={value}" for key, value in extra.items())
    print(
        f"bench {name} ours={ours:.4f} floor={floor:.4f} ratio={ours / floor:.2f} queries={queries} "
        f"peak_rss_mb={peak_mb():.0f}{more}",
        flush=True,
    )


def queries_of(function):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        function()
    return len(captured.captured_queries)


def fetch(sql, params):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def context():
    from django.utils import timezone

    from organizations.models import Organization, User
    from organizations.scale import PREFIX

    county = Organization.objects.get(code=f"{PREFIX}X0001")
    return {
        "today": timezone.localdate(),
        "county": county,
        "city": county.parent,
        "staff": User.objects.get(username=f"scale-staff-{county.code.lower()}"),
    }


def rollup_job(name, repeat):
    from checklists import selectors as checklist_selectors
    from supervision import selectors as supervision_selectors

    c = context()
    today = c["today"]
    organization = c["county"] if name.endswith("county") else c["city"]
    admin = c["staff"] if name.endswith("county") else _staff_of(organization)
    params = {
        "start": len(organization.path) + 1,
        "today": today,
        "year": today.year,
        "prefix": organization.path + "%",
        "path": organization.path,
        "month_start": _aware(today.replace(day=1)),
    }
    if name.startswith("progress"):

        def ours():
            rows = checklist_selectors.progress_by_child(organization, admin, year=today.year, today=today)
            return {row.code: (row.due, row.done, row.overdue, row.total) for row in rows if row.total}

        def floor():
            return {child: tuple(values) for child, *values in fetch(PROGRESS_FLOOR, params)}
    else:

        def ours():
            rows = supervision_selectors.board(organization, admin, today=today)
            return {row.code: (row.open, row.overdue, row.closed) for row in rows if row.open or row.closed}

        def floor():
            return {child: tuple(values) for child, *values in fetch(BOARD_FLOOR, params) if values[0] or values[2]}

    ours_times, ours_result = timed(ours, repeat)
    floor_times, floor_result = timed(floor, repeat)
    assert ours_result == floor_result, f"{name}: the numbers differ"
    report(name, ours_times, floor_times, queries_of(ours), children=len(ours_result))


def completion_job(name, repeat):
    from checklists.models import Checklist
    from checklists.selectors import completion_scores

    c = context()
    organization = c["county"] if name.endswith("county") else c["city"]
    on = c["today"]
    checklists = Checklist.objects.filter(organization__path__startswith=organization.path)
    params = {"on": on, "end": _aware(on + timedelta(days=1)), "prefix": organization.path + "%"}

    def ours():
        return completion_scores(checklists, on=on)

    def floor():
        return dict(fetch(COMPLETION_FLOOR, params))

    ours_times, ours_result = timed(ours, repeat)
    floor_times, floor_result = timed(floor, repeat)
    assert ours_result == floor_result, f"{name}: the scores differ"
    report(name, ours_times, floor_times, queries_of(ours), checklists=len(ours_result))


def snapshot_job(name, repeat):
    from checklists.models import ProgressSnapshot
    from checklists.services import progress_snapshot_take

    today = context()["today"]
    month = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    end = today.replace(day=1) - timedelta(days=1)
    params = {"end": end, "end_of_day": _aware(today.replace(day=1)), "year": month.year, "month": month}
    rows = ProgressSnapshot.objects.filter(month=month)

    def taken():
        return set(rows.values_list("organization_id", "due", "done", "overdue"))

    ours_times, _ = timed(lambda: progress_snapshot_take(month=month), repeat)
    ours_result = taken()
    floor_times, _ = timed(lambda: fetch_none(SNAPSHOT_FLOOR, params), repeat)
    assert taken() == ours_result, f"{name}: the snapshots differ"
    report(
        name, ours_times, floor_times, queries_of(lambda: progress_snapshot_take(month=month)), rows=len(ours_result)
    )


def issue_job(name, repeat):
    from django.db import connection, transaction

    from checklists.models import Checklist, ChecklistItem, ChecklistTemplate, Occurrence, ProgressCount, TemplateItem
    from checklists.services import checklist_issue, progress_counts_refresh
    from organizations.models import Organization

    c = context()
    county, staff, today = c["county"], c["staff"], c["today"]
    source = ChecklistTemplate.objects.filter(owner=county).order_by("pk").first()
    template, _created = ChecklistTemplate.objects.get_or_create(
        owner=county, year=today.year, name="基准下发清单", defaults={"target_types": source.target_types}
    )
    if not template.items.exists():
        TemplateItem.objects.bulk_create(
            [
                TemplateItem(
                    template=template,
                    **{
                        f.name: getattr(item, f.name)
                        for f in TemplateItem._meta.fields
                        if f.name not in {"id", "template"}
                    },
                )
                for item in source.items.all()
            ]
        )
    params = {
        "template": template.pk,
        "claim_deadline": today + timedelta(days=30),
        "prefix": county.path + "%",
        "types": list(template.target_types),
        "year": today.year,
        "reason": "issued",
        "user": staff.pk,
    }

    def clear():
        with connection.cursor() as cursor:
            cursor.execute(
                "DELETE FROM checklists_occurrence WHERE item_id IN (SELECT i.id FROM checklists_checklistitem i "
                "JOIN checklists_checklist c ON c.id = i.checklist_id WHERE c.template_id = %s)",
                [template.pk],
            )
            cursor.execute(
                "DELETE FROM checklists_historicalchecklistitem WHERE checklist_id IN "
                "(SELECT id FROM checklists_checklist WHERE template_id = %s)",
                [template.pk],
            )
            cursor.execute("DELETE FROM checklists_historicalchecklist WHERE template_id = %s", [template.pk])
            cursor.execute(
                "DELETE FROM checklists_checklistitem WHERE checklist_id IN "
                "(SELECT id FROM checklists_checklist WHERE template_id = %s)",
                [template.pk],
            )
            cursor.execute("DELETE FROM checklists_checklist WHERE template_id = %s", [template.pk])
        # The county's progress counts as they were before the issue (the roll-ups read them).
        with transaction.atomic():
            progress_counts_refresh(Organization.objects.filter(path__startswith=county.path).values("pk"))

    def counts():
        return (
            Checklist.objects.filter(template=template).count(),
            Occurrence.objects.filter(item__checklist__template=template).count(),
            set(
                Occurrence.objects.filter(item__checklist__template=template).values_list(
                    "item__checklist__organization_id", "item__code", "index", "period_start", "deadline"
                )
            ),
            Checklist.history.filter(template=template).count(),
            ChecklistItem.history.filter(checklist__template=template).count(),
            set(
                ProgressCount.objects.filter(organization__checklists__template=template).values_list(
                    "organization_id", "year", "deadline", "occurrence_count", "done_count", "late_count"
                )
            ),
        )

    def run(function):
        times = []
        for _ in range(repeat + 1):
            clear()
            started = time.perf_counter()
            function()
            times.append(time.perf_counter() - started)
        return times[1:]

    def ours():
        checklist_issue(actor=staff, template=template, root=county, claim_deadline=params["claim_deadline"])

    def floor():
        for sql in ISSUE_FLOOR:
            fetch_none(sql, params)

    ours_times = run(ours)
    ours_result = counts()
    floor_times = run(floor)
    assert counts() == ours_result, f"{name}: what was issued differs"
    clear()
    queries = queries_of(ours)
    clear()
    report(name, ours_times, floor_times, queries, checklists=ours_result[0], occurrences=ours_result[1])


def page_client():
    """(a test client logged in as the first county's staff, {page name: its URL}), with
    /trivial/ added to this module's URLs: the site's own layout (menu, account, messages) with
    nothing in it, through the same middleware, session and login as every page. Use the URLs
    with override_settings(ROOT_URLCONF=<this module's name>)."""
    from django.shortcuts import render
    from django.test import Client
    from django.urls import include, path, reverse

    from checklists.models import Checklist
    from supervision.models import Problem

    c = context()
    county = c["county"]
    town = county.children.order_by("code").first()
    values = {
        "county": county.code,
        "town_code": town.code,
        "problem": Problem.objects.filter(organization__path__startswith=county.path).order_by("pk").first().pk,
        "checklist": Checklist.objects.filter(organization__parent=town).order_by("pk").first().pk,
    }
    global urlpatterns
    urlpatterns = [path("trivial/", lambda request: render(request, "base.html")), path("", include("config.urls"))]
    client = Client()
    client.force_login(c["staff"])

    def url(url_name, suffix):
        if "{" in suffix and not suffix.startswith("?"):
            return reverse(url_name, args=[suffix.format(**values)], urlconf=__name__)
        return reverse(url_name, urlconf=__name__) + suffix.format(**values)

    return client, {name: url(url_name, suffix) for name, url_name, suffix in PAGES}


def page_job(name, repeat):
    from django.test.utils import override_settings

    client, urls = page_client()
    url = urls[name.removeprefix("page_")]
    count = max(repeat * 4, 5)
    with override_settings(ROOT_URLCONF=__name__, ALLOWED_HOSTS=["*"]):

        def get(target):
            response = client.get(target)
            assert response.status_code == 200, (target, response.status_code)

        ours_times, _ = timed(lambda: get(url), count)
        floor_times, _ = timed(lambda: get("/trivial/"), count)
        queries = queries_of(lambda: get(url))
    p95 = statistics.quantiles(ours_times, n=20)[-1] if len(ours_times) > 1 else ours_times[0]
    p95_floor = statistics.quantiles(floor_times, n=20)[-1] if len(floor_times) > 1 else floor_times[0]
    report(
        name,
        ours_times,
        floor_times,
        queries,
        p95=f"{p95:.4f}",
        p95_floor=f"{p95_floor:.4f}",
        p95_ratio=f"{p95 / p95_floor:.2f}",
    )


def fetch_none(sql, params):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _aware(day):
    from django.utils import timezone

    return timezone.make_aware(datetime.combine(day, datetime.min.time()))


def _staff_of(organization):
    from organizations.models import User

    return User.objects.get(username=f"scale-staff-{organization.code.lower()}")


def run_job(name, repeat):
    import django

    django.setup()
    from django.utils import translation

    translation.activate("zh-hans")
    if name.startswith(("progress", "board")):
        rollup_job(name, repeat)
    elif name.startswith("completion"):
        completion_job(name, repeat)
    elif name == "snapshot":
        snapshot_job(name, repeat)
    elif name == "issue_county":
        issue_job(name, repeat)
    else:
        page_job(name, repeat)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--job", choices=JOBS, action="append")
    options = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("benchmarks/scale.py needs the PostgreSQL database of seed_scale: set DATABASE_URL=postgres://…")
    if any(job.startswith("page_") for job in options.job or JOBS):
        # DEBUG off serves the collected, hashed static files, as in production.
        subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, check=True)
    if options.job and len(options.job) == 1:
        run_job(options.job[0], options.repeat)
        return
    failed = 0
    for job in options.job or JOBS:
        command = [sys.executable, __file__, "--repeat", str(options.repeat), "--job", job]
        failed += subprocess.run(command, check=False).returncode != 0
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
