"""The database holds what the services promise (issue 11, point 11): a direct write that
breaks a rule is refused by the database itself."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from checklists import services
from checklists.models import (
    Checklist,
    ChecklistItem,
    DutyReport,
    LedgerEntry,
    MeetingKind,
    MeetingRecord,
    Occurrence,
    ProgressSnapshot,
    ReviewStatus,
)


def _refused(write):
    with pytest.raises(IntegrityError), transaction.atomic():
        write()


@pytest.fixture
def entry(issued, people):
    occurrence = Occurrence.objects.filter(item__checklist=issued).first()
    return services.entry_submit(
        actor=people.secretary, occurrence=occurrence, date=timezone.localdate(), content="已开展"
    )


def test_one_submitted_entry_per_occurrence(entry, people):
    def second():
        LedgerEntry.objects.create(
            occurrence=entry.occurrence,
            organization=entry.organization,
            date=entry.date,
            content="第二条",
            submitted_by=people.secretary,
            first_submitted_at=timezone.now(),
            submitted_at=timezone.now(),
        )

    _refused(second)
    # once it is approved, a new version may wait for review
    services.entry_approve(actor=people.town_clerk, entry=entry)
    second()
    assert LedgerEntry.objects.filter(occurrence=entry.occurrence).count() == 2


def test_the_entries_of_two_meetings_in_one_period_may_both_wait(issued, people, world):
    for number in (1, 2):
        services.meeting_submit(
            actor=people.secretary,
            organization=world.village_a1a,
            kind=MeetingKind.COMMITTEE_MEETING,
            date=timezone.localdate(),
            topic=f"支委会{number}",
            expected=5,
            present=5,
            absences=[],
            minutes="……",
        )
    assert MeetingRecord.objects.count() == 2


@pytest.mark.parametrize("status", [ReviewStatus.APPROVED, ReviewStatus.RETURNED, ReviewStatus.SUPERSEDED])
def test_a_reviewed_entry_has_its_review_time(entry, status):
    _refused(lambda: LedgerEntry.objects.filter(pk=entry.pk).update(status=status))


def test_a_reviewed_meeting_has_its_review_time(issued, people, world):
    meeting = services.meeting_submit(
        actor=people.secretary,
        organization=world.village_a1a,
        kind=MeetingKind.THEME_DAY,
        date=timezone.localdate(),
        topic="主题党日",
        expected=5,
        present=5,
        absences=[],
        minutes="……",
    )
    _refused(lambda: MeetingRecord.objects.filter(pk=meeting.pk).update(status=ReviewStatus.APPROVED))


def test_a_reviewed_duty_report_has_its_review_time(world, people):
    last_month = timezone.localdate().replace(day=1) - timedelta(days=1)
    services.duty_record_add(
        actor=people.secretary, organization=world.village_a1a, date=last_month, kind="heart_talk", content="谈心"
    )
    report = services.duty_report_submit(actor=people.secretary, organization=world.village_a1a, month=last_month)
    _refused(lambda: DutyReport.objects.filter(pk=report.pk).update(status=ReviewStatus.RETURNED))


def test_an_item_score_is_not_negative(issued):
    _refused(lambda: ChecklistItem.objects.filter(checklist=issued).update(score=-1))


def test_an_override_lies_within_the_items_score(issued):
    item = ChecklistItem.objects.filter(checklist=issued).first()
    _refused(
        lambda: ChecklistItem.objects.filter(pk=item.pk).update(override_score=item.score + 1, override_reason="x")
    )
    _refused(lambda: ChecklistItem.objects.filter(pk=item.pk).update(override_score=-1, override_reason="x"))
    ChecklistItem.objects.filter(pk=item.pk).update(override_score=item.score, override_reason="满分")


def test_claimed_fields_are_all_set_or_all_empty(issued, people):
    now = timezone.now()
    _refused(lambda: Checklist.objects.filter(pk=issued.pk).update(claimed_at=now))
    _refused(lambda: Checklist.objects.filter(pk=issued.pk).update(claimed_at=now, claimed_by=people.secretary))
    _refused(lambda: Checklist.objects.filter(pk=issued.pk).update(signature="村书记"))
    services.checklist_claim(actor=people.secretary, checklist=issued, signature="村书记")
    _refused(lambda: Checklist.objects.filter(pk=issued.pk).update(claimed_at=None))


def test_a_reopened_claim_empties_all_its_fields(issued, people, branch_template):
    services.checklist_claim(actor=people.secretary, checklist=issued, signature="村书记")
    services.template_item_update(actor=people.staff, item=branch_template.items.get(code="Z04"), score=9)
    issued.refresh_from_db()
    assert (issued.claimed_at, issued.claimed_by, issued.signature) == (None, None, "")
    assert issued.history.filter(signature="村书记").exists()  # who signed stays in the log


def test_a_snapshot_month_is_the_first(world):
    _refused(
        lambda: ProgressSnapshot.objects.create(
            organization=world.village_a1a, month=timezone.localdate().replace(day=2), due=1, done=0, overdue=1
        )
    )
    ProgressSnapshot.objects.create(
        organization=world.village_a1a, month=timezone.localdate().replace(day=1), due=1, done=0, overdue=1
    )
