"""Benchmark (not a test): the results of a review with many ballots, and casting ballots.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench .venv/bin/python benchmarks/reviews.py
    … benchmarks/reviews.py --ballots 10000000        # the province-scale case
    … benchmarks/reviews.py --repeat 1 --ballots 20000  # a quick run (CI)

PostgreSQL only (COPY). Builds, once per size, a review of 500 village venues per million
ballots — two reportees and two rater groups per venue, every ballot rating both — loaded with
COPY; then, 5 times after a warm-up, times

- ours:  the results computation (reviews.results.compute_rows: the grouped queries over the
         answers and paper lines, and the arithmetic per reportee and group), and
- floor: one hand-written SQL statement of filtered aggregates giving the same counts and sums,

checks that both give the same numbers, and prints the medians and their ratio (target ≤ 1.3).
Then it casts ballots through the phone form with Django's test client (the code step and the
cast step, as a rater does) against a trivial POST view on the same stack, and prints both rates.
"""

import argparse
import io
import os
import random
import statistics
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

BALLOTS_PER_VENUE = 2000  # 1,200 party members + 800 villagers
GROUPS = [("党员", 60, 1200), ("群众", 40, 800)]

FLOOR = """
SELECT a.reportee_id, a.group_id,
       COUNT(*) FILTER (WHERE a.grade IS NULL) AS abstained,
       COALESCE(SUM(a.score), 0) AS score_sum,
       COUNT(*) FILTER (WHERE a.grade = 0), COUNT(*) FILTER (WHERE a.grade = 1),
       COUNT(*) FILTER (WHERE a.grade = 2), COUNT(*) FILTER (WHERE a.grade = 3)
FROM reviews_ballotanswer a JOIN reviews_ratergroup g ON g.id = a.group_id JOIN reviews_venue v ON v.id = g.venue_id
WHERE v.session_id = %s
GROUP BY a.reportee_id, a.group_id
"""


class Rows(io.RawIOBase):
    """A file-like view of generated text lines, for COPY … FROM STDIN without a temp file."""

    def __init__(self, lines):
        self.lines, self.buffer = iter(lines), b""

    def readable(self):
        return True

    def readinto(self, target):
        while len(self.buffer) < len(target):
            try:
                self.buffer += next(self.lines).encode()
            except StopIteration:
                break
        size = min(len(target), len(self.buffer))
        target[:size], self.buffer = self.buffer[:size], self.buffer[size:]
        return size


def build(ballots):
    """The review named for its size, built once: organizations, people, posts, venues, groups,
    reportees through bulk inserts; ballots and answers through COPY."""
    from django.db import connection, transaction
    from django.utils import timezone

    from organizations.models import Organization, Person, Post, PostTitle, User
    from reviews.models import RaterGroup, Reportee, ReviewSession, Venue

    title = f"基准述职评议 {ballots}"
    found = ReviewSession.objects.filter(title=title).first()
    if found:
        return found
    venues_count = max(1, ballots // BALLOTS_PER_VENUE)
    print(f"building {venues_count} venues, {ballots:,} ballots (once)…", flush=True)
    started = time.perf_counter()
    today = timezone.localdate()
    with transaction.atomic():
        user, _ = User.objects.get_or_create(username="bench", defaults={"full_name": "基准"})
        code = f"BV{ballots}"
        town = Organization.objects.create(
            code=code, name="基准镇", kind="town", party_type="committee", path=f"/{code}/"
        )
        villages = Organization.objects.bulk_create(
            [
                Organization(
                    code=f"{code}-{i}",
                    name=f"基准村{i}",
                    kind="village",
                    party_type="branch",
                    parent=town,
                    path=f"/{code}/{code}-{i}/",
                )
                for i in range(venues_count)
            ],
            batch_size=5000,
        )
        people = Person.objects.bulk_create(
            [
                Person(name=f"述职人{i}-{j}", political_status="party_member", organization=village)
                for i, village in enumerate(villages)
                for j in range(2)
            ],
            batch_size=5000,
        )
        posts = Post.objects.bulk_create(
            [
                Post(person=person, organization=person.organization, title=title_, start_date=today)
                for person, title_ in zip(
                    people, [PostTitle.SECRETARY, PostTitle.COMMITTEE_DIRECTOR] * venues_count, strict=True
                )
            ],
            batch_size=5000,
        )
        session = ReviewSession.objects.create(
            year=today.year,
            organizer=town,
            title=title,
            level="village",
            state="closed",
            starts_on=today,
            ends_on=today,
            grade_set="cadre",
            points=[100, 80, 60, 0],
            thresholds=[90, 70, 60],
            created_by=user,
        )
        venues = Venue.objects.bulk_create(
            [
                Venue(session=session, name=village.name, organization=village, held_on=today, position=i)
                for i, village in enumerate(villages)
            ],
            batch_size=5000,
        )
        groups = RaterGroup.objects.bulk_create(
            [
                RaterGroup(venue=venue, name=name, weight=weight, expected=expected)
                for venue in venues
                for name, weight, expected in GROUPS
            ],
            batch_size=5000,
        )
        reportees = Reportee.objects.bulk_create(
            [
                Reportee(
                    session=session,
                    person=post.person,
                    post=post,
                    post_label=post.get_title_display(),
                    organization=post.organization,
                    order=i,
                    check_verdict="consistent",
                    checked_at=timezone.now(),
                )
                for i, post in enumerate(posts)
            ],
            batch_size=5000,
        )
        Reportee.venues.through.objects.bulk_create(
            [Reportee.venues.through(reportee=reportee, venue=venues[i // 2]) for i, reportee in enumerate(reportees)],
            batch_size=5000,
        )
        rng = random.Random(8)
        ballot_ids = []

        def ballot_lines():
            for v, venue in enumerate(venues):
                for g in range(len(GROUPS)):
                    group = groups[v * len(GROUPS) + g]
                    for _ in range(group.expected):
                        ballot_id = uuid.uuid4()
                        ballot_ids.append((ballot_id, v, group.pk))
                        yield f"{ballot_id}\t{venue.pk}\t{group.pk}\t{today}\n"

        points = [100, 80, 60, 0]

        def answer_lines():
            for ballot_id, v, group_id in ballot_ids:
                for reportee in reportees[2 * v : 2 * v + 2]:
                    if rng.random() < 0.03:
                        yield f"{ballot_id}\t{reportee.pk}\t{group_id}\t\\N\t\\N\t\\N\t\n"
                    else:
                        grade = rng.choices(range(4), [50, 40, 8, 2])[0]
                        yield f"{ballot_id}\t{reportee.pk}\t{group_id}\t{grade}\t{points[grade]}\t\\N\t\n"

        with connection.cursor() as cursor:
            cursor.copy_expert(
                "COPY reviews_ballot (id, venue_id, group_id, cast_on) FROM STDIN",
                io.BufferedReader(Rows(ballot_lines()), 1 << 20),
            )
            cursor.copy_expert(
                "COPY reviews_ballotanswer (ballot_id, reportee_id, group_id, grade, score, dimension_scores, comment)"
                " FROM STDIN",
                io.BufferedReader(Rows(answer_lines()), 1 << 20),
            )
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE reviews_ballot; ANALYZE reviews_ballotanswer;")
    print(f"  built in {time.perf_counter() - started:.0f} s", flush=True)
    return session


def timed(function, repeat):
    function()  # warm-up
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def results_bench(session, repeat):
    from django.db import connection

    from reviews import results

    def ours():
        return results.compute_rows(session)

    def floor():
        with connection.cursor() as cursor:
            cursor.execute(FLOOR, [session.pk])
            return cursor.fetchall()

    ours_s, computed = timed(ours, repeat)
    floor_s, rows = timed(floor, repeat)
    found = {
        (row.reportee_id, row.group_id): (row.abstained, row.grade_0, row.grade_1, row.grade_2, row.grade_3)
        for result in computed
        for row in result.groups
    }
    expected = {(r, g): (abstained, *grades) for r, g, abstained, _sum, *grades in rows}
    assert found == expected, "ours and the floor disagree"
    means = {(row.reportee_id, row.group_id): row.mean for result in computed for row in result.groups}
    for r, g, _abstained, score_sum, *grades in rows:
        rated = sum(grades)
        assert means[(r, g)] == results.round2(score_sum / rated), "means differ"
    answers = sum(sum(values) for values in expected.values())
    print(
        f"bench review_results ours={ours_s:.3f} floor={floor_s:.3f} ratio={ours_s / floor_s:.2f} "
        f"ballots={sum(g.expected for g in session.venues.first().groups.all()) * session.venues.count():,} "
        f"answers={answers:,} reportees={len(computed):,}",
        flush=True,
    )


def trivial(request):
    from django.http import HttpResponse

    return HttpResponse("ok")


def casting_bench(count, urlconf=None):
    """Casting through the phone form vs a trivial POST view, both through the test client."""
    from decimal import Decimal

    from django.db import transaction
    from django.test import Client
    from django.test.utils import override_settings
    from django.urls import include, path
    from django.utils import timezone

    from organizations.models import Organization, Person, Post, PostTitle, User
    from reviews import services

    global urlpatterns
    urlpatterns = [path("trivial/", trivial), path("", include("config.urls"))]
    today = timezone.localdate()
    with transaction.atomic():
        user, _ = User.objects.get_or_create(username="bench", defaults={"full_name": "基准"})
        code = f"BC{uuid.uuid4().hex[:8]}"
        town = Organization.objects.create(
            code=code, name="投票镇", kind="town", party_type="committee", path=f"/{code}/"
        )
        village = Organization.objects.create(
            code=f"{code}-1", name="投票村", kind="village", party_type="branch", parent=town, path=f"/{code}/{code}-1/"
        )
        for title in (PostTitle.SECRETARY, PostTitle.COMMITTEE_DIRECTOR):
            person = Person.objects.create(name=f"投票{title}", political_status="party_member", organization=village)
            Post.objects.create(person=person, organization=village, title=title, start_date=today)
        session = services.session_create(
            actor=user,
            organizer=town,
            year=today.year,
            title="投票基准",
            level="village",
            starts_on=today,
            ends_on=today,
        )
        venue = services.venue_add(actor=user, session=session, name="会场", organization=town, held_on=today)
        group = services.group_add(actor=user, venue=venue, name="党员", weight=Decimal(100), expected=count)
        services.reportees_add(
            actor=user,
            session=session,
            organizations=[village],
            titles=[PostTitle.SECRETARY, PostTitle.COMMITTEE_DIRECTOR],
            venues=[venue],
        )
        session.state = "open"
        session.save()
        _batch, codes = services.codes_generate(actor=user, group=group, count=count)
    reportees = list(venue.reportees.values_list("pk", flat=True))
    client = Client()
    with override_settings(ROOT_URLCONF=urlconf or __name__):
        started = time.perf_counter()
        for code in codes:
            client.post("/vote/", {"step": "code", "code": code})
            response = client.post("/vote/", {"step": "cast", "code": code, **{f"r{r}_grade": "1" for r in reportees}})
            assert "已提交" in response.content.decode(), response.content[:500]
        ours = time.perf_counter() - started
        started = time.perf_counter()
        for _ in codes:
            client.post("/trivial/", {"step": "code"})
            client.post("/trivial/", {"step": "cast"})
        floor = time.perf_counter() - started
    print(
        f"bench ballot_casting ours={ours / count * 1000:.2f}ms floor={floor / count * 1000:.2f}ms "
        f"ratio={ours / floor:.2f} ballots_per_s={count / ours:.0f} (two POSTs per ballot, one process)",
        flush=True,
    )


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--ballots", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--casts", type=int, default=1000)
    options = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("benchmarks/reviews.py needs PostgreSQL: set DATABASE_URL=postgres://…")
    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import translation

    translation.activate("zh-hans")
    call_command("migrate", verbosity=0)
    session = build(options.ballots)
    results_bench(session, options.repeat)
    casting_bench(options.casts)


urlpatterns = []

if __name__ == "__main__":
    main()
