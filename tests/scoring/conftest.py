from datetime import date, datetime, time
from decimal import Decimal

import pytest
from django.utils import timezone

from checklists import services as checklists
from checklists.models import Frequency, Occurrence
from organizations.models import OrganizationKind, PartyType, PostTitle, Role
from scoring import services
from tests.organizations.factories import OrganizationFactory, PersonFactory, PostFactory, UserFactory


def this_year():
    return timezone.localdate().year


@pytest.fixture
def towns(world):
    """County A's towns T1–T4 (committees), each with a secretary in post."""
    found = {}
    for n in range(1, 5):
        town = OrganizationFactory(
            code=f"T{n}",
            name=f"镇{n}",
            kind=OrganizationKind.TOWN,
            party_type=PartyType.COMMITTEE,
            parent=world.county_a,
        )
        person = PersonFactory(organization=town, name=f"镇{n}书记")
        PostFactory(person=person, organization=town, title=PostTitle.SECRETARY)
        found[f"T{n}"] = town
    return found


@pytest.fixture
def staff(world, user_with_role):
    return user_with_role(Role.STAFF, world.county_a, full_name="县组织部")


@pytest.fixture
def judges(world, user_with_role):
    return [user_with_role(Role.JUDGE, world.county_a, full_name=f"评委{n}") for n in range(1, 6)]


def make_scheme(staff, world, **fields):
    year = this_year()
    values = {
        "year": year,
        "name": "乡镇党委书记抓党建考核",
        "weight_checklist": Decimal(40),
        "weight_panel": Decimal(40),
        "weight_mass": Decimal(20),
        "weight_ordinary": Decimal(0),
        "scoring_date": date(year, 6, 30),
    }
    values.update(fields)
    return services.scheme_create(actor=staff, owner=world.county_a, **values)


def issue_checklist(staff, world, towns):
    """A committee list with one monthly item of 10 points, issued to the towns given."""
    template = checklists.template_create(
        actor=staff, owner=world.county_a, year=this_year(), name="乡镇党委清单", target_types=[PartyType.COMMITTEE]
    )
    checklists.template_item_create(
        actor=staff,
        template=template,
        code="W01",
        category="组织生活",
        title="党委会研究党建",
        requirement="每月研究一次党建工作",
        evidence="会议记录",
        frequency=Frequency.MONTHLY,
        deadline=None,
        score=Decimal(10),
        meeting_kind="",
        position=1,
    )
    for town in towns:
        checklists.checklist_issue(actor=staff, template=template, root=town, claim_deadline=date(this_year(), 12, 31))
    return template


def done(template, town, indexes, *, late=False):
    at = timezone.make_aware(datetime.combine(date(this_year(), 1, 5), time(9)))
    Occurrence.objects.filter(
        item__checklist__template=template, item__checklist__organization=town, index__in=indexes
    ).update(done_at=at, late=late)


def review_total(town, total):
    """A published review of the year in which the town's secretary was rated `total`."""
    from reviews.models import Outcome, Reportee, ReviewResult, ReviewSession, State

    creator = UserFactory()
    today = timezone.localdate()
    session = ReviewSession.objects.create(
        year=this_year(),
        organizer=town.parent,
        title="乡镇党委书记述职评议",
        level="town",
        state=State.PUBLISHED,
        starts_on=today,
        ends_on=today,
        points=[100, 80, 60, 0],
        thresholds=[90, 70, 60],
        created_by=creator,
    )
    post = town.posts.get(title=PostTitle.SECRETARY)
    reportee = Reportee.objects.create(
        session=session, person=post.person, post=post, post_label="书记", organization=town
    )
    ReviewResult.objects.create(
        reportee=reportee, outcome=Outcome.RESULT, total=Decimal(total), grade=0, computed_at=timezone.now()
    )
