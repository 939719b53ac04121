"""Lists that end where the data ends (issue 14, point 7): every list page has a total and
pages beyond the old cuts (200 / 300), filters by organization with its subtree, state and
deadline colour, and the same filters in its export; its query count does not grow with the data."""

import io
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from checklists.models import MeetingKind, MeetingRecord, ReviewStatus
from organizations.listing import PER_PAGE
from organizations.models import Role
from spreadsheets.models import ExportJob
from supervision.models import (
    Admonishment,
    FollowUp,
    FollowUpMethod,
    Notice,
    Problem,
    Source,
    Status,
    SupervisionVisit,
)
from tests.organizations.factories import PersonFactory


def _problems(
    world, n, *, organization=None, unit=None, deadline_in=-3, source=Source.SUPERVISION, status=Status.LISTED
):
    today = timezone.localdate()
    organization = organization or world.village_a1a
    Problem.objects.bulk_create(
        Problem(
            organization=organization,
            responsible_unit=unit or organization,
            year=today.year,
            source=source,
            category="组织生活",
            description=f"问题{number}",
            found_on=today - timedelta(days=10),
            found_by="督导组",
            original_deadline=today + timedelta(days=deadline_in),
            deadline=today + timedelta(days=deadline_in),
            status=status,
            closed_at=timezone.now() if status == Status.CLOSED else None,
        )
        for number in range(n)
    )


def _meetings(world, n, user, organization=None):
    now = timezone.now()
    MeetingRecord.objects.bulk_create(
        MeetingRecord(
            organization=organization or world.village_a1a,
            kind=MeetingKind.COMMITTEE_MEETING,
            date=timezone.localdate(),
            topic=f"支委会{number}",
            expected=7,
            present=7,
            minutes="纪要",
            status=ReviewStatus.SUBMITTED,
            submitted_by=user,
            first_submitted_at=now,
            submitted_at=now,
        )
        for number in range(n)
    )


def _admonishments(world, n, organization=None):
    person = PersonFactory(organization=organization or world.village_a1a)
    Admonishment.objects.bulk_create(
        Admonishment(
            organization=organization or world.village_a1a,
            person=person,
            cause="述职评议不称职",
            missed_on=timezone.localdate(),
        )
        for _ in range(n)
    )


def _follow_ups(world, n, user):
    FollowUp.objects.bulk_create(
        FollowUp(
            organization=world.village_a1a,
            method=FollowUpMethod.choices[0][0],
            date=timezone.localdate(),
            findings="回访",
            recorded_by=user,
        )
        for _ in range(n)
    )


def _notices(world, n, user):
    start = Notice.objects.count()
    Notice.objects.bulk_create(
        Notice(
            prefix="吴组通字",
            year=timezone.localdate().year,
            sequence=start + number + 1,
            title=f"通报{number}",
            issued_on=timezone.localdate(),
            content="c",
            issuer=world.county_a,
            created_by=user,
        )
        for number in range(n)
    )


@pytest.fixture
def staff(world, user_with_role):
    return user_with_role(Role.STAFF, world.county_a)


def test_the_board_lists_every_problem_beyond_the_old_cut_with_its_total(world, staff, client):
    # given 310 open problems (the board stopped at 300)
    _problems(world, 310)
    client.force_login(staff)
    # when
    first = client.get(reverse("supervision:board"), {"org": "A"})
    last = client.get(reverse("supervision:board"), {"org": "A", "page": 7})
    # then
    assert first.context["page"].paginator.count == 310
    assert len(first.context["problems"]) == PER_PAGE
    assert len(last.context["problems"]) == 310 - 6 * PER_PAGE
    assert "310" in first.content.decode()


def test_board_filters_by_colour_state_and_organization_with_its_subtree(world, staff, client):
    _problems(world, 4, deadline_in=-2)  # red
    _problems(world, 3, deadline_in=2)  # yellow (within the reminder days)
    _problems(world, 2, deadline_in=60, organization=world.village_a2a)  # green, in another town
    _problems(world, 5, deadline_in=-2, status=Status.CLOSED)  # closed: no colour
    client.force_login(staff)

    def count(**query):
        return client.get(reverse("supervision:board"), {"org": "A", **query}).context["page"].paginator.count

    assert count() == 14
    assert count(colour="red") == 4
    assert count(colour="yellow") == 3
    assert count(colour="green") == 2
    assert count(status="open") == 9
    assert count(status="overdue") == 4
    assert count(org="A1") == 12  # the town and its villages
    assert count(org="A2a", colour="green") == 2


def test_the_board_of_an_area_lists_the_problems_a_unit_of_it_answers_for_elsewhere(world, staff, client):
    # given a problem found at a village of county B for which county A's department answers,
    # one of county A's own, and one of county B's own
    _problems(world, 1, organization=world.village_b1a, unit=world.department)
    _problems(world, 1, organization=world.village_a2a)
    _problems(world, 1, organization=world.village_b1a)
    client.force_login(staff)

    def listed(**query):
        page = client.get(reverse("supervision:board"), query).context["page"]
        return sorted((problem.organization.code, problem.responsible_unit.code) for problem in page)

    # then county A's board and the department's list it, the department's alone with ?unit=1
    assert listed(org="A") == [("A2a", "A2a"), ("B1a", "AD")]
    assert listed(org="AD") == [("B1a", "AD")]
    assert listed(org="AD", unit="1") == [("B1a", "AD")]
    assert listed(org="A2") == [("A2a", "A2a")]


def test_an_organization_filter_typed_as_a_code_names_the_organization_with_its_town(world, staff, client):
    # a home tile opens a list with ?org=<code>: the box shows the code, the page says whose it is
    world.village_a2a.name = "高岭村"
    world.village_a2a.save()
    client.force_login(staff)
    for name in ("supervision:board", "checklists:review"):
        page = client.get(reverse(name), {"org": "A2a"}).content.decode()
        assert f'data-named="org">高岭村（{world.town_a2.name}）</span>' in page


def test_a_filter_outside_the_area_is_refused_and_lists_nothing_of_it(world, user_with_role, client):
    _problems(world, 2, organization=world.village_b1a)
    town_staff = user_with_role(Role.STAFF, world.town_a1)
    client.force_login(town_staff)
    page = client.get(reverse("supervision:board"), {"org": "B1a"})
    assert page.context["page"].paginator.count == 0
    assert page.context["filter"].form.errors["org"]


def test_the_board_export_applies_the_filters_of_the_page(world, staff, client, django_capture_on_commit_callbacks):
    # given problems of every colour, and a page filtered to the red ones of one town
    _problems(world, 4, deadline_in=-2)
    _problems(world, 3, deadline_in=2)
    _problems(world, 6, deadline_in=-2, organization=world.village_a2a)
    client.force_login(staff)
    page = client.get(reverse("supervision:board"), {"org": "A1", "colour": "red"})
    filters = page.context["export_filters"]
    assert f'name="filters" value="{filters}"' in page.content.decode().replace("&amp;", "&")
    # when the export button of that page is used
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("spreadsheets:export_create"), {"kind": "problems", "org": "A1", "filters": filters})
    # then the workbook holds what the page listed
    job = ExportJob.objects.latest("pk")
    assert job.status == "done", job.error
    content = b"".join(client.get(reverse("spreadsheets:export_download", args=[job.pk])).streaming_content)
    rows = list(load_workbook(io.BytesIO(content)).worksheets[0].iter_rows(values_only=True))[1:]
    assert len(rows) == page.context["page"].paginator.count == 4


def test_the_admonishment_export_applies_the_filters_of_the_page(
    world, staff, client, django_capture_on_commit_callbacks
):
    _admonishments(world, 3)
    _admonishments(world, 2, organization=world.village_a2a)
    Admonishment.objects.filter(organization=world.village_a2a).update(outcome=Admonishment.Outcome.TALK)
    client.force_login(staff)
    page = client.get(reverse("supervision:admonishments"), {"outcome": "talk"})
    assert page.context["page"].paginator.count == 2
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("spreadsheets:export_create"),
            {"kind": "admonishments", "org": "A", "filters": page.context["export_filters"]},
        )
    job = ExportJob.objects.latest("pk")
    content = b"".join(client.get(reverse("spreadsheets:export_download", args=[job.pk])).streaming_content)
    rows = list(load_workbook(io.BytesIO(content)).worksheets[0].iter_rows(values_only=True))[1:]
    assert len(rows) == 2


def test_the_review_queue_counts_and_pages_beyond_200(world, staff, user_with_role, client):
    # given 205 meeting records waiting (the queue stopped at 200 per kind)
    secretary = user_with_role(Role.SECRETARY, world.village_a1a)
    _meetings(world, 205, secretary)
    client.force_login(staff)
    # when
    page = client.get(reverse("checklists:review"))
    last = client.get(reverse("checklists:review"), {"meetings_page": 5})
    home = client.get(reverse("checklists:home"))
    # then
    assert page.context["meetings"].paginator.count == 205
    assert len(last.context["meetings"]) == 205 - 4 * PER_PAGE
    assert home.context["review_count"] == 205
    assert client.get(reverse("checklists:review"), {"org": "A2"}).context["meetings"].paginator.count == 0


def test_an_empty_list_shows_its_page_without_compiling_the_list(world, staff, user_with_role, client, monkeypatch):
    """organizations.listing.page_of: a list with nothing in it costs its count; its statement,
    which Django would compile in full only to find the slice [0:0] empty, is not built."""
    from django.db.models.sql.compiler import SQLCompiler

    compiled = []
    as_sql = SQLCompiler.as_sql

    def spied(compiler, *args, **kwargs):
        if compiler.query.model is MeetingRecord:
            compiled.append("count" if "__count" in compiler.query.annotation_select else "list")
        return as_sql(compiler, *args, **kwargs)

    monkeypatch.setattr(SQLCompiler, "as_sql", spied)
    secretary = user_with_role(Role.SECRETARY, world.village_a1a)
    client.force_login(staff)

    def meetings():
        compiled.clear()
        return client.get(reverse("checklists:review")).context["meetings"]

    page = meetings()
    assert (page.paginator.count, list(page), compiled) == (0, [], ["count"])
    _meetings(world, 3, secretary)
    page = meetings()
    assert [meeting.topic for meeting in page] == ["支委会0", "支委会1", "支委会2"]
    assert compiled == ["count", "list"]


def test_meetings_and_admonishments_page_beyond_the_old_cut(world, staff, user_with_role, client):
    secretary = user_with_role(Role.SECRETARY, world.village_a1a)
    _meetings(world, 210, secretary)
    _admonishments(world, 305)
    client.force_login(staff)
    meetings = client.get(reverse("checklists:meetings", args=["A1a"]))
    assert meetings.context["page"].paginator.count == 210
    assert client.get(reverse("checklists:meetings", args=["A"])).context["page"].paginator.count == 210  # subtree
    assert client.get(reverse("supervision:admonishments")).context["page"].paginator.count == 305


def test_the_visit_list_pages_beyond_its_old_cut_of_200_latest_first(world, user_with_role, client):
    # given 205 supervision visits in the county (the list stopped at 200)
    supervisor = user_with_role(Role.SUPERVISOR, world.county_a)
    today = timezone.localdate()
    SupervisionVisit.objects.bulk_create(
        SupervisionVisit(
            organization=world.village_a1a, date=today - timedelta(days=n), answers={}, recorded_by=supervisor
        )
        for n in range(205)
    )
    client.force_login(supervisor)
    # when the last page is read
    first = client.get(reverse("supervision:visits"))
    last = client.get(reverse("supervision:visits"), {"page": 5})
    # then it holds the oldest visits, and the first page says how many there are in all
    assert first.context["visits"].paginator.count == 205
    assert "data-total>205<" in first.text
    assert len(last.context["visits"]) == 205 - 4 * PER_PAGE
    assert list(last.context["visits"])[-1].date == today - timedelta(days=204)
    assert next(iter(first.context["visits"])).date == today


LIST_PAGES = [
    ("supervision:board", {"org": "A", "colour": "red"}),
    ("supervision:admonishments", {}),
    ("supervision:notices", {}),
    ("supervision:follow_ups", {}),
    ("checklists:review", {}),
    ("checklists:meetings", {}),
    ("accounts:list", {}),
]


@pytest.mark.parametrize(("name", "query"), LIST_PAGES)
def test_each_list_page_keeps_its_query_count_as_the_data_grows(world, user_with_role, client, name, query):
    staff = user_with_role(Role.STAFF, world.county_a)
    admin = user_with_role(Role.ADMIN, world.county_a)
    supervisor = user_with_role(Role.SUPERVISOR, world.county_a)
    secretary = user_with_role(Role.SECRETARY, world.village_a1a)
    user = {"accounts:list": admin, "supervision:follow_ups": supervisor}.get(name, staff)
    url = reverse(name, args=["A"]) if name == "checklists:meetings" else reverse(name)
    client.force_login(user)

    def grow(n):
        _problems(world, n, deadline_in=-1)
        _problems(world, n, deadline_in=-1, organization=world.village_a2a)
        _admonishments(world, n)
        _admonishments(world, n, organization=world.village_a2a)
        _meetings(world, n, secretary)
        _meetings(world, n, secretary, organization=world.village_a2a)
        _follow_ups(world, n, supervisor)
        _notices(world, n, staff)
        for number in range(n):
            user_with_role(Role.SECRETARY, world.village_a2a, username=f"sec-{name}-{n}-{number}")

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url, query).status_code == 200
        return len(captured)

    grow(2)
    few = queries()
    grow(30)
    assert queries() == few


def test_the_inbox_pages_beyond_its_old_cut_of_100(world, staff, client):
    from notifications.models import Notification

    Notification.objects.bulk_create(Notification(user=staff, title=f"提醒{n}") for n in range(120))
    client.force_login(staff)
    page = client.get(reverse("notifications:inbox"), {"page": 3})
    assert page.context["page"].paginator.count == 120
    assert len(page.context["notifications"]) == 120 - 2 * PER_PAGE
