"""Every list page costs the same number of queries whatever the number of its rows (issue 10
point 7): each is read at two sizes of an area that holds a record of every kind per village,
and the query counts must be equal."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from checklists import services as checklists
from checklists.models import Checklist, DutyKind, Frequency, MeetingKind, Occurrence
from notifications.models import Notification
from organizations.models import OrganizationKind, Pairing, PartyType, PostTitle, Role
from reviews import services as reviews
from reviews.models import (
    Consequence,
    ConsequenceKind,
    ConsequenceStatus,
    GradeSet,
    Level,
    Outcome,
    Reportee,
    ReviewResult,
    ReviewSession,
    State,
)
from scoring import services as scoring
from scoring.models import Scheme, SchemeState
from spreadsheets.models import ExportJob, ImportJob
from supervision import services as supervision
from supervision.models import Aspect, FollowUpMethod, Source
from tests.organizations.factories import (
    OrganizationFactory,
    PersonFactory,
    PostFactory,
    RoleAssignmentFactory,
    UserFactory,
)


class People:
    pass


@pytest.fixture
def people(world, user_with_role):
    p = People()
    p.staff = user_with_role(Role.STAFF, world.county_a, full_name="县组织部")
    p.admin = user_with_role(Role.ADMIN, world.county_a, full_name="县管理员")
    p.viewer = user_with_role(Role.VIEWER, world.county_a, full_name="县领导")
    p.supervisor = user_with_role(Role.SUPERVISOR, world.county_a, full_name="督导组")
    p.judge = user_with_role(Role.JUDGE, world.county_a, full_name="评委")
    p.town_clerk = user_with_role(Role.CLERK, world.town_a1, full_name="镇干事")
    p.secretary = user_with_role(Role.SECRETARY, world.village_a1a, full_name="村书记")
    p.person = PersonFactory(organization=world.village_a1a, name="村书记", user=p.secretary)
    PostFactory(person=p.person, organization=world.village_a1a, title=PostTitle.SECRETARY)
    return p


@pytest.fixture
def area(world, people):
    """What every village gets: an issued checklist, a review and a scheme of the county that
    each grow() adds to."""
    today = timezone.localdate()
    template = checklists.template_create(
        actor=people.staff, owner=world.county_a, year=today.year, name="本年清单", target_types=[PartyType.BRANCH]
    )
    checklists.template_item_create(
        actor=people.staff,
        template=template,
        code="Z01",
        category="组织生活",
        title="支委会",
        requirement="每月召开",
        frequency=Frequency.MONTHLY,
        score=Decimal("10"),
        meeting_kind=MeetingKind.COMMITTEE_MEETING,
    )
    session = reviews.session_create(
        actor=people.staff,
        organizer=world.county_a,
        year=today.year,
        title="村书记述职评议",
        level=Level.VILLAGE_SECRETARIES,
        starts_on=today - timedelta(days=1),
        ends_on=today + timedelta(days=5),
        grade_set=GradeSet.CADRE,
    )
    venue = reviews.venue_add(
        actor=people.staff, session=session, name="县会场", organization=world.county_a, held_on=today
    )
    reviews.group_add(actor=people.staff, venue=venue, name="党员", weight=Decimal(1), expected=10)
    scheme = scoring.scheme_create(
        actor=people.staff,
        owner=world.county_a,
        year=today.year,
        name="村书记考核",
        weight_checklist=Decimal(50),
        weight_panel=Decimal(50),
        weight_mass=Decimal(0),
        weight_ordinary=Decimal(0),
        scoring_date=today,
    )
    scoring.indicator_add(actor=people.staff, scheme=scheme, code="P1", name="抓党建", max_score=Decimal(10))
    panel = scoring.panel_add(actor=people.staff, scheme=scheme, name="评委组")
    published = reviews.session_create(
        actor=people.staff,
        organizer=world.county_a,
        year=today.year,
        title="上年度述职评议",
        level=Level.VILLAGE_SECRETARIES,
        starts_on=today - timedelta(days=10),
        ends_on=today - timedelta(days=5),
        grade_set=GradeSet.CADRE,
    )
    ReviewSession.objects.filter(pk=published.pk).update(state=State.PUBLISHED, results_at=timezone.now())
    return {
        "template": template,
        "session": session,
        "venue": venue,
        "group": venue.groups.get(),
        "published": published,
        "scheme": scheme,
        "panel": panel,
        "n": 0,
    }


def grow(world, people, area, villages):
    """Add `villages` villages to town A1, each with a record of every kind that a list shows."""
    today = timezone.localdate()
    last_month = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    new = []
    for _ in range(villages):
        area["n"] += 1
        village = OrganizationFactory(kind=OrganizationKind.VILLAGE, party_type=PartyType.BRANCH, parent=world.town_a1)
        secretary = UserFactory(full_name=f"书记{area['n']}")
        RoleAssignmentFactory(user=secretary, organization=village, role=Role.SECRETARY)
        person = PersonFactory(organization=village, user=secretary)
        PostFactory(person=person, organization=village, title=PostTitle.SECRETARY)
        Pairing.objects.create(year=today.year, village=village, leader=person, responsible=person)
        new.append((village, secretary, area["n"]))
    checklists.checklist_issue(
        actor=people.staff, template=area["template"], root=world.county_a, claim_deadline=today - timedelta(days=1)
    )
    scheme = Scheme.objects.get(pk=area["scheme"].pk)
    if scheme.state == SchemeState.SCORING:
        Scheme.objects.filter(pk=scheme.pk).update(state=SchemeState.DRAFT)
    scoring.members_add(actor=people.staff, scheme=scheme, organizations=[village for village, *_ in new])
    scoring.panel_assign(
        actor=people.staff, panel=area["panel"], judges=[people.judge], organizations=[village for village, *_ in new]
    )
    Scheme.objects.filter(pk=scheme.pk).update(state=SchemeState.SCORING)
    reviews.reportees_add(
        actor=people.staff,
        session=ReviewSession.objects.get(pk=area["session"].pk),
        organizations=[village for village, *_ in new],
        titles=[PostTitle.SECRETARY],
        venues=[area["venue"]],
    )
    for village, secretary, n in new:
        checklist = Checklist.objects.get(template=area["template"], organization=village)
        occurrences = list(Occurrence.objects.filter(item__checklist=checklist).order_by("deadline")[:2])
        checklists.entry_submit(actor=secretary, occurrence=occurrences[0], date=today, content="已召开")
        returned = checklists.entry_submit(actor=secretary, occurrence=occurrences[1], date=today, content="已召开")
        checklists.entry_return(actor=people.staff, entry=returned, comment="请补签到表")
        checklists.meeting_submit(
            actor=secretary,
            organization=village,
            kind=MeetingKind.COMMITTEE_MEETING,
            date=today,
            topic="学习",
            expected=5,
            present=5,
            absences=[],
            minutes="会议纪要",
        )
        checklists.duty_record_add(
            actor=secretary, organization=village, date=last_month, kind=DutyKind.HEART_TALK, content="谈心谈话"
        )
        checklists.duty_report_submit(actor=secretary, organization=village, month=last_month)
        problem = supervision.problem_list(
            actor=people.supervisor,
            organization=village,
            source=Source.SUPERVISION,
            category="组织生活",
            description="会议记录不全",
            found_on=today - timedelta(days=40),
            found_by="督导组",
            deadline=today - timedelta(days=20),
        )
        extension = supervision.extension_request(
            actor=secretary, problem=problem, reason="雨季", new_deadline=today - timedelta(days=5)
        )
        supervision.extension_decide(actor=people.staff, extension=extension, approve=True)
        supervision.follow_up_record(
            actor=people.supervisor,
            organization=village,
            method=FollowUpMethod.PHONE,
            date=today,
            findings="已电话督促",
            problem=problem,
        )
        supervision.visit_record(
            actor=people.supervisor,
            organization=village,
            date=today,
            answers={aspect: {"ok": True, "note": "已查"} for aspect in Aspect},
        )
        supervision.sample_draw(actor=people.supervisor, root=village, kinds=[village.kind], size=1)
        supervision.notice_issue(
            actor=people.staff,
            issuer=world.county_a,
            prefix="组通字",
            year=today.year,
            title="通报",
            issued_on=today,
            content="通报内容",
            entries=[{"organization": village, "person": None, "points": Decimal("1"), "reason": "台账不全"}],
        )
        session = reviews.session_create(
            actor=people.staff,
            organizer=world.county_a,
            year=today.year,
            title=f"述职评议{n}",
            level=Level.VILLAGE_SECRETARIES,
            starts_on=today - timedelta(days=1),
            ends_on=today + timedelta(days=5),
            grade_set=GradeSet.CADRE,
        )
        venue = reviews.venue_add(actor=people.staff, session=session, name="会场", organization=village, held_on=today)
        reviews.reportees_add(
            actor=people.staff,
            session=session,
            organizations=[world.village_a1a, village],
            titles=[PostTitle.SECRETARY],
            venues=[venue],
        )
        scoring.scheme_create(
            actor=people.staff,
            owner=village.parent,
            year=today.year,
            name=f"考核{n}",
            weight_checklist=Decimal(100),
            weight_panel=Decimal(0),
            weight_mass=Decimal(0),
            weight_ordinary=Decimal(0),
            scoring_date=today,
        )
        scoring.project_file(
            actor=secretary,
            organization=village,
            year=today.year,
            title="书记项目",
            background="背景",
            problem="问题",
            measures="措施",
            schedule="进度",
            expected_result="成效",
        )
        scoring.quarterly_score_set(actor=people.staff, organization=village, year=today.year, quarter=1, score=90)
        ExportJob.objects.create(kind="problems", params={}, title="问题台账", requester=people.staff)
        ImportJob.objects.create(requester=people.staff, original_name="组织.xlsx", file="imports/x.xlsx")
        for user in (people.staff, people.secretary):
            Notification.objects.create(user=user, title="通知", url="/")
    for village, _secretary, _n in new:
        post = village.posts.get(title=PostTitle.SECRETARY)
        reportee = Reportee.objects.create(
            session=area["published"], person=post.person, post=post, post_label="书记", organization=village
        )
        result = ReviewResult.objects.create(
            reportee=reportee, outcome=Outcome.RESULT, total=Decimal(50), grade=3, computed_at=timezone.now()
        )
        Consequence.objects.create(
            result=result,
            person=post.person,
            kind=ConsequenceKind.NO_SUBSIDY,
            applies_to=today.year + 1,
            status=ConsequenceStatus.ADOPTED,
            decided_on=today,
            decided_by=people.staff,
        )
        scoring.deduction_add(actor=people.staff, scheme=scheme, organization=village, points=Decimal(1), reason="通报")
        # the village secretary's own duty record grows too
        checklists.duty_record_add(
            actor=people.secretary,
            organization=world.village_a1a,
            date=last_month + timedelta(days=area["n"] % 28),
            kind=DutyKind.HEART_TALK,
            content="谈心谈话",
        )
    villages = list(world.town_a1.children.order_by("code"))
    area["sample"] = supervision.sample_draw(
        actor=people.supervisor, root=world.town_a1, kinds=[OrganizationKind.VILLAGE], size=len(villages)
    )
    area["notice"] = supervision.notice_issue(
        actor=people.staff,
        issuer=world.county_a,
        prefix="组通报",
        year=today.year,
        title="全镇通报",
        issued_on=today,
        content="通报内容",
        entries=[{"organization": v, "person": None, "points": Decimal("1"), "reason": "台账不全"} for v in villages],
    )
    supervision.deadlines_check(today=today)


def _pages(world, area):
    session, scheme, template, published = area["session"], area["scheme"], area["template"], area["published"]
    return {
        # checklists
        "review_queue": ("staff", reverse("checklists:review")),
        "due_overdue": ("staff", reverse("checklists:due") + f"?org={world.county_a.code}"),
        "unclaimed": ("staff", reverse("checklists:unclaimed") + f"?org={world.county_a.code}"),
        "returned": ("town_clerk", reverse("checklists:returned")),
        "meetings": ("staff", reverse("checklists:meetings", args=[world.county_a.code])),
        "duty_index": ("staff", reverse("checklists:duty")),
        "duty_own": ("secretary", reverse("checklists:duty")),
        "template": ("staff", reverse("checklists:template", args=[template.pk])),
        # supervision
        "board_print": ("staff", reverse("supervision:board") + f"?org={world.county_a.code}&print=1"),
        "admonishments": ("staff", reverse("supervision:admonishments")),
        "follow_ups": ("supervisor", reverse("supervision:follow_ups")),
        "visits": ("supervisor", reverse("supervision:visits")),
        "notices": ("staff", reverse("supervision:notices")),
        "notice": ("staff", reverse("supervision:notice", args=[area["notice"].pk])),
        "sample": ("supervisor", reverse("supervision:sample", args=[area["sample"].pk])),
        # reviews
        "reviews_home": ("staff", reverse("reviews:home")),
        "reviews_mine": ("secretary", reverse("reviews:mine")),
        "review_session": ("staff", reverse("reviews:session", args=[session.pk])),
        "precheck": ("staff", reverse("reviews:precheck", args=[session.pk])),
        "venue": ("staff", reverse("reviews:venue", args=[area["venue"].pk])),
        "form_print": ("staff", reverse("reviews:form_print", args=[area["venue"].pk])),
        "tally_print": ("staff", reverse("reviews:tally_print", args=[area["venue"].pk])),
        "paper": ("staff", reverse("reviews:paper", args=[area["group"].pk, 1])),
        "results": ("staff", reverse("reviews:results", args=[published.pk])),
        "results_print": ("staff", reverse("reviews:results_print", args=[published.pk])),
        "consequences": ("staff", reverse("reviews:consequences", args=[published.pk])),
        "shares": ("staff", reverse("reviews:shares") + f"?org={world.county_a.code}"),
        "barred": ("staff", reverse("reviews:barred") + f"?year={timezone.localdate().year + 1}"),
        # scoring
        "scoring_home": ("staff", reverse("scoring:home")),
        "my_sheets": ("judge", reverse("scoring:my_sheets")),
        "scheme": ("staff", reverse("scoring:scheme", args=[scheme.pk])),
        "panel": ("staff", reverse("scoring:panel", args=[area["panel"].pk])),
        "deductions": ("staff", reverse("scoring:deductions", args=[scheme.pk])),
        "quarterly": ("staff", reverse("scoring:quarterly")),
        "projects": ("staff", reverse("scoring:projects")),
        # spreadsheets, accounts, organizations, search
        "exports": ("staff", reverse("spreadsheets:exports")),
        "imports": ("staff", reverse("spreadsheets:import")),
        "accounts": ("admin", reverse("accounts:list")),
        "children": ("staff", reverse("organizations:children", args=[world.town_a1.code])),
        "options": ("staff", reverse("organizations:options") + "?organization=组织"),
        "town": ("staff", reverse("organizations:detail", args=[world.town_a1.code])),
        "search": ("staff", reverse("search") + "?q=组织"),
        "inbox_secretary": ("secretary", reverse("notifications:inbox")),
    }


PAGES = [
    "review_queue",
    "due_overdue",
    "unclaimed",
    "returned",
    "meetings",
    "duty_index",
    "duty_own",
    "template",
    "board_print",
    "admonishments",
    "follow_ups",
    "visits",
    "notices",
    "notice",
    "sample",
    "reviews_home",
    "reviews_mine",
    "review_session",
    "precheck",
    "venue",
    "form_print",
    "tally_print",
    "paper",
    "results",
    "results_print",
    "consequences",
    "shares",
    "barred",
    "scoring_home",
    "my_sheets",
    "scheme",
    "panel",
    "deductions",
    "quarterly",
    "projects",
    "exports",
    "imports",
    "accounts",
    "children",
    "options",
    "town",
    "search",
    "inbox_secretary",
]


def _queries(client, people, world, area, page):
    role, url = _pages(world, area)[page]
    client.force_login(getattr(people, role))
    with CaptureQueriesContext(connection) as run:
        response = client.get(url)
    assert response.status_code == 200, (page, response.status_code)
    return [query["sql"] for query in run.captured_queries]


def test_every_list_page_is_in_the_test(world, people, area):
    grow(world, people, area, villages=1)
    assert sorted(_pages(world, area)) == sorted(PAGES)


@pytest.mark.parametrize("list_page", PAGES)
def test_every_list_page_costs_the_same_queries_as_its_rows_grow(client, world, people, area, list_page):
    grow(world, people, area, villages=1)
    small = _queries(client, people, world, area, list_page)
    grow(world, people, area, villages=4)
    large = _queries(client, people, world, area, list_page)
    assert len(large) == len(small), large
