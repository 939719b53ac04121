"""The checklists app's exports (issue: status, ledger register, progress, duty record)."""

from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy

from organizations.exports import SubtreeExport
from organizations.models import Organization
from spreadsheets.registry import ExportColumn

from . import selectors
from .models import Checklist, DutyRecord, LedgerEntry

CHUNK = 2000


class YearExport(SubtreeExport):
    """params {"org": code, "year": year}."""

    def params_from(self, data):
        params = super().params_from(data)
        try:
            params["year"] = int(data.get("year") or timezone.localdate().year)
        except (TypeError, ValueError):
            params["year"] = timezone.localdate().year
        return params

    def title(self, params):
        return f"{super().title(params)} · {params.get('year')}"

    def filename(self, params):
        return f"{params.get('org')}-{self.sheet_name}-{params.get('year')}.xlsx"


class ChecklistStatusExport(YearExport):
    kind = "checklist_status"
    label = gettext_lazy("checklist status")
    sheet_name = "清单完成情况"
    columns = [
        ExportColumn(header, width)
        for header, width in [
            ("组织编码", 16),
            ("组织名称", 24),
            ("清单名称", 28),
            ("认领情况", 10),
            ("签名", 10),
            ("认领时间", 18),
            ("应完成", 8),
            ("已完成", 8),
            ("逾期", 8),
            ("逾期完成", 10),
            ("完成率(%)", 10),
        ]
    ]

    def rows(self, params):
        today = timezone.localdate()
        organization = self.organization(params)
        checklists = (
            Checklist.objects.filter(organization__path__startswith=organization.path, template__year=params["year"])
            .order_by("organization__path", "template__name")
            .annotate(
                due=Count("items__occurrences", filter=Q(items__occurrences__deadline__lte=today)),
                done=Count(
                    "items__occurrences",
                    filter=Q(items__occurrences__deadline__lte=today, items__occurrences__done_at__isnull=False),
                ),
                overdue=Count(
                    "items__occurrences",
                    filter=Q(items__occurrences__deadline__lt=today, items__occurrences__done_at__isnull=True),
                ),
                late=Count("items__occurrences", filter=Q(items__occurrences__late=True)),
            )
            .values_list(
                "organization__code",
                "organization__name",
                "template__name",
                "claimed_at",
                "signature",
                "claim_deadline",
                "claimed_late",
                "due",
                "done",
                "overdue",
                "late",
            )
        )

        def rows():
            for (
                code,
                name,
                template,
                claimed_at,
                signature,
                claim_deadline,
                claimed_late,
                due,
                done,
                overdue,
                late,
            ) in checklists.iterator(chunk_size=CHUNK):
                claim = "已认领" if claimed_at else "逾期未认领" if claim_deadline < today else "未认领"
                if claimed_late:
                    claim = "逾期认领" if claimed_at else f"{claim}（曾逾期认领）"
                rate = selectors.rate(done, due)
                yield (
                    code,
                    name,
                    template,
                    claim,
                    signature,
                    claimed_at,
                    due,
                    done,
                    overdue,
                    late,
                    float(rate) if rate is not None else None,
                )

        return checklists.count(), rows()


class LedgerRegisterExport(YearExport):
    kind = "ledger"
    label = gettext_lazy("ledger register")
    sheet_name = "台账登记簿"
    columns = [
        ExportColumn(header, width)
        for header, width in [
            ("组织名称", 20),
            ("事项编码", 8),
            ("工作事项", 28),
            ("完成时限", 12),
            ("日期", 12),
            ("内容", 50),
            ("附件数", 8),
            ("状态", 10),
            ("版本", 6),
            ("提交人", 12),
            ("首次提交时间", 18),
            ("审核人", 12),
            ("审核时间", 18),
            ("审核意见", 30),
        ]
    ]

    def rows(self, params):
        organization = self.organization(params)
        entries = (
            LedgerEntry.objects.filter(
                organization__path__startswith=organization.path,
                occurrence__item__checklist__template__year=params["year"],
            )
            .order_by("organization__path", "occurrence__item__position", "occurrence__index", "pk")
            .annotate(attachment_count=Count("attachments"))
            .values_list(
                "organization__name",
                "occurrence__item__code",
                "occurrence__item__title",
                "occurrence__deadline",
                "date",
                "content",
                "attachment_count",
                "status",
                "version",
                "submitted_by__full_name",
                "first_submitted_at",
                "reviewed_by__full_name",
                "reviewed_at",
                "review_comment",
            )
        )
        labels = dict(LedgerEntry._meta.get_field("status").choices)

        def rows():
            for row in entries.iterator(chunk_size=CHUNK):
                row = list(row)
                row[7] = str(labels[row[7]])
                yield row

        return entries.count(), rows()


class ProgressExport(YearExport):
    kind = "progress"
    label = gettext_lazy("monthly progress")
    sheet_name = "月度进度"
    columns = [
        ExportColumn(header, width)
        for header, width in [
            ("组织编码", 16),
            ("组织名称", 24),
            ("月份", 10),
            ("应完成", 8),
            ("已完成", 8),
            ("逾期", 8),
            ("完成率(%)", 10),
        ]
    ]

    def rows(self, params):
        organization = self.organization(params)
        # The organization itself, then each organization directly below it: a roll-up each.
        targets = [organization, *Organization.objects.filter(parent=organization).order_by("code")]

        def rows():
            for target in targets:
                for month in selectors.progress_by_month(target, year=params["year"]):
                    rate = selectors.rate(month["done"], month["due"])
                    yield (
                        target.code,
                        target.name,
                        month["month"].strftime("%Y-%m"),
                        month["due"],
                        month["done"],
                        month["overdue"],
                        float(rate) if rate is not None else None,
                    )

        return len(targets) * 12, rows()


class DutyRecordExport(YearExport):
    kind = "duty"
    label = gettext_lazy("secretary's duty record")
    sheet_name = "书记履责纪实"
    columns = [
        ExportColumn(header, width)
        for header, width in [
            ("组织名称", 20),
            ("日期", 12),
            ("类别", 14),
            ("内容", 60),
            ("记录人", 12),
            ("月报状态", 10),
        ]
    ]

    def rows(self, params):
        organization = self.organization(params)
        records = (
            DutyRecord.objects.filter(organization=organization, date__year=params["year"])
            .order_by("date", "pk")
            .values_list("organization__name", "date", "kind", "content", "author__full_name", "report__status")
        )
        kinds = dict(DutyRecord._meta.get_field("kind").choices)
        statuses = dict(LedgerEntry._meta.get_field("status").choices)

        def rows():
            for name, day, kind, content, author, status in records.iterator(chunk_size=CHUNK):
                yield name, day, str(kinds[kind]), content, author, str(statuses[status]) if status else "未报送"

        return records.count(), rows()


SPECS = [ChecklistStatusExport(), LedgerRegisterExport(), ProgressExport(), DutyRecordExport()]
