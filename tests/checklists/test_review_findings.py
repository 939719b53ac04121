"""Cases a review of the checklists app turned up, each kept as a test."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from checklists import services
from checklists.models import Frequency, LedgerEntry, MeetingKind, Occurrence, ReviewStatus
from organizations.models import Role, RoleAssignment

from .conftest import YEAR


def test_editing_a_frozen_field_in_the_browser_reopens_the_claim(issued, people, branch_template, client):
    services.checklist_claim(actor=people.secretary, checklist=issued, signature="村书记")
    item = branch_template.items.get(code="Z04")
    client.force_login(people.staff)
    client.post(
        reverse("checklists:template_item", args=[item.pk]),
        {
            "code": "Z04",
            "category": item.category,
            "title": item.title,
            "requirement": item.requirement,
            "evidence": item.evidence,
            "frequency": item.frequency,
            "deadline": f"{YEAR}-07-31",
            "score": "9",
            "meeting_kind": "",
            "position": item.position,
        },
    )
    issued.refresh_from_db()
    assert not issued.is_claimed
    assert Occurrence.objects.get(item__checklist=issued, item__code="Z04").deadline == date(YEAR, 7, 31)


def test_whoever_resubmitted_an_entry_cannot_approve_it(issued, people, world):
    RoleAssignment.objects.create(user=people.town_clerk, organization=world.village_a1a, role=Role.CLERK)
    occurrence = Occurrence.objects.get(item__checklist=issued, item__code="Z04")
    entry = services.entry_submit(actor=people.secretary, occurrence=occurrence, date=date(YEAR, 3, 1), content="原文")
    services.entry_resubmit(actor=people.town_clerk, entry=entry, date=date(YEAR, 3, 1), content="他人改写")
    with pytest.raises(ValidationError):
        services.entry_approve(actor=people.town_clerk, entry=entry)
    entry.refresh_from_db()
    assert entry.status == ReviewStatus.SUBMITTED


def test_a_record_changed_while_the_reviewer_read_it_is_not_approved(issued, people):
    occurrence = Occurrence.objects.get(item__checklist=issued, item__code="Z04")
    entry = services.entry_submit(actor=people.secretary, occurrence=occurrence, date=date(YEAR, 3, 1), content="v1")
    seen = entry.submitted_at
    services.entry_resubmit(actor=people.secretary, entry=entry, date=date(YEAR, 3, 1), content="v1 改")
    with pytest.raises(ValidationError, match="重新查看"):
        services.entry_approve(actor=people.town_clerk, entry=entry, seen=seen)
    entry.refresh_from_db()
    services.entry_approve(actor=people.town_clerk, entry=entry, seen=entry.submitted_at)


def test_a_frequency_change_keeps_done_work_in_its_own_period(issued, people, branch_template):
    # April's and July's 支委会 were approved (entries dated in those months)
    for index, day in [(4, date(YEAR, 4, 10)), (7, date(YEAR, 7, 8))]:
        occurrence = Occurrence.objects.get(item__checklist=issued, item__code="Z01", index=index)
        entry = services.entry_submit(actor=people.secretary, occurrence=occurrence, date=day, content="支委会")
        services.entry_approve(actor=people.town_clerk, entry=entry)

    services.template_item_update(
        actor=people.staff, item=branch_template.items.get(code="Z01"), frequency=Frequency.QUARTERLY
    )

    occurrences = {o.index: o for o in Occurrence.objects.filter(item__checklist=issued, item__code="Z01")}
    assert sorted(occurrences) == [1, 2, 3, 4]
    assert [bool(occurrences[i].done_at) for i in (1, 2, 3, 4)] == [False, True, True, False]
    assert set(LedgerEntry.objects.values_list("occurrence__index", flat=True)) == {2, 3}


def test_a_done_period_takes_no_second_plain_entry(issued, people):
    occurrence = Occurrence.objects.get(item__checklist=issued, item__code="Z04")
    entry = services.entry_submit(actor=people.secretary, occurrence=occurrence, date=date(YEAR, 3, 1), content="x")
    with pytest.raises(ValidationError):  # one is waiting already
        services.entry_submit(actor=people.secretary, occurrence=occurrence, date=date(YEAR, 3, 2), content="y")
    services.entry_approve(actor=people.town_clerk, entry=entry)
    with pytest.raises(ValidationError):  # done: a change goes through a new version
        services.entry_submit(actor=people.secretary, occurrence=occurrence, date=date(YEAR, 3, 2), content="y")
    assert LedgerEntry.objects.count() == 1


def test_a_meeting_recorded_before_the_checklist_arrived_fulfils_it(world, people, branch_template):
    meeting = services.meeting_submit(
        actor=people.secretary,
        organization=world.village_a1a,
        kind=MeetingKind.COMMITTEE_MEETING,
        date=date(YEAR, 1, 15),
        topic="一月支委会",
        expected=3,
        present=3,
        absences=[],
        minutes="……",
    )
    services.meeting_approve(actor=people.town_clerk, meeting=meeting)
    services.checklist_issue(
        actor=people.staff, template=branch_template, root=world.county_a, claim_deadline=date(YEAR, 2, 28)
    )
    january = Occurrence.objects.get(item__checklist__organization=world.village_a1a, item__code="Z01", index=1)
    assert january.done_at is not None
    assert january.entries.get().meeting == meeting


@pytest.mark.parametrize("url", ["checklists:home", "checklists:progress"])
def test_a_nonsense_year_falls_back_to_this_year(issued, people, client, url):
    client.force_login(people.staff)
    assert client.get(reverse(url) + "?year=abc").status_code == 200
