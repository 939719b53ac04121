import re
from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from checklists.forms import EvidenceMixin
from config.numbers import plain
from organizations.forms import OrganizationCodeField
from organizations.models import OrganizationKind
from reviews.forms import NumbersField, ShareField

from .models import QUARTERS, ProjectStage

DATE = {"widget": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}
WEIGHT = {"min_value": 0, "max_value": 100, "decimal_places": 2}
POINTS = {"min_value": 0, "decimal_places": 2, "required": False}


class QuotaField(ShareField):
    """The top-grade quota: a number of organizations (3), or a share (20%, 1/5)."""

    def clean(self, value):
        text = (value or "").strip()
        if re.fullmatch(r"\d{1,4}", text):
            return ("count", int(text))
        if not re.fullmatch(r"[\d/%％／ ]*", text):
            raise forms.ValidationError(
                _("Write the quota as a number of organizations (3) or a share (1/5, 20%), or leave it empty.")
            )
        share = super().clean(value)
        return ("share", share) if share else None


class SchemeForm(forms.Form):
    name = forms.CharField(label=_("scheme name"), max_length=120)
    owner = OrganizationCodeField(label=_("organizer (code)"))
    year = forms.IntegerField(label=_("year"), min_value=2000, max_value=2100)
    scoring_date = forms.DateField(label=_("scoring date of the checklists"), **DATE)
    checklist_template = forms.ModelChoiceField(
        label=_("checklist (empty: every checklist of the year)"), queryset=None, required=False
    )
    weight_checklist = forms.DecimalField(label=_("weight: checklist completion"), **WEIGHT)
    weight_panel = forms.DecimalField(label=_("weight: panel scoring"), **WEIGHT)
    weight_mass = forms.DecimalField(label=_("weight: mass evaluation"), **WEIGHT)
    weight_ordinary = forms.DecimalField(label=_("weight: quarterly assessments"), **WEIGHT)
    trim_min_judges = forms.IntegerField(
        label=_("drop the highest and lowest from this many judges on"), min_value=3, max_value=99, initial=5
    )
    thresholds = NumbersField(
        label=_("grade thresholds (优秀, 良好, 一般)"), required=False, help_text=_("empty: 90, 80, 60")
    )
    quota = QuotaField(label=_("top-grade quota: a number or a share (empty: none)"), required=False)
    deduction_cap = forms.DecimalField(label=_("cap on all deductions (empty: none)"), **POINTS)
    notice_cap = forms.DecimalField(label=_("cap on deductions from notices"), **POINTS)
    overdue_problem_points = forms.DecimalField(label=_("points per overdue problem"), initial=0, **POINTS)
    overdue_problem_cap = forms.DecimalField(label=_("cap on deductions for overdue problems"), **POINTS)
    late_item_points = forms.DecimalField(label=_("points per late checklist item"), initial=0, **POINTS)
    late_item_cap = forms.DecimalField(label=_("cap on deductions for late items"), **POINTS)

    def __init__(self, *args, scope, templates, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].scope = scope
        self.fields["checklist_template"].queryset = templates

    def service_fields(self):
        data = dict(self.cleaned_data)
        quota = data.pop("quota")
        data["quota_count"] = quota[1] if quota and quota[0] == "count" else None
        share = quota[1] if quota and quota[0] == "share" else None
        data["quota_numerator"], data["quota_denominator"] = share if share else (None, None)
        for name in ("overdue_problem_points", "late_item_points"):
            data[name] = data[name] or Decimal(0)
        return data

    @staticmethod
    def initial_from(scheme):
        quota = ""
        if scheme.quota_count is not None:
            quota = str(scheme.quota_count)
        elif scheme.quota_numerator is not None:
            quota = f"{scheme.quota_numerator}/{scheme.quota_denominator}"
        fields = [
            "name",
            "year",
            "scoring_date",
            "checklist_template",
            "weight_checklist",
            "weight_panel",
            "weight_mass",
            "weight_ordinary",
            "trim_min_judges",
            "deduction_cap",
            "notice_cap",
            "overdue_problem_points",
            "overdue_problem_cap",
            "late_item_points",
            "late_item_cap",
        ]
        initial = {name: getattr(scheme, name) for name in fields}
        initial.update(owner=scheme.owner.code, thresholds=", ".join(str(t) for t in scheme.thresholds), quota=quota)
        return initial


class CopyForm(forms.Form):
    year = forms.IntegerField(label=_("copy to year"), min_value=2000, max_value=2100)
    name = forms.CharField(label=_("new name"), max_length=120)


TOWN_KINDS = [OrganizationKind.TOWN, OrganizationKind.TOWNSHIP, OrganizationKind.SUBDISTRICT]


class MembersForm(forms.Form):
    root = OrganizationCodeField(label=_("organizations below (code)"))
    kinds = forms.MultipleChoiceField(
        label=_("of the kinds"),
        choices=OrganizationKind.choices,
        widget=forms.CheckboxSelectMultiple,
        initial=TOWN_KINDS,
    )
    direct = forms.BooleanField(label=_("directly below only"), required=False, initial=True)

    def __init__(self, *args, scope, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["root"].scope = scope


class IndicatorForm(forms.Form):
    code = forms.CharField(label=_("indicator code"), max_length=20)
    name = forms.CharField(label=_("indicator"), max_length=100)
    max_score = forms.DecimalField(label=_("maximum score"), min_value=Decimal("0.01"), decimal_places=2)
    guide = forms.CharField(
        label=_("scoring guide (评分标准)"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class PanelForm(forms.Form):
    name = forms.CharField(label=_("panel"), max_length=60)


class AssignForm(forms.Form):
    """Adds to a panel: the choices are those not in it yet (what is in it is listed apart)."""

    judges = forms.ModelMultipleChoiceField(
        label=_("add judges"), queryset=None, required=False, widget=forms.CheckboxSelectMultiple
    )
    organizations = forms.ModelMultipleChoiceField(
        label=_("add organizations to score"), queryset=None, required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, judges, organizations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["judges"].queryset = judges
        self.fields["organizations"].queryset = organizations
        self.fields["organizations"].label_from_instance = lambda o: o.name_with_town


class SheetForm(forms.Form):
    """A score per indicator, with its guide: typed on a phone, saved as it goes."""

    def __init__(self, *args, indicators, **kwargs):
        super().__init__(*args, **kwargs)
        self.indicators = list(indicators)
        for indicator in self.indicators:
            maximum = plain(indicator.max_score)
            self.fields[f"i{indicator.pk}"] = forms.DecimalField(
                label=indicator.name,
                min_value=0,
                max_value=indicator.max_score,
                decimal_places=2,
                required=False,
                help_text=indicator.guide,
                # The indicator is named: the message shows beside the sheet's save status too.
                error_messages={
                    key: _("%(indicator)s: a score from 0 to %(max)s.") % {"indicator": indicator.name, "max": maximum}
                    for key in ("invalid", "min_value", "max_value")
                }
                | {
                    "max_decimal_places": _("%(indicator)s: at most two decimals.") % {"indicator": indicator.name},
                },
            )

    def scores(self):
        """{indicator id: score or None (cleared)} for the fields sent and valid: an invalid field
        leaves its saved score alone, and the valid ones are saved beside it."""
        return {
            indicator.pk: self.cleaned_data[f"i{indicator.pk}"]
            for indicator in self.indicators
            if f"i{indicator.pk}" in self.data and f"i{indicator.pk}" in self.cleaned_data
        }

    def rows(self):
        return [(indicator, self[f"i{indicator.pk}"]) for indicator in self.indicators]


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("reason"), widget=forms.Textarea(attrs={"rows": 2}))


class DeductionForm(forms.Form):
    organization = forms.ModelChoiceField(label=_("organization"), queryset=None)
    points = forms.DecimalField(label=_("points"), min_value=Decimal("0.01"), max_digits=5, decimal_places=2)
    reason = forms.CharField(label=_("reason"), max_length=300)

    def __init__(self, *args, organizations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organization"].queryset = organizations
        self.fields["organization"].label_from_instance = lambda o: o.name_with_town


class QuarterlyForm(forms.Form):
    organization = OrganizationCodeField(label=_("organization (code)"))
    year = forms.IntegerField(label=_("year"), min_value=2000, max_value=2100)
    quarter = forms.TypedChoiceField(label=_("quarter"), choices=QUARTERS, coerce=int)
    score = forms.DecimalField(label=_("score"), min_value=0, max_value=100, decimal_places=2)

    def __init__(self, *args, scope, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organization"].scope = scope


class PublishForm(forms.Form):
    publication_ends_on = forms.DateField(label=_("announcement (公示) ends on"), **DATE)


class AppealForm(forms.Form):
    reason = forms.CharField(label=_("what you appeal against, and why"), widget=forms.Textarea(attrs={"rows": 4}))


class ResolveForm(forms.Form):
    upheld = forms.TypedChoiceField(
        label=_("decision"),
        choices=[("yes", _("upheld: correct the results")), ("no", _("rejected"))],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
    )
    resolution = forms.CharField(label=_("reason of the decision"), widget=forms.Textarea(attrs={"rows": 2}))


# --- secretary projects -----------------------------------------------------------------------------


class ProjectForm(forms.Form):
    title = forms.CharField(label=_("project"), max_length=120)
    background = forms.CharField(label=_("background"), widget=forms.Textarea(attrs={"rows": 3}))
    problem = forms.CharField(label=_("problem to solve"), widget=forms.Textarea(attrs={"rows": 3}))
    measures = forms.CharField(label=pgettext_lazy("project", "measures"), widget=forms.Textarea(attrs={"rows": 4}))
    schedule = forms.CharField(label=_("schedule"), widget=forms.Textarea(attrs={"rows": 3}))
    expected_result = forms.CharField(label=_("expected result"), widget=forms.Textarea(attrs={"rows": 3}))
    budget = forms.DecimalField(label=_("budget (yuan)"), min_value=0, decimal_places=2, initial=0)


class ProjectReviewForm(forms.Form):
    small_scope = forms.BooleanField(label=_("small in scope (切口小)"), required=False)
    difficult = forms.BooleanField(label=_("difficult (有难度)"), required=False)
    exemplary = forms.BooleanField(label=_("exemplary (示范强)"), required=False)
    feasible = forms.BooleanField(label=_("feasible (能落实)"), required=False)
    comment = forms.CharField(
        label=_("review comment (required when returned)"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    item_score = forms.DecimalField(label=_("its score in the checklist"), min_value=0, decimal_places=2, initial=0)


class ProjectReportForm(EvidenceMixin):
    stage = forms.ChoiceField(label=_("stage"), choices=ProjectStage.choices)
    date = forms.DateField(label=_("date"), **DATE)
    content = forms.CharField(label=_("progress"), widget=forms.Textarea(attrs={"rows": 3}))
    field_order = ["stage", "date", "content", "files", "existing"]


class AcceptanceForm(forms.Form):
    passed = forms.TypedChoiceField(
        label=_("verdict"),
        choices=[("yes", _("accepted")), ("no", _("not accepted"))],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
    )
    notes = forms.CharField(label=_("what the acceptance check found"), widget=forms.Textarea(attrs={"rows": 3}))


class EvaluationForm(forms.Form):
    name = forms.CharField(label=_("evaluation"), max_length=120)
    scoring_date = forms.DateField(label=_("date"), **DATE)
    projects = forms.ModelMultipleChoiceField(label=_("projects"), queryset=None, widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, projects, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["projects"].queryset = projects
        self.fields["projects"].label_from_instance = self.label

    @staticmethod
    def label(project):
        """In rank order: "2. 上郎村（长岐镇）· title", and whether it is funded already."""
        # Before an evaluation exists (the page that creates one) projects have no rank yet.
        text = f"{getattr(project, 'rank', None) or '—'}. {project.organization.name_with_town} · {project.title}"
        if getattr(project, "funded", False):
            text += str(_(" (funded already)"))
        return text


class GrantForm(forms.Form):
    projects = forms.ModelMultipleChoiceField(
        label=_("projects supported"), queryset=None, widget=forms.CheckboxSelectMultiple
    )
    amount = forms.DecimalField(
        label=_("special party-fee support per project (yuan)"), min_value=Decimal("0.01"), decimal_places=2
    )

    def __init__(self, *args, projects, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["projects"].queryset = projects
        self.fields["projects"].label_from_instance = self.label

    @staticmethod
    def label(project):
        """In rank order: "2. 上郎村（长岐镇）· title", and whether it is funded already."""
        text = f"{project.rank or '—'}. {project.organization.name_with_town} · {project.title}"
        if project.funded:
            text += str(_(" (funded already)"))
        return text


class SpendingForm(forms.Form):
    date = forms.DateField(label=_("date"), **DATE)
    purpose = forms.CharField(label=_("purpose"), max_length=200)
    amount = forms.DecimalField(label=_("amount (yuan)"), min_value=Decimal("0.01"), decimal_places=2)
    receipt = forms.FileField(label=_("receipt (photo or PDF)"), required=False)
