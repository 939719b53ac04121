"""The admonishments page decides who may act on each row in the list's own query."""

from django.urls import reverse
from django.utils import timezone

from organizations.models import Role
from supervision import services
from supervision.models import Admonishment, Source
from supervision.selectors import admonishment_may_decide as _may_decide_admonishment
from tests.organizations.factories import PersonFactory


def _recommend(staff, organization, n=1):
    for number in range(n):
        services.admonishment_recommend(
            actor=staff,
            organization=organization,
            person=PersonFactory(name=f"书记{organization.code}{number}"),
            cause="述职评议不称职",
            on=timezone.localdate(),
        )


def _with_problem(supervisor, organization, unit):
    problem = services.problem_list(
        actor=supervisor,
        organization=organization,
        responsible_unit=unit,
        source=Source.SUPERVISION,
        category="组织生活",
        description="三会一课记录不全",
        found_on=timezone.localdate(),
        found_by="督导组",
        deadline=timezone.localdate(),
    )
    Admonishment.objects.create(
        organization=organization,
        problem=problem,
        person=PersonFactory(),
        cause="延期后仍未整改",
        missed_on=timezone.localdate(),
    )


def test_who_decides_each_row_matches_the_rule_for_one(world, user_with_role):
    county_staff = user_with_role(Role.STAFF, world.county_a)
    supervisor = user_with_role(Role.SUPERVISOR, world.county_a)
    for organization in (world.village_a1a, world.town_a1, world.village_a2a, world.village_b1a):
        _recommend(county_staff, organization)
    _with_problem(supervisor, world.village_a1a, world.town_a1)  # the town is the responsible unit
    _with_problem(supervisor, world.village_a2a, world.county_a)  # the county itself answers for it
    users = [
        county_staff,
        user_with_role(Role.STAFF, world.town_a1),
        user_with_role(Role.STAFF, world.city),
        user_with_role(Role.STAFF, world.county_b),
        user_with_role(Role.SECRETARY, world.village_a1a),
    ]
    from supervision.selectors import admonishment_decidable, admonishments_visible

    decided = seen = 0
    for user in users:
        rows = list(admonishments_visible(user).annotate(may_decide=admonishment_decidable(user)))
        assert rows or user.roleassignment_set.get().organization == world.village_a1a
        for row in rows:
            assert row.may_decide == _may_decide_admonishment(user, row), (user, row.organization.code)
            decided += row.may_decide
            seen += 1
    assert 0 < decided < seen


def test_the_page_keeps_its_query_count_as_rows_grow(world, user_with_role, client, django_assert_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    staff = user_with_role(Role.STAFF, world.county_a)
    client.force_login(staff)
    _recommend(staff, world.village_a1a, 2)
    with CaptureQueriesContext(connection) as few:
        page = client.get(reverse("supervision:admonishments"))
    assert page.content.decode().count('name="pk"') == 2
    _recommend(staff, world.village_a1b, 10)
    _recommend(staff, world.town_a2, 10)
    with CaptureQueriesContext(connection) as many:
        page = client.get(reverse("supervision:admonishments"))
    assert page.content.decode().count('name="pk"') == 22
    assert len(many.captured_queries) == len(few.captured_queries)
    assert "组织A1b（组织A1）" in page.content.decode()  # a village with its town
