"""The problems of an area (the board's list, its home counts) against the rule written out by
hand: a problem is on the area's list when it concerns an organization of the area's subtree or
a unit of the subtree answers for it, and the user sees it when the user sees the organization
concerned or the responsible unit. The scope's own condition is left out of the statement only
where a role of the user covers the whole area (organizations.permissions.views_whole_subtree)."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from organizations.models import Organization, Role
from organizations.permissions import Action, organizations_where, views_whole_subtree
from supervision import selectors
from supervision.models import Problem, Source
from tests.organizations.factories import PairingFactory, PersonFactory, RoleAssignmentFactory, UserFactory


def _problem(organization, unit, n):
    today = timezone.localdate()
    return Problem.objects.create(
        organization=organization,
        responsible_unit=unit,
        year=today.year,
        source=Source.SUPERVISION,
        category="组织生活",
        description=f"问题{n}",
        found_on=today,
        found_by="督导组",
        deadline=today + timedelta(days=n),
        original_deadline=today + timedelta(days=n),
    )


@pytest.fixture
def problems(world):
    """One problem of every organization that it answers for itself, and problems across the
    branches: the county's department answers for a village of the other county, a town of the
    other county for a village of this one."""
    made = [_problem(organization, organization, n) for n, organization in enumerate(Organization.objects.all())]
    made.append(_problem(world.village_b1a, world.department, 40))
    made.append(_problem(world.village_a1a, world.town_b1, 41))
    return made


@pytest.fixture
def users(world, user_with_role):
    leader_account = UserFactory()
    PairingFactory(
        village=world.village_b1a, unit=None, leader=PersonFactory(organization=world.city, user=leader_account)
    )
    department_secretary = user_with_role(Role.SECRETARY, world.department)
    PairingFactory(village=world.village_a2a, unit=world.department)
    two_villages = user_with_role(Role.SECRETARY, world.village_a1a)
    RoleAssignmentFactory(user=two_villages, organization=world.village_b1a, role=Role.SECRETARY)
    return [
        user_with_role(Role.VIEWER, world.city),
        user_with_role(Role.STAFF, world.county_a),
        user_with_role(Role.CLERK, world.town_a1),
        user_with_role(Role.STAFF, world.town_b1),
        two_villages,
        department_secretary,
        leader_account,
        UserFactory(is_superuser=True),
    ]


def _by_hand(user, area, problems):
    visible = set(organizations_where(user, Action.VIEW).values_list("pk", flat=True))
    subtree = {o.pk for o in Organization.objects.all() if o.path.startswith(area.path)}
    return {
        p.pk
        for p in problems
        if {p.organization_id, p.responsible_unit_id} & visible and {p.organization_id, p.responsible_unit_id} & subtree
    }


def test_the_board_and_the_home_counts_list_the_problems_of_the_area_the_user_sees(world, problems, users, client):
    checked = 0
    for user in users:
        client.force_login(user)
        for area in organizations_where(user, Action.VIEW):
            expected = _by_hand(user, area, problems)
            listed = client.get(reverse("supervision:board") + f"?org={area.code}").context["problems"]
            assert {p.pk for p in listed} == expected, (user.username, area.code)
            assert set(selectors.problems_of_area(area, user).values_list("pk", flat=True)) == expected
            assert selectors.home_problem_counts(area, user)["listed"] == len(expected)  # none claimed yet
            checked += len(expected)
    assert checked > 40  # the areas above do hold problems, the crossing ones among them


def test_a_role_at_or_above_the_area_covers_it_and_a_pairing_does_not(world, users):
    county_staff, town_clerk, leader = users[1], users[2], users[6]
    assert views_whole_subtree(county_staff, world.county_a)
    assert views_whole_subtree(county_staff, world.village_a1a)
    assert not views_whole_subtree(county_staff, world.city)
    assert not views_whole_subtree(town_clerk, world.county_a)
    assert views_whole_subtree(town_clerk, world.town_a1)
    assert not views_whole_subtree(leader, world.village_b1a)  # paired: sees it, holds no role there
    assert views_whole_subtree(users[-1], world.city)  # the superuser


def _board_list_statement(client, user, area):
    client.force_login(user)
    with CaptureQueriesContext(connection) as captured:
        client.get(reverse("supervision:board") + f"?org={area.code}")
    (statement,) = [q["sql"] for q in captured if q["sql"].startswith('SELECT "supervision_problem"."id"')]
    return statement


def test_the_boards_list_carries_the_users_scope_only_where_a_role_does_not_cover_the_area(
    world, problems, users, client
):
    """Each condition on the two keys is a UNION of two semi-joins (organizations.subtree.
    keyed_to_any), each served by its key's index; two such conditions where one says it all
    cost the planner twice the work."""
    assert _board_list_statement(client, users[1], world.county_a).count(" UNION ") == 1
    assert _board_list_statement(client, users[6], world.village_b1a).count(" UNION ") == 2


def test_each_row_of_the_board_says_its_link_state_and_countdown(world, user_with_role, client):
    """The rows' words are worked out in Python (selectors.with_countdown), not by template tags."""
    overdue = _problem(world.village_a1a, world.village_a1a, -3)
    left = _problem(world.village_a1b, world.village_a1b, 5)
    closed = _problem(world.village_a2a, world.village_a2a, -8)
    Problem.objects.filter(pk=closed.pk).update(status="closed", closed_at=timezone.now())
    client.force_login(user_with_role(Role.STAFF, world.county_a))
    page = client.get(reverse("supervision:board") + f"?org={world.county_a.code}").text
    rows = {p.pk: row for p in (overdue, left, closed) for row in page.split("<li>") if f"{p.description}<" in row}
    assert f'href="{reverse("supervision:problem", args=[overdue.pk])}"' in rows[overdue.pk]
    assert '<span class="red">逾期 3 天</span>' in rows[overdue.pk]
    assert ">已挂牌<" in rows[overdue.pk]
    assert "剩余 5 天" in rows[left.pk]
    assert ">已销号<" in rows[closed.pk]
    assert "逾期" not in rows[closed.pk]
    assert "剩余" not in rows[closed.pk]
