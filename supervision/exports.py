"""Exports of problem tracking: both ledgers of a subtree, admonishments, the 通报 register."""

from django.db.models import Count, TextField
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy

from checklists.exports import YearExport
from organizations.listing import filters_from
from organizations.models import Organization
from organizations.subtree import within
from spreadsheets.registry import ExportColumn

from .filters import AdmonishmentFilter, ProblemFilter
from .models import Admonishment, NoticeEntry, Problem, RectificationRecord

CHUNK = 2000


def _labels(model, field):
    return {key: str(label) for key, label in model._meta.get_field(field).choices}


class FilteredExport(YearExport):
    """An export started from a filtered list page: params also hold the page's filters
    ("filters", its query string) and the rows are what the same FilterSet lists. From a
    list page the year is the filter's own, if any (the page lists every year)."""

    filter_class = None

    def params_from(self, data):
        params = super().params_from(data)
        if "filters" in data:
            params["filters"] = filters_from(data)
            year = params["filters"].get("year", "")
            params["year"] = int(year) if year.isdigit() else None
        return params

    def filtered(self, queryset, params, organization):
        if params.get("year"):
            queryset = queryset.filter(**{self.year_field: params["year"]})
        if "filters" not in params:
            return queryset
        subtree = Organization.objects.filter(within(organization))
        filterset = self.filter_class(params["filters"], queryset, scope=subtree)
        return filterset.qs

    def title(self, params):
        return super().title(params) if params.get("year") else super(YearExport, self).title(params)

    def filename(self, params):
        return super().filename(params) if params.get("year") else super(YearExport, self).filename(params)


class ProblemLedgerExport(FilteredExport):
    """The 存在问题台账. It holds every column of the 问题台账 import sheet, so that the file
    imports back (read by its header row): unchanged problems are reported unchanged, new
    rows are listed."""

    kind = "problems"
    filter_class = ProblemFilter
    year_field = "year"
    label = gettext_lazy("problem ledger")
    sheet_name = "存在问题台账"
    columns = [
        ExportColumn(header, width)
        for header, width in [
            ("组织编码", 16),
            ("组织名称", 20),
            ("责任单位", 20),
            ("责任单位编码", 16),
            ("问题来源", 12),
            ("问题类别", 12),
            ("问题描述", 50),
            ("发现日期", 12),
            ("发现人", 12),
            ("责任人", 10),
            ("严重程度", 8),
            ("整改时限", 12),
            ("原定时限", 12),
            ("状态", 10),
            ("延期次数", 8),
            ("销号时间", 18),
        ]
    ]

    def rows(self, params):
        organization = self.organization(params)
        problems = (
            self.filtered(Problem.objects.filter(within(organization, through="organization__")), params, organization)
            .order_by("organization__path", "deadline", "pk")
            .annotate(extension_count=Count("extensions"))
            .values_list(
                "organization__code",
                "organization__name",
                "responsible_unit__name",
                "responsible_unit__code",
                "source",
                "category",
                "description",
                "found_on",
                "found_by",
                "responsible_person__name",
                "severity",
                "deadline",
                "original_deadline",
                "status",
                "extension_count",
                "closed_at",
            )
        )
        sources, severities, statuses = (
            _labels(Problem, "source"),
            _labels(Problem, "severity"),
            _labels(Problem, "status"),
        )

        def rows():
            for row in problems.iterator(chunk_size=CHUNK):
                row = list(row)
                row[4], row[10], row[13] = sources[row[4]], severities[row[10]], statuses[row[13]]
                yield row

        return problems.count(), rows()


class RectificationLedgerExport(YearExport):
    kind = "rectification"
    label = gettext_lazy("rectification ledger")
    sheet_name = "问题整改台账"
    columns = [
        ExportColumn(header, width)
        for header, width in [
            ("组织名称", 20),
            ("问题描述", 40),
            ("日期", 12),
            ("整改进展", 50),
            ("附件数", 8),
            ("记录人", 12),
        ]
    ]

    def rows(self, params):
        organization = self.organization(params)
        records = (
            RectificationRecord.objects.filter(
                problem__organization__path__startswith=organization.path, problem__year=params["year"]
            )
            .order_by("problem__organization__path", "problem_id", "date", "pk")
            .annotate(attachment_count=Count("attachments"))
            .values_list(
                "problem__organization__name",
                "problem__description",
                "date",
                "content",
                "attachment_count",
                "recorded_by__full_name",
            )
        )
        return records.count(), records.iterator(chunk_size=CHUNK)


class AdmonishmentExport(FilteredExport):
    kind = "admonishments"
    filter_class = AdmonishmentFilter
    year_field = "missed_on__year"
    label = gettext_lazy("admonishments")
    sheet_name = "约谈提醒"
    columns = [
        ExportColumn(header, width)
        for header, width in [
            ("组织名称", 20),
            ("书记", 10),
            ("问题描述", 40),
            ("延期后时限", 12),
            ("处理决定", 12),
            ("约谈日期", 12),
            ("备注", 30),
        ]
    ]

    def rows(self, params):
        organization = self.organization(params)
        rows = (
            self.filtered(
                Admonishment.objects.filter(within(organization, through="organization__")), params, organization
            )
            .order_by("missed_on", "pk")
            .values_list(
                "organization__name",
                "person__name",
                Coalesce("problem__description", "cause", output_field=TextField()),
                "missed_on",
                "outcome",
                "held_on",
                "notes",
            )
        )
        outcomes = {key: str(label) for key, label in Admonishment.Outcome.choices}

        def convert():
            for row in rows.iterator(chunk_size=CHUNK):
                row = list(row)
                row[4] = outcomes[row[4]]
                yield row

        return rows.count(), convert()


class NoticeRegisterExport(YearExport):
    kind = "notices"
    label = gettext_lazy("notice register")
    sheet_name = "通报登记"
    columns = [
        ExportColumn(header, width)
        for header, width in [
            ("文号", 20),
            ("标题", 40),
            ("印发日期", 12),
            ("被通报组织", 20),
            ("被通报人员", 12),
            ("扣分", 8),
            ("事由", 40),
        ]
    ]

    def rows(self, params):
        organization = self.organization(params)
        entries = (
            NoticeEntry.objects.filter(organization__path__startswith=organization.path, notice__year=params["year"])
            .order_by("notice__sequence", "pk")
            .values_list(
                "notice__prefix",
                "notice__year",
                "notice__sequence",
                "notice__title",
                "notice__issued_on",
                "organization__name",
                "person__name",
                "points",
                "reason",
            )
        )

        def rows():
            for prefix, year, sequence, title, issued_on, organization_name, person, points, reason in entries.iterator(
                chunk_size=CHUNK
            ):
                yield (
                    f"{prefix}〔{year}〕{sequence}号",
                    title,
                    issued_on,
                    organization_name,
                    person or "",
                    float(points),
                    reason,
                )

        return entries.count(), rows()


SPECS = [ProblemLedgerExport(), RectificationLedgerExport(), AdmonishmentExport(), NoticeRegisterExport()]
