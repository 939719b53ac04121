"""Reads of the checklists app. Counts and scores are computed in the database."""

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db.models import BigIntegerField, Case, Count, F, IntegerField, OuterRef, Q, Subquery, Sum, Value, When
from django.db.models.functions import Cast, Coalesce, NullIf, Round, TruncMonth
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from organizations.models import Organization
from organizations.permissions import Action, organizations_where
from organizations.selectors import history_timeline
from organizations.subtree import children_with_rollup, rollup_by_child, within

from .models import (
    Checklist,
    ChecklistItem,
    ChecklistTemplate,
    DutyRecord,
    DutyReport,
    LedgerEntry,
    MeetingRecord,
    Occurrence,
    ReviewStatus,
)

# --- status and marks ----------------------------------------------------------------------


class Mark:
    """Red / yellow / green, derived from occurrences, never set by hand (DESIGN.md 3)."""

    RED, YELLOW, GREEN = "red", "yellow", "green"
    LABELS = {RED: _("overdue"), YELLOW: _("due soon"), GREEN: _("on track")}


class ItemStatus:
    NOT_STARTED, IN_PROGRESS, DONE, OVERDUE = "not_started", "in_progress", "done", "overdue"
    LABELS = {NOT_STARTED: _("not started"), IN_PROGRESS: _("in progress"), DONE: _("done"), OVERDUE: _("overdue")}


def _occurrence_counts(prefix, today):
    """Count annotations over occurrences reached through `prefix` (e.g. "occurrences__")."""
    soon = today + timedelta(days=settings.REMINDER_DAYS)
    undone = Q(**{f"{prefix}done_at__isnull": True})
    return {
        "occurrence_count": Count(f"{prefix}pk", distinct=True),
        "done_count": Count(f"{prefix}pk", filter=Q(**{f"{prefix}done_at__isnull": False}), distinct=True),
        "overdue_count": Count(f"{prefix}pk", filter=undone & Q(**{f"{prefix}deadline__lt": today}), distinct=True),
        "soon_count": Count(
            f"{prefix}pk",
            filter=undone & Q(**{f"{prefix}deadline__gte": today, f"{prefix}deadline__lte": soon}),
            distinct=True,
        ),
        "late_count": Count(f"{prefix}pk", filter=Q(**{f"{prefix}late": True}), distinct=True),
    }


def status_of(row):
    """Item status and mark from the counts of _occurrence_counts."""
    if row.overdue_count:
        status = ItemStatus.OVERDUE
    elif row.occurrence_count and row.done_count == row.occurrence_count:
        status = ItemStatus.DONE
    elif row.done_count:
        status = ItemStatus.IN_PROGRESS
    else:
        status = ItemStatus.NOT_STARTED
    mark = Mark.RED if row.overdue_count else Mark.YELLOW if row.soon_count else Mark.GREEN
    return status, mark


def checklist_items(checklist, *, today=None):
    today = today or timezone.localdate()
    items = list(
        ChecklistItem.objects.filter(checklist=checklist)
        .select_related("responsible")
        .annotate(**_occurrence_counts("occurrences__", today))
        .order_by("position", "code")
    )
    for item in items:
        item.status, item.mark = status_of(item)
        item.status_label, item.mark_label = ItemStatus.LABELS[item.status], Mark.LABELS[item.mark]
    return items


def occurrences_of(item, *, today=None):
    today = today or timezone.localdate()
    soon = today + timedelta(days=settings.REMINDER_DAYS)
    occurrences = list(item.occurrences.prefetch_related("entries__attachments"))
    for occurrence in occurrences:
        undone = occurrence.done_at is None
        occurrence.overdue = undone and occurrence.deadline < today
        occurrence.mark = (
            Mark.RED if occurrence.overdue else Mark.YELLOW if undone and occurrence.deadline <= soon else Mark.GREEN
        )
    return occurrences


# --- what a user reaches -------------------------------------------------------------------


def checklists_visible(user):
    return Checklist.objects.filter(organization__in=organizations_where(user, Action.VIEW))


def checklists_of_my_organizations(user, *, year=None):
    """Checklists of the organizations where the user submits records (secretary, clerk)."""
    mine = organizations_where(user, Action.SUBMIT_RECORD)
    checklists = Checklist.objects.filter(organization__in=mine).select_related("template", "organization")
    if year:
        checklists = checklists.filter(template__year=year)
    return checklists.annotate(**_occurrence_counts("items__occurrences__", timezone.localdate()))


def templates_manageable(user):
    return (
        ChecklistTemplate.objects.filter(owner__in=organizations_where(user, Action.CREATE_TEMPLATE))
        .select_related("owner")
        .annotate(item_count=Count("items", distinct=True), checklist_count=Count("checklists", distinct=True))
    )


def checklists_of_template(template, user, *, today=None):
    today = today or timezone.localdate()
    return (
        Checklist.objects.filter(template=template, organization__in=organizations_where(user, Action.VIEW))
        .select_related("organization__parent__parent", "claimed_by")
        .annotate(**_occurrence_counts("items__occurrences__", today))
        .order_by("organization__path")
    )


def checklists_matching(user, query):
    """Issued checklists in the user's area whose list's name or organization's name holds the words."""
    query = query.strip()
    if not query:
        return Checklist.objects.none()
    return (
        Checklist.objects.filter(organization__in=organizations_where(user, Action.VIEW))
        .filter(Q(template__name__contains=query) | Q(organization__name__contains=query))
        .select_related("template", "organization__parent__parent")
        .order_by("-template__year", "organization__path", "pk")
    )


def checklists_unclaimed_late(template, user, *, today=None):
    """The template's checklists in the user's area still not claimed after the claim deadline."""
    return Checklist.objects.filter(
        template=template,
        organization__in=organizations_where(user, Action.VIEW),
        claimed_at__isnull=True,
        claim_deadline__lt=today or timezone.localdate(),
    )


def claim_differences(checklist):
    """What changed since the claim that was reopened: [(item, field label, claimed, now)]."""
    if not checklist.claim_snapshot:
        return []
    items = {str(item.pk): item for item in checklist.items.all()}
    differences = []
    for item_id, item in items.items():
        claimed = checklist.claim_snapshot.get(item_id)
        if claimed is None:
            differences.append((item, _("item added"), "", ""))
            continue
        for field, value in item.frozen_values().items():
            if claimed.get(field) != value:
                differences.append((item, item._meta.get_field(field).verbose_name, claimed.get(field), value))
    removed = set(checklist.claim_snapshot) - set(items)
    differences += [(None, _("item removed"), checklist.claim_snapshot[key].get("title"), "") for key in removed]
    return differences


def review_queue(user):
    """Entries, meeting records and duty reports waiting for this reviewer (staff or clerk
    above), oldest first: whole querysets, each page of the queue paginates and counts them."""
    scope = organizations_where(user, Action.APPROVE_RECORD)
    waiting = {"status": ReviewStatus.SUBMITTED, "organization__in": scope}
    return {
        "entries": LedgerEntry.objects.filter(meeting__isnull=True, **waiting)
        .select_related("organization__parent__parent", "occurrence__item", "submitted_by")
        .order_by("submitted_at", "pk"),
        "meetings": MeetingRecord.objects.filter(**waiting)
        .select_related("organization__parent__parent", "submitted_by")
        .order_by("submitted_at", "pk"),
        "duty_reports": DutyReport.objects.filter(**waiting)
        .select_related("organization__parent__parent", "submitted_by")
        .annotate(record_count=Count("records"))
        .order_by("submitted_at", "pk"),
    }


def review_queue_count(user):
    """How many records wait for this reviewer, in all (counted in the database)."""
    return sum(queryset.count() for queryset in review_queue(user).values())


def duty_year(organization, year):
    records = DutyRecord.objects.filter(organization=organization, date__year=year).select_related("author")
    reports = {
        report.month: report for report in DutyReport.objects.filter(organization=organization, month__year=year)
    }
    return records, reports


# --- progress ------------------------------------------------------------------------------


def progress_by_child(organization, user, *, year, today=None):
    """For each organization directly below that the user sees: occurrences due so far, done,
    overdue and in all over its whole subtree, from one grouped query on the constant prefix
    of the organization's path (organizations.subtree). Children with nothing issued are kept,
    with zeros, so that none is silently left out."""
    today = today or timezone.localdate()
    occurrences = Occurrence.objects.filter(item__checklist__template__year=year)
    rollup = rollup_by_child(
        occurrences,
        organization,
        through="item__checklist__organization__",
        due=Count("pk", filter=Q(deadline__lte=today)),
        done=Count("pk", filter=Q(deadline__lte=today, done_at__isnull=False)),
        overdue=Count("pk", filter=Q(deadline__lt=today, done_at__isnull=True)),
        total=Count("pk"),
    )
    children = (
        Organization.objects.filter(parent=organization)
        .filter(pk__in=organizations_where(user, Action.VIEW))
        .select_related("parent__parent")
        .order_by("code")
    )
    return children_with_rollup(children, rollup, {"due": 0, "done": 0, "overdue": 0, "total": 0})


def progress_summary(organization, *, year, today=None):
    today = today or timezone.localdate()
    occurrences = Occurrence.objects.filter(
        within(organization, through="item__checklist__organization__"), item__checklist__template__year=year
    )
    return occurrences.aggregate(
        total=Count("pk"),
        due=Count("pk", filter=Q(deadline__lte=today)),
        done=Count("pk", filter=Q(deadline__lte=today, done_at__isnull=False)),
        overdue=Count("pk", filter=Q(deadline__lt=today, done_at__isnull=True)),
        late=Count("pk", filter=Q(late=True)),
    )


def progress_by_month(organization, *, year, today=None):
    """Per month of the year: occurrences due that month, done, and overdue (as of today)."""
    today = today or timezone.localdate()
    rows = (
        Occurrence.objects.filter(
            within(organization, through="item__checklist__organization__"), item__checklist__template__year=year
        )
        .annotate(month=TruncMonth("deadline"))
        .values("month")
        .annotate(
            due=Count("pk"),
            done=Count("pk", filter=Q(done_at__isnull=False)),
            overdue=Count("pk", filter=Q(done_at__isnull=True, deadline__lt=today)),
        )
        .order_by("month")
    )
    return list(rows)


def rate(done, due):
    """Completion rate in percent, one decimal, half up; None when nothing is due yet."""
    if not due:
        return None
    return (Decimal(done) * 100 / Decimal(due)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


# --- completion score (DESIGN.md 3), used by scoring ---------------------------------------


@dataclass
class ItemScore:
    item: ChecklistItem
    required: int
    on_time: int
    late: int
    score: Decimal


def _end_of(day):
    """The first instant after `day` in the project's time zone: work approved during the
    scoring date counts for it (DESIGN.md 3: the scoring date is inclusive)."""
    return timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min))


def completion_items(checklist, *, on):
    """Each item's completion score at the scoring date `on` (DESIGN.md 3):

        item score = score × min(1, (on_time + share × late) / required)

    required = occurrences whose deadline is on or before `on`; on_time and late count those of
    them approved by the end of `on`. An assessor's override replaces the computed value and
    always counts. Items with required = 0 (and no override) are left out."""
    share = checklist.template.late_share
    passed = Q(occurrences__deadline__lte=on)
    done = Q(occurrences__done_at__lt=_end_of(on))
    items = (
        ChecklistItem.objects.filter(checklist=checklist)
        .annotate(
            required=Count("occurrences", filter=passed),
            on_time=Count("occurrences", filter=passed & done & Q(occurrences__late=False)),
            late_done=Count("occurrences", filter=passed & done & Q(occurrences__late=True)),
        )
        .order_by("position", "code")
    )
    result = []
    for item in items:  # one checklist's items, for its page; completion_scores does many at once
        if item.override_score is not None:
            value = item.override_score
        elif item.required:
            value = item.score * min(Decimal(1), (item.on_time + share * item.late_done) / item.required)
        else:
            continue
        result.append(ItemScore(item, item.required, item.on_time, item.late_done, value))
    return result


def completion_score(checklist, *, on):
    """Σ item scores / Σ scores of counted items × 100, rounded half up to two decimals at the
    end; None when no item counts yet."""
    items = completion_items(checklist, on=on)
    maximum = sum((entry.item.score for entry in items), Decimal(0))
    if not maximum:
        return None
    total = sum((entry.score for entry in items), Decimal(0))
    return (total * 100 / maximum).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


# An item has at most 12 periods, so every `required` divides lcm(1..12) = 27720: with scores
# and the late share in hundredths, Σ item scores × 27720 × 10⁴ is a whole number. The database
# adds whole numbers only (exact on SQLite's floats as on PostgreSQL's numerics); the one
# division and the rounding happen once per checklist, in Decimal.
PERIODS_LCM = 27720


def _count(queryset):
    counted = queryset.order_by().values("item").annotate(n=Count("pk")).values("n")[:1]
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def _hundredths(field):
    return Cast(Round(F(field) * 100), BigIntegerField())


def completion_scores(checklists, *, on):
    """{checklist id: completion score at `on`} for many checklists in one query, the same
    numbers as completion_score (checked against it in the tests); a checklist with no item
    counted yet is absent. Per item, three counts over its occurrences (the occurrence index
    on item serves them); per checklist, two sums."""
    occurrences = Occurrence.objects.filter(item=OuterRef("pk"), deadline__lte=on)
    done = occurrences.filter(done_at__lt=_end_of(on))
    units = Case(
        When(override_score__isnull=False, then=_hundredths("override_score") * (PERIODS_LCM * 100)),
        default=_hundredths("score")
        * (F("on_time") * 100 + _hundredths("checklist__template__late_share") * F("late_done"))
        * (Value(PERIODS_LCM) / NullIf(F("required"), 0)),
        output_field=BigIntegerField(),
    )
    rows = (
        ChecklistItem.objects.filter(checklist__in=checklists)
        .annotate(
            required=_count(occurrences),
            on_time=_count(done.filter(late=False)),
            late_done=_count(done.filter(late=True)),
        )
        .filter(Q(override_score__isnull=False) | Q(required__gt=0))
        .values("checklist_id")
        .annotate(units=Sum(units), maximum=Sum(_hundredths("score")))
        .order_by()
    )
    return {
        row["checklist_id"]: (Decimal(row["units"]) / (PERIODS_LCM * row["maximum"])).quantize(
            Decimal("0.01"), rounding=ROUND_HALF_UP
        )
        for row in rows
        if row["maximum"]
    }


# --- timelines (the operation log, DESIGN.md 3) --------------------------------------------


def checklist_timeline(checklist, *, limit=40):
    return history_timeline(
        [
            Checklist.history.filter(id=checklist.pk),
            ChecklistItem.history.filter(checklist_id=checklist.pk),
            LedgerEntry.history.filter(occurrence__item__checklist=checklist),
        ],
        limit=limit,
    )


def item_timeline(item, *, limit=40):
    return history_timeline(
        [
            ChecklistItem.history.filter(id=item.pk),
            LedgerEntry.history.filter(occurrence__item=item),
        ],
        limit=limit,
    )


def entry_timeline(entry, *, limit=40):
    ids = [entry.pk]
    previous = entry.previous
    while previous is not None:  # versions form a short chain (one per approved change)
        ids.append(previous.pk)
        previous = previous.previous
    return history_timeline([LedgerEntry.history.filter(id__in=ids)], limit=limit)


# --- what reviews and scoring read about organizations --------------------------------------


def checklist_facts(organization_ids, *, year, on):
    """{organization id: [checklist with .score, .late_items, .overdue_items]} for the year's
    checklists of many organizations: one grouped query plus the set-based scores."""
    checklists = list(
        Checklist.objects.filter(organization_id__in=organization_ids, template__year=year)
        .select_related("template")
        .annotate(
            late_items=Count("items", filter=Q(items__occurrences__late=True), distinct=True),
            overdue_items=Count(
                "items",
                filter=Q(items__occurrences__done_at__isnull=True, items__occurrences__deadline__lt=on),
                distinct=True,
            ),
        )
        .order_by("template__name")
    )
    scores = completion_scores(Checklist.objects.filter(pk__in=[c.pk for c in checklists]), on=on)
    facts = {}
    for checklist in checklists:
        checklist.score = scores.get(checklist.pk)
        facts.setdefault(checklist.organization_id, []).append(checklist)
    return facts


def duty_facts(organization_ids, *, year):
    """{organization id: {"sent": months sent up, "approved": months approved}} for the year."""
    rows = (
        DutyReport.objects.filter(organization_id__in=organization_ids, month__year=year)
        .values("organization_id")
        .annotate(sent=Count("pk"), approved=Count("pk", filter=Q(status=ReviewStatus.APPROVED)))
        .order_by()
    )
    return {row.pop("organization_id"): row for row in rows}


def completion_by_organization(organization_ids, *, year, on, template=None):
    """{organization id: (completion score, late items)} for the year's checklists (or one
    template's) of many organizations: the mean of an organization's checklist scores, rounded
    half up, and its items with an occurrence done late by the end of `on` — what scoring reads
    (DESIGN.md 5; work done after the scoring date counts neither way)."""
    checklists = Checklist.objects.filter(organization_id__in=organization_ids, template__year=year)
    if template is not None:
        checklists = checklists.filter(template=template)
    owner = dict(checklists.values_list("pk", "organization_id"))
    scores = {}
    for checklist_id, score in completion_scores(checklists, on=on).items():
        scores.setdefault(owner[checklist_id], []).append(score)
    late = dict(
        checklists.values("organization_id")
        .annotate(
            n=Count(
                "items",
                filter=Q(items__occurrences__late=True, items__occurrences__done_at__lt=_end_of(on)),
                distinct=True,
            )
        )
        .values_list("organization_id", "n")
    )
    result = {}
    for organization_id in set(late) | set(scores):
        values = scores.get(organization_id)
        mean = (sum(values) / len(values)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP) if values else None
        result[organization_id] = (mean, late.get(organization_id, 0))
    return result
