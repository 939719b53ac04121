"""The lists opened from the home page's counts (overdue, due soon, not yet claimed, returned)
and the area's duty records end where the data ends: each has its total and pages, where it
used to stop at 300 rows (issue 10 point 7, organizations/listing.py)."""

from datetime import date, timedelta

from django.urls import reverse
from django.utils import timezone

from checklists.models import (
    Checklist,
    ChecklistTemplate,
    DutyReport,
    MeetingKind,
    MeetingRecord,
    Occurrence,
    ReviewStatus,
)
from organizations.listing import PER_PAGE


def _walk(client, url, query, name, param="page"):
    """Every row of a paginated list, page after page, and the total the first page gave."""
    first = client.get(url, query).context[name]
    rows = []
    for number in range(1, first.paginator.num_pages + 1):
        page = client.get(url, {**query, param: number}).context[name]
        rows.extend(row.pk for row in page)
    return first.paginator.count, rows


def test_the_overdue_list_pages_beyond_the_old_cut_of_300(world, people, issued, client):
    # given 305 more undone occurrences of the village's checklist whose deadline has passed
    today = timezone.localdate()
    item = issued.items.first()
    Occurrence.objects.bulk_create(
        Occurrence(
            item=item, index=1000 + n, period_start=today - timedelta(days=30), deadline=today - timedelta(days=1)
        )
        for n in range(305)
    )
    overdue = set(
        Occurrence.objects.filter(
            item__checklist__organization__path__startswith=world.county_a.path,
            done_at__isnull=True,
            deadline__lt=today,
        ).values_list("pk", flat=True)
    )
    client.force_login(people.staff)
    # when every page is read
    total, rows = _walk(client, reverse("checklists:due"), {"org": "A", "when": "overdue"}, "occurrences")
    # then each overdue occurrence is listed once, and the page says how many there are
    assert len(overdue) > 305
    assert total == len(overdue)
    assert sorted(rows) == sorted(overdue)
    page = client.get(reverse("checklists:due"), {"org": "A", "when": "overdue", "page": 2})
    assert len(page.context["occurrences"]) == PER_PAGE
    assert f"data-total>{len(overdue)}<" in page.text


def test_the_unclaimed_list_pages_through_every_checklist(world, people, issued, client):
    # given 60 more templates issued to the village and not yet claimed
    templates = ChecklistTemplate.objects.bulk_create(
        ChecklistTemplate(owner=world.county_a, year=issued.template.year, name=f"专项清单{n}") for n in range(60)
    )
    Checklist.objects.bulk_create(
        Checklist(template=template, organization=world.village_a1a, claim_deadline=timezone.localdate())
        for template in templates
    )
    unclaimed = set(
        Checklist.objects.filter(
            organization__path__startswith=world.county_a.path, claimed_at__isnull=True
        ).values_list("pk", flat=True)
    )
    client.force_login(people.staff)
    total, rows = _walk(client, reverse("checklists:unclaimed"), {"org": "A"}, "checklists")
    assert total == len(unclaimed) > PER_PAGE
    assert sorted(rows) == sorted(unclaimed)


def test_the_returned_list_pages_each_kind_apart(world, people, client):
    # given 70 meeting records returned to the village with a comment
    now = timezone.now()
    MeetingRecord.objects.bulk_create(
        MeetingRecord(
            organization=world.village_a1a,
            kind=MeetingKind.COMMITTEE_MEETING,
            date=timezone.localdate(),
            topic=f"支委会{n}",
            expected=7,
            present=7,
            minutes="纪要",
            status=ReviewStatus.RETURNED,
            submitted_by=people.secretary,
            first_submitted_at=now,
            submitted_at=now,
            reviewed_by=people.town_clerk,
            reviewed_at=now - timedelta(minutes=n),
            review_comment="缺签到表",
        )
        for n in range(70)
    )
    client.force_login(people.secretary)
    url = reverse("checklists:returned")
    # when every page of the meetings is read
    total, rows = _walk(client, url, {}, "meetings", param="meetings_page")
    page = client.get(url)
    # then all 70 are there, the total counts them, and the page offers the next page of meetings
    assert total == 70
    assert len(set(rows)) == 70
    assert page.context["total"] == 70
    assert "meetings_page=2" in page.text
    assert "会议纪实" in page.text


def test_the_areas_duty_records_page_through_every_month_sent_up(world, people, client):
    # given 65 months sent up by the village (the index stopped at 300; a page now holds 50)
    now = timezone.now()
    DutyReport.objects.bulk_create(
        DutyReport(
            organization=world.village_a1a,
            month=date(2000 + n // 12, n % 12 + 1, 1),
            submitted_by=people.secretary,
            first_submitted_at=now,
            submitted_at=now,
        )
        for n in range(65)
    )
    client.force_login(people.staff)
    total, rows = _walk(client, reverse("checklists:duty"), {}, "reports")
    assert total == 65
    assert len(set(rows)) == 65
    # newest first: the last page ends with the oldest month
    last = client.get(reverse("checklists:duty"), {"page": 2}).context["reports"]
    assert list(last)[-1].month == date(2000, 1, 1)
