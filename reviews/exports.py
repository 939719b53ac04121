"""Exports of the reviews app (DESIGN.md 6–7): the 测评汇总表 of a session, its results with
their consequences, and the lists of people barred from awards or subsidies."""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from organizations.exports import SubtreeExport
from organizations.models import Organization
from organizations.permissions import Action
from spreadsheets.registry import ExportColumn, ExportSpec

from .models import Consequence, ConsequenceKind, ConsequenceStatus, GroupResult, Outcome, ReviewResult, ReviewSession
from .selectors import MIN_BALLOTS_FOR_DISTRIBUTION, barred, may_read_results

CHUNK = 2000


class SessionExport(ExportSpec):
    """params {"session": id}; for those who may read the session's results."""

    def params_from(self, data):
        value = str(data.get("session", ""))
        return {"session": int(value) if value.isdigit() else 0}

    def session(self, params):
        return ReviewSession.objects.filter(pk=params.get("session")).select_related("organizer").first()

    def allowed(self, user, params):
        session = self.session(params)
        return session is not None and may_read_results(user, session)

    def title(self, params):
        session = self.session(params)
        return f"{session.title if session else ''} · {self.label}"

    def filename(self, params):
        session = self.session(params)
        return f"{session.year if session else ''}-{self.sheet_name}-{params.get('session')}.xlsx"


def _grade_label(session, grade):
    return session.grades[grade] if grade is not None else ""


class SummaryExport(SessionExport):
    kind = "review_summary"
    label = gettext_lazy("rating summary")
    sheet_name = "测评汇总表"
    head = [("序号", 6), ("姓名", 10), ("职务", 16), ("组织", 24), ("会场", 16), ("测评组别", 12), ("权重", 8)]
    head += [("应到", 8), ("有效票", 8), ("参评", 8), ("弃权", 8)]
    tail = [("平均分", 10), ("是否计入", 8), ("加权得分", 10), ("最终等次", 10), ("否决", 6)]

    def columns_for(self, params):
        session = self.session(params)
        grades = session.grades if session else []
        return [ExportColumn(h, w) for h, w in [*self.head, *[(label, 8) for label in grades], *self.tail]]

    columns = []

    def rows(self, params):
        session = self.session(params)
        grades = len(session.grades)
        rows = (
            GroupResult.objects.filter(reportee__session=session)
            .order_by("reportee__order", "reportee_id", "group__venue__position", "group__position", "group_id")
            .values_list(
                "reportee__order",
                "reportee__person__name",
                "reportee__post_label",
                "reportee__organization__name",
                "group__venue__name",
                "group__name",
                "group__weight",
                "group__expected",
                "valid_ballots",
                "rated",
                "abstained",
                "grade_0",
                "grade_1",
                "grade_2",
                "grade_3",
                "mean",
                "counted",
                "reportee__result__total",
                "reportee__result__grade",
                "reportee__result__vetoed",
            )
        )
        yes, no = _("yes"), _("no")

        def convert():
            for row in rows.iterator(chunk_size=CHUNK):
                rated = row[9]
                distribution = list(row[11 : 11 + grades]) if rated >= MIN_BALLOTS_FOR_DISTRIBUTION else [""] * grades
                yield [
                    *row[:11],
                    *distribution,
                    row[15] if rated >= MIN_BALLOTS_FOR_DISTRIBUTION else "",
                    yes if row[16] else no,
                    row[17],
                    _grade_label(session, row[18]),
                    yes if row[19] else "",
                ]

        return rows.count(), convert()


class ResultsExport(SessionExport):
    kind = "review_results"
    label = gettext_lazy("results and consequences")
    sheet_name = "评议结果及运用"
    columns = [
        ExportColumn(h, w)
        for h, w in [
            ("序号", 6),
            ("姓名", 10),
            ("职务", 16),
            ("组织", 24),
            ("加权得分", 10),
            ("最终等次", 10),
            ("否决", 6),
            ("受名额限制", 10),
            ("结果运用", 50),
        ]
    ]

    def rows(self, params):
        session = self.session(params)
        consequences = {}
        for result_id, kind, status in Consequence.objects.filter(result__reportee__session=session).values_list(
            "result_id", "kind", "status"
        ):
            consequences.setdefault(result_id, []).append(
                f"{ConsequenceKind(kind).label}（{ConsequenceStatus(status).label}）"
            )
        results = (
            ReviewResult.objects.filter(reportee__session=session)
            .order_by("reportee__order", "reportee_id")
            .values_list(
                "pk",
                "reportee__order",
                "reportee__person__name",
                "reportee__post_label",
                "reportee__organization__name",
                "total",
                "grade",
                "vetoed",
                "capped",
                "outcome",
            )
        )
        yes = _("yes")

        def convert():
            for pk, order, name, post, organization, total, grade, vetoed, capped, outcome in results.iterator(
                chunk_size=CHUNK
            ):
                grade_text = _grade_label(session, grade) or str(Outcome(outcome).label)
                yield [
                    order,
                    name,
                    post,
                    organization,
                    total,
                    grade_text,
                    yes if vetoed else "",
                    yes if capped else "",
                    "；".join(consequences.get(pk, [])),
                ]

        return results.count(), convert()


class BarredExport(SubtreeExport):
    """params {"org", "year", "bar"}: who may not receive a performance subsidy (or awards)."""

    kind = "review_barred"
    label = gettext_lazy("barred from awards or subsidies")
    sheet_name = "限制名单"
    action = Action.READ_REVIEW_RESULTS
    columns = [
        ExportColumn(h, w)
        for h, w in [
            ("姓名", 10),
            ("职务", 16),
            ("组织编码", 16),
            ("组织", 24),
            ("限制", 20),
            ("年度", 8),
            ("依据", 30),
            ("状态", 12),
        ]
    ]

    def params_from(self, data):
        params = super().params_from(data)
        year = str(data.get("year", ""))
        params["year"] = int(year) if year.isdigit() else 0
        params["bar"] = (
            data.get("bar") if data.get("bar") in {ConsequenceKind.NO_SUBSIDY, ConsequenceKind.NO_AWARDS} else ""
        )
        return params

    def rows(self, params):
        return self.rows_for(params, None)

    def rows_for(self, params, user):
        """Only consequences of reviews whose results the requester reads."""
        organization = Organization.objects.get(code=params["org"])
        kinds = [params["bar"]] if params.get("bar") else [ConsequenceKind.NO_SUBSIDY, ConsequenceKind.NO_AWARDS]
        rows = (
            barred(organization, user, year=params["year"], kind=kinds)
            .order_by("result__reportee__organization__path", "person__name", "kind")
            .values_list(
                "person__name",
                "result__reportee__post_label",
                "result__reportee__organization__code",
                "result__reportee__organization__name",
                "kind",
                "applies_to",
                "result__reportee__session__title",
                "status",
            )
        )

        def convert():
            for row in rows.iterator(chunk_size=CHUNK):
                row = list(row)
                row[4] = str(ConsequenceKind(row[4]).label)
                row[7] = str(ConsequenceStatus(row[7]).label)
                yield row

        return rows.count(), convert()


SPECS = [SummaryExport(), ResultsExport(), BarredExport()]
