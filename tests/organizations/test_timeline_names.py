"""The operation log names a village with its town (issue 11, point 12): a county with two 高岭村
must tell them apart on every timeline too, not only in the page's own facts."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from notifications.models import Notification
from organizations import services as organization_services
from organizations.models import Organization, Role
from supervision import services as supervision_services
from tests.log_fold import timeline_of
from tests.organizations.factories import UserFactory


@pytest.fixture
def two_gaoling(world):
    """Village A1a of 梅录街道 and village A2a of 塘㙍镇 are both called 高岭村."""
    Organization.objects.filter(pk__in=[world.village_a1a.pk, world.village_a2a.pk]).update(name="高岭村")
    Organization.objects.filter(pk=world.town_a1.pk).update(name="梅录街道")
    Organization.objects.filter(pk=world.town_a2.pk).update(name="塘㙍镇")
    for organization in (world.village_a1a, world.village_a2a, world.town_a1, world.town_a2):
        organization.refresh_from_db()


def _problem(world, staff):
    return supervision_services.problem_list(
        actor=staff,
        organization=world.village_a1a,
        responsible_unit=world.village_a1a,
        source="supervision",
        category="组织生活",
        description="三会一课记录不全",
        found_on=timezone.localdate(),
        found_by="督导组",
        deadline=timezone.localdate() + timedelta(days=30),
    )


def test_the_problem_timeline_names_the_village_with_its_town(two_gaoling, world, user_with_role, client):
    staff = user_with_role(Role.STAFF, world.county_a, full_name="县组织部干部")
    secretary = user_with_role(Role.SECRETARY, world.village_a1a, full_name="村书记")
    problem = _problem(world, staff)
    # The notice of a new problem says which 高岭村 too.
    assert "高岭村（梅录街道）" in Notification.objects.get(user=secretary).title
    supervision_services.extension_request(
        actor=staff, problem=problem, reason="需协调资金", new_deadline=problem.deadline + timedelta(days=10)
    )
    client.force_login(staff)
    timeline = timeline_of(client.get(reverse("supervision:problem", args=[problem.pk]) + "?part=log").text)
    # The problem's own row and the extension's row (named through its problem).
    assert timeline.count("高岭村（梅录街道）") >= 2
    assert "「高岭村 ·" not in timeline


def test_the_organization_timeline_names_roles_with_the_town(two_gaoling, world, user_with_role, client):
    admin = user_with_role(Role.ADMIN, world.county_a, full_name="县管理员")
    clerk = UserFactory(full_name="李台账")
    organization_services.role_assign(actor=admin, user=clerk, organization=world.village_a2a, role=Role.CLERK)
    client.force_login(admin)
    url = reverse("organizations:detail", args=[world.village_a2a.code])
    timeline = timeline_of(client.get(url + "?part=log").text)
    assert "李台账 · 高岭村（塘㙍镇） · 台账管理员" in timeline


def test_the_timeline_costs_no_query_per_row(two_gaoling, world, user_with_role):
    """The names' organizations come in one query per related model, and the previous versions
    (to name what changed) in one per historical model, whatever the number of rows."""
    from supervision.selectors import problem_timeline

    staff = user_with_role(Role.STAFF, world.county_a, full_name="县组织部干部")
    problem = _problem(world, staff)

    def refused(times):
        for days in range(times):
            extension = supervision_services.extension_request(
                actor=staff, problem=problem, reason="需协调", new_deadline=problem.deadline + timedelta(days=days + 1)
            )
            supervision_services.extension_decide(actor=staff, extension=extension, approve=False, comment="不予延期")
            problem.refresh_from_db()

    def queries_for_the_timeline():
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as captured:
            entries = problem_timeline(problem)
            labels = [str(entry["object"]) for entry in entries]
        assert all("高岭村（梅录街道）" in label for label in labels)
        return len(entries), sum(entry["type"] == "~" for entry in entries), len(captured)

    refused(1)
    rows_before, changed_before, queries_before = queries_for_the_timeline()
    refused(3)
    rows_after, changed_after, queries_after = queries_for_the_timeline()
    assert (rows_after, changed_after) == (rows_before + 6, changed_before + 3)
    assert queries_after == queries_before


def test_the_timeline_names_what_changed_as_simple_history_does(world, user_with_role):
    """What a changed row lists is diff_against's over prev_record, many-to-many fields
    included (a reportee's venues), though found for all rows at once."""
    from organizations.models import PostTitle
    from organizations.selectors import history_timeline
    from reviews import services as reviews
    from reviews.models import GradeSet, Level, Reportee, ReviewSession, Venue
    from tests.organizations.factories import PersonFactory, PostFactory

    staff = user_with_role(Role.STAFF, world.county_a)
    today = timezone.localdate()
    for village in (world.village_a1a, world.village_a1b):
        PostFactory(person=PersonFactory(organization=village), organization=village, title=PostTitle.SECRETARY)
    session = reviews.session_create(
        actor=staff,
        organizer=world.county_a,
        year=today.year,
        title="述职评议",
        level=Level.VILLAGE_SECRETARIES,
        starts_on=today,
        ends_on=today + timedelta(days=3),
        grade_set=GradeSet.CADRE,
    )
    first = reviews.venue_add(actor=staff, session=session, name="一", organization=world.county_a, held_on=today)
    second = reviews.venue_add(actor=staff, session=session, name="二", organization=world.county_a, held_on=today)
    reviews.reportees_add(
        actor=staff,
        session=session,
        organizations=Organization.objects.filter(pk__in=[world.village_a1a.pk, world.village_a1b.pk]),
        titles=[PostTitle.SECRETARY],
        venues=[first],
    )
    one, other = session.reportees.order_by("pk")
    reviews.reportee_update(actor=staff, reportee=one, order=2, on_stage=True, venues=[first, second])
    reviews.reportee_update(actor=staff, reportee=other, order=other.order, on_stage=False, venues=[first])
    reviews.reportee_update(actor=staff, reportee=other, order=5, on_stage=False, venues=[second])
    reviews.venue_update(actor=staff, venue=second, name="二号会场", organization=world.county_a, held_on=today)
    # Three historical tables, whose history ids overlap.
    streams = [
        ReviewSession.history.filter(id=session.pk),
        Venue.history.filter(session_id=session.pk),
        Reportee.history.filter(session_id=session.pk),
    ]

    entries = history_timeline(streams, limit=100)

    expected, raw = [], []
    for stream in streams:
        for row in stream:
            names = []
            if row.history_type == "~" and row.prev_record is not None:
                names = sorted(change.field for change in row.diff_against(row.prev_record).changes)
            raw.append(names)
            model = row.instance_type
            expected.append(
                (
                    row.history_date,
                    model._meta.verbose_name,
                    row.id,
                    [model._meta.get_field(n).verbose_name for n in names],
                )
            )
    found = [(entry["at"], entry["model"], entry["object"].pk, entry["changed"]) for entry in entries]
    assert sorted(found, key=str) == sorted(expected, key=str)
    # field changes and many-to-many ones (the venues are set in a row of their own)
    assert all(names in raw for names in (["venues"], ["order"], ["on_stage"]))
