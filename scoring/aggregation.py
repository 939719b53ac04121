"""The year-end aggregation (DESIGN.md 5), set-based for a whole scheme:

- checklist = the completion score of section 3 at the scheme's scoring date (one query for all
  organizations, checklists.selectors.completion_by_organization);
- panel = Σ over indicators of the indicator's panel score, scaled so that the indicators'
  maximum scores sum to 100. An indicator's panel score is the trimmed mean of the submitted
  judges' scores — with trim_min_judges judges or more (default 5) the single highest and the
  single lowest are dropped, else the plain mean — computed for every organization in one
  statement (PANEL_SQL) as (Σ − max − min) / (n − 2), in exact integer cents. An indicator nobody
  scored is left out of both sums;
- mass evaluation = the weighted review score of the organization's secretary (reviews);
- quarterly = the mean of the quarters held (平时考核);
- deductions = 通报 points, points per overdue problem and per late item (each source capped
  as the scheme sets), and manual ones; the scheme's cap applies to the sum;
- total = Σ weight × component / Σ weights of the components with data − deductions; rank with
  ties sharing a rank (1, 2, 2, 4, RANK() in the database); grade by the thresholds, with the
  optional quota on the top grade (those ranked beyond it fall to the next grade; ties share
  a rank, so organizations tied within the quota keep it).

Every score, component and total is rounded to two decimals, half up, before it is compared,
ranked or graded. The database does the counting; what is left, a row per organization, is
exact Decimal arithmetic here. The results replace the scheme's in one transaction, written in
batches of one INSERT … ON CONFLICT, and ranked by one UPDATE.
"""

import json
from bisect import bisect_left
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db import connection, transaction
from django.db.models import Count, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from checklists.selectors import completion_by_organization
from reviews.selectors import secretary_review_totals
from supervision.selectors import notice_points, overdue_problem_counts

from .models import (
    COMPONENTS,
    DEFAULT_THRESHOLDS,
    Deduction,
    DeductionSource,
    Indicator,
    JudgeScore,
    JudgeSheet,
    QuarterlyScore,
    ResultDeduction,
    SchemeKind,
    SchemeResult,
    SheetStatus,
)

CENT = Decimal("0.01")
ZERO = Decimal(0)


def round2(value):
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def grade_of(total, thresholds):
    for index, threshold in enumerate(thresholds):
        if total >= Decimal(str(threshold)):
            return index
    return len(thresholds)


# The panel component of every organization in one statement. Scores and maxima have two
# decimals, so past the grouping the arithmetic is done exactly in integer cents, the same on
# PostgreSQL and SQLite (where a sum of a few two-decimal values is within far less than a cent of
# its exact value before it is rounded to cents): an indicator's mean, half up, is
# (2·Σ + d) ÷ (2·d) in integer division (all values are ≥ 0), where Σ and d are the cents and the
# count, less the highest and lowest when trimmed.
PANEL_SQL = """
WITH cells AS (
    SELECT s.organization_id AS organization_id, sc.indicator_id AS indicator_id, COUNT(*) AS n,
           SUM(sc.score) AS total, MAX(sc.score) AS high, MIN(sc.score) AS low
    FROM {score} sc JOIN {sheet} s ON s.id = sc.sheet_id
    WHERE s.scheme_id = %(scheme)s AND s.status = %(submitted)s
    GROUP BY s.organization_id, sc.indicator_id
), cents AS (
    SELECT organization_id, indicator_id, n, CAST(ROUND(total * 100) AS INTEGER) AS total,
           CAST(ROUND(high * 100) AS INTEGER) AS high, CAST(ROUND(low * 100) AS INTEGER) AS low
    FROM cells
), means AS (
    SELECT organization_id, indicator_id,
           CASE WHEN n >= %(trim)s THEN (2 * (total - high - low) + (n - 2)) / (2 * (n - 2))
                ELSE (2 * total + n) / (2 * n) END AS mean
    FROM cents
)
SELECT m.organization_id, SUM(m.mean), SUM(CAST(ROUND(i.max_score * 100) AS INTEGER))
FROM means m JOIN {indicator} i ON i.id = m.indicator_id
GROUP BY m.organization_id
"""


def panel_scores(scheme):
    """{organization id: panel component}: Σ of the indicators' panel scores scaled so that the
    maxima of the indicators scored sum to 100."""
    tables = {
        "score": JudgeScore._meta.db_table,
        "sheet": JudgeSheet._meta.db_table,
        "indicator": Indicator._meta.db_table,
    }
    sql = PANEL_SQL.format(**{key: connection.ops.quote_name(table) for key, table in tables.items()})
    with connection.cursor() as cursor:
        cursor.execute(
            sql, {"scheme": scheme.pk, "submitted": SheetStatus.SUBMITTED, "trim": max(scheme.trim_min_judges, 3)}
        )
        rows = cursor.fetchall()
    return {organization_id: round2(Decimal(means) * 100 / Decimal(maxima)) for organization_id, means, maxima in rows}


def quarterly_means(organization_ids, year):
    rows = (
        QuarterlyScore.objects.filter(organization_id__in=organization_ids, year=year)
        .values("organization_id")
        .annotate(n=Count("pk"), total=Sum("score"))
        .order_by()
    )
    return {row["organization_id"]: round2(Decimal(row["total"]) / row["n"]) for row in rows}


def _capped(lines, cap):
    """Lines [(source, points, reason, reference)] of one source, cut at the source's cap."""
    if cap is None:
        return lines
    kept, left = [], Decimal(cap)
    for source, points, reason, reference in lines:
        take = min(points, left)
        if take > 0:
            kept.append((source, take, reason, reference))
        left -= take
    return kept


@dataclass
class Computed:
    organization_id: int
    components: dict
    deductions: list = field(default_factory=list)
    total: Decimal = ZERO
    deducted: Decimal = ZERO
    weights: dict = field(default_factory=dict)
    rank: int = 0
    grade: int = 0
    capped: bool = False


def deduction_lines(scheme, organization_ids, checklist_facts):
    """{organization id: [(source, points, reason, reference)]}, each source capped."""
    by_organization = defaultdict(lambda: {source: [] for source in DeductionSource})
    for organization_id, points, reason, number in notice_points(
        organization_ids, year=scheme.year, on=scheme.scoring_date
    ):
        by_organization[organization_id][DeductionSource.NOTICE].append(
            (DeductionSource.NOTICE, Decimal(points), reason, number)
        )
    if scheme.overdue_problem_points:
        overdue = overdue_problem_counts(organization_ids, year=scheme.year, on=scheme.scoring_date)
        for organization_id, count in overdue.items():
            by_organization[organization_id][DeductionSource.OVERDUE_PROBLEM].append(
                (
                    DeductionSource.OVERDUE_PROBLEM,
                    scheme.overdue_problem_points * count,
                    _("%(n)s overdue problems × %(points)s") % {"n": count, "points": scheme.overdue_problem_points},
                    "",
                )
            )
    if scheme.late_item_points:
        for organization_id, (_score, late_items) in checklist_facts.items():
            if late_items:
                by_organization[organization_id][DeductionSource.LATE_ITEM].append(
                    (
                        DeductionSource.LATE_ITEM,
                        scheme.late_item_points * late_items,
                        _("%(n)s late checklist items × %(points)s")
                        % {"n": late_items, "points": scheme.late_item_points},
                        "",
                    )
                )
    for organization_id, points, reason in Deduction.objects.filter(
        scheme=scheme, organization_id__in=organization_ids
    ).values_list("organization_id", "points", "reason"):
        by_organization[organization_id][DeductionSource.OTHER].append((DeductionSource.OTHER, points, reason, ""))
    caps = {
        DeductionSource.NOTICE: scheme.notice_cap,
        DeductionSource.OVERDUE_PROBLEM: scheme.overdue_problem_cap,
        DeductionSource.LATE_ITEM: scheme.late_item_cap,
        DeductionSource.OTHER: None,
    }
    return {
        pk: [line for source, lines in sources.items() for line in _capped(lines, caps[source])]
        for pk, sources in by_organization.items()
    }


def compute(scheme, *, progress=None):
    """The results of every member, without writing (progress(step, percent) is told how far)."""
    progress = progress or (lambda step, percent: None)
    members = list(scheme.members.values_list("organization_id", flat=True))
    # The database filters by the members as a subquery, not a list of thousands of ids.
    selected = scheme.members.values("organization_id")
    if scheme.kind == SchemeKind.PROJECTS:
        return _compute_projects(scheme, members, progress)
    progress("checklists", 10)
    checklist = completion_by_organization(
        selected, year=scheme.year, on=scheme.scoring_date, template=scheme.checklist_template
    )
    progress("panel", 35)
    panel = panel_scores(scheme)
    progress("mass evaluation", 55)
    mass = secretary_review_totals(selected, year=scheme.year)
    ordinary = quarterly_means(selected, scheme.year)
    progress("deductions", 70)
    deductions = deduction_lines(scheme, selected, checklist)
    weights = scheme.weights
    computed = []
    for organization_id in members:
        components = {
            "checklist": (checklist.get(organization_id) or (None, 0))[0],
            "panel": panel.get(organization_id),
            "mass": mass.get(organization_id),
            "ordinary": ordinary.get(organization_id),
        }
        present = {name: value for name, value in components.items() if value is not None and weights[name] > 0}
        row = Computed(organization_id, components, deductions.get(organization_id, []))
        weight_sum = sum((weights[name] for name in present), ZERO)
        if weight_sum:
            row.weights = {name: str(round2(weights[name] * 100 / weight_sum)) for name in present}
            weighted = round2(sum((weights[name] * value for name, value in present.items()), ZERO) / weight_sum)
        else:
            weighted = ZERO
        deducted = round2(sum((points for _source, points, _reason, _ref in row.deductions), ZERO))
        if scheme.deduction_cap is not None:
            deducted = min(deducted, round2(scheme.deduction_cap))
        row.deducted = deducted
        row.total = round2(weighted - deducted)
        computed.append(row)
    thresholds = scheme.thresholds or DEFAULT_THRESHOLDS
    for row in computed:
        row.grade = grade_of(row.total, thresholds)
    _quota_apply(scheme, computed)
    return computed


def _compute_projects(scheme, members, progress):
    """A competitive evaluation of projects: the jury's panel score only, no deductions (those
    concern the organization's year, not its project)."""
    progress("panel", 40)
    panel = panel_scores(scheme)
    computed = []
    for organization_id in members:
        score = panel.get(organization_id)
        row = Computed(organization_id, {"checklist": None, "panel": score, "mass": None, "ordinary": None})
        row.weights = {"panel": "100.00"} if score is not None else {}
        row.total = score if score is not None else ZERO
        computed.append(row)
    thresholds = scheme.thresholds or DEFAULT_THRESHOLDS
    for row in computed:
        row.grade = grade_of(row.total, thresholds)
    _quota_apply(scheme, computed)
    return computed


def _quota_apply(scheme, computed):
    """The optional quota on the top grade (a number, or a share of the organizations assessed):
    those beyond it in rank order fall to the next grade. Ranks are shared by ties (1, 2, 2, 4),
    so organizations tied within the quota all keep the top grade."""
    if scheme.quota_count is not None:
        quota = scheme.quota_count
    elif scheme.quota_numerator is not None:
        quota = len(computed) * scheme.quota_numerator // scheme.quota_denominator
    else:
        return
    descending = sorted(-row.total for row in computed)
    for row in computed:
        rank = 1 + bisect_left(descending, -row.total)  # RANK(): 1 + how many are higher
        if row.grade == 0 and rank > quota:
            row.grade, row.capped = 1, True


RESULT_FIELDS = [
    "scheme_id",
    "organization_id",
    *COMPONENTS,
    "deductions",
    "total",
    "rank",
    "grade",
    "capped",
    "weights",
]
# Written in batches of one INSERT … ON CONFLICT each (PostgreSQL; SQLite from 3.35): the ORM's
# bulk_create spends most of its time preparing each field of each row, which this skips; the
# values are plain numbers, Decimals, booleans and a JSON text.
RESULT_UPSERT = """
INSERT INTO {table} ({columns}) VALUES {rows}
ON CONFLICT (scheme_id, organization_id) DO UPDATE SET {updates}
RETURNING id, organization_id
"""
RANK_UPDATE = """
UPDATE {table} SET "rank" = ranked.position
FROM (SELECT id, RANK() OVER (ORDER BY total DESC) AS position FROM {table} WHERE scheme_id = %s) AS ranked
WHERE {table}.id = ranked.id AND {table}."rank" <> ranked.position
"""
BATCH = 1000


def _result_ids(scheme, computed):
    """Write the results over the scheme's, returning {organization id: result id}."""
    quote = connection.ops.quote_name
    table = quote(SchemeResult._meta.db_table)
    columns = ", ".join(quote(name) for name in RESULT_FIELDS)
    # The rank is left to RANK_UPDATE, which writes only the ranks that changed.
    updates = ", ".join(f"{quote(name)} = excluded.{quote(name)}" for name in RESULT_FIELDS[2:] if name != "rank")
    placeholder = "(" + ", ".join(["%s"] * len(RESULT_FIELDS)) + ")"
    ids = {}
    with connection.cursor() as cursor:
        for start in range(0, len(computed), BATCH):
            batch = computed[start : start + BATCH]
            params = []
            for row in batch:
                params += [scheme.pk, row.organization_id, *(row.components[name] for name in COMPONENTS)]
                params += [row.deducted, row.total, 0, row.grade, row.capped, json.dumps(row.weights)]
            rows = ", ".join([placeholder] * len(batch))
            cursor.execute(RESULT_UPSERT.format(table=table, columns=columns, rows=rows, updates=updates), params)
            ids.update((organization_id, pk) for pk, organization_id in cursor.fetchall())
    return ids


@transaction.atomic
def store(scheme, computed):
    """Replace the scheme's results (written over in place); ranks by RANK() over the stored
    totals (1, 2, 2, 4), set by one UPDATE … FROM in the database (SQLite from 3.33)."""
    ResultDeduction.objects.filter(result__scheme=scheme).delete()
    SchemeResult.objects.filter(scheme=scheme).exclude(
        organization_id__in=scheme.members.values("organization_id")
    ).delete()
    ids = _result_ids(scheme, computed)
    ResultDeduction.objects.bulk_create(
        [
            ResultDeduction(
                result_id=ids[row.organization_id],
                source=source,
                points=points,
                reason=reason[:300],
                reference=reference,
            )
            for row in computed
            for source, points, reason, reference in row.deductions
        ],
        batch_size=1000,
    )
    with connection.cursor() as cursor:
        cursor.execute(RANK_UPDATE.format(table=connection.ops.quote_name(SchemeResult._meta.db_table)), [scheme.pk])
    scheme.__class__.objects.filter(pk=scheme.pk).update(aggregated_at=timezone.now())
    return SchemeResult.objects.filter(scheme=scheme)
