"""The progress counts (checklists.models.ProgressCount) that the progress pages read: every
write path keeps them equal to a recount from the occurrences, the nightly recount finds and
corrects a drift, and the progress page says when it was counted (issue 10)."""

from datetime import date, timedelta
from decimal import Decimal

from django.urls import reverse
from django.utils import timezone

from checklists import services
from checklists.models import Frequency, MeetingKind, Occurrence, ProgressCount
from checklists.selectors import progress_summary
from organizations.models import PartyType

from .conftest import YEAR


def _in_step():
    """(rows, wrong) of a recount: wrong is how many rows differed from the occurrences."""
    return services.progress_counts_recount()[1]


def test_every_write_path_keeps_the_progress_counts_equal_to_a_recount(issued, people, world, branch_template):
    assert ProgressCount.objects.filter(organization=world.village_a1a, year=YEAR).exists()
    assert _in_step() == 0  # after issuing

    occurrence = issued.items.get(code="Z04").occurrences.get()
    entry = services.entry_submit(actor=people.secretary, occurrence=occurrence, date=date(YEAR, 6, 20), content="x")
    services.entry_approve(actor=people.town_clerk, entry=entry)
    assert _in_step() == 0  # an approval

    meeting = services.meeting_submit(
        actor=people.secretary,
        organization=world.village_a1a,
        kind=MeetingKind.COMMITTEE_MEETING,
        date=date(YEAR, 3, 12),
        topic="研究发展党员",
        expected=5,
        present=5,
        absences=[],
        minutes="一、……",
    )
    services.meeting_approve(actor=people.town_clerk, meeting=meeting)
    assert _in_step() == 0  # a meeting's approval fulfils its period

    services.checklist_item_add(
        actor=people.staff,
        checklist=issued,
        reason="书记项目",
        code="S01",
        category="书记项目",
        title="村集体经济增收",
        requirement="按季度推进",
        evidence="项目台账",
        frequency=Frequency.QUARTERLY,
        deadline=None,
        score=Decimal("6"),
        position=90,
    )
    assert _in_step() == 0  # an item of the village's own

    yearly = branch_template.items.get(code="Z03")
    services.template_item_update(actor=people.staff, item=yearly, frequency=Frequency.HALF_YEARLY, deadline=None)
    assert _in_step() == 0  # the periods of an item changed in every issued copy

    services.template_item_delete(actor=people.staff, item=branch_template.items.get(code="Z02"))
    assert _in_step() == 0  # an item removed from every copy

    other = services.template_create(
        actor=people.staff, owner=world.county_a, year=YEAR, name="第二份清单", target_types=[PartyType.BRANCH]
    )
    services.template_item_create(
        actor=people.staff,
        template=other,
        code="B01",
        category="组织生活",
        title="主题党日",
        requirement="每月开展",
        evidence="照片",
        frequency=Frequency.MONTHLY,
        deadline=None,
        score=Decimal("5"),
        meeting_kind="",
        position=1,
    )
    services.checklist_issue(
        actor=people.staff, template=other, root=world.town_a1, claim_deadline=timezone.localdate() + timedelta(days=9)
    )
    assert _in_step() == 0  # a second checklist for some of the same villages


def test_the_nightly_recount_finds_and_corrects_what_a_write_left_uncounted(issued, world):
    before = progress_summary(world.county_a, year=YEAR, today=date(YEAR, 12, 31))
    # A write that does not go through the services (a hand-made fix in the database, say).
    Occurrence.objects.filter(item__checklist=issued, item__code="Z01", index__in=[1, 2]).update(
        done_at=timezone.now(), late=True
    )
    assert progress_summary(world.county_a, year=YEAR, today=date(YEAR, 12, 31)) == before  # not yet seen
    rows, wrong = services.progress_counts_recount()
    assert wrong == 2  # January's and February's counts of village A1a were wrong (as counted, as they are)
    assert rows == ProgressCount.objects.count()
    after = progress_summary(world.county_a, year=YEAR, today=date(YEAR, 12, 31))
    assert (after["done"], after["late"], after["overdue"]) == (
        before["done"] + 2,
        before["late"] + 2,
        before["overdue"] - 2,
    )
    assert services.progress_counts_recount()[1] == 0


def test_the_progress_page_says_when_its_numbers_were_counted(issued, people, client):
    counted = ProgressCount.objects.order_by("-counted_at").values_list("counted_at", flat=True).first()
    client.force_login(people.staff)
    page = client.get(reverse("checklists:progress") + f"?org=A&year={YEAR}")
    text = page.content.decode()
    assert f"统计于 {timezone.localtime(counted):%Y-%m-%d %H:%M}" in text
    assert "每晚按台账全量核对" in text
