from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from checklists import services
from checklists.models import DutyReport, LedgerEntry, MeetingKind, MeetingRecord, Occurrence, ReviewStatus

from .conftest import YEAR


def _meeting(people, world, **overrides):
    fields = {
        "kind": MeetingKind.COMMITTEE_MEETING,
        "date": date(YEAR, 3, 12),
        "topic": "研究发展党员",
        "expected": 5,
        "present": 4,
        "absences": [{"name": "陈海", "reason": "外出务工"}],
        "minutes": "一、……",
    }
    fields.update(overrides)
    return services.meeting_submit(actor=people.secretary, organization=world.village_a1a, **fields)


def test_recording_a_meeting_fulfils_the_matching_occurrence_without_a_second_entry(issued, people, world, client):
    client.force_login(people.secretary)
    response = client.post(
        reverse("checklists:meeting_create") + "?org=A1a",
        {
            "org": "A1a",
            "kind": MeetingKind.COMMITTEE_MEETING,
            "date": f"{YEAR}-03-12",
            "topic": "研究发展党员",
            "expected": 5,
            "present": 4,
            "absences_text": "陈海 外出务工",
            "minutes": "一、……",
        },
    )
    assert response.status_code == 302
    meeting = MeetingRecord.objects.get()
    assert meeting.absences == [{"name": "陈海", "reason": "外出务工"}]
    entry = meeting.entries.get()
    assert (entry.occurrence.item.code, entry.occurrence.index) == ("Z01", 3)  # March's 支委会

    services.meeting_approve(actor=people.town_clerk, meeting=meeting)

    occurrence = Occurrence.objects.get(pk=entry.occurrence_id)
    assert occurrence.done_at is not None
    assert LedgerEntry.objects.get().status == ReviewStatus.APPROVED
    assert LedgerEntry.objects.count() == 1


def test_a_meeting_of_another_kind_fulfils_nothing_here(issued, people, world):
    meeting = _meeting(people, world, kind=MeetingKind.THEME_DAY)
    assert meeting.entries.count() == 0


def test_a_returned_meeting_returns_its_entries_and_can_be_corrected(issued, people, world):
    meeting = _meeting(people, world)
    services.meeting_return(actor=people.town_clerk, meeting=meeting, comment="缺席原因不全")
    assert meeting.entries.get().status == ReviewStatus.RETURNED
    # moved to April: the entry follows to April's occurrence
    services.meeting_resubmit(
        actor=people.secretary,
        meeting=meeting,
        kind=meeting.kind,
        date=date(YEAR, 4, 2),
        topic=meeting.topic,
        expected=5,
        present=5,
        absences=[],
        minutes="……",
    )
    entry = meeting.entries.get()
    assert (entry.occurrence.index, entry.status) == (4, ReviewStatus.SUBMITTED)


def test_attendance_must_add_up(issued, people, world):
    with pytest.raises(ValidationError):
        _meeting(people, world, expected=3, present=4)
    with pytest.raises(ValidationError):
        _meeting(
            people, world, expected=5, present=4, absences=[{"name": "a", "reason": ""}, {"name": "b", "reason": ""}]
        )
    assert not MeetingRecord.objects.exists()


def test_duty_records_go_up_monthly_and_are_reviewed(world, people, client):
    client.force_login(people.secretary)
    url = reverse("checklists:duty") + f"?org=A1a&year={YEAR}"
    client.post(url, {"action": "add", "date": f"{YEAR}-03-05", "kind": "heart_talk", "content": "与支委谈心谈话"})
    client.post(url, {"action": "add", "date": f"{YEAR}-03-18", "kind": "contact_visit", "content": "走访联系户"})
    client.post(url, {"action": "send", "month": f"{YEAR}-03"})
    report = DutyReport.objects.get()
    assert (report.month, report.records.count(), report.status) == (date(YEAR, 3, 1), 2, ReviewStatus.SUBMITTED)

    # the month is locked once sent up
    response = client.post(url, {"action": "add", "date": f"{YEAR}-03-20", "kind": "other", "content": "补一条"})
    assert "已经报送" in response.text

    client.force_login(people.town_clerk)
    client.post(reverse("checklists:duty_report", args=[report.pk]), {"action": "return", "comment": "请写明谈话对象"})
    report.refresh_from_db()
    assert report.status == ReviewStatus.RETURNED

    client.force_login(people.secretary)
    client.post(url, {"action": "add", "date": f"{YEAR}-03-20", "kind": "other", "content": "补充：谈话对象为组织委员"})
    client.post(url, {"action": "send", "month": f"{YEAR}-03"})
    report.refresh_from_db()
    assert (report.status, report.records.count()) == (ReviewStatus.SUBMITTED, 3)
    client.force_login(people.town_clerk)
    client.post(reverse("checklists:duty_report", args=[report.pk]), {"action": "approve", "comment": ""})
    report.refresh_from_db()
    assert report.status == ReviewStatus.APPROVED


def test_the_year_of_duty_records_is_on_one_page(world, people, client):
    for month in (1, 5, 9):
        services.duty_record_add(
            actor=people.secretary,
            organization=world.village_a1a,
            date=date(YEAR, month, 3),
            kind="gave_lecture",
            content=f"{month}月讲党课",
        )
    client.force_login(people.town_clerk)
    page = client.get(reverse("checklists:duty") + f"?org=A1a&year={YEAR}")
    assert [month.month for month, *_rest in page.context["months"]] == [9, 5, 1]
    assert page.context["form"] is None  # the clerk above reads; only the village records


def test_nobody_outside_reads_a_duty_record(world, people, client):
    client.force_login(people.neighbour)
    assert client.get(reverse("checklists:duty") + "?org=A1a").status_code == 404


def test_the_review_queue_counts_a_months_duty_records_without_joining_them(world, people, client):
    """The queue shows how many records each waiting report holds (organizations.listing.count_of):
    a subquery per report, so that counting the reports does not join and group their records."""
    for year, month in [(YEAR, 3), (YEAR, 4)]:
        for day in range(1, 3 if month == 3 else 2):
            services.duty_record_add(
                actor=people.secretary,
                organization=world.village_a1a,
                date=date(year, month, day),
                kind="heart_talk",
                content=f"谈心谈话 {month}-{day}",
            )
        services.duty_report_submit(actor=people.secretary, organization=world.village_a1a, month=date(year, month, 1))
    client.force_login(people.town_clerk)
    with CaptureQueriesContext(connection) as captured:
        page = client.get(reverse("checklists:review"))
    reports = page.context["duty_reports"]
    assert reports.paginator.count == 2
    assert [(report.month.month, report.record_count) for report in reports] == [(3, 2), (4, 1)]
    assert "2 条记录" in page.text
    (count,) = [
        query["sql"]
        for query in captured
        if query["sql"].startswith('SELECT COUNT(*) AS "__count" FROM "checklists_dutyreport"')
    ]
    assert "checklists_dutyrecord" not in count
