"""Work is recorded once done: no date after today; a duty month goes up from its last day on
(issue 11, points 2 and 3)."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from checklists import services
from checklists.models import DutyRecord, DutyReport, LedgerEntry, MeetingKind, MeetingRecord, Occurrence

TOMORROW_MESSAGE = "日期不能晚于今天"


def _tomorrow():
    return timezone.localdate() + timedelta(days=1)


def test_a_ledger_entry_dated_tomorrow_is_refused_with_a_message(issued, people, client):
    occurrence = Occurrence.objects.filter(item__checklist=issued).first()
    client.force_login(people.secretary)
    response = client.post(
        reverse("checklists:entry_create", args=[occurrence.pk]),
        {"date": _tomorrow().isoformat(), "content": "提前写好的台账"},
    )
    assert response.status_code == 200
    assert TOMORROW_MESSAGE in response.text
    assert "提前写好的台账" in response.text  # what was typed stays
    assert not LedgerEntry.objects.exists()


def test_a_ledger_entry_dated_today_is_accepted(issued, people):
    occurrence = Occurrence.objects.filter(item__checklist=issued).first()
    services.entry_submit(actor=people.secretary, occurrence=occurrence, date=timezone.localdate(), content="已开展")
    assert LedgerEntry.objects.count() == 1


def test_a_correction_or_new_version_cannot_move_an_entry_into_the_future(issued, people):
    occurrence = Occurrence.objects.filter(item__checklist=issued).first()
    entry = services.entry_submit(
        actor=people.secretary, occurrence=occurrence, date=timezone.localdate(), content="已开展"
    )
    with pytest.raises(ValidationError):
        services.entry_resubmit(actor=people.secretary, entry=entry, date=_tomorrow(), content="改")
    services.entry_approve(actor=people.town_clerk, entry=entry)
    with pytest.raises(ValidationError):
        services.entry_revise(actor=people.secretary, entry=entry, date=_tomorrow(), content="改", reason="补")
    assert LedgerEntry.objects.count() == 1


def test_a_meeting_dated_tomorrow_is_refused(issued, people, world, client):
    client.force_login(people.secretary)
    response = client.post(
        reverse("checklists:meeting_create") + "?org=A1a",
        {
            "org": "A1a",
            "kind": MeetingKind.COMMITTEE_MEETING,
            "date": _tomorrow().isoformat(),
            "topic": "研究发展党员",
            "expected": 5,
            "present": 5,
            "minutes": "一、……",
        },
    )
    assert response.status_code == 200
    assert TOMORROW_MESSAGE in response.text
    assert not MeetingRecord.objects.exists()


def test_a_duty_record_dated_tomorrow_is_refused(world, people, client):
    client.force_login(people.secretary)
    response = client.post(
        reverse("checklists:duty") + "?org=A1a",
        {"action": "add", "date": _tomorrow().isoformat(), "kind": "heart_talk", "content": "谈心谈话"},
    )
    assert response.status_code == 200
    assert TOMORROW_MESSAGE in response.text
    assert not DutyRecord.objects.exists()


def _pretend_today(monkeypatch, day):
    real = timezone.localdate
    monkeypatch.setattr(timezone, "localdate", lambda value=None, timezone=None: day if value is None else real(value))


def test_a_duty_month_goes_up_only_from_its_last_day_on(world, people, client, monkeypatch):
    second = timezone.localdate().replace(day=2)
    last_day = services.month_sendable_from(second)
    _pretend_today(monkeypatch, second)
    services.duty_record_add(
        actor=people.secretary, organization=world.village_a1a, date=second, kind="heart_talk", content="谈心"
    )
    client.force_login(people.secretary)
    url = reverse("checklists:duty") + f"?org=A1a&year={second.year}"
    page = client.get(url).text
    assert f"该月最后一天（{last_day.isoformat()}）起可报送" in page
    assert "报送该月" not in page
    response = client.post(url, {"action": "send", "month": second.strftime("%Y-%m")}, follow=True)
    assert last_day.isoformat() in response.text
    assert not DutyReport.objects.exists()
    # the rest of the month stays open
    services.duty_record_add(
        actor=people.secretary, organization=world.village_a1a, date=second, kind="other", content="再记一条"
    )

    _pretend_today(monkeypatch, last_day)
    assert "报送该月" in client.get(url).text
    report = services.duty_report_submit(actor=people.secretary, organization=world.village_a1a, month=second)
    assert (report.month, report.records.count()) == (second.replace(day=1), 2)


def test_the_last_day_of_each_month_of_the_year():
    year = timezone.localdate().year
    for month in range(1, 13):
        last = services.month_sendable_from(timezone.localdate().replace(year=year, month=month, day=1))
        assert (last.month, (last + timedelta(days=1)).day) == (month, 1)
