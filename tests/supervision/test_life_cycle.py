import threading
from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from organizations.models import Role
from supervision import services
from supervision.models import Admonishment, Decision, Notice, Problem, Source, Status
from tests.organizations.factories import PersonFactory, PostFactory, UserFactory

# Last year: every day of it has passed.
YEAR = timezone.localdate().year - 1


@pytest.fixture
def people(world, user_with_role):
    class People:
        staff = user_with_role(Role.STAFF, world.county_a, full_name="县组织部")
        supervisor = user_with_role(Role.SUPERVISOR, world.county_a, full_name="督导组")
        secretary = user_with_role(Role.SECRETARY, world.village_a1a, full_name="村书记")
        clerk = user_with_role(Role.CLERK, world.village_a1a, full_name="村台账员")
        neighbour = user_with_role(Role.SECRETARY, world.village_a1b, full_name="邻村书记")
        town_secretary = user_with_role(Role.SECRETARY, world.town_a1, full_name="镇书记")

    return People


def _problem(world, people, **overrides):
    fields = {
        "organization": world.village_a1a,
        "source": Source.SUPERVISION,
        "category": "组织生活",
        "description": "三会一课记录不全",
        "found_on": timezone.localdate(),
        "found_by": "督导组",
        "deadline": timezone.localdate() + timedelta(days=30),
    }
    fields.update(overrides)
    return services.problem_list(actor=people.supervisor, **fields)


def test_every_legal_transition(world, people):
    problem = _problem(world, people)
    assert problem.status == Status.LISTED
    problem = services.problem_claim(actor=people.secretary, problem=problem)
    assert problem.status == Status.CLAIMED
    problem = services.problem_plan(
        actor=people.secretary, problem=problem, measures="补齐记录", person="村书记", deadline=problem.deadline
    )
    assert problem.status == Status.RECTIFYING
    services.rectification_record_add(actor=people.clerk, problem=problem, date=timezone.localdate(), content="已补")
    problem = services.problem_request_closing(actor=people.clerk, problem=problem, report="已全部整改")
    assert problem.status == Status.SUBMITTED
    problem = services.problem_check(actor=people.supervisor, problem=problem, passed=False, comment="签到表缺")
    assert problem.status == Status.RECTIFYING
    problem = services.problem_request_closing(actor=people.clerk, problem=problem, report="签到表已补")
    problem = services.problem_check(actor=people.staff, problem=problem, passed=True)
    assert problem.status == Status.CLOSED
    assert problem.closed_at is not None
    verbs = list(
        Problem.history.filter(id=problem.pk).order_by("history_date").values_list("history_change_reason", flat=True)
    )
    assert len(verbs) == 7


@pytest.mark.parametrize(
    ("status", "action"),
    [
        (Status.LISTED, "plan"),
        (Status.LISTED, "request_closing"),
        (Status.LISTED, "close"),
        (Status.CLAIMED, "claim"),
        (Status.CLAIMED, "close"),
        (Status.RECTIFYING, "close"),
        (Status.CLOSED, "claim"),
        (Status.CLOSED, "cancel"),
        (Status.CANCELLED, "claim"),
        (Status.CARRIED, "close"),
    ],
)
def test_illegal_transitions_are_refused(world, people, status, action):
    problem = _problem(world, people)
    Problem.objects.filter(pk=problem.pk).update(status=status, cancel_reason="测试", closed_at=timezone.now())
    with pytest.raises(ValidationError, match="不能"):
        services._transition(problem, action, actor=people.staff)
    assert Problem.objects.get(pk=problem.pk).status == status


def test_the_submitter_never_closes(world, people):
    problem = _problem(world, people)
    Problem.objects.filter(pk=problem.pk).update(status=Status.RECTIFYING)
    services.rectification_record_add(actor=people.clerk, problem=problem, date=timezone.localdate(), content="已补")
    services.problem_request_closing(actor=people.supervisor, problem=problem, report="由督导代为申请")
    with pytest.raises(ValidationError):
        services.problem_check(actor=people.supervisor, problem=problem, passed=True)


def test_cancel_needs_a_reason_and_carry_over_links_the_new_problem(world, people):
    problem = _problem(world, people)
    with pytest.raises(ValidationError):
        services.problem_cancel(actor=people.staff, problem=problem, reason=" ")
    carried = services.problem_carry_over(actor=people.staff, problem=problem, deadline=date(problem.year + 1, 3, 31))
    problem.refresh_from_db()
    assert (problem.status, carried.carried_from, carried.year, carried.status) == (
        Status.CARRIED,
        problem,
        problem.year + 1,
        Status.LISTED,
    )


def test_extension_missed_makes_the_secretary_in_post_due_an_admonishment(world, people):
    today = timezone.localdate()
    secretary_person = PersonFactory(organization=world.village_a1a, name="李书记")
    PostFactory(person=secretary_person, organization=world.village_a1a, start_date=today - timedelta(days=900))
    problem = _problem(world, people, found_on=today - timedelta(days=60), deadline=today - timedelta(days=20))
    extension = services.extension_request(
        actor=people.secretary, problem=problem, reason="雨季施工困难", new_deadline=today - timedelta(days=5)
    )
    assert extension.after_deadline
    services.extension_decide(actor=people.staff, extension=extension, approve=True, comment="同意")
    problem.refresh_from_db()
    assert problem.deadline == today - timedelta(days=5)

    _sent, admonished = services.deadlines_check(today=today)
    assert admonished == 1
    assert services.deadlines_check(today=today)[1] == 0  # safe to run twice
    admonishment = Admonishment.objects.get()
    assert (admonishment.person, admonishment.missed_on) == (secretary_person, today - timedelta(days=5))
    services.admonishment_decide(
        actor=people.staff, admonishment=admonishment, outcome="talk", held_on=today, notes="已约谈"
    )
    assert Admonishment.objects.get().outcome == "talk"


def test_one_pending_extension_at_a_time_and_decided_once(world, people):
    problem = _problem(world, people)
    extension = services.extension_request(
        actor=people.secretary, problem=problem, reason="原因", new_deadline=problem.deadline + timedelta(days=10)
    )
    with pytest.raises(ValidationError):
        services.extension_request(
            actor=people.secretary, problem=problem, reason="再要", new_deadline=problem.deadline + timedelta(days=20)
        )
    services.extension_decide(actor=people.staff, extension=extension, approve=False, comment="理由不足")
    with pytest.raises(ValidationError):
        services.extension_decide(actor=people.staff, extension=extension, approve=True)
    assert problem.extensions.get().decision == Decision.REJECTED


def test_the_whole_cycle_from_the_pages_by_the_right_roles_only(world, people, client):
    PersonFactory(name="李书记", organization=world.village_a1a)
    # the supervisor lists
    client.force_login(people.supervisor)
    response = client.post(
        reverse("supervision:problem_create"),
        {
            "organization": "A1a",
            "responsible_unit": "",
            "source": "supervision",
            "category": "阵地建设",
            "description": "党员活动室制度未上墙",
            "found_on": str(timezone.localdate()),
            "found_by": "督导组",
            "responsible_person": "李书记",
            "deadline": str(timezone.localdate() + timedelta(days=20)),
            "severity": "general",
        },
    )
    problem = Problem.objects.get()
    assert response.url == reverse("supervision:problem", args=[problem.pk])
    url = reverse("supervision:problem", args=[problem.pk])
    assert people.secretary.notifications.filter(title__contains="组织A1a").exists()

    def act(user, action, **data):
        client.force_login(user)
        return client.post(url, {"action": action, **data})

    # the neighbour and the town secretary cannot sign for it; the village secretary can
    assert act(people.neighbour, "claim").status_code == 404
    assert act(people.town_secretary, "claim").status_code == 403
    act(people.secretary, "claim")
    act(people.secretary, "plan", measures="制作制度牌", person="村书记", deadline=str(problem.deadline))
    act(people.clerk, "record", date=str(timezone.localdate()), content="已订制作")
    assert act(people.secretary, "close").status_code == 403  # not above
    act(people.clerk, "request_closing", report="制度牌已上墙")
    act(people.supervisor, "fail", comment="缺少党员权利义务")
    assert Problem.objects.get().status == Status.RECTIFYING
    act(people.secretary, "extend", new_deadline=str(problem.deadline + timedelta(days=10)), reason="等待制作")
    act(people.staff, "approve_extension", comment="同意")
    act(people.clerk, "request_closing", report="已补齐")
    act(people.staff, "close", comment="")
    problem.refresh_from_db()
    assert problem.status == Status.CLOSED
    client.force_login(people.secretary)
    timeline = client.get(url + "?part=log").context["timeline"]
    assert len(timeline) >= 8


def test_problems_are_scoped(world, people, client):
    problem = _problem(world, people)
    client.force_login(people.neighbour)
    assert client.get(reverse("supervision:problem", args=[problem.pk])).status_code == 404
    board = client.get(reverse("supervision:board"))
    assert problem not in list(board.context["problems"])


def test_board_counts_open_overdue_and_closed_this_month(world, people, client):
    _problem(world, people)
    _problem(
        world,
        people,
        found_on=timezone.localdate() - timedelta(days=40),
        deadline=timezone.localdate() - timedelta(days=3),
    )
    client.force_login(people.staff)
    rows = {row.code: row for row in client.get(reverse("supervision:board") + "?org=A").context["rows"]}
    assert (rows["A1"].open, rows["A1"].overdue, rows["A1"].closed) == (2, 1, 0)


def test_sample_can_be_derived_again_from_its_seed(world, people):
    sample = services.sample_draw(actor=people.supervisor, root=world.county_a, kinds=["village"], size=2, seed=42)
    assert len(sample.chosen) == 2
    assert services.sample_choose(sample.population, sample.size, sample.seed) == sample.chosen
    assert set(sample.population) == {"A1a", "A1b", "A2a"}


def test_a_visit_no_lists_a_problem_in_one_step(world, people, client):
    client.force_login(people.supervisor)
    data = {"organization": "A1a", "date": str(timezone.localdate())}
    for aspect in ["claimed", "answered", "identified", "concrete", "solved"]:
        data[f"{aspect}_ok"] = "yes"
    data["solved_ok"] = "no"
    data["solved_problem"] = "群众反映的路灯问题未解决"
    data["solved_category"] = "责任落实"
    data["solved_deadline"] = str(timezone.localdate() + timedelta(days=15))
    response = client.post(reverse("supervision:visit_create"), data)
    problem = Problem.objects.get()
    assert (problem.source, problem.description, problem.category) == (
        Source.SUPERVISION,
        "群众反映的路灯问题未解决",
        "责任落实",
    )
    assert response.url == reverse("supervision:visit", args=[problem.visit_id])


def test_notice_numbers_follow_the_hexagonal_bracket_style(world, people):
    notice = services.notice_issue(
        actor=people.staff,
        issuer=world.county_a,
        prefix="吴组通字",
        year=YEAR,
        title="关于部分村党组织落实三会一课不到位的通报",
        issued_on=date(YEAR, 6, 1),
        content="……",
        entries=[{"organization": world.village_a1a, "points": 2, "reason": "记录不全"}],
    )
    assert notice.number == f"吴组通字〔{YEAR}〕1号"
    second = services.notice_issue(
        actor=people.staff,
        issuer=world.county_a,
        prefix="吴组通字",
        year=YEAR,
        title="二",
        issued_on=date(YEAR, 7, 1),
        content="……",
        entries=[{"organization": world.village_a1b, "points": 1, "reason": "x"}],
    )
    assert second.number == f"吴组通字〔{YEAR}〕2号"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_transitions_cannot_leave_an_illegal_state(world):
    """Two checkers close and fail the same closing request at the same moment; and two
    claims race. Exactly one of each wins; the state stays legal."""
    staff, supervisor, secretary = UserFactory(), UserFactory(), UserFactory()
    problem = services.problem_list(
        actor=staff,
        organization=world.village_a1a,
        source=Source.SUPERVISION,
        category="x",
        description="并发测试",
        found_on=timezone.localdate(),
        found_by="x",
        deadline=timezone.localdate() + timedelta(days=5),
    )
    Problem.objects.filter(pk=problem.pk).update(status=Status.RECTIFYING)
    services.rectification_record_add(actor=secretary, problem=problem, date=timezone.localdate(), content="已整改")
    services.problem_request_closing(actor=secretary, problem=problem, report="报告")
    barrier, outcomes = threading.Barrier(2), []

    def check(actor, passed):
        try:
            barrier.wait()
            services.problem_check(actor=actor, problem=problem, passed=passed, comment="x")
            outcomes.append(("ok", passed))
        except ValidationError:
            outcomes.append(("refused", passed))
        finally:
            connection.close()

    threads = [
        threading.Thread(target=check, args=(staff, True)),
        threading.Thread(target=check, args=(supervisor, False)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcome for outcome, _passed in outcomes) == ["ok", "refused"]
    winner = next(passed for outcome, passed in outcomes if outcome == "ok")
    problem.refresh_from_db()
    assert problem.status == (Status.CLOSED if winner else Status.RECTIFYING)
    assert problem.closing_requests.filter(passed__isnull=False).count() == 1


def test_notices_name_organizations_and_persons_from_the_page(world, people, client):
    secretary_person = PersonFactory(organization=world.village_a1a, name="李书记")
    PostFactory(person=secretary_person, organization=world.village_a1a)
    client.force_login(people.staff)
    client.post(
        reverse("supervision:notices"),
        {
            "prefix": "吴组通字",
            "year": YEAR,
            "title": "通报",
            "issued_on": f"{YEAR}-06-01",
            "content": "……",
            "named": "A1a 2 三会一课记录不全\nA1a/李书记 1 未按时报送",
        },
    )
    notice = __import__("supervision.models", fromlist=["Notice"]).Notice.objects.get()
    entries = list(notice.entries.order_by("pk").values_list("organization__code", "person__name", "points"))
    assert [(code, name, float(points)) for code, name, points in entries] == [
        ("A1a", None, 2.0),
        ("A1a", "李书记", 1.0),
    ]
    assert notice.number == f"吴组通字〔{YEAR}〕1号"


def test_admonishments_are_decided_by_staff_above_only(world, people, client):
    today = timezone.localdate()
    problem = _problem(world, people, found_on=today - timedelta(days=60), deadline=today - timedelta(days=20))
    extension = services.extension_request(
        actor=people.secretary, problem=problem, reason="r", new_deadline=today - timedelta(days=5)
    )
    client.force_login(people.secretary)
    url = reverse("supervision:problem", args=[problem.pk])
    assert client.post(url, {"action": "approve_extension", "comment": ""}).status_code == 403
    services.extension_decide(actor=people.staff, extension=extension, approve=True)
    services.deadlines_check(today=today)
    admonishment = Admonishment.objects.get()
    data = {"pk": admonishment.pk, "outcome": "warning", "held_on": str(today), "notes": "诫勉谈话"}
    assert client.post(reverse("supervision:admonishments"), data).status_code == 403
    client.force_login(people.staff)
    client.post(reverse("supervision:admonishments"), data)
    admonishment.refresh_from_db()
    assert (admonishment.outcome, admonishment.held_on, admonishment.decided_by) == ("warning", today, people.staff)


def test_a_unit_never_closes_its_own_rectification(world, people, user_with_role, client):
    town_supervisor = user_with_role(Role.SUPERVISOR, world.town_a1)
    problem = services.problem_list(
        actor=people.staff,
        organization=world.village_a1a,
        responsible_unit=world.town_a1,
        source=Source.INSPECTION,
        category="x",
        description="由镇负责整改",
        found_on=timezone.localdate(),
        found_by="巡察组",
        deadline=timezone.localdate() + timedelta(days=9),
    )
    Problem.objects.filter(pk=problem.pk).update(status=Status.SUBMITTED)
    client.force_login(town_supervisor)
    response = client.post(reverse("supervision:problem", args=[problem.pk]), {"action": "close"})
    assert response.status_code == 403


def test_a_missed_extension_is_judged_as_of_its_deadline_day(world, people):
    today = timezone.localdate()
    problem = _problem(world, people, found_on=today - timedelta(days=90), deadline=today - timedelta(days=30))
    first = services.extension_request(
        actor=people.secretary, problem=problem, reason="一", new_deadline=today - timedelta(days=10)
    )
    services.extension_decide(actor=people.staff, extension=first, approve=True)
    # missed on day -10; a second extension is asked and approved only afterwards
    second = services.extension_request(
        actor=people.secretary, problem=problem, reason="二", new_deadline=today + timedelta(days=10)
    )
    services.extension_decide(actor=people.staff, extension=second, approve=True)
    assert services.deadlines_check(today=today)[1] == 1
    assert Admonishment.objects.get().extension == first


def test_no_decision_on_a_problem_that_left_the_cycle(world, people):
    problem = _problem(world, people)
    extension = services.extension_request(
        actor=people.secretary, problem=problem, reason="r", new_deadline=problem.deadline + timedelta(days=5)
    )
    services.problem_cancel(actor=people.staff, problem=problem, reason="误登记")
    extension.refresh_from_db()
    assert extension.decision == Decision.REJECTED
    with pytest.raises(ValidationError):
        services.extension_decide(actor=people.staff, extension=extension, approve=True)


def test_carry_over_deadline_must_be_in_the_next_year(world, people):
    problem = _problem(world, people)
    with pytest.raises(ValidationError):
        services.problem_carry_over(actor=people.staff, problem=problem, deadline=date(problem.year, 12, 31))
    assert Problem.objects.get(pk=problem.pk).status == Status.LISTED


def test_bad_input_gives_clear_errors_not_500(world, people, client):
    client.force_login(people.staff)
    response = client.post(
        reverse("supervision:notices"),
        {
            "prefix": "吴组通字",
            "year": YEAR,
            "title": "t",
            "issued_on": f"{YEAR}-06-01",
            "content": "c",
            "named": "A1a NaN 原因",
        },
    )
    assert response.status_code == 200
    assert response.context["form"].errors["named"] == ["第 1 行：请填写本辖区内的组织编码、扣分和原因。"]
    assert not Notice.objects.exists()
    assert client.post(reverse("supervision:admonishments"), {"pk": "abc"}).status_code == 404


def test_only_supervisors_see_where_unannounced_visits_go(world, people, client):
    sample = services.sample_draw(actor=people.supervisor, root=world.county_a, kinds=["village"], size=2, seed=7)
    client.force_login(people.town_secretary)
    assert client.get(reverse("supervision:sample", args=[sample.pk])).status_code == 404
    client.force_login(people.supervisor)
    page = client.get(reverse("supervision:sample", args=[sample.pk]))
    assert page.context["reproduced"] is True


def test_the_board_roll_up_uses_no_correlated_like_and_keeps_empty_children(world, people, user_with_role):
    from supervision.selectors import board
    from tests.rollup_sql import correlated_likes

    _problem(world, people)
    leader = user_with_role(Role.VIEWER, world.city)
    assert not correlated_likes(lambda: board(world.city, leader))
    rows = {row.code: (row.open, row.overdue, row.closed) for row in board(world.city, leader)}
    assert rows == {"A": (1, 0, 0), "B": (0, 0, 0)}


def test_the_daily_job_examines_an_extension_once_and_asks_no_query_per_problem(world, people):
    from django.test.utils import CaptureQueriesContext

    from supervision.models import Extension

    today = timezone.localdate()
    met = _problem(world, people, found_on=today - timedelta(days=60), deadline=today - timedelta(days=40))
    extension = services.extension_request(
        actor=people.secretary, problem=met, reason="r", new_deadline=today - timedelta(days=10)
    )
    services.extension_decide(actor=people.staff, extension=extension, approve=True)
    # a later extension approved before the first one ended: the first was not missed
    later = services.extension_request(
        actor=people.secretary, problem=met, reason="r2", new_deadline=today + timedelta(days=30)
    )
    services.extension_decide(actor=people.staff, extension=later, approve=True)
    Extension.objects.filter(pk=extension.pk).update(decided_at=timezone.now() - timedelta(days=12))
    Extension.objects.filter(pk=later.pk).update(decided_at=timezone.now() - timedelta(days=11))
    assert services.deadlines_check(today=today)[1] == 0
    assert Extension.objects.get(pk=extension.pk).examined
    # not examined again: the later approval moved past the day would make it missed now
    Extension.objects.filter(pk=later.pk).update(decided_at=timezone.now())
    assert services.deadlines_check(today=today)[1] == 0
    assert not Extension.objects.get(pk=extension.pk).missed

    def queries_with(n):
        for _ in range(n):
            _problem(world, people, found_on=today - timedelta(days=9), deadline=today - timedelta(days=1))
            _problem(world, people, organization=world.village_a1b, deadline=today + timedelta(days=2))
        with CaptureQueriesContext(connection) as run:
            sent, _admonished = services.deadlines_check(today=today)
        return len(run.captured_queries), sent

    few, sent_few = queries_with(1)
    many, sent_many = queries_with(5)
    assert sent_many > sent_few > 0
    assert many == few
