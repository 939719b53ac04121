"""Reads of the scoring app, scoped through the spine's permissions."""

from decimal import Decimal

from django.db.models import (
    Avg,
    BooleanField,
    Case,
    Count,
    F,
    FloatField,
    OuterRef,
    Q,
    StdDev,
    Subquery,
    Sum,
    When,
    Window,
)
from django.db.models.functions import Cast, RowNumber

from checklists.models import Checklist
from checklists.selectors import completion_items
from organizations.models import Role, RoleAssignment
from organizations.permissions import Action, has_permission, organizations_where

from .aggregation import round2
from .models import (
    AggregationRun,
    Appeal,
    DeductionSource,
    JudgeScore,
    JudgeSheet,
    Project,
    ResultDeduction,
    Scheme,
    SchemeMember,
    SchemeResult,
    SchemeState,
    SheetStatus,
)

ANNOUNCED = {SchemeState.PUBLISHED, SchemeState.FINAL}
# What an assessed organization's secretary reads: announced results, and the versions announced
# and since corrected (with the decision on the appeal that corrected them).
MEMBER_READABLE = ANNOUNCED | {SchemeState.SUPERSEDED}
# States in which what the results are computed from may change (an aggregated scheme goes back
# to scoring when it does).
INPUTS_OPEN = {SchemeState.DRAFT, SchemeState.SCORING, SchemeState.AGGREGATED}


def schemes_manageable(user):
    return Scheme.objects.filter(owner__in=organizations_where(user, Action.SET_UP_ASSESSMENT))


def _member_secretary_schemes(user):
    """Announced schemes in which an organization where the user is secretary is assessed."""
    mine = RoleAssignment.objects.filter(user=user, role=Role.SECRETARY).values("organization")
    return Scheme.objects.filter(state__in=MEMBER_READABLE, members__organization__in=mine)


def schemes_readable(user):
    read = Scheme.objects.filter(
        Q(owner__in=organizations_where(user, Action.READ_ASSESSMENT))
        | Q(owner__in=organizations_where(user, Action.SET_UP_ASSESSMENT))
    )
    return (read | _member_secretary_schemes(user)).distinct()


def may_manage(user, scheme):
    return has_permission(user, Action.SET_UP_ASSESSMENT, scheme.owner)


def scheme_manageable(user):
    """An expression, true where the user may manage the scheme (as may_manage, for a whole
    list in the same query)."""
    return Case(
        When(owner__in=organizations_where(user, Action.SET_UP_ASSESSMENT).values("pk"), then=True),
        default=False,
        output_field=BooleanField(),
    )


def may_read(user, scheme):
    return schemes_readable(user).filter(pk=scheme.pk).exists()


def may_read_all(user, scheme):
    """Staff and leaders of the organizer see every organization's explanation and the judges."""
    return may_manage(user, scheme) or has_permission(user, Action.READ_ASSESSMENT, scheme.owner)


def may_read_explanation(user, scheme, organization):
    """An organization's drill-down: the organizer's staff and leaders, and, once the results are
    announced, the organization's own secretary (to see why it ranks where it does)."""
    if may_read_all(user, scheme):
        return True
    return scheme.state in MEMBER_READABLE and has_permission(user, Action.FILE_APPEAL, organization)


def explainable_organizations(user, scheme):
    """The members whose explanation the user reads as their own secretary (one query for a
    whole board; may_read_explanation is the same rule for one)."""
    if scheme.state not in MEMBER_READABLE:
        return []
    return scheme.members.filter(organization__in=organizations_where(user, Action.FILE_APPEAL)).values_list(
        "organization_id", flat=True
    )


def project_titles(scheme):
    """{organization id: its project's title} for a competitive evaluation of projects."""
    return dict(scheme.members.filter(project__isnull=False).values_list("organization_id", "project__title"))


def scheme_list(user, *, year=None):
    # Counted in a subquery: the readable schemes are joined to the user's own memberships.
    members = (
        SchemeMember.objects.filter(scheme=OuterRef("pk"))
        .order_by()
        .values("scheme")
        .annotate(n=Count("pk"))
        .values("n")
    )
    schemes = schemes_readable(user).select_related("owner").annotate(member_count=Subquery(members))
    if year:
        schemes = schemes.filter(year=year)
    return schemes.order_by("-year", "owner__path", "name", "-version")


def sheets_of_judge(judge):
    """The judge's own sheets in schemes being scored: only his or her assignments."""
    return (
        JudgeSheet.objects.filter(judge=judge, scheme__state=SchemeState.SCORING)
        .select_related("scheme", "organization__parent", "panel")
        .annotate(scored=Count("scores"))
        .order_by("scheme", "organization__path")
    )


def latest_run(scheme):
    return AggregationRun.objects.filter(scheme=scheme).order_by("-started_at").first()


def board(scheme):
    return list(
        SchemeResult.objects.filter(scheme=scheme)
        .select_related("organization__parent")
        .order_by("rank", "organization__path")
    )


def sheets_progress(scheme):
    """Per panel: sheets, submitted, and the judges' names, for the set-up page."""
    return (
        scheme.panels.annotate(
            sheet_count=Count("sheets", distinct=True),
            submitted=Count("sheets", filter=Q(sheets__status=SheetStatus.SUBMITTED), distinct=True),
        )
        .prefetch_related("judges", "organizations")
        .order_by("name")
    )


def judge_scores(scheme, organization):
    """Each submitted score for the organization, per indicator, with the dropped highest and
    lowest marked (ROW_NUMBER over each indicator's scores, both ways, DESIGN.md 5)."""
    rows = list(
        JudgeScore.objects.filter(sheet__scheme=scheme, sheet__organization=organization, sheet__status="submitted")
        .select_related("indicator", "sheet__judge")
        .annotate(
            up=Window(
                RowNumber(), partition_by=[F("indicator_id")], order_by=[F("score").asc(), F("sheet__judge_id").asc()]
            ),
            down=Window(
                RowNumber(), partition_by=[F("indicator_id")], order_by=[F("score").desc(), F("sheet__judge_id").desc()]
            ),
            n=Window(Count("pk"), partition_by=[F("indicator_id")]),
        )
        .order_by("indicator__position", "indicator__code", "sheet__judge_id")
    )
    for row in rows:
        trimmed = row.n >= scheme.trim_min_judges
        row.dropped_low = trimmed and row.up == 1
        row.dropped_high = trimmed and row.down == 1 and not row.dropped_low
    return rows


def deductions_from_records(scheme):
    """The deductions the last aggregation read from the records (通报, overdue problems, late
    items), each with its document; the manual ones are the scheme's own Deduction rows."""
    return (
        ResultDeduction.objects.filter(result__scheme=scheme)
        .exclude(source=DeductionSource.OTHER)
        .select_related("result__organization__parent")
        .order_by("result__organization__path", "source", "reference")
    )


def versions_of(scheme):
    """The scheme and the versions it corrects, newest first (a handful: one per correction)."""
    versions, current = [scheme.pk], scheme
    while current.previous_id:
        current = Scheme.objects.only("pk", "previous_id").get(pk=current.previous_id)
        versions.append(current.pk)
    return versions


def explanation(scheme, organization):
    """Everything behind one organization's result: its checklist items and occurrences at the
    scoring date, each judge's score per indicator, each deduction with its document."""
    result = SchemeResult.objects.filter(scheme=scheme, organization=organization).first()
    checklists = Checklist.objects.filter(organization=organization, template__year=scheme.year).select_related(
        "template"
    )
    if scheme.checklist_template_id:
        checklists = checklists.filter(template_id=scheme.checklist_template_id)
    items = [(checklist, completion_items(checklist, on=scheme.scoring_date)) for checklist in checklists]
    scores = judge_scores(scheme, organization)
    # Judges are numbered the same way on every indicator (an organization sees "评委 3", not names).
    numbers = {judge_id: n for n, judge_id in enumerate(sorted({row.sheet.judge_id for row in scores}), start=1)}
    for row in scores:
        row.judge_number = numbers[row.sheet.judge_id]
    indicators = []
    for indicator in scheme.indicators.order_by("position", "code"):
        rows = [row for row in scores if row.indicator_id == indicator.pk]
        kept = [row.score for row in rows if not (row.dropped_low or row.dropped_high)]
        indicator.rows = rows
        indicator.panel_score = round2(sum(kept, Decimal(0)) / len(kept)) if kept else None
        indicators.append(indicator)
    return {
        "result": result,
        "checklists": items,
        "indicators": indicators,
        "deductions": list(result.deduction_lines.all()) if result else [],
        # The appeals of this version and of the versions it corrects.
        "appeals": list(
            Appeal.objects.filter(scheme__in=versions_of(scheme), organization=organization)
            .select_related("filed_by", "scheme")
            .order_by("filed_at")
        ),
    }


def judge_statistics(scheme):
    """Each judge's leniency and spread against the panel, and how often the judge's score was
    the dropped highest or lowest; the panel's agreement per indicator. Scores are compared in
    percent of the indicator's maximum."""
    submitted = JudgeScore.objects.filter(sheet__scheme=scheme, sheet__status=SheetStatus.SUBMITTED)
    # In floating point: SQLite keeps whole-number decimals as integers, and would divide them so.
    percent = Cast("score", FloatField()) * 100.0 / Cast("indicator__max_score", FloatField())
    cell_mean = (
        JudgeScore.objects.filter(
            sheet__scheme=scheme,
            sheet__status=SheetStatus.SUBMITTED,
            sheet__organization_id=OuterRef("sheet__organization_id"),
            indicator_id=OuterRef("indicator_id"),
        )
        .values("indicator_id")
        .annotate(mean=Avg(Cast("score", FloatField()) * 100.0 / Cast("indicator__max_score", FloatField())))
        .values("mean")
    )
    judges = list(
        submitted.annotate(cell=Subquery(cell_mean))
        .values("sheet__judge_id", "sheet__judge__full_name", "sheet__judge__username")
        .annotate(
            scores=Count("pk"),
            mean=Avg(percent),
            spread=StdDev(percent),
            leniency=Avg(percent - F("cell")),
        )
        .order_by("sheet__judge__full_name", "sheet__judge_id")
    )
    cell = [F("sheet__organization_id"), F("indicator_id")]
    windowed = submitted.annotate(
        up=Window(RowNumber(), partition_by=cell, order_by=[F("score").asc(), F("sheet__judge_id").asc()]),
        down=Window(RowNumber(), partition_by=cell, order_by=[F("score").desc(), F("sheet__judge_id").desc()]),
        n=Window(Count("pk"), partition_by=cell),
    )
    dropped = {}
    # Only the dropped rows come back (two per organization and indicator at most).
    for position, name in ((0, "down"), (1, "up")):
        for judge_id in windowed.filter(**{name: 1, "n__gte": scheme.trim_min_judges}).values_list(
            "sheet__judge_id", flat=True
        ):
            dropped.setdefault(judge_id, [0, 0])[position] += 1
    for row in judges:
        row["dropped_high"], row["dropped_low"] = dropped.get(row["sheet__judge_id"], [0, 0])
        row["name"] = row["sheet__judge__full_name"] or row["sheet__judge__username"]
    cells = (
        submitted.values("sheet__organization_id", "indicator_id", "indicator__code", "indicator__name")
        .annotate(spread=StdDev(percent), n=Count("pk"))
        .order_by()
    )
    agreement = {}
    for cell in cells:
        entry = agreement.setdefault(
            cell["indicator_id"], {"code": cell["indicator__code"], "name": cell["indicator__name"], "spreads": []}
        )
        entry["spreads"].append(cell["spread"] or 0)
    indicators = [{**entry, "spread": sum(entry["spreads"]) / len(entry["spreads"])} for entry in agreement.values()]
    return judges, sorted(indicators, key=lambda entry: entry["code"])


def projects_visible(user):
    return Project.objects.filter(organization__in=organizations_where(user, Action.VIEW))


def projects_matching(user, query):
    """Secretary projects in the user's area by title or the secretary's name."""
    query = query.strip()
    if not query:
        return Project.objects.none()
    return (
        projects_visible(user)
        .filter(Q(title__contains=query) | Q(secretary__name__contains=query))
        .select_related("organization__parent__parent", "secretary")
        .order_by("-year", "organization__path", "pk")
    )


def project_totals(grant):
    spent = grant.spendings.aggregate(total=Sum("amount"))["total"] or Decimal(0)
    return spent, grant.amount - spent
