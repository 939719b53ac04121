from datetime import date, datetime, time
from decimal import Decimal

from django.urls import reverse
from django.utils import timezone

from checklists import services
from checklists.models import ChecklistItem, Occurrence, ProgressSnapshot
from checklists.selectors import completion_items, completion_score, progress_by_child, progress_by_month
from notifications.models import Notification

from .conftest import YEAR

EARLY = timezone.make_aware(datetime(YEAR, 1, 1, 9))  # done before any scoring date used here


def _done(checklist, code, indexes, *, late=False, at=EARLY):
    """Stands in for approvals: marks occurrences done, and recounts the progress rows as the
    approving service does."""
    Occurrence.objects.filter(item__checklist=checklist, item__code=code, index__in=indexes).update(
        done_at=at, late=late
    )
    services.progress_counts_refresh([checklist.organization_id])


def test_completion_score_by_hand(issued, people):
    """Scoring date YEAR-07-15. share = 0.5 (the template default).

    Z01 monthly, 12 points: required = Jan..Jun = 6; on time 4 (Jan–Apr), late 1 (May)
        → 12 × min(1, (4 + 0.5×1) / 6) = 12 × 0.75 = 9
    Z02 quarterly, 8 points: required = Q1, Q2 = 2; on time 2 → 8 × 1 = 8
    Z03 yearly (12-31), 10 points: required 0 → left out of both sums
    Z04 once (06-30), 5 points: required 1; late 1 → 5 × 0.5 = 2.5
    checklist = (9 + 8 + 2.5) / (12 + 8 + 5) × 100 = 19.5 / 25 × 100 = 78.00
    """
    _done(issued, "Z01", [1, 2, 3, 4])
    _done(issued, "Z01", [5], late=True)
    _done(issued, "Z02", [1, 2])
    _done(issued, "Z04", [1], late=True)
    on = date(YEAR, 7, 15)

    items = {entry.item.code: entry for entry in completion_items(issued, on=on)}
    assert set(items) == {"Z01", "Z02", "Z04"}
    assert (items["Z01"].required, items["Z01"].on_time, items["Z01"].late, items["Z01"].score) == (6, 4, 1, Decimal(9))
    assert items["Z04"].score == Decimal("2.5")
    assert completion_score(issued, on=on) == Decimal("78.00")


def test_the_assessors_override_replaces_the_item_score_and_keeps_its_reason(issued, people, world, user_with_role):
    _done(issued, "Z02", [1, 2])
    item = ChecklistItem.objects.get(checklist=issued, code="Z04")
    assessor = user_with_role("staff", world.county_a)
    services.checklist_item_override(actor=assessor, item=item, score=Decimal("4"), reason="会议纪要齐全，时间记录有误")
    on = date(YEAR, 7, 15)
    # Z01: 0 of 6 → 0; Z02: 8; Z04 overridden 4 → (0 + 8 + 4) / 25 × 100 = 48.00
    assert completion_score(issued, on=on) == Decimal("48.00")
    item.refresh_from_db()
    assert item.override_reason == "会议纪要齐全，时间记录有误"
    assert item.history.first().history_user == assessor


def test_rounding_is_half_up_at_the_end(issued):
    # Z01 on time 1 of 3 required (to 03-31 passed on 04-01): 12 × 1/3 = 4; Z02 0 of 1 → 0
    _done(issued, "Z01", [1])
    # (4 + 0) / (12 + 8) × 100 = 20.00
    assert completion_score(issued, on=date(YEAR, 4, 1)) == Decimal("20.00")
    _done(issued, "Z02", [1], late=True)
    # (4 + 4) / 20 × 100 = 40.00 — and with 1/3 of 12 the exact value survives: no float drift
    assert completion_score(issued, on=date(YEAR, 4, 1)) == Decimal("40.00")


def test_work_done_after_the_scoring_date_does_not_count_for_it(issued):
    _done(issued, "Z01", [1, 2, 3], at=timezone.make_aware(datetime(YEAR, 11, 1, 9)))
    # on 04-01, Z01 requires Jan–Mar, all approved only in November; Z02 requires Q1 → 0 of 20
    assert completion_score(issued, on=date(YEAR, 4, 1)) == Decimal("0.00")
    assert completion_score(issued, on=date(YEAR, 11, 2)) > Decimal("0")


def test_nothing_required_yet_means_no_score(issued):
    assert completion_score(issued, on=date(YEAR, 1, 1)) is None


def test_progress_rolls_up_by_organization_and_month(issued, people, world, branch_template):
    other = branch_template.checklists.get(organization=world.village_a2a)
    _done(issued, "Z01", [1, 2])
    _done(other, "Z01", [1])
    today = date(YEAR, 3, 1)  # Jan and Feb are due
    towns = {row.code: row for row in progress_by_child(world.county_a, people.staff, year=YEAR, today=today)}
    # A1: villages A1a and A1b → 2 × (Jan, Feb) due = 4, done 2, overdue 2
    assert (towns["A1"].due, towns["A1"].done, towns["A1"].overdue) == (4, 2, 2)
    assert (towns["A2"].due, towns["A2"].done, towns["A2"].overdue) == (2, 1, 1)
    months = {row["month"].month: row for row in progress_by_month(world.town_a1, year=YEAR, today=today)}
    assert (months[1]["due"], months[1]["done"], months[2]["done"], months[2]["overdue"]) == (2, 1, 1, 1)


def test_progress_page_shows_towns_with_bars(issued, people, client):
    client.force_login(people.staff)
    page = client.get(reverse("checklists:progress") + f"?org=A&year={YEAR}")
    assert page.status_code == 200
    assert "组织A1" in page.text
    assert "chart-svg" in page.text


def test_progress_is_scoped(issued, people, client):
    client.force_login(people.neighbour)
    page = client.get(reverse("checklists:progress") + f"?org=A&year={YEAR}")
    assert page.context["organization"].code == "A1b"  # not county A: falls back to the user's own


def test_monthly_snapshot_is_kept_and_can_be_taken_twice(issued, world):
    in_february = timezone.make_aware(datetime.combine(date(YEAR, 2, 10), time(9)))
    Occurrence.objects.filter(item__checklist=issued, item__code="Z01", index=1).update(done_at=in_february)
    assert services.progress_snapshot_take(month=date(YEAR, 2, 1)) == services.progress_snapshot_take(
        month=date(YEAR, 2, 1)
    )
    snapshot = ProgressSnapshot.objects.get(organization=world.county_a, month=date(YEAR, 2, 1))
    # Jan + Feb 支委会 for the four branch checklists = 8 due, 1 done (A1a's January), 7 overdue by Feb 28
    assert (snapshot.due, snapshot.done, snapshot.overdue) == (8, 1, 7)


def test_reminders_reach_the_owners_once(issued, people):
    today = date(YEAR, 6, 25)  # Z04 (06-30) and June's 支委会 are due within 7 days
    assert services.reminders_send(today=today) > 0
    kept = set(Notification.objects.values_list("pk", "key"))
    services.reminders_send(today=today)  # attempted again: the keys keep one of each
    assert set(Notification.objects.values_list("pk", "key")) == kept
    notifications = Notification.objects.filter(user=people.secretary)
    titles = sorted(notifications.values_list("title", flat=True))
    assert any("06-30" in title and "前完成" in title for title in titles)
    assert any("逾期" in title for title in titles)  # May's 支委会
    assert notifications.count() == len(set(notifications.values_list("key", flat=True)))
    assert not Notification.objects.filter(user=people.staff).exists()


def test_inbox_shows_the_unread_count(issued, people, client):
    services.reminders_send(today=date(YEAR, 6, 25))
    client.force_login(people.secretary)
    page = client.get(reverse("notifications:inbox"))
    assert page.context["unread_count"] > 0
    client.post(reverse("notifications:mark_all_read"))
    assert client.get(reverse("notifications:inbox")).context["unread_count"] == 0


def test_snapshot_counts_done_only_until_the_month_end(issued):
    late_done = timezone.make_aware(datetime.combine(date(YEAR, 3, 5), time(9)))
    Occurrence.objects.filter(item__checklist=issued, item__code="Z01", index=1).update(done_at=late_done)
    services.progress_snapshot_take(month=date(YEAR, 2, 1))
    snapshot = ProgressSnapshot.objects.get(organization=issued.organization, month=date(YEAR, 2, 1))
    assert (snapshot.done, snapshot.overdue) == (0, 2)


def test_completion_scores_of_many_checklists_match_one_by_one(issued, people, branch_template, world):
    """The set-based scores equal completion_score for every checklist, with overrides, late
    work and required = 0 items, on several scoring dates (seeded, so it repeats)."""
    import random

    from checklists.selectors import completion_scores

    rng = random.Random(7)
    checklists = list(branch_template.checklists.all())
    for checklist in checklists:
        for occurrence in Occurrence.objects.filter(item__checklist=checklist):
            if rng.random() < 0.6:
                day = date(YEAR, rng.randint(1, 12), rng.randint(1, 28))
                occurrence.done_at = timezone.make_aware(datetime.combine(day, time(rng.choice([0, 9, 23]))))
                occurrence.late = rng.random() < 0.3
                occurrence.save()
    item = ChecklistItem.objects.filter(checklist=checklists[1], code="Z03").get()
    services.checklist_item_override(actor=people.staff, item=item, score=Decimal("7.35"), reason="年终评定")
    for on in [date(YEAR, 1, 1), date(YEAR, 1, 31), date(YEAR, 4, 1), date(YEAR, 6, 30), date(YEAR, 12, 31)]:
        expected = {c.pk: completion_score(c, on=on) for c in checklists}
        expected = {pk: score for pk, score in expected.items() if score is not None}
        assert completion_scores(branch_template.checklists.all(), on=on) == expected, on


def test_the_scoring_date_is_inclusive(issued):
    # Z01's January occurrence is due 01-31 and approved at 09:00 on 01-31: it counts on 01-31.
    _done(issued, "Z01", [1], at=timezone.make_aware(datetime(YEAR, 1, 31, 9)))
    items = {entry.item.code: entry for entry in completion_items(issued, on=date(YEAR, 1, 31))}
    assert (items["Z01"].required, items["Z01"].on_time) == (1, 1)
    assert completion_score(issued, on=date(YEAR, 1, 31)) == Decimal("100.00")


def test_progress_roll_ups_use_no_correlated_like(issued, people, world):
    from tests.rollup_sql import correlated_likes

    assert not correlated_likes(lambda: progress_by_child(world.city, people.staff, year=YEAR))
    assert not correlated_likes(lambda: services.progress_snapshot_take(month=date(YEAR, 2, 1)))


def test_children_with_nothing_issued_are_shown_with_zeros(issued, people, world, user_with_role):
    leader = user_with_role("viewer", world.city)
    counties = {row.code: row for row in progress_by_child(world.city, leader, year=YEAR)}
    assert set(counties) == {"A", "B"}
    assert counties["B"].total == counties["B"].due == 0
