"""The scoring app's sheets (issue 9): 考核指标 and 评委评分, each uploaded from the page of the
scheme it belongs to (the upload names the scheme), and 平时考核. Importing the same file twice
changes nothing."""

from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from config.numbers import plain
from organizations.models import Organization
from organizations.permissions import Action, acts_anywhere, has_permission, organizations_where
from spreadsheets.registry import Column, RowError, SheetImporter, SheetPlan

from . import services
from .models import Indicator, JudgeSheet, QuarterlyScore, Scheme, SheetStatus


def _number(text, *, maximum):
    """The number in a cell, or None when it is not one between 0 and maximum."""
    try:
        value = Decimal(str(text).strip())
    except (InvalidOperation, ValueError):
        return None
    if not value.is_finite() or value < 0 or value > maximum or value != value.quantize(Decimal("0.01")):
        return None
    return value


class SchemeSheet(SheetImporter):
    """A sheet of one scheme: the scheme comes from the page the file was uploaded from."""

    def allowed(self, user):
        return user is None or acts_anywhere(user, Action.SET_UP_ASSESSMENT)

    def scheme(self, context, sheet_name):
        scheme = Scheme.objects.filter(pk=context.target.get("scheme")).select_related("owner").first()
        problem = None
        if scheme is None:
            problem = _("Upload the sheet %(sheet)s from the page of its assessment scheme.") % {"sheet": sheet_name}
        elif context.user is not None and not has_permission(context.user, Action.SET_UP_ASSESSMENT, scheme.owner):
            problem = _("Your roles do not allow changing this scheme.")
        elif not scheme.is_editable:
            problem = _("The scheme is %(state)s: its set-up can no longer change.") % {
                "state": scheme.get_state_display()
            }
        if problem:
            context.errors.append(RowError(sheet_name, 1, _("header"), problem))
            return None
        return scheme


class IndicatorSheet(SchemeSheet):
    name = "考核指标"
    label = gettext_lazy("assessment indicators")
    order = 70
    columns = [
        Column("指标编码", "code", required=True, kind="code", width=12, example="A01"),
        Column("指标名称", "name", required=True, width=24, example="组织建设"),
        Column("满分", "max_score", required=True, kind="code", width=8, example="10"),
        Column("评分标准", "guide", width=60),
    ]

    def plan(self, rows, context):
        plan = SheetPlan(self.name)
        scheme = self.scheme(context, self.name)
        if scheme is None:
            return plan
        existing = {indicator.code.upper(): indicator for indicator in scheme.indicators.all()}
        scored = scheme.sheets.filter(scores__isnull=False).exists()
        seen, changes = set(), []
        for row in rows:
            if row.failed:
                continue
            values = row.values
            code = values["code"].upper()  # codes are told apart without case: A1 is a1
            maximum = _number(values["max_score"], maximum=Decimal(1000))
            if maximum is None or maximum == 0:
                context.error(
                    row,
                    "满分",
                    _("「%(value)s」 is not a maximum score: above 0, up to 1000, two decimals at most.")
                    % {"value": values["max_score"]},
                )
                continue
            if code in seen:
                context.error(row, "指标编码", _("The code %(code)s is in the file twice.") % {"code": values["code"]})
                continue
            seen.add(code)
            fields = {"name": values["name"], "max_score": maximum, "guide": values["guide"] or ""}
            found = existing.get(code)
            if scored and (found is None or found.max_score != maximum):
                context.error(
                    row,
                    "满分" if found else "指标编码",
                    _("Judges have started scoring: the indicators can no longer change (correct the scheme instead)."),
                )
                continue
            values["code"] = code
            if found is None:
                plan.created += 1
                changes.append((None, {"code": values["code"], **fields}))
                plan.changes.append(
                    _("new indicator %(code)s %(name)s") % {"code": values["code"], "name": fields["name"]}
                )
            elif any(getattr(found, key) != value for key, value in fields.items()):
                plan.updated += 1
                changes.append((found, fields))
                plan.changes.append(_("indicator %(code)s changes") % {"code": found.code})
            else:
                plan.unchanged += 1
        plan.data = {"scheme": scheme, "changes": changes}
        return plan

    def apply(self, plan, context):
        if not plan.data:
            return
        for found, fields in plan.data["changes"]:
            if found is None:
                services.indicator_add(actor=context.user, scheme=plan.data["scheme"], **fields)
            else:
                services.indicator_update(actor=context.user, indicator=found, **fields)


class JudgeScoreSheet(SchemeSheet):
    """评委评分: a panel that scored on paper. Each row is one judge's score of one organization on
    one indicator; a judge's sheet is submitted once every indicator of it is in."""

    name = "评委评分"
    label = gettext_lazy("judges' scores on paper")
    order = 71
    columns = [
        Column("评委", "judge", required=True, width=12, example="评委1"),
        Column("组织编码", "organization", required=True, kind="code", width=16, example="440883101201"),
        Column("指标编码", "indicator", required=True, kind="code", width=12, example="A01"),
        Column("得分", "score", required=True, kind="code", width=8, example="8"),
    ]

    def plan(self, rows, context):
        plan = SheetPlan(self.name)
        scheme = self.scheme(context, self.name)
        if scheme is None:
            return plan
        indicators = {indicator.code: indicator for indicator in Indicator.objects.filter(scheme=scheme)}
        sheets = {}
        for sheet in JudgeSheet.objects.filter(scheme=scheme).select_related("judge", "organization"):
            for key in {sheet.judge.username, sheet.judge.full_name}:
                if key:
                    sheets.setdefault((key, sheet.organization.code), []).append(sheet)
        existing = {
            (score_sheet, indicator): value
            for score_sheet, indicator, value in scheme.sheets.values_list(
                "pk", "scores__indicator_id", "scores__score"
            )
            if indicator
        }
        seen, chosen = set(), {}
        for row in rows:
            if row.failed:
                continue
            values = row.values
            found = sheets.get((values["judge"], values["organization"]), [])
            if len(found) != 1:
                context.error(
                    row,
                    "评委",
                    _("「%(judge)s」 is not a judge assigned to %(code)s in this scheme.")
                    % {"judge": values["judge"], "code": values["organization"]},
                )
                continue
            (sheet,) = found
            if sheet.status != SheetStatus.OPEN:
                context.error(
                    row,
                    "评委",
                    _("This judge's sheet of %(code)s is submitted already.") % {"code": values["organization"]},
                )
                continue
            indicator = indicators.get(values["indicator"])
            if indicator is None:
                context.error(
                    row, "指标编码", _("The scheme has no indicator %(code)s.") % {"code": values["indicator"]}
                )
                continue
            score = _number(values["score"], maximum=indicator.max_score)
            if score is None:
                context.error(
                    row,
                    "得分",
                    _("「%(value)s」 is not a score from 0 to %(max)s.")
                    % {"value": values["score"], "max": plain(indicator.max_score)},
                )
                continue
            if (sheet.pk, indicator.pk) in seen:
                context.error(row, "指标编码", _("This score is in the file twice."))
                continue
            seen.add((sheet.pk, indicator.pk))
            if existing.get((sheet.pk, indicator.pk)) == score:
                plan.unchanged += 1
                continue
            if (sheet.pk, indicator.pk) in existing:
                plan.updated += 1
            else:
                plan.created += 1
            chosen.setdefault(sheet.pk, (sheet, []))[1].append((indicator, score))
        plan.data = list(chosen.values())
        plan.changes = [
            _("%(judge)s · %(organization)s: %(n)s scores")
            % {"judge": s.judge, "organization": s.organization.name, "n": len(scores)}
            for s, scores in plan.data
        ]
        return plan

    def apply(self, plan, context):
        for sheet, scores in plan.data or []:
            services.sheet_import(actor=context.user, sheet=sheet, scores=scores)


class QuarterlySheet(SheetImporter):
    name = "平时考核"
    label = gettext_lazy("quarterly assessments")
    order = 72
    columns = [
        Column("组织编码", "organization", required=True, kind="code", width=16, example="440883101201"),
        Column("年度", "year", required=True, kind="code", width=8, example="2024"),
        Column("季度", "quarter", required=True, kind="choice", choices=("1", "2", "3", "4"), width=8),
        Column("得分", "score", required=True, kind="code", width=8, example="8"),
    ]

    def allowed(self, user):
        return user is None or acts_anywhere(user, Action.SET_UP_ASSESSMENT)

    def plan(self, rows, context):
        plan = SheetPlan(self.name)
        codes = {row.values["organization"] for row in rows if not row.failed}
        organizations = {o.code: o for o in Organization.objects.filter(code__in=codes)}
        scope = None if context.user is None else organizations_where(context.user, Action.SET_UP_ASSESSMENT)
        allowed = (
            set(organizations) if scope is None else set(scope.filter(code__in=codes).values_list("code", flat=True))
        )
        existing = {
            (o, y, q): s
            for o, y, q, s in QuarterlyScore.objects.filter(organization__code__in=codes).values_list(
                "organization__code", "year", "quarter", "score"
            )
        }
        seen, records = set(), []
        for row in rows:
            if row.failed:
                continue
            values = row.values
            code = values["organization"]
            if code not in organizations:
                context.error(row, "组织编码", _("There is no organization with the code %(code)s.") % {"code": code})
                continue
            if code not in allowed:
                context.error(row, "组织编码", _("The organization %(code)s lies outside your area.") % {"code": code})
                continue
            if not (values["year"].isdigit() and 2000 <= int(values["year"]) <= 2100):
                context.error(row, "年度", _("「%(value)s」 is not a year.") % {"value": values["year"]})
                continue
            score = _number(values["score"], maximum=Decimal(100))
            if score is None:
                context.error(
                    row,
                    "得分",
                    _("「%(value)s」 is not a score from 0 to %(max)s.") % {"value": values["score"], "max": 100},
                )
                continue
            key = (code, int(values["year"]), int(values["quarter"]))
            if key in seen:
                context.error(row, "季度", _("This quarter of this organization is in the file twice."))
                continue
            seen.add(key)
            if existing.get(key) == score:
                plan.unchanged += 1
                continue
            plan.updated += key in existing
            plan.created += key not in existing
            records.append((organizations[code], key[1], key[2], score))
            plan.changes.append(f"{organizations[code].name} {key[1]}年第{key[2]}季度 {score}")
        plan.data = records
        return plan

    def apply(self, plan, context):
        for organization, year, quarter, score in plan.data:
            services.quarterly_score_set(
                actor=context.user, organization=organization, year=year, quarter=quarter, score=score
            )


SHEETS = [IndicatorSheet(), JudgeScoreSheet(), QuarterlySheet()]
