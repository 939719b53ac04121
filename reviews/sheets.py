"""The 历年测评结果 sheet (issue 8): 姓名, 组织编码, 职务, 年度, 等次 — final grades of years before
the platform, so that "不称职 two years running" can be seen. A person is matched by 姓名 at the
organization (a person of it, or holding a post there). Importing the same file twice changes
nothing."""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from organizations.models import Organization, Person
from organizations.permissions import Action, acts_anywhere, organizations_where
from spreadsheets.registry import Column, SheetImporter, SheetPlan

from . import services
from .models import PastResult

# The grades of every set as they are written on paper (fixed Chinese values, never translated).
GRADE_LABELS = ("优秀", "称职", "基本称职", "不称职", "好", "较好", "一般", "差", "满意", "基本满意", "不满意")

PAST_COLUMNS = [
    Column("姓名", "name", required=True, width=10, example="黄志强"),
    Column("组织编码", "organization", required=True, kind="code", width=16, example="440883101201"),
    Column("职务", "post", required=True, width=16, example="书记"),
    Column("年度", "year", required=True, kind="code", width=8, example="2024"),
    Column("等次", "grade", required=True, kind="choice", choices=GRADE_LABELS, width=10),
]


class PastResultSheet(SheetImporter):
    name = "历年测评结果"
    label = gettext_lazy("past review results")
    columns = PAST_COLUMNS
    order = 60

    def allowed(self, user):
        return user is None or acts_anywhere(user, Action.SET_UP_REVIEW)

    def plan(self, rows, context):
        plan = SheetPlan(self.name)
        rows = [row for row in rows if not row.failed]
        codes = {row.values["organization"] for row in rows}
        names = {row.values["name"] for row in rows}
        organizations = {o.code: o for o in Organization.objects.filter(code__in=codes)}
        scope = None if context.user is None else organizations_where(context.user, Action.SET_UP_REVIEW)
        allowed = (
            set(organizations) if scope is None else set(scope.filter(code__in=codes).values_list("code", flat=True))
        )
        people = {}
        for person_id, name, code in (
            Person.objects.filter(name__in=names, organization__code__in=codes)
            .values_list("pk", "name", "organization__code")
            .distinct()
        ):
            people.setdefault((name, code), set()).add(person_id)
        for person_id, name, code in (
            Person.objects.filter(name__in=names, posts__organization__code__in=codes)
            .values_list("pk", "name", "posts__organization__code")
            .distinct()
        ):
            people.setdefault((name, code), set()).add(person_id)
        existing = {
            (person_id, year): grade
            for person_id, year, grade in PastResult.objects.filter(
                person_id__in={pk for ids in people.values() for pk in ids}
            ).values_list("person_id", "year", "grade_label")
        }
        seen = set()
        records = []
        for row in rows:
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
            matches = people.get((values["name"], code), set())
            if len(matches) != 1:
                message = (
                    _("「%(name)s」 is not a person of the organization %(code)s.")
                    if not matches
                    else _("More than one 「%(name)s」 at the organization %(code)s: fix the roster first.")
                )
                context.error(row, "姓名", message % {"name": values["name"], "code": code})
                continue
            (person_id,) = matches
            year = int(values["year"])
            if (person_id, year) in seen:
                context.error(
                    row, "年度", _("This person's result for %(year)s is in the file twice.") % {"year": year}
                )
                continue
            seen.add((person_id, year))
            if existing.get((person_id, year)) == values["grade"]:
                plan.unchanged += 1
                continue
            if (person_id, year) in existing:
                plan.updated += 1
            else:
                plan.created += 1
            records.append(
                {
                    "person_id": person_id,
                    "organization": organizations[code],
                    "post_label": values["post"],
                    "year": year,
                    "grade_label": values["grade"],
                }
            )
            plan.changes.append(f"{values['name']} · {year} · {values['grade']}")
        plan.data = records
        return plan

    def apply(self, plan, context):
        people = Person.objects.in_bulk([record["person_id"] for record in plan.data])
        for record in plan.data:
            services.past_result_record(
                actor=context.user,
                person=people[record.pop("person_id")],
                **record,
            )
