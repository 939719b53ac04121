"""The daily job's extension part (DESIGN.md 4: each missed extended deadline makes the
secretary in post that day due an admonishment), set-based: the same judgement as the
per-extension code it replaced, a fixed number of statements, each extension examined once."""

import threading
import time as clock
from datetime import datetime, time, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from organizations.models import PostTitle, Role
from supervision import services
from supervision.models import Admonishment, Decision, Extension, Problem, Source, Status
from tests.organizations.factories import PersonFactory, PostFactory, UserFactory

TODAY = timezone.localdate()
DAY = TODAY - timedelta(days=5)  # the extended deadline of most cases: passed


@pytest.fixture
def people(world, user_with_role):
    class People:
        staff = user_with_role(Role.STAFF, world.county_a)
        supervisor = user_with_role(Role.SUPERVISOR, world.county_a)
        secretary = user_with_role(Role.SECRETARY, world.village_a1a)

    return People


def _extended(people, organization, day=DAY, *, description="三会一课记录不全"):
    """An open problem whose deadline was extended, approved, to `day`."""
    problem = services.problem_list(
        actor=people.supervisor,
        organization=organization,
        source=Source.SUPERVISION,
        category="组织生活",
        description=description,
        found_on=day - timedelta(days=60),
        found_by="督导组",
        deadline=day - timedelta(days=20),
    )
    return problem, _approved(people, problem, day)


def _approved(people, problem, day):
    extension = services.extension_request(actor=people.secretary, problem=problem, reason="r", new_deadline=day)
    return services.extension_decide(actor=people.staff, extension=extension, approve=True)


def _local(day, hour, minute=0, second=0):
    return timezone.make_aware(datetime.combine(day, time(hour, minute, second)))


def _was_missed(extension):
    """The judgement of the per-extension code this job replaced (supervision.services before
    issue 10 point 7), kept here as the oracle."""
    problem = Problem.objects.get(pk=extension.problem_id)
    end_of_day = timezone.make_aware(datetime.combine(extension.requested_deadline + timedelta(days=1), time.min))
    if problem.closed_at and problem.closed_at < end_of_day:
        return False
    if problem.status in {Status.CANCELLED, Status.CARRIED} and problem.closed_at is None:
        return False
    return not problem.extensions.filter(
        decision=Decision.APPROVED, requested_at__gt=extension.requested_at, decided_at__lt=end_of_day
    ).exists()


def _set(model, obj, **fields):
    model.objects.filter(pk=obj.pk).update(**fields)


# Some of the cases, as DESIGN.md 4 reads: the oracle itself is checked on them.
KEY_CASES = {
    "open": True,
    "closed by the end of the day": False,
    "closed the next day at midnight": True,
    "extended again the next morning": True,
    "not saved by one asked before it": True,
    "saved by one asked after it": False,
}


def test_an_extension_is_judged_missed_as_the_per_extension_code_did(world, people):
    village = world.village_a1a
    cases = {}
    # given: problems in every situation the judgement tells apart
    cases["open"] = _extended(people, village)[1]
    problem, cases["closed by the end of the day"] = _extended(people, village)
    _set(Problem, problem, status=Status.CLOSED, closed_at=_local(DAY, 23, 59, 59))
    problem, cases["closed the next day at midnight"] = _extended(people, village)
    _set(Problem, problem, status=Status.CLOSED, closed_at=_local(DAY + timedelta(days=1), 0))
    problem, cases["closed long before"] = _extended(people, village)
    _set(Problem, problem, status=Status.CLOSED, closed_at=_local(DAY - timedelta(days=9), 10))
    problem, cases["cancelled"] = _extended(people, village)
    _set(Problem, problem, status=Status.CANCELLED, cancel_reason="误登记")
    problem, cases["carried"] = _extended(people, village)
    _set(Problem, problem, status=Status.CARRIED)
    problem, cases["cancelled after closing late"] = _extended(people, village)
    _set(Problem, problem, status=Status.CANCELLED, cancel_reason="x", closed_at=_local(DAY + timedelta(days=2), 9))
    problem, cases["extended again by the end of the day"] = _extended(people, village)
    later = _approved(people, problem, TODAY + timedelta(days=20))
    _set(Extension, later, decided_at=_local(DAY, 20))
    problem, cases["extended again the next morning"] = _extended(people, village)
    later = _approved(people, problem, TODAY + timedelta(days=20))
    _set(Extension, later, decided_at=_local(DAY + timedelta(days=1), 8))
    problem, cases["a second extension refused"] = _extended(people, village)
    refused = services.extension_request(
        actor=people.secretary, problem=problem, reason="r", new_deadline=TODAY + timedelta(days=20)
    )
    services.extension_decide(actor=people.staff, extension=refused, approve=False, comment="不同意")
    _set(Extension, refused, decided_at=_local(DAY, 9))
    # Two extensions both past: the first met by the second, the second missed; and an
    # approval of an extension asked before this one does not save it.
    problem, cases["replaced"] = _extended(people, village, DAY - timedelta(days=10))
    cases["the replacing one, missed"] = _approved(people, problem, DAY)
    _set(Extension, cases["the replacing one, missed"], decided_at=_local(DAY - timedelta(days=10), 18))
    # An extension approved by then saves another only if it was asked after it.
    problem, first = _extended(people, village, DAY - timedelta(days=3))
    second = _approved(people, problem, DAY - timedelta(days=1))
    _set(Extension, first, requested_at=timezone.now(), decided_at=_local(DAY - timedelta(days=3), 12))
    cases["not saved by one asked before it"] = Extension.objects.get(pk=first.pk)
    cases["saved by one asked after it"] = Extension.objects.get(pk=second.pk)
    expected = {name: _was_missed(extension) for name, extension in cases.items()}
    assert set(expected.values()) == {True, False}

    # when
    _sent, admonished = services.deadlines_check(today=TODAY)

    # then
    judged = {name: Extension.objects.get(pk=extension.pk) for name, extension in cases.items()}
    assert {name: extension.missed for name, extension in judged.items()} == expected
    assert all(extension.examined for extension in judged.values())
    admonished_ids = set(Admonishment.objects.values_list("extension_id", flat=True))
    assert admonished_ids == {cases[name].pk for name, missed in expected.items() if missed}
    assert admonished == len(admonished_ids)
    assert {name: expected[name] for name in KEY_CASES} == KEY_CASES


def test_the_admonishment_names_the_secretary_in_post_on_the_deadline_day(world, people):
    def post(organization, name, start, end=None, title=PostTitle.SECRETARY):
        person = PersonFactory(organization=organization, name=name)
        PostFactory(person=person, organization=organization, title=title, start_date=start, end_date=end)
        return person

    # given: in A1a the secretary before, the one in post, one who starts after, a deputy
    post(world.village_a1a, "前任", DAY - timedelta(days=900), DAY - timedelta(days=1))
    in_post = post(world.village_a1a, "现任", DAY - timedelta(days=100))
    post(world.village_a1a, "继任", DAY + timedelta(days=1))
    post(world.village_a1a, "副书记", DAY - timedelta(days=10), title=PostTitle.DEPUTY_SECRETARY)
    # in A1b the one leaving that day and the one starting that day: the latest started
    post(world.village_a1b, "离任", DAY - timedelta(days=300), DAY)
    starting = post(world.village_a1b, "到任", DAY)
    # in A2a nobody
    extensions = {
        world.village_a1a: _extended(people, world.village_a1a)[1],
        world.village_a1b: _extended(people, world.village_a1b)[1],
        world.village_a2a: _extended(people, world.village_a2a)[1],
    }

    services.deadlines_check(today=TODAY)

    named = {
        organization: Admonishment.objects.get(extension=extension).person
        for organization, extension in extensions.items()
    }
    assert named == {world.village_a1a: in_post, world.village_a1b: starting, world.village_a2a: None}
    assert named == {organization: services.secretary_on(organization, DAY) for organization in extensions}
    assert all(
        Admonishment.objects.get(extension=extension).missed_on == DAY
        and Admonishment.objects.get(extension=extension).organization == organization
        for organization, extension in extensions.items()
    )


def _job_queries():
    with CaptureQueriesContext(connection) as run:
        _sent, admonished = services.deadlines_check(today=TODAY)
    return run.captured_queries, admonished


def test_the_job_asks_the_same_queries_for_2_and_for_20_extensions(world, people):
    def extensions(n):
        for index in range(n):
            problem, _extension = _extended(people, world.village_a1a if index % 2 else world.village_a1b)
            if index % 3 == 0:  # met: closed in time
                _set(Problem, problem, status=Status.CLOSED, closed_at=_local(DAY, 10))
        return _job_queries()

    PostFactory(person=PersonFactory(organization=world.village_a1a), start_date=DAY - timedelta(days=50))
    small, admonished_small = extensions(2)
    large, admonished_large = extensions(20)
    assert (admonished_small, admonished_large) == (1, 13)
    assert len(large) == len(small), [query["sql"] for query in large]
    assert Admonishment.objects.count() == 14


def test_an_examined_extension_is_not_looked_at_again(world, people):
    # given: one met (closed in time), one replaced by a later extension, one missed, examined
    met_problem, met = _extended(people, world.village_a1a)
    _set(Problem, met_problem, status=Status.CLOSED, closed_at=_local(DAY, 10))
    replaced_problem, replaced = _extended(people, world.village_a1a)
    later = _approved(people, replaced_problem, TODAY + timedelta(days=30))
    _set(Extension, later, decided_at=_local(DAY, 11))
    missed = _extended(people, world.village_a1b)[1]
    assert services.deadlines_check(today=TODAY)[1] == 1
    examined = {extension.pk for extension in (met, replaced, missed)}
    assert set(Extension.objects.filter(examined=True).values_list("pk", flat=True)) == examined
    # …and the facts rewritten so that judging them again would find them all missed
    _set(Problem, met_problem, closed_at=_local(TODAY, 8))
    _set(Extension, later, decided_at=_local(TODAY, 8))
    Admonishment.objects.all().delete()

    queries, admonished = _job_queries()

    assert admonished == 0
    assert not Admonishment.objects.exists()
    assert not Extension.objects.filter(pk__in=[met.pk, replaced.pk], missed=True).exists()
    extension_table = Extension._meta.db_table
    assert not [query for query in queries if query["sql"].startswith("UPDATE") and extension_table in query["sql"]]


def test_the_job_leaves_the_operation_log_of_what_it_changed_and_created(world, people):
    met_problem, met = _extended(people, world.village_a1a)
    _set(Problem, met_problem, status=Status.CLOSED, closed_at=_local(DAY, 10))
    missed = _extended(people, world.village_a1b)[1]

    services.deadlines_check(today=TODAY)

    for extension, was_missed in ((met, False), (missed, True)):
        last = Extension.history.filter(id=extension.pk).latest("history_date")
        assert (last.history_type, last.examined, last.missed) == ("~", True, was_missed)
        assert last.history_change_reason == "期满后已核查"
    admonishment = Admonishment.objects.get()
    log = list(Admonishment.history.filter(id=admonishment.pk))
    assert [(row.history_type, row.extension_id, row.missed_on) for row in log] == [("+", missed.pk, DAY)]


def _waiting_on_a_lock():
    """Is another session of this database waiting for a row lock? (PostgreSQL)"""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0] > 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_recommend_each_admonishment_once(world, monkeypatch):
    """The first run is held after judging, inside its transaction, until the second is
    waiting for it; then both finish. Each extension is examined, logged and admonished once."""

    class People:
        staff, supervisor, secretary = UserFactory(), UserFactory(), UserFactory()

    extensions = [_extended(People, world.village_a1a)[1] for _ in range(6)]
    judge, judged, release, results, errors = services._extensions_judge, threading.Event(), threading.Event(), [], []

    def held(ids):
        admonished = judge(ids)
        if not judged.is_set():
            judged.set()
            release.wait(timeout=30)
        return admonished

    monkeypatch.setattr(services, "_extensions_judge", held)

    def run():
        try:
            results.append(services.deadlines_check(today=TODAY)[1])
        except Exception as error:  # reported by the assertion below
            errors.append(error)
        finally:
            connection.close()

    first, second = threading.Thread(target=run), threading.Thread(target=run)
    first.start()
    assert judged.wait(timeout=30)
    second.start()
    for _attempt in range(600):  # until the second run waits for the first one's locks
        if _waiting_on_a_lock():
            break
        clock.sleep(0.05)
    release.set()
    first.join()
    second.join()
    assert errors == []
    assert sorted(results) == [0, 6]
    assert sorted(Admonishment.objects.values_list("extension_id", flat=True)) == sorted(e.pk for e in extensions)
    assert Admonishment.history.count() == 6
    assert Extension.history.filter(history_type="~", examined=True).count() == 6
