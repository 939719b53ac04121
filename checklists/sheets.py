"""The 责任清单 sheet (DESIGN.md 7): rows make or update the importer's template of the year of
their 完成时限 dates, named "<year>年党建责任清单" unless the importer gives a name."""

from collections import defaultdict
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from organizations.models import Organization, PartyType
from organizations.permissions import Action, acts_anywhere, top_organization
from organizations.sheets import PARTY_TYPE_LABEL_OF, PARTY_TYPE_LABELS
from spreadsheets.reading import cell_text
from spreadsheets.registry import Column, SheetImporter, SheetPlan

from . import services
from .models import ChecklistTemplate, Frequency

FREQUENCY_LABELS = {
    "一次": Frequency.ONCE,
    "每月": Frequency.MONTHLY,
    "每季度": Frequency.QUARTERLY,
    "每半年": Frequency.HALF_YEARLY,
    "每年": Frequency.YEARLY,
}
FREQUENCY_LABEL_OF = {value: label for label, value in FREQUENCY_LABELS.items()}
TYPE_SEPARATORS = ("、", ",", "，", "/", ";", "；")

CHECKLIST_COLUMNS = [
    Column("编码", "code", required=True, kind="code", width=8, example="1.1"),
    Column("类别", "category", required=True, width=12, example="组织建设"),
    Column("工作事项", "title", required=True, width=28, example="召开支部委员会"),
    Column("工作要求", "requirement", required=True, width=50, example="每月至少召开一次"),
    Column("佐证材料", "evidence", width=24, example="会议记录"),
    Column("频次", "frequency", required=True, kind="choice", choices=tuple(FREQUENCY_LABELS), width=8),
    Column("完成时限", "deadline", required=True, kind="date", width=12),
    Column("分值", "score", required=True, kind="code", width=8, example="5"),
    Column(
        "适用党组织类别",
        "types",
        required=True,
        kind="code",
        width=24,
        example="党总支、党支部",
        help=gettext_lazy("one or more of 党委、党工委、党总支、党支部、联合党支部, separated by 、"),
    ),
]

FIELDS = ["code", "category", "title", "requirement", "evidence", "frequency", "deadline", "score"]


def template_name(year, types, *, several):
    name = f"{year}年党建责任清单"
    if several:
        name += "（" + "、".join(PARTY_TYPE_LABEL_OF[t] for t in types) + "）"
    return name


class ChecklistSheet(SheetImporter):
    name = "责任清单"
    label = gettext_lazy("responsibility checklist")
    columns = CHECKLIST_COLUMNS
    order = 30

    def allowed(self, user):
        return user is None or acts_anywhere(user, Action.CREATE_TEMPLATE)

    @staticmethod
    def owner_for(user):
        """The importer's own organization: the top-most one where they write templates."""
        if user is None:
            return Organization.objects.filter(parent__isnull=True).order_by("path").first()
        return top_organization(user, Action.CREATE_TEMPLATE)

    def plan(self, rows, context):
        plan = SheetPlan(self.name)
        groups = defaultdict(list)  # (year, types) → [(row, fields)]
        for row in rows:
            if row.failed:
                continue
            fields = self._fields(row, context)
            if fields is not None:
                groups[(fields["deadline"].year, fields.pop("types"))].append((row, fields))
        owner = self.owner_for(context.user)
        years = defaultdict(int)
        for year, _types in groups:
            years[year] += 1
        templates = []
        for (year, types), entries in groups.items():
            name = template_name(year, types, several=years[year] > 1)
            seen = {}
            for row, fields in entries:
                if fields["code"] in seen:
                    context.error(
                        row,
                        "编码",
                        _("The code %(code)s already appears in row %(row)s of this sheet.")
                        % {"code": fields["code"], "row": seen[fields["code"]]},
                    )
                seen.setdefault(fields["code"], row.number)
            template = ChecklistTemplate.objects.filter(owner=owner, year=year, name=name).first()
            existing = {item.code: item for item in template.items.all()} if template else {}
            changes = []
            for position, (_row, fields) in enumerate(entries, start=1):
                fields["position"] = position
                item = existing.get(fields["code"])
                if item is None:
                    plan.created += 1
                    changes.append(("create", None, fields))
                    plan.changes.append(
                        _("%(template)s: new item %(code)s %(title)s")
                        % {"template": name, "code": fields["code"], "title": fields["title"]}
                    )
                    continue
                changed = {key: value for key, value in fields.items() if getattr(item, key) != value}
                if changed:
                    plan.updated += 1
                    changes.append(("update", item, changed))
                    labels = "、".join(str(item._meta.get_field(key).verbose_name) for key in changed)
                    plan.changes.append(
                        _("%(template)s: item %(code)s changes %(fields)s")
                        % {"template": name, "code": item.code, "fields": labels}
                    )
                else:
                    plan.unchanged += 1
            templates.append((year, types, name, template, changes))
        plan.data = {"owner": owner, "templates": templates}
        return plan

    def _fields(self, row, context):
        values = row.values
        fields = {key: values[key] for key in FIELDS}
        fields["frequency"] = FREQUENCY_LABELS[values["frequency"]]
        fields["evidence"] = values["evidence"] or ""
        try:
            fields["score"] = Decimal(values["score"])
            if not fields["score"].is_finite() or fields["score"] <= 0 or fields["score"] >= 10000:
                raise InvalidOperation
        except InvalidOperation:
            context.error(
                row, "分值", _("「%(value)s」 is not a score (a positive number).") % {"value": values["score"]}
            )
            return None
        types = [part for part in _split(values["types"]) if part]
        unknown = [part for part in types if part not in PARTY_TYPE_LABELS]
        if unknown or not types:
            context.error(
                row,
                "适用党组织类别",
                _("「%(value)s」 is not one of: %(choices)s.")
                % {"value": "、".join(unknown) or values["types"], "choices": "、".join(PARTY_TYPE_LABELS)},
            )
            return None
        chosen = {PARTY_TYPE_LABELS[part] for part in types}
        fields["types"] = tuple(party_type for party_type in PartyType if party_type in chosen)
        fields["title"] = cell_text(values["title"])
        return fields

    def apply(self, plan, context):
        actor, owner = context.user, plan.data["owner"]
        for year, types, name, template, changes in plan.data["templates"]:
            if template is None:
                template = services.template_create(
                    actor=actor, owner=owner, year=year, name=name, target_types=list(types)
                )
            for kind, item, fields in changes:
                try:
                    if kind == "create":
                        services.template_item_create(actor=actor, template=template, **fields)
                    else:
                        services.template_item_update(actor=actor, item=item, **fields)
                except ValidationError as error:  # checked above; a database rule would still hold
                    raise ValidationError(f"{name} {fields.get('code', item and item.code)}: {error}") from error


def _split(text):
    for separator in TYPE_SEPARATORS[1:]:
        text = text.replace(separator, TYPE_SEPARATORS[0])
    return text.split(TYPE_SEPARATORS[0])
