"""Exports of the scoring app (issue 9 point 10): results and ranking, every judge's every score,
the judge statistics, the project library and its evaluation."""

from decimal import Decimal

from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy

from organizations.exports import SubtreeExport
from organizations.subtree import within
from spreadsheets.registry import ExportColumn, ExportSpec

from . import selectors
from .models import JudgeScore, Project, ProjectStatus, Scheme, SchemeResult

CHUNK = 2000


class SchemeExport(ExportSpec):
    """params {"scheme": id}: for the organizer's staff and leaders."""

    def params_from(self, data):
        value = str(data.get("scheme", ""))
        return {"scheme": int(value) if value.isdigit() else 0}

    def scheme(self, params):
        return Scheme.objects.filter(pk=params.get("scheme")).select_related("owner").first()

    def allowed(self, user, params):
        scheme = self.scheme(params)
        return scheme is not None and selectors.may_read_all(user, scheme)

    def title(self, params):
        scheme = self.scheme(params)
        return f"{scheme if scheme else ''} · {self.label}"

    def filename(self, params):
        scheme = self.scheme(params)
        # The scheme's name (with its version) tells two schemes' files apart.
        name = str(scheme) if scheme else str(params.get("scheme"))
        return f"{name.replace('/', '-')}-{self.sheet_name}.xlsx"


class ResultsExport(SchemeExport):
    kind = "scheme_results"
    label = gettext_lazy("results and ranking")
    sheet_name = "考核结果"
    columns = [
        ExportColumn(h, w)
        for h, w in [
            ("排名", 6),
            ("组织编码", 16),
            ("组织名称", 24),
            ("清单完成", 10),
            ("评委评分", 10),
            ("群众评议", 10),
            ("平时考核", 10),
            ("扣分", 8),
            ("总分", 10),
            ("等次", 8),
        ]
    ]

    def rows(self, params):
        scheme = self.scheme(params)
        grades = scheme.grades
        rows = (
            SchemeResult.objects.filter(scheme=scheme)
            .order_by("rank", "organization__path")
            .values_list(
                "rank",
                "organization__code",
                "organization__name",
                "checklist",
                "panel",
                "mass",
                "ordinary",
                "deductions",
                "total",
                "grade",
            )
        )

        def convert():
            for row in rows.iterator(chunk_size=CHUNK):
                yield [*row[:9], grades[row[9]]]

        return rows.count(), convert()


class PanelScoresExport(SchemeExport):
    kind = "panel_scores"
    label = gettext_lazy("every judge's scores")
    sheet_name = "评委评分"
    columns = [
        ExportColumn(h, w)
        for h, w in [
            ("评委", 12),
            ("组织编码", 16),
            ("组织名称", 24),
            ("指标编码", 10),
            ("指标名称", 20),
            ("得分", 8),
            ("状态", 8),
        ]
    ]

    def rows(self, params):
        scheme = self.scheme(params)
        rows = (
            JudgeScore.objects.filter(sheet__scheme=scheme)
            .order_by("sheet__organization__path", "indicator__position", "sheet__judge__full_name")
            .values_list(
                "sheet__judge__full_name",
                "sheet__organization__code",
                "sheet__organization__name",
                "indicator__code",
                "indicator__name",
                "score",
                "sheet__status",
            )
        )
        labels = {"open": "未提交", "submitted": "已提交"}

        def convert():
            for row in rows.iterator(chunk_size=CHUNK):
                yield [*row[:6], labels[row[6]]]

        return rows.count(), convert()


class JudgeStatisticsExport(SchemeExport):
    kind = "judge_statistics"
    label = gettext_lazy("judge statistics")
    sheet_name = "评委统计"
    columns = [
        ExportColumn(h, w)
        for h, w in [
            ("评委", 12),
            ("评分数", 8),
            ("平均(%)", 10),
            ("离散度", 10),
            ("宽严度", 10),
            ("被去最高分", 10),
            ("被去最低分", 10),
        ]
    ]

    def rows(self, params):
        judges, _indicators = selectors.judge_statistics(self.scheme(params))

        def rounded(value):
            return round(Decimal(value), 2) if value is not None else None

        rows = [
            [
                row["name"],
                row["scores"],
                rounded(row["mean"]),
                rounded(row["spread"]),
                rounded(row["leniency"]),
                row["dropped_high"],
                row["dropped_low"],
            ]
            for row in judges
        ]
        return len(rows), iter(rows)


class ProjectLibraryExport(SubtreeExport):
    """params {"org", "year"}: the secretary projects of an area, with grants and spending."""

    kind = "projects"
    label = gettext_lazy("secretary project library")
    sheet_name = "书记项目库"
    columns = [
        ExportColumn(h, w)
        for h, w in [
            ("组织编码", 16),
            ("组织名称", 24),
            ("书记", 10),
            ("项目名称", 30),
            ("状态", 12),
            ("预算(元)", 12),
            ("专项党费(元)", 12),
            ("已支出(元)", 12),
        ]
    ]

    def params_from(self, data):
        params = super().params_from(data)
        year = str(data.get("year", ""))
        params["year"] = int(year) if year.isdigit() else timezone.localdate().year
        return params

    def rows(self, params):
        organization = self.organization(params)
        rows = (
            Project.objects.filter(within(organization, through="organization__"), year=params["year"])
            .annotate(spent=Sum("grant__spendings__amount"))
            .order_by("organization__path", "pk")
            .values_list(
                "organization__code",
                "organization__name",
                "secretary__name",
                "title",
                "status",
                "budget",
                "grant__amount",
                "spent",
            )
        )
        labels = {key: str(label) for key, label in ProjectStatus.choices}

        def convert():
            for row in rows.iterator(chunk_size=CHUNK):
                yield [*row[:4], labels[row[4]], *row[5:]]

        return rows.count(), convert()


class EvaluationExport(SchemeExport):
    kind = "project_evaluation"
    label = gettext_lazy("project evaluation")
    sheet_name = "书记项目评审"
    columns = [
        ExportColumn(h, w)
        for h, w in [("排名", 6), ("项目名称", 30), ("组织名称", 24), ("评审得分", 10), ("专项党费(元)", 12)]
    ]

    def rows(self, params):
        scheme = self.scheme(params)
        projects = dict(scheme.members.values_list("organization_id", "project__title"))
        grants = dict(scheme.grants.values_list("project__organization_id", "amount"))
        rows = [
            [
                row.rank,
                projects.get(row.organization_id),
                row.organization.name_with_town,
                row.total,
                grants.get(row.organization_id),
            ]
            for row in SchemeResult.objects.filter(scheme=scheme)
            .select_related("organization__parent__parent")
            .order_by("rank", "organization__path")
        ]
        return len(rows), iter(rows)


SPECS = [ResultsExport(), PanelScoresExport(), JudgeStatisticsExport(), ProjectLibraryExport(), EvaluationExport()]
