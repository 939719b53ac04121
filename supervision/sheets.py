"""The 问题台账 sheet (DESIGN.md 7): 组织编码, 责任单位编码, 问题来源, 问题类别, 问题描述, 发现日期,
责任人, 整改时限. A row names a problem by organization, description and date found: importing
the same file again changes nothing."""

from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from organizations.models import Organization, Person
from organizations.permissions import Action, acts_anywhere, organizations_where
from spreadsheets.registry import Column, SheetImporter, SheetPlan

from . import services
from .models import Problem, Source

CHUNK = 500


def _chunks(values, size=CHUNK):
    values = list(values)
    for start in range(0, len(values), size):
        yield values[start : start + size]


SOURCE_LABELS = {
    "督导检查": Source.SUPERVISION,
    "巡察": Source.INSPECTION,
    "群众反映": Source.MASS_REPORT,
    "自查自纠": Source.SELF_CHECK,
    "述职评议点评": Source.REVIEW_COMMENT,
}

PROBLEM_COLUMNS = [
    Column("组织编码", "organization", required=True, kind="code", width=16, example="440883101201"),
    Column("责任单位编码", "unit", kind="code", width=16, help=gettext_lazy("empty: the organization itself")),
    Column("问题来源", "source", required=True, kind="choice", choices=tuple(SOURCE_LABELS), width=12),
    Column("问题类别", "category", required=True, width=12, example="组织生活"),
    Column("问题描述", "description", required=True, width=50, example="三会一课记录不全"),
    Column("发现日期", "found_on", required=True, kind="date", width=12),
    Column(
        "责任人",
        "person",
        width=10,
        example="黄志强",
        help=gettext_lazy("a person holding a post at the organization or unit"),
    ),
    Column("整改时限", "deadline", required=True, kind="date", width=12),
]


class ProblemSheet(SheetImporter):
    name = "问题台账"
    label = gettext_lazy("problem ledger")
    columns = PROBLEM_COLUMNS
    order = 40
    needs_user = True  # the user is who listed the problems

    def allowed(self, user):
        return user is None or acts_anywhere(user, Action.LIST_PROBLEM)

    def plan(self, rows, context):
        plan = SheetPlan(self.name)
        scope = None if context.user is None else organizations_where(context.user, Action.LIST_PROBLEM)
        codes = {row.values[key] for row in rows for key in ("organization", "unit") if row.values.get(key)}
        found = {o.code: o for o in Organization.objects.filter(code__in=codes)}
        allowed = set(found) if scope is None else set(scope.filter(code__in=codes).values_list("code", flat=True))
        usable = [row for row in rows if not row.failed]
        candidates, people = self._people_at(usable, found)
        listed = self._listed(usable, found)
        creates = []
        seen = {}  # (organization, description, date found) → the first row naming that problem
        for row in rows:
            if row.failed:
                continue
            values = row.values
            key = (values["organization"], values["description"], values["found_on"])
            if key in seen:
                context.error(
                    row,
                    "问题描述",
                    _("The same problem (organization, description, date found) is already in row %(row)s.")
                    % {"row": seen[key]},
                )
                continue
            seen[key] = row.number
            organization = found.get(values["organization"])
            if organization is None:
                context.error(
                    row,
                    "组织编码",
                    _("There is no organization with the code %(code)s.") % {"code": values["organization"]},
                )
                continue
            if values["organization"] not in allowed:
                context.error(
                    row,
                    "组织编码",
                    _("The organization %(code)s lies outside your area.") % {"code": values["organization"]},
                )
                continue
            unit = found.get(values["unit"]) if values["unit"] else organization
            if unit is None:
                context.error(
                    row,
                    "责任单位编码",
                    _("There is no organization with the code %(code)s.") % {"code": values["unit"]},
                )
                continue
            if unit.code not in allowed:
                context.error(
                    row, "责任单位编码", _("The organization %(code)s lies outside your area.") % {"code": unit.code}
                )
                continue
            if values["deadline"] < values["found_on"]:
                context.error(row, "整改时限", _("The deadline cannot be before the day the problem was found."))
                continue
            person = None
            if values["person"]:
                holders = candidates.get((values["person"], organization.pk), set()) | candidates.get(
                    (values["person"], unit.pk), set()
                )
                if len(holders) != 1:
                    context.error(
                        row,
                        "责任人",
                        _("「%(name)s」 holds no post at the organization or the unit.") % {"name": values["person"]},
                    )
                    continue
                person = people[holders.pop()]
            existing = listed.get((organization.pk, values["description"], values["found_on"]))
            if existing is not None:
                differ = self._differences(existing, values, unit, person)
                if differ:
                    context.error(
                        row,
                        differ[0],
                        _(
                            "This problem is already listed; an import does not change a listed problem "
                            "(change it on the problem's page): %(columns)s differ."
                        )
                        % {"columns": "、".join(differ)},
                    )
                    continue
                plan.unchanged += 1
                continue
            creates.append(
                {
                    "organization": organization,
                    "responsible_unit": unit,
                    "source": SOURCE_LABELS[values["source"]],
                    "category": values["category"],
                    "description": values["description"],
                    "found_on": values["found_on"],
                    "responsible_person": person,
                    "deadline": values["deadline"],
                }
            )
            plan.created += 1
            plan.changes.append(
                _("new problem for %(organization)s: %(description)s")
                % {"organization": organization.name, "description": values["description"][:40]}
            )
        plan.data = creates
        return plan

    @staticmethod
    def _people_at(rows, found):
        """({(name, organization pk): {pk of each person of that name with a post there}},
        {pk: person}) for the 责任人 of the rows: one query for the whole sheet, not one a row."""
        names = {row.values["person"] for row in rows if row.values["person"]}
        organization_ids = {organization.pk for organization in found.values()}
        candidates = {}
        for chunk in _chunks(sorted(names)):
            for pk, name, organization_id in (
                Person.objects.filter(name__in=chunk, posts__organization_id__in=organization_ids)
                .values_list("pk", "name", "posts__organization_id")
                .distinct()
            ):
                candidates.setdefault((name, organization_id), set()).add(pk)
        ids = {pk for pks in candidates.values() for pk in pks}
        return candidates, Person.objects.in_bulk(ids) if ids else {}

    @staticmethod
    def _listed(rows, found):
        """{(organization pk, description, date found): the problem listed first} for the
        problems the rows name, a chunk of rows a query."""
        keys = {
            (found[row.values["organization"]].pk, row.values["description"], row.values["found_on"])
            for row in rows
            if row.values["organization"] in found
        }
        listed = {}
        for chunk in _chunks(sorted(keys)):
            condition = Q(pk__in=[])
            for organization_id, description, found_on in chunk:
                condition |= Q(organization_id=organization_id, description=description, found_on=found_on)
            # The last one written wins: the first in the ledger's order (deadline, pk), as .first() gave.
            for problem in Problem.objects.filter(condition).order_by("-deadline", "-pk"):
                listed[(problem.organization_id, problem.description, problem.found_on)] = problem
        return listed

    @staticmethod
    def _differences(problem, values, unit, person):
        """The columns in which a row differs from the problem it names."""
        differ = []
        if problem.source != SOURCE_LABELS[values["source"]]:
            differ.append("问题来源")
        if problem.category != values["category"]:
            differ.append("问题类别")
        if problem.responsible_unit_id != unit.pk:
            differ.append("责任单位编码")
        if values["person"] and problem.responsible_person_id != (person.pk if person else None):
            differ.append("责任人")
        if problem.deadline != values["deadline"]:
            differ.append("整改时限")
        return differ

    def apply(self, plan, context):
        found_by = (context.user.full_name or context.user.username) if context.user else _("Excel import")
        for fields in plan.data:
            services.problem_list(actor=context.user, found_by=found_by, **fields)
