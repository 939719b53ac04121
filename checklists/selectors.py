"""Reads of the checklists app. Counts and scores are computed in the database."""

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import (
    BigIntegerField,
    Case,
    Count,
    Exists,
    F,
    Max,
    OuterRef,
    Q,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, Round, TruncMonth
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from organizations.listing import count_of
from organizations.models import Organization, RoleAssignment
from organizations.permissions import Action, acts_anywhere, organizations_where, top_organization
from organizations.selectors import history_rows, history_timeline, loaded_with
from organizations.subtree import child_code, children_rolled_up, children_with_rollup, rollup_by_child, within

from .models import (
    Attachment,
    Checklist,
    ChecklistItem,
    ChecklistTemplate,
    DutyRecord,
    DutyReport,
    Frequency,
    LedgerEntry,
    MeetingRecord,
    Occurrence,
    ProgressCount,
    ReviewStatus,
    TemplateItem,
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
    # The frequency's label from the enum: get_frequency_display translates every label of the
    # choices on each call (30 µs an item).
    frequencies = dict(Frequency.choices)
    for item in items:
        item.status, item.mark = status_of(item)
        item.status_label, item.mark_label = ItemStatus.LABELS[item.status], Mark.LABELS[item.mark]
        item.frequency_label = frequencies.get(item.frequency, item.frequency)
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
    checklists = Checklist.objects.filter(organization__in=mine).select_related(
        "template", "organization__parent__parent"
    )
    if year:
        checklists = checklists.filter(template__year=year)
    return checklists.annotate(**_occurrence_counts("items__occurrences__", timezone.localdate()))


def templates_readable(user):
    """Templates whose owner lies in the user's area: read by staff and leaders alike."""
    return (
        ChecklistTemplate.objects.filter(owner__in=organizations_where(user, Action.VIEW))
        .select_related("owner__parent__parent")
        .annotate(
            item_count=count_of(TemplateItem.objects.all(), "template"),
            checklist_count=count_of(Checklist.objects.all(), "template"),
        )
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


def attachments_named(organization, query, *, limit=30):
    return Attachment.objects.filter(organization=organization, original_name__contains=query).order_by(
        "-uploaded_at", "-pk"
    )[:limit]


def review_scope(user):
    """(organizations whose records wait for the user, whether the user reviews them): staff
    and clerks above review; a secretary or leader reads what waits below his organizations
    (a town secretary sees his villages' queue, DESIGN.md 1) without acting on it."""
    if acts_anywhere(user, Action.APPROVE_RECORD):  # once a request (the roles it has read)
        return organizations_where(user, Action.APPROVE_RECORD), True
    below = organizations_where(user, Action.VIEW).exclude(
        pk__in=RoleAssignment.objects.filter(user=user).values("organization")
    )
    return below, False


def review_queue(user, organization=None):
    """Entries, meeting records and duty reports waiting for review in the user's review scope
    (review_scope), within the organization's subtree if one is given, oldest first: whole
    querysets, each page of the queue paginates and counts them."""
    scope, _acting = review_scope(user)
    waiting = Q(status=ReviewStatus.SUBMITTED, organization__in=scope)
    if organization is not None:
        waiting &= within(organization, through="organization__")
    return {
        "entries": LedgerEntry.objects.filter(waiting, meeting__isnull=True)
        .select_related("organization__parent__parent", "occurrence__item", "submitted_by")
        .order_by("submitted_at", "pk"),
        "meetings": MeetingRecord.objects.filter(waiting)
        .select_related("organization__parent__parent", "submitted_by")
        .order_by("submitted_at", "pk"),
        "duty_reports": DutyReport.objects.filter(waiting)
        .select_related("organization__parent__parent", "submitted_by")
        .annotate(record_count=count_of(DutyRecord.objects.all(), "report"))
        .order_by("submitted_at", "pk"),
    }


def review_queue_totals(user, organization=None):
    """{kind: how many wait} of review_queue, counted in the database."""
    return {name: queryset.count() for name, queryset in review_queue(user, organization).items()}


def duty_year(organization, year):
    records = DutyRecord.objects.filter(organization=organization, date__year=year).select_related("author")
    reports = {
        report.month: report for report in DutyReport.objects.filter(organization=organization, month__year=year)
    }
    return records, reports


# --- progress ------------------------------------------------------------------------------


def _counted(today):
    """The progress numbers as sums over ProgressCount rows (occurrences by deadline) as of
    `today`: due = deadlines up to today, done = of those, the done ones; overdue = deadlines
    before today not done; late = marked late, whenever due."""
    passed, before = Q(deadline__lte=today), Q(deadline__lt=today)
    return {
        "due": Coalesce(Sum("occurrence_count", filter=passed), 0),
        "done": Coalesce(Sum("done_count", filter=passed), 0),
        "overdue": Coalesce(Sum(F("occurrence_count") - F("done_count"), filter=before), 0),
        "total": Coalesce(Sum("occurrence_count"), 0),
        "late": Coalesce(Sum("late_count"), 0),
        "done_any": Coalesce(Sum("done_count"), 0),
    }


def progress_by_child(organization, user, *, year, today=None):
    """For each organization directly below that the user sees: occurrences due so far, done,
    overdue and in all over its whole subtree, from the ProgressCount rows on the constant
    prefix of the organization's path, in one statement with the child list and the user's
    scope (organizations.subtree.children_rolled_up). Children with nothing issued are kept,
    with zeros, so that none is silently left out."""
    counted = _counted(today or timezone.localdate())
    return children_rolled_up(
        organization,
        user,
        ProgressCount.objects.filter(year=year),
        through="organization__",
        **{name: counted[name] for name in ("due", "done", "overdue", "total")},
    )


def progress_summary(organization, *, year, today=None):
    counted = _counted(today or timezone.localdate())
    rows = ProgressCount.objects.filter(within(organization, through="organization__"), year=year)
    return rows.aggregate(**{name: counted[name] for name in ("total", "due", "done", "overdue", "late")})


def progress_by_month(organization, *, year, today=None):
    """Per month of the year: occurrences due that month, done, and overdue (as of today)."""
    counted = _counted(today or timezone.localdate())
    rows = (
        ProgressCount.objects.filter(within(organization, through="organization__"), year=year)
        .annotate(month=TruncMonth("deadline"))
        .values("month")
        .annotate(due=counted["total"], done=counted["done_any"], overdue=counted["overdue"])
        .order_by("month")
    )
    return list(rows)


def progress_overview(organization, user, *, year, today=None):
    """(children, summary, months) of the progress page from ONE grouped query over the
    subtree's ProgressCount rows, by child × month of the deadline (the organization's own
    counts under the child ""): the few rows it returns (children × 12 at most) are then
    added up into the same numbers as progress_by_child, progress_summary and
    progress_by_month."""
    through = "organization__"
    rows = (
        ProgressCount.objects.filter(within(organization, through=through), year=year)
        .annotate(
            _child=Case(
                When(**{f"{through}path": organization.path}, then=Value("")),
                default=child_code(organization, through=through),
            ),
            month=TruncMonth("deadline"),
        )
        .values("_child", "month")
        .annotate(**_counted(today or timezone.localdate()), counted_at=Max("counted_at"))
        .order_by()
    )
    rollup, summary, months = {}, dict.fromkeys(["total", "due", "done", "overdue", "late"], 0), {}
    summary["counted_at"] = None  # when the newest of the counts read was made
    for row in rows:
        summary["counted_at"] = max(filter(None, [summary["counted_at"], row["counted_at"]]), default=None)
        for name in ("total", "due", "done", "overdue", "late"):
            summary[name] += row[name]
        month = months.setdefault(row["month"], {"month": row["month"], "due": 0, "done": 0, "overdue": 0})
        month["due"] += row["total"]
        month["done"] += row["done_any"]
        month["overdue"] += row["overdue"]
        if row["_child"]:
            child = rollup.setdefault(row["_child"], dict.fromkeys(["due", "done", "overdue", "total"], 0))
            for name in child:
                child[name] += row[name]
    children = (
        Organization.objects.filter(parent=organization)
        .filter(pk__in=organizations_where(user, Action.VIEW))
        .select_related("parent__parent")
        .order_by("code")
    )
    children = children_with_rollup(children, rollup, {"due": 0, "done": 0, "overdue": 0, "total": 0})
    return children, summary, [months[month] for month in sorted(months)]


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


def _hundredths(field):
    return Cast(Round(F(field) * 100), BigIntegerField())


def completion_scores(checklists, *, on):
    """{checklist id: completion score at `on`} for many checklists in one statement, the same
    numbers as completion_score (checked against it in the tests); a checklist with no item
    counted yet is absent. Inside, the items with their three counts from one join on the
    occurrences (as completion_items); around it, two whole-number sums per checklist."""
    passed = Q(occurrences__deadline__lte=on)
    done = Q(occurrences__done_at__lt=_end_of(on))
    items = (
        ChecklistItem.objects.filter(checklist__in=checklists)
        .annotate(
            required=Count("occurrences", filter=passed),
            on_time=Count("occurrences", filter=passed & done & Q(occurrences__late=False)),
            late_done=Count("occurrences", filter=passed & done & Q(occurrences__late=True)),
            item_checklist=F("checklist_id"),
            score_h=_hundredths("score"),
            override_h=_hundredths("override_score"),
            share_h=_hundredths("checklist__template__late_share"),
        )
        .values("item_checklist", "score_h", "override_h", "share_h", "required", "on_time", "late_done")
        .order_by()
    )
    try:
        inner, params = items.query.sql_with_params()
    except EmptyResultSet:  # no checklist at all (e.g. pk__in=[])
        return {}
    sql = f"""
        SELECT item_checklist,
               SUM(CASE WHEN override_h IS NOT NULL THEN override_h * {PERIODS_LCM * 100}
                        ELSE score_h * (on_time * 100 + share_h * late_done) * ({PERIODS_LCM} / required) END),
               SUM(score_h)
        FROM ({inner}) items
        WHERE override_h IS NOT NULL OR required > 0
        GROUP BY item_checklist"""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return {
        checklist_id: (Decimal(int(units)) / (PERIODS_LCM * int(maximum))).quantize(
            Decimal("0.01"), rounding=ROUND_HALF_UP
        )
        for checklist_id, units, maximum in rows
        if maximum
    }


# --- timelines (the operation log, DESIGN.md 3) --------------------------------------------


def checklist_timeline(checklist, *, limit=40):
    return history_timeline(
        [
            history_rows(Checklist).filter(id=checklist.pk),
            history_rows(ChecklistItem).filter(checklist_id=checklist.pk),
            history_rows(LedgerEntry).filter(occurrence__item__checklist=checklist),
        ],
        limit=limit,
        known=loaded_with(checklist, "organization", "template"),
    )


def item_timeline(item, *, limit=40):
    return history_timeline(
        [
            history_rows(ChecklistItem).filter(id=item.pk),
            history_rows(LedgerEntry).filter(occurrence__item=item),
        ],
        limit=limit,
    )


def entry_timeline(entry, *, limit=40):
    ids = [entry.pk]
    previous = entry.previous
    while previous is not None:  # versions form a short chain (one per approved change)
        ids.append(previous.pk)
        previous = previous.previous
    return history_timeline([history_rows(LedgerEntry).filter(id__in=ids)], limit=limit)


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


def attachments_of(organization):
    """The files of an organization that its records may link to."""
    from .models import Attachment

    return Attachment.objects.filter(organization=organization)


def people_below(organization):
    """The people of an organization's subtree, by name (the responsible persons offered)."""
    from organizations.models import Person

    return Person.objects.filter(within(organization, through="organization__")).order_by("name")


def meetings_of(organization, *, limit=200):
    return MeetingRecord.objects.filter(organization=organization).order_by("-date")[:limit]


def checklists_of(organization):
    return Checklist.objects.filter(organization=organization).select_related("template")


def first_visible_root(user):
    """The topmost organization the user sees (the page to start from), or None."""
    return top_organization(user, Action.VIEW)


# --- what a home page counts, and the lists its counts open ---------------------------------
#
# Each count on a home page links to one of these lists with the same parameters, and the list
# shows the same number: both are built on the same queryset.


DUE_WHEN = ("overdue", "soon")


def _area(organization, through, own):
    """The organization's subtree, or with `own` the organization itself (what its secretary
    and clerk do, as their home counts it)."""
    return Q(**{f"{through}pk": organization.pk}) if own else within(organization, through=through)


def occurrences_due(organization, user, *, when, own=False, today=None):
    """Occurrences not done in the organization's subtree (or itself), visible to the user:
    overdue (deadline passed) or due within REMINDER_DAYS, soonest deadline first."""
    today = today or timezone.localdate()
    undone = Occurrence.objects.filter(
        _area(organization, "item__checklist__organization__", own),
        item__checklist__organization__in=organizations_where(user, Action.VIEW),
        done_at__isnull=True,
    )
    if when == "overdue":
        undone = undone.filter(deadline__lt=today)
    else:
        undone = undone.filter(deadline__gte=today, deadline__lte=today + timedelta(days=settings.REMINDER_DAYS))
    return undone.select_related("item__checklist__organization__parent__parent").order_by(
        "deadline", "item__code", "pk"
    )


def checklists_unclaimed(organization, user, *, own=False):
    """Issued checklists in the organization's subtree (or itself) nobody has signed for yet."""
    return (
        Checklist.objects.filter(
            _area(organization, "organization__", own),
            organization__in=organizations_where(user, Action.VIEW),
            claimed_at__isnull=True,
        )
        .select_related("template", "organization__parent__parent")
        .order_by("claim_deadline", "organization__path")
    )


def records_returned(organization, user, *, own=False):
    """Ledger entries (outside meetings), meeting records and duty months returned with a
    comment in the organization's subtree (or itself), still to be corrected and sent again."""
    where = {"status": ReviewStatus.RETURNED, "organization__in": organizations_where(user, Action.VIEW)}
    subtree = _area(organization, "organization__", own)
    return {
        "entries": LedgerEntry.objects.filter(subtree, meeting__isnull=True, **where)
        .select_related("organization__parent__parent", "occurrence__item", "reviewed_by")
        .order_by("reviewed_at", "pk"),
        "meetings": MeetingRecord.objects.filter(subtree, **where)
        .select_related("organization__parent__parent", "reviewed_by")
        .order_by("reviewed_at", "pk"),
        "duty_reports": DutyReport.objects.filter(subtree, **where)
        .select_related("organization__parent__parent", "reviewed_by")
        .order_by("reviewed_at", "pk"),
    }


def duty_months_to_send(organization, *, year):
    """Months of the year with duty records that have not been sent up (or came back)."""
    sent = DutyReport.objects.filter(
        organization=OuterRef("organization"),
        month=OuterRef("month"),
        status__in=[ReviewStatus.SUBMITTED, ReviewStatus.APPROVED],
    )
    return (
        DutyRecord.objects.filter(organization=organization, date__year=year)
        .annotate(month=TruncMonth("date"))
        .exclude(Exists(sent))
        .values("month")
        .distinct()
        .order_by("month")
    )


def home_own_counts(organization, *, today=None):
    """What the secretary or clerk of one organization has to do, counted in one statement
    per kind: occurrences overdue and due soon, checklists to claim, returned records."""
    today = today or timezone.localdate()
    soon = today + timedelta(days=settings.REMINDER_DAYS)
    occurrences = Occurrence.objects.filter(item__checklist__organization=organization, done_at__isnull=True)
    counts = occurrences.aggregate(
        overdue=Count("pk", filter=Q(deadline__lt=today)),
        soon=Count("pk", filter=Q(deadline__gte=today, deadline__lte=soon)),
    )
    counts["unclaimed"] = Checklist.objects.filter(organization=organization, claimed_at__isnull=True).count()
    returned = {"organization": organization, "status": ReviewStatus.RETURNED}
    counts["returned"] = (
        LedgerEntry.objects.filter(meeting__isnull=True, **returned).count()
        + MeetingRecord.objects.filter(**returned).count()
        + DutyReport.objects.filter(**returned).count()
    )
    counts["duty_months"] = duty_months_to_send(organization, year=today.year).count()
    return counts


def home_children(organization, user, *, year, today=None):
    """The children of the organization (every one the user sees, with zeros) with their
    completion, overdue occurrences, unclaimed checklists and records waiting for review
    over their whole subtree: one grouped query per measure on the constant path prefix."""
    today = today or timezone.localdate()
    children = progress_by_child(organization, user, year=year, today=today)
    unclaimed = rollup_by_child(
        Checklist.objects.filter(claimed_at__isnull=True),
        organization,
        through="organization__",
        unclaimed=Count("pk"),
    )
    scope, _acting = review_scope(user)
    waiting = {}
    for model, extra in [(LedgerEntry, {"meeting__isnull": True}), (MeetingRecord, {}), (DutyReport, {})]:
        rows = rollup_by_child(
            model.objects.filter(status=ReviewStatus.SUBMITTED, organization__in=scope, **extra),
            organization,
            through="organization__",
            n=Count("pk"),
        )
        for code, row in rows.items():
            waiting[code] = waiting.get(code, 0) + row["n"]
    for child in children:
        child.rate = rate(child.done, child.due)
        child.unclaimed = unclaimed.get(child.code, {}).get("unclaimed", 0)
        child.waiting = waiting.get(child.code, 0)
    return children


def progress_of_organizations(organization_ids, *, year, today=None):
    """{organization id: {"due", "done", "overdue"}} of the year's occurrences of each
    organization itself (e.g. paired villages): one grouped query."""
    today = today or timezone.localdate()
    rows = (
        Occurrence.objects.filter(
            item__checklist__organization_id__in=organization_ids, item__checklist__template__year=year
        )
        .values("item__checklist__organization_id")
        .annotate(
            due=Count("pk", filter=Q(deadline__lte=today)),
            done=Count("pk", filter=Q(deadline__lte=today, done_at__isnull=False)),
            overdue=Count("pk", filter=Q(deadline__lt=today, done_at__isnull=True)),
        )
        .order_by()
    )
    return {row.pop("item__checklist__organization_id"): row for row in rows}
