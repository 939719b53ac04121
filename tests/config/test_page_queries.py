"""The main pages of issue 10 cost the same number of queries whatever the data, and their
roll-ups give the numbers of a plain hand-written query over the same rows."""

from collections import Counter

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from checklists.models import Checklist, Occurrence
from checklists.selectors import progress_by_child, progress_by_month, progress_overview, progress_summary
from checklists.services import progress_counts_refresh
from organizations.models import Organization
from organizations.permissions import Action, organizations_where
from supervision.models import Problem
from supervision.selectors import board
from tests.config.test_home import grow, people, template  # noqa: F401 (fixtures)
from tests.organizations.factories import PairingFactory, PersonFactory

OPEN = ("listed", "claimed", "rectifying", "submitted")


def _pages(world):
    checklist = Checklist.objects.filter(organization=world.village_a1a).first()
    problem = Problem.objects.filter(organization__path__startswith=world.county_a.path).order_by("pk").first()
    return {
        "progress": reverse("checklists:progress") + f"?org={world.county_a.code}",
        "board": reverse("supervision:board") + f"?org={world.county_a.code}",
        "checklists_home": reverse("checklists:home"),
        "review_queue": reverse("checklists:review"),
        "org_tree": reverse("organizations:tree"),
        "inbox": reverse("notifications:inbox"),
        "organization": reverse("organizations:detail", args=[world.town_a1.code]),
        "problem": reverse("supervision:problem", args=[problem.pk]),
        "checklist": reverse("checklists:checklist", args=[checklist.pk]),
    }


@pytest.mark.parametrize(
    "page",
    [
        "progress",
        "board",
        "checklists_home",
        "review_queue",
        "org_tree",
        "inbox",
        "organization",
        "problem",
        "checklist",
    ],
)
def test_the_main_pages_cost_the_same_queries_as_the_data_grows(client, world, people, template, page):  # noqa: F811
    client.force_login(people.staff)
    grow(world, people, template, villages=1)
    url = _pages(world)[page]
    with CaptureQueriesContext(connection) as small:
        assert client.get(url).status_code == 200
    grow(world, people, template, villages=5)
    with CaptureQueriesContext(connection) as large:
        assert client.get(url).status_code == 200
    assert len(large) == len(small), [query["sql"] for query in large.captured_queries]


def _occurrence_rows(year):
    """Every occurrence of the year with its organization's path: a plain hand-written query."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT o.path, oc.deadline, oc.done_at IS NOT NULL, oc.late "
            "FROM checklists_occurrence oc "
            "JOIN checklists_checklistitem i ON i.id = oc.item_id "
            "JOIN checklists_checklist c ON c.id = i.checklist_id "
            "JOIN checklists_checklisttemplate t ON t.id = c.template_id "
            "JOIN organizations_organization o ON o.id = c.organization_id "
            "WHERE t.year = %s",
            [year],
        )
        return cursor.fetchall()


def _day(value):
    return value if not isinstance(value, str) else timezone.datetime.fromisoformat(value).date()


def test_the_progress_page_numbers_are_those_of_a_hand_written_query(world, people, template):  # noqa: F811
    grow(world, people, template, villages=2)
    today = timezone.localdate()
    # Some work done, some of it late, in two villages of two towns.
    for village in (world.village_a1b, world.village_a2a):
        ids = list(
            Occurrence.objects.filter(item__checklist__organization=village)
            .order_by("deadline")
            .values_list("pk", flat=True)
        )
        Occurrence.objects.filter(pk__in=ids[:3]).update(done_at=timezone.now())
        Occurrence.objects.filter(pk__in=ids[3:4]).update(done_at=timezone.now(), late=True)
        progress_counts_refresh([village.pk])  # as the approving service does
    for organization in (world.city, world.county_a, world.town_a1):
        children, summary, months = progress_overview(organization, people.viewer, year=today.year, today=today)
        expected_children, expected_summary, expected_months = Counter(), Counter(), Counter()
        for path, deadline, done, late in _occurrence_rows(today.year):
            if not path.startswith(organization.path):
                continue
            deadline = _day(deadline)
            counts = {
                "total": 1,
                "due": deadline <= today,
                "done": deadline <= today and bool(done),
                "overdue": deadline < today and not done,
            }
            expected_summary.update({**counts, "late": bool(late)})
            month = deadline.replace(day=1)
            expected_months.update(
                {(month, "due"): 1, (month, "done"): bool(done), (month, "overdue"): counts["overdue"]}
            )
            if path != organization.path:
                child = path[len(organization.path) :].split("/")[0]
                expected_children.update({(child, name): value for name, value in counts.items()})
        numbers = ["total", "due", "done", "overdue", "late"]
        assert {name: summary[name] for name in numbers} == {name: expected_summary[name] for name in numbers}
        assert {(row["month"], name): row[name] for row in months for name in ["due", "done", "overdue"]} == dict(
            expected_months
        )
        assert [child.code for child in children] == sorted(
            Organization.objects.filter(parent=organization).values_list("code", flat=True)
        )
        for child in children:
            assert (child.due, child.done, child.overdue, child.total) == tuple(
                expected_children[(child.code, name)] for name in ["due", "done", "overdue", "total"]
            )
        # …and those of the three separate scans it replaces.
        assert {name: summary[name] for name in numbers} == progress_summary(organization, year=today.year, today=today)
        assert months == progress_by_month(organization, year=today.year, today=today)
        separate = progress_by_child(organization, people.viewer, year=today.year, today=today)
        assert [(c.code, c.due, c.done, c.overdue, c.total) for c in separate] == [
            (c.code, c.due, c.done, c.overdue, c.total) for c in children
        ]


def test_the_board_numbers_are_those_of_a_hand_written_query(world, people, template):  # noqa: F811
    grow(world, people, template, villages=2)
    today = timezone.localdate()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT o.path, p.status, p.deadline FROM supervision_problem p "
            "JOIN organizations_organization o ON o.id = p.organization_id"
        )
        problems = cursor.fetchall()
    assert problems
    for organization in (world.city, world.county_a, world.town_a1):
        expected = Counter()
        for path, status, deadline in problems:
            if path.startswith(organization.path) and path != organization.path:
                child = path[len(organization.path) :].split("/")[0]
                expected[(child, "open")] += status in OPEN
                expected[(child, "overdue")] += status in OPEN and _day(deadline) < today
        rows = board(organization, people.viewer, today=today)
        assert [row.code for row in rows] == sorted(
            Organization.objects.filter(parent=organization).values_list("code", flat=True)
        )
        assert {(row.code, name): getattr(row, name) for row in rows for name in ["open", "overdue"]} == {
            (row.code, name): expected[(row.code, name)] for row in rows for name in ["open", "overdue"]
        }
        assert all(row.closed == 0 for row in rows)  # nothing was closed


@pytest.mark.parametrize(
    "role", ["staff", "viewer", "supervisor", "judge", "town_secretary", "town_clerk", "secretary", "department"]
)
def test_the_board_lists_the_children_the_user_may_view(world, people, role, django_user_model):  # noqa: F811
    """The board's one statement holds the user's scope itself: the same children as
    organizations_where(user, VIEW), pairings included."""
    user = getattr(people, role)
    leader = django_user_model.objects.create_user(username="挂钩领导", password="x")
    PairingFactory(village=world.village_b1a, unit=None, leader=PersonFactory(user=leader))
    PairingFactory(village=world.village_a2a, unit=world.town_b1)
    for who in (user, leader):
        visible = set(organizations_where(who, Action.VIEW).values_list("pk", flat=True))
        for organization in Organization.objects.all():
            expected = [child.code for child in organization.children.order_by("code") if child.pk in visible]
            assert [row.code for row in board(organization, who)] == expected, (who, organization.code)


def test_the_board_lists_every_child_for_a_superuser_and_none_for_an_inactive_user(world, people, django_user_model):  # noqa: F811
    admin = django_user_model.objects.create_superuser(username="超级管理员", password="x")
    assert [row.code for row in board(world.county_a, admin)] == ["A1", "A2", "AD"]
    people.staff.is_active = False
    people.staff.save()
    assert board(world.county_a, people.staff) == []
