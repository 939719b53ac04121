"""Benchmark (not a test): the year-end aggregation of a province-sized scheme.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench .venv/bin/python benchmarks/scoring.py
    … benchmarks/scoring.py --towns 100 --repeat 1     # a quick run

PostgreSQL only. Builds once, with INSERT … SELECT, a scheme of 1,600 towns scored by 15 judges on
20 indicators (480,000 scores), then, 5 times after a warm-up, times

- ours:  scoring.aggregation.compute (every component for every town: the checklist scores,
         the trimmed means, the review scores, the quarterly means, the deductions) and store
         (the results, their ranks by RANK()), as the Celery job runs them;
- floor: one hand-written SQL statement computing the same trimmed means, panel totals and
         ranks,

checks that both give the same totals and ranks, and prints the medians, their ratio (target
≤ 1.5) and the number of queries the aggregation issued. "ours" is a rerun over stored results (as
after a correction: only what changed is rewritten); "first_run" is the aggregation of a scheme
with no results yet, every row written (its results deleted, untimed, before each run).
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

JUDGES, INDICATORS = 15, 20

FLOOR = """
WITH cells AS (
    SELECT s.organization_id, sc.indicator_id, COUNT(*) AS n, SUM(sc.score) AS total,
           MAX(sc.score) AS high, MIN(sc.score) AS low
    FROM scoring_judgescore sc JOIN scoring_judgesheet s ON s.id = sc.sheet_id
    WHERE s.scheme_id = %(scheme)s AND s.status = 'submitted'
    GROUP BY s.organization_id, sc.indicator_id
), means AS (
    SELECT organization_id, indicator_id,
           ROUND(CASE WHEN n >= %(trim)s THEN (total - high - low) / (n - 2) ELSE total / n END, 2) AS mean
    FROM cells
), panel AS (
    SELECT m.organization_id, ROUND(SUM(m.mean) * 100 / SUM(i.max_score), 2) AS total
    FROM means m JOIN scoring_indicator i ON i.id = m.indicator_id
    GROUP BY m.organization_id
)
SELECT organization_id, total, RANK() OVER (ORDER BY total DESC) FROM panel
"""


def build(towns):
    """The scheme named for its size, built once."""
    from datetime import date

    from django.db import connection, transaction
    from django.utils import timezone

    from organizations.models import Organization, Role, RoleAssignment, User
    from scoring.models import Indicator, Panel, Scheme

    name = f"基准考核 {towns}"
    found = Scheme.objects.filter(name=name).first()
    if found:
        return found
    print(f"building {towns:,} towns × {JUDGES} judges × {INDICATORS} indicators (once)…", flush=True)
    started = time.perf_counter()
    code = f"BS{towns}"
    with transaction.atomic():
        province = Organization.objects.create(
            code=code, name="基准省", kind="city", party_type="committee", path=f"/{code}/"
        )
        with connection.cursor() as cursor:
            cursor.execute(
                """INSERT INTO organizations_organization (code, name, kind, party_type, parent_id, path)
                   SELECT %s || '-' || n, '基准镇' || n, 'town', 'committee', %s, %s || %s || '-' || n || '/'
                   FROM generate_series(1, %s) AS n""",
                [code, province.pk, province.path, code, towns],
            )
        owner_user, _ = User.objects.get_or_create(username="bench", defaults={"full_name": "基准"})
        scheme = Scheme.objects.create(
            owner=province,
            year=timezone.localdate().year,
            name=name,
            state="scoring",
            weight_checklist=0,
            weight_panel=100,
            weight_mass=0,
            weight_ordinary=0,
            scoring_date=date(timezone.localdate().year, 12, 31),
            thresholds=[90, 80, 60],
            created_by=owner_user,
        )
        judges = []
        for n in range(JUDGES):
            judge, _ = User.objects.get_or_create(username=f"bench-judge-{n}", defaults={"full_name": f"评委{n}"})
            RoleAssignment.objects.get_or_create(user=judge, organization=province, role=Role.JUDGE)
            judges.append(judge)
        Indicator.objects.bulk_create(
            [
                Indicator(scheme=scheme, code=f"I{n:02d}", name=f"指标{n}", max_score=5, position=n)
                for n in range(INDICATORS)
            ]
        )
        panel = Panel.objects.create(scheme=scheme, name="评委团")
        with connection.cursor() as cursor:
            cursor.execute(
                """INSERT INTO scoring_schememember (scheme_id, organization_id)
                   SELECT %s, id FROM organizations_organization WHERE parent_id = %s""",
                [scheme.pk, province.pk],
            )
            cursor.execute(
                """INSERT INTO scoring_judgesheet (scheme_id, panel_id, judge_id, organization_id, status, submitted_at,
                                                   reopen_reason)
                   SELECT %s, %s, u.id, m.organization_id, 'submitted', now(), ''
                   FROM scoring_schememember m CROSS JOIN organizations_user u
                   WHERE m.scheme_id = %s AND u.id = ANY(%s)""",
                [scheme.pk, panel.pk, scheme.pk, [judge.pk for judge in judges]],
            )
            # Scores in halves from 2.0 to 5.0, with each judge's own bias and each town's own level.
            cursor.execute(
                """INSERT INTO scoring_judgescore (sheet_id, indicator_id, score)
                   SELECT s.id, i.id,
                          LEAST(5, GREATEST(0, ROUND(((3 + MOD(s.organization_id, 7) * 0.25 + MOD(s.judge_id, 5) * 0.1
                                                      + random() - 0.5) * 2)::numeric) / 2))
                   FROM scoring_judgesheet s CROSS JOIN scoring_indicator i
                   WHERE s.scheme_id = %s AND i.scheme_id = %s""",
                [scheme.pk, scheme.pk],
            )
            cursor.execute("ANALYZE scoring_judgescore; ANALYZE scoring_judgesheet;")
    print(f"  built in {time.perf_counter() - started:.0f} s", flush=True)
    return scheme


def timed(function, repeat):
    function()  # warm-up
    times = []
    result = None
    for _ in range(repeat):
        started = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--towns", type=int, default=1600)
    parser.add_argument("--repeat", type=int, default=5)
    options = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("benchmarks/scoring.py needs PostgreSQL: set DATABASE_URL=postgres://…")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import translation

    from scoring import aggregation
    from scoring.models import SchemeResult

    translation.activate("zh-hans")
    call_command("migrate", verbosity=0)
    scheme = build(options.towns)

    def ours():
        computed = aggregation.compute(scheme)
        aggregation.store(scheme, computed)
        return computed

    def floor():
        with connection.cursor() as cursor:
            cursor.execute(FLOOR, {"scheme": scheme.pk, "trim": scheme.trim_min_judges})
            return cursor.fetchall()

    ours_s, _computed = timed(ours, options.repeat)
    fresh_times = []
    for _ in range(options.repeat):
        SchemeResult.objects.filter(scheme=scheme).delete()
        started = time.perf_counter()
        ours()
        fresh_times.append(time.perf_counter() - started)
    fresh_s = statistics.median(fresh_times)
    with CaptureQueriesContext(connection) as queries:
        ours()
    floor_s, rows = timed(floor, options.repeat)
    stored = dict(SchemeResult.objects.filter(scheme=scheme).values_list("organization_id", "total"))
    ranks = dict(SchemeResult.objects.filter(scheme=scheme).values_list("organization_id", "rank"))
    assert stored == {organization: total for organization, total, _rank in rows}, "totals differ"
    assert ranks == {organization: rank for organization, _total, rank in rows}, "ranks differ"
    print(
        f"bench scheme_aggregation ours={ours_s:.3f} floor={floor_s:.3f} ratio={ours_s / floor_s:.2f} "
        f"first_run={fresh_s:.3f} first_ratio={fresh_s / floor_s:.2f} queries={len(queries.captured_queries)} "
        f"towns={len(rows):,} scores={len(rows) * JUDGES * INDICATORS:,}",
        flush=True,
    )


if __name__ == "__main__":
    main()
