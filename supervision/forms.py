from datetime import datetime

from django import forms
from django.utils.translation import gettext_lazy as _

from checklists.forms import EvidenceMixin
from organizations.forms import OrganizationCodeField

from .models import CATEGORIES, Admonishment, Aspect, FollowUpMethod, Severity, Source

DATE = {"widget": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}


class ProblemForm(forms.Form):
    organization = OrganizationCodeField(label=_("organization concerned (code)"))
    responsible_unit = OrganizationCodeField(
        label=_("responsible unit (code; empty: the organization itself)"), required=False
    )
    source = forms.ChoiceField(label=_("source"), choices=Source.choices)
    category = forms.CharField(label=_("category"), max_length=50)
    description = forms.CharField(label=_("description"), widget=forms.Textarea(attrs={"rows": 4}))
    found_on = forms.DateField(label=_("found on"), **DATE)
    found_by = forms.CharField(label=_("found by"), max_length=100)
    responsible_person = forms.CharField(
        label=_("responsible person (name)"),
        max_length=50,
        help_text=_("The person answering for the rectification, at the organization or the responsible unit."),
    )
    deadline = forms.DateField(label=_("rectification deadline"), **DATE)
    severity = forms.ChoiceField(label=_("severity"), choices=Severity.choices)
    checklist_item = forms.CharField(
        label=_("checklist item cited (code, optional)"),
        max_length=20,
        required=False,
        help_text=_("The code of the item of the organization's checklist of that year, e.g. Z01."),
    )

    def __init__(self, *args, scope, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organization"].scope = scope
        self.fields["responsible_unit"].scope = scope

    def clean(self):
        from django.db.models import Q

        from checklists.models import ChecklistItem
        from organizations.models import Person

        cleaned = super().clean()
        organization = cleaned.get("organization")
        if organization is None:
            return cleaned
        units = {organization.pk, (cleaned.get("responsible_unit") or organization).pk}
        name = "".join((cleaned.get("responsible_person") or "").split())
        if name:
            people = list(
                Person.objects.filter(name=name)
                .filter(Q(organization__in=units) | Q(posts__organization__in=units, posts__end_date__isnull=True))
                .distinct()[:2]
            )
            if len(people) == 1:
                cleaned["responsible_person"] = people[0]
            else:
                self.add_error(
                    "responsible_person",
                    _("Nobody of that name works at the organization or the responsible unit.")
                    if not people
                    else _("Several people of that name work there: ask the administrator to tell them apart."),
                )
        code = (cleaned.get("checklist_item") or "").strip()
        cleaned["checklist_item"] = None
        if code and cleaned.get("found_on"):
            item = (
                ChecklistItem.objects.filter(
                    checklist__organization=organization, checklist__template__year=cleaned["found_on"].year, code=code
                )
                .order_by("checklist__template__name")
                .first()
            )
            if item is None:
                self.add_error(
                    "checklist_item",
                    _("%(organization)s's checklists of %(year)s have no item %(code)s.")
                    % {"organization": organization.name_with_town, "year": cleaned["found_on"].year, "code": code},
                )
            cleaned["checklist_item"] = item
        return cleaned


class PlanForm(forms.Form):
    measures = forms.CharField(label=_("measures"), widget=forms.Textarea(attrs={"rows": 4}))
    person = forms.CharField(label=_("person in charge"), max_length=50)
    deadline = forms.DateField(label=_("planned completion"), **DATE)
    # Shown once the planned completion falls after the problem's deadline: a warning to heed.
    beyond_deadline = forms.BooleanField(
        label=_("Plan beyond the deadline all the same (request an extension as well)"),
        required=False,
        widget=forms.HiddenInput,
    )

    def __init__(self, *args, problem_deadline=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.problem_deadline = problem_deadline
        if problem_deadline:
            self.fields["deadline"].help_text = _("The problem's rectification deadline is %(deadline)s.") % {
                "deadline": problem_deadline.isoformat()
            }

    def clean(self):
        cleaned = super().clean()
        deadline = cleaned.get("deadline")
        if self.problem_deadline and deadline and deadline > self.problem_deadline:
            self.warning = _(
                "The planned completion %(planned)s is after the problem's rectification deadline %(deadline)s: "
                "plan to finish by then, or request an extension."
            ) % {"planned": deadline.isoformat(), "deadline": self.problem_deadline.isoformat()}
            if not cleaned.get("beyond_deadline"):
                self.fields["beyond_deadline"].widget = forms.CheckboxInput()
                self.add_error("deadline", self.warning)
        return cleaned


class RecordForm(EvidenceMixin):
    date = forms.DateField(label=_("date"), **DATE)
    content = forms.CharField(label=_("progress"), widget=forms.Textarea(attrs={"rows": 3}))
    field_order = ["date", "content", "files", "existing"]


class ClosingForm(forms.Form):
    report = forms.CharField(label=_("rectification report"), widget=forms.Textarea(attrs={"rows": 5}))


class CheckForm(forms.Form):
    # The closing request the checker read: a newer one is not judged unread.
    request_id = forms.IntegerField(widget=forms.HiddenInput, required=False)
    comment = forms.CharField(
        label=_("check comment (required when it fails)"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class ExtensionForm(forms.Form):
    new_deadline = forms.DateField(label=_("new deadline"), **DATE)
    reason = forms.CharField(label=_("reason"), widget=forms.Textarea(attrs={"rows": 2}))


class DecisionForm(forms.Form):
    comment = forms.CharField(
        label=_("decision comment (the reason, required when refusing)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class CancelForm(forms.Form):
    reason = forms.CharField(label=_("why it was listed in error"), widget=forms.Textarea(attrs={"rows": 2}))


class CarryOverForm(forms.Form):
    deadline = forms.DateField(label=_("deadline in the new year"), **DATE)


class AdmonishmentForm(forms.Form):
    outcome = forms.ChoiceField(label=_("decision"), choices=Admonishment.Outcome.choices)
    # The decision time the decider read ("" while recommended): a decision made meanwhile is
    # not overwritten unread.
    seen = forms.CharField(widget=forms.HiddenInput, required=False)

    def clean_seen(self):
        try:
            return datetime.fromisoformat(self.cleaned_data["seen"]) if self.cleaned_data["seen"] else None
        except ValueError:
            raise forms.ValidationError(_("Reload the page and decide again.")) from None

    held_on = forms.DateField(label=_("held on"), required=False, **DATE)
    notes = forms.CharField(label=_("notes"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class FollowUpForm(forms.Form):
    organization = OrganizationCodeField(label=_("organization (code)"))
    method = forms.ChoiceField(label=_("method"), choices=FollowUpMethod.choices)
    date = forms.DateField(label=_("date"), **DATE)
    findings = forms.CharField(label=_("findings"), widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, scope, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organization"].scope = scope


class SampleForm(forms.Form):
    root = OrganizationCodeField(label=_("draw from the subtree of (code)"))
    kinds = forms.MultipleChoiceField(label=_("unit categories"), widget=forms.CheckboxSelectMultiple, choices=[])
    size = forms.IntegerField(label=_("how many"), min_value=1, max_value=500)

    def __init__(self, *args, scope, kinds, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["root"].scope = scope
        self.fields["kinds"].choices = kinds


class VisitForm(forms.Form):
    """The five-aspect check; a "no" may list a new problem in the same step."""

    organization = OrganizationCodeField(label=_("organization (code)"))
    date = forms.DateField(label=_("date"), **DATE)

    def __init__(self, *args, scope, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organization"].scope = scope
        for aspect in Aspect:
            self.fields[f"{aspect}_ok"] = forms.TypedChoiceField(
                label=aspect.label,
                choices=[("yes", _("yes")), ("no", _("no"))],
                widget=forms.RadioSelect,
                coerce=lambda value: value == "yes",
            )
            self.fields[f"{aspect}_note"] = forms.CharField(label=_("note"), required=False)
            self.fields[f"{aspect}_problem"] = forms.CharField(
                label=_("if “no”: list this problem (description)"),
                required=False,
                widget=forms.Textarea(attrs={"rows": 2}),
            )
            self.fields[f"{aspect}_category"] = forms.ChoiceField(
                label=_("its category"), required=False, choices=[("", "—")] + [(c, c) for c in CATEGORIES]
            )
            self.fields[f"{aspect}_deadline"] = forms.DateField(label=_("its deadline"), required=False, **DATE)

    def clean(self):
        cleaned = super().clean()
        for aspect in Aspect:
            if cleaned.get(f"{aspect}_problem") and cleaned.get(f"{aspect}_ok"):
                self.add_error(f"{aspect}_problem", _("A problem is listed from an aspect answered “no”."))
            if cleaned.get(f"{aspect}_problem") and not cleaned.get(f"{aspect}_deadline"):
                self.add_error(f"{aspect}_deadline", _("Give the problem a deadline."))
            if cleaned.get(f"{aspect}_problem") and not cleaned.get(f"{aspect}_category"):
                self.add_error(f"{aspect}_category", _("Give the problem its category."))
        return cleaned

    def answers(self):
        return {
            str(aspect): {"ok": self.cleaned_data[f"{aspect}_ok"], "note": self.cleaned_data[f"{aspect}_note"]}
            for aspect in Aspect
        }

    def new_problems(self):
        return [
            {
                "aspect": str(aspect),
                "description": self.cleaned_data[f"{aspect}_problem"],
                "deadline": self.cleaned_data[f"{aspect}_deadline"],
                "category": self.cleaned_data[f"{aspect}_category"],
            }
            for aspect in Aspect
            if self.cleaned_data.get(f"{aspect}_problem")
        ]


class NoticeForm(forms.Form):
    prefix = forms.CharField(label=_("document prefix"), max_length=20, help_text=_("e.g. 吴组通字"))
    year = forms.IntegerField(label=_("year"), min_value=2000, max_value=2100)
    title = forms.CharField(label=_("title"), max_length=200)
    issued_on = forms.DateField(label=_("issued on"), **DATE)
    content = forms.CharField(label=_("content"), widget=forms.Textarea(attrs={"rows": 6}))
    named = forms.CharField(
        label=_("named, one per line: organization code (/person), points, reason"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("e.g. 440883001002 2 三会一课记录不全, or 440883001002/邓平 1 未按时报送"),
    )

    def __init__(self, *args, scope, **kwargs):
        super().__init__(*args, **kwargs)
        self.scope = scope

    def clean_named(self):
        """Lines of "<organization code>[/<person's name>] <points> <reason>"."""
        from decimal import Decimal, InvalidOperation

        from organizations.models import Person

        entries = []
        for number, line in enumerate(self.cleaned_data["named"].splitlines(), start=1):
            parts = line.split(maxsplit=2)
            if not parts:
                continue
            code, _slash, name = parts[0].partition("/")
            organization = self.scope.filter(code=code).first()
            try:
                points = Decimal(parts[1]) if len(parts) > 1 else None
                points = points if points is not None and points.is_finite() else None
            except InvalidOperation:
                points = None
            if organization is None or points is None or points < 0 or len(parts) < 3:
                raise forms.ValidationError(
                    _("Line %(n)s: write an organization code in your area, the points and the reason.") % {"n": number}
                )
            person = None
            if name:
                person = Person.objects.filter(name=name, posts__organization=organization).distinct().first()
                if person is None:
                    raise forms.ValidationError(
                        _("Line %(n)s: %(name)s holds no post at %(organization)s.")
                        % {"n": number, "name": name, "organization": organization.name_with_town}
                    )
            entries.append({"organization": organization, "person": person, "points": points, "reason": parts[2]})
        return entries
