"""Every person's home (issue 14): counts by role, each equal to the list it links to, nothing
shown that the role cannot act on, and a query count that does not grow with the data."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from checklists import services as checklist_services
from checklists.models import Frequency, Occurrence
from organizations.models import OrganizationKind, PartyType, Role
from supervision import services as supervision_services
from supervision.models import Source
from tests.home_links import mismatches, tiles
from tests.organizations.factories import OrganizationFactory


class People:
    pass


@pytest.fixture
def people(world, user_with_role):
    p = People()
    p.staff = user_with_role(Role.STAFF, world.county_a, full_name="县组织部")
    p.viewer = user_with_role(Role.VIEWER, world.city, full_name="市领导")
    p.supervisor = user_with_role(Role.SUPERVISOR, world.county_a, full_name="督导组")
    p.judge = user_with_role(Role.JUDGE, world.county_a, full_name="评委")
    p.town_secretary = user_with_role(Role.SECRETARY, world.town_a1, full_name="镇书记")
    p.town_clerk = user_with_role(Role.CLERK, world.town_a1, full_name="镇干事")
    p.secretary = user_with_role(Role.SECRETARY, world.village_a1a, full_name="村书记")
    p.department = user_with_role(Role.SECRETARY, world.department, full_name="局书记")
    return p


@pytest.fixture
def template(world, people):
    today = timezone.localdate()
    template = checklist_services.template_create(
        actor=people.staff, owner=world.county_a, year=today.year, name="本年清单", target_types=[PartyType.BRANCH]
    )
    checklist_services.template_item_create(
        actor=people.staff,
        template=template,
        code="Z01",
        category="组织生活",
        title="支委会",
        requirement="每月召开",
        frequency=Frequency.MONTHLY,
        score=Decimal("10"),
    )
    return template


def grow(world, people, template, villages):
    """Add `villages` villages to each town with the same kinds of work as the first ones: an
    entry waiting, an entry returned, a problem overdue, an unclaimed checklist."""
    today = timezone.localdate()
    for town in (world.town_a1, world.town_a2):
        for _ in range(villages):
            OrganizationFactory(kind=OrganizationKind.VILLAGE, parent=town)
    checklist_services.checklist_issue(
        actor=people.staff, template=template, root=world.county_a, claim_deadline=today + timedelta(days=10)
    )
    fresh = template.checklists.exclude(items__occurrences__entries__isnull=False).distinct()
    for checklist in fresh.select_related("organization"):
        occurrences = list(Occurrence.objects.filter(item__checklist=checklist).order_by("deadline")[:2])
        checklist_services.entry_submit(actor=people.secretary, occurrence=occurrences[0], date=today, content="已召开")
        returned = checklist_services.entry_submit(
            actor=people.secretary, occurrence=occurrences[1], date=today, content="已召开"
        )
        checklist_services.entry_return(actor=people.staff, entry=returned, comment="请补签到表")
        supervision_services.problem_list(
            actor=people.supervisor,
            organization=checklist.organization,
            source=Source.SUPERVISION,
            category="组织生活",
            description="会议记录不全",
            found_on=today - timedelta(days=20),
            found_by="督导组",
            deadline=today - timedelta(days=1),
        )


@pytest.fixture
def area(world, people, template):
    grow(world, people, template, villages=0)
    # The department's own problem, for which it is the responsible unit (挂钩 department).
    today = timezone.localdate()
    supervision_services.problem_list(
        actor=people.staff,
        organization=world.village_a2a,
        responsible_unit=world.department,
        source=Source.SUPERVISION,
        category="驻村工作",
        description="第一书记驻村天数不足",
        found_on=today - timedelta(days=30),
        found_by="督导组",
        deadline=today - timedelta(days=2),
    )
    return world


ROLES = ["staff", "viewer", "supervisor", "judge", "town_secretary", "town_clerk", "secretary", "department"]


def _get(client):
    def get(url):
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        return response.content.decode()

    return get


@pytest.mark.parametrize("role", ROLES)
def test_every_count_on_a_home_equals_the_list_it_opens(client, area, people, role):
    client.force_login(getattr(people, role))
    get = _get(client)
    home = get(reverse("home"))
    if role == "judge":  # no assessment is being scored: the empty state, no count
        assert 'data-section="judge"' in home
    else:
        assert len(tiles(home)) >= 3
    assert mismatches(get, home) == []


def test_the_village_secretary_sees_what_to_do_one_tap_from_its_form(client, area, people, world):
    client.force_login(people.secretary)
    html = client.get(reverse("home")).content.decode()
    counts = {key: value for key, value, _href, _match in tiles(html)}
    assert counts["returned"] == 1
    assert counts["problems_overdue"] == 1
    assert counts["overdue"] > 0
    assert counts["unclaimed"] == 1
    occurrence = Occurrence.objects.filter(
        item__checklist__organization=world.village_a1a, done_at__isnull=True, deadline__lt=timezone.localdate()
    ).order_by("deadline")[0]
    assert reverse("checklists:entry_create", args=[occurrence.pk]) in html
    # Nothing the village cannot act on: no review queue, no area overview.
    assert 'data-section="waiting"' not in html
    assert 'data-section="overview"' not in html


def test_the_town_sees_its_villages_and_the_clerk_acts_on_their_queue(client, area, people, world):
    client.force_login(people.town_secretary)
    html = client.get(reverse("home")).content.decode()
    assert f'data-child="{world.village_a1a.code}"' in html
    assert f'data-child="{world.village_a1b.code}"' in html
    counts = {key: value for key, value, _href, _match in tiles(html)}
    assert counts["waiting"] == 2  # one entry waiting in each of the two villages
    # The secretary reads the queue; the clerk reviews it.
    assert client.get(reverse("checklists:review") + f"?org={world.town_a1.code}").status_code == 200
    assert not client.get(reverse("checklists:review")).context["acting"]
    client.force_login(people.town_clerk)
    assert client.get(reverse("checklists:review")).context["acting"]


def test_county_staff_see_what_waits_for_them(client, area, people):
    client.force_login(people.staff)
    html = client.get(reverse("home")).content.decode()
    counts = {key: value for key, value, _href, _match in tiles(html)}
    assert counts["review_entries"] == 4  # A1a, A1b, A2a and the department
    assert counts["area_problems_overdue"] == 5
    assert 'data-section="waiting"' in html
    assert "<svg" in html


def test_the_department_sees_its_own_problem_as_responsible_unit(client, area, people, world):
    client.force_login(people.department)
    html = client.get(reverse("home")).content.decode()
    counts = {key: value for key, value, _href, _match in tiles(html)}
    assert counts["problems_overdue"] == 2  # its own village-work problem and the one as 责任单位
    board = client.get(reverse("supervision:board") + f"?org={world.department.code}&status=overdue")
    assert "第一书记驻村天数不足" in board.content.decode()


def test_the_leader_reads_without_a_queue_and_the_judge_has_an_empty_state(client, area, people):
    client.force_login(people.viewer)
    html = client.get(reverse("home")).content.decode()
    assert 'data-section="overview"' in html
    assert 'data-section="waiting"' not in html
    client.force_login(people.judge)
    html = client.get(reverse("home")).content.decode()
    assert 'data-section="judge"' in html
    assert "sheets_open" not in html


@pytest.mark.parametrize("role", ROLES)
def test_the_home_costs_the_same_queries_as_the_data_grows(client, world, people, template, role):
    client.force_login(getattr(people, role))
    grow(world, people, template, villages=1)
    with CaptureQueriesContext(connection) as small:
        assert client.get(reverse("home")).status_code == 200
    grow(world, people, template, villages=6)
    with CaptureQueriesContext(connection) as large:
        response = client.get(reverse("home"))
    assert response.status_code == 200
    assert len(large) == len(small), [query["sql"] for query in large.captured_queries]


def test_a_village_secretarys_home_names_the_village_with_its_town(people, world, client):
    """Issue 11 point 12: the line under the greeting, not only the lists."""
    client.force_login(people.secretary)
    page = client.get(reverse("home")).text
    named = f"{world.village_a1a.name}（{world.town_a1.name}）"
    assert f"{named} 书记" in page
