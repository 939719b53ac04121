from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from checklists import services
from checklists.models import Frequency, MeetingKind
from organizations.models import PartyType, Role

# Last year: every day of it has passed, so work may be dated on any of them (never after today).
YEAR = timezone.localdate().year - 1


@pytest.fixture
def people(world, user_with_role):
    """Users of the world: county staff, a town clerk (above the villages), village secretaries."""

    class People:
        staff = user_with_role(Role.STAFF, world.county_a, full_name="县组织部")
        town_clerk = user_with_role(Role.CLERK, world.town_a1, full_name="镇党建办")
        secretary = user_with_role(Role.SECRETARY, world.village_a1a, full_name="村书记")
        neighbour = user_with_role(Role.SECRETARY, world.village_a1b, full_name="邻村书记")

    return People


@pytest.fixture
def branch_template(world, people):
    """A branch list of four items for last year, targeting 党支部."""
    template = services.template_create(
        actor=people.staff,
        owner=world.county_a,
        year=YEAR,
        name=f"{YEAR}年村党组织清单",
        target_types=[PartyType.BRANCH],
    )
    items = [
        ("Z01", "支委会", Frequency.MONTHLY, None, Decimal("12"), MeetingKind.COMMITTEE_MEETING),
        ("Z02", "党员大会", Frequency.QUARTERLY, None, Decimal("8"), MeetingKind.MEMBER_MEETING),
        ("Z03", "民主评议党员", Frequency.YEARLY, date(YEAR, 12, 31), Decimal("10"), MeetingKind.MEMBER_REVIEW),
        ("Z04", "换届准备", Frequency.ONCE, date(YEAR, 6, 30), Decimal("5"), ""),
    ]
    for position, (code, title, frequency, deadline, score, meeting) in enumerate(items, start=1):
        services.template_item_create(
            actor=people.staff,
            template=template,
            code=code,
            category="组织生活",
            title=title,
            requirement=f"{title}按要求开展",
            evidence="会议记录、签到表",
            frequency=frequency,
            deadline=deadline,
            score=score,
            meeting_kind=meeting,
            position=position,
        )
    return template


@pytest.fixture
def issued(world, people, branch_template):
    services.checklist_issue(
        actor=people.staff,
        template=branch_template,
        root=world.county_a,
        claim_deadline=timezone.localdate() + timedelta(days=30),
    )
    return branch_template.checklists.get(organization=world.village_a1a)
