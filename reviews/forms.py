import re
from decimal import Decimal, InvalidOperation

from django import forms
from django.utils.translation import gettext_lazy as _

from organizations.forms import OrganizationCodeField
from organizations.models import PostTitle

from .models import DIMENSIONS, GradeSet, Level, RaterGroup, Verdict

DATE = {"widget": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}


class ShareField(forms.CharField):
    """A share typed as 1/2, 2/3 or 15%: (numerator, denominator), or None when empty."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 10)
        super().__init__(**kwargs)

    def clean(self, value):
        text = (super().clean(value) or "").replace("％", "%").replace("／", "/").replace(" ", "")
        if not text:
            return None
        if fraction := re.fullmatch(r"(\d{1,3})/(\d{1,3})", text):
            numerator, denominator = int(fraction[1]), int(fraction[2])
        elif percent := re.fullmatch(r"(\d{1,3})%", text):
            numerator, denominator = int(percent[1]), 100
        else:
            raise forms.ValidationError(_("Write a share like 1/2, 2/3 or 15%."))
        if denominator == 0 or numerator > denominator:
            raise forms.ValidationError(_("A share lies between 0 and one whole."))
        return numerator, denominator


def share_text(numerator, denominator):
    if numerator is None:
        return ""
    return f"{numerator}%" if denominator == 100 else f"{numerator}/{denominator}"


class NumbersField(forms.CharField):
    """Numbers separated by commas or 、, e.g. 100,80,60,0."""

    def clean(self, value):
        text = super().clean(value) or ""
        parts = [part for part in re.split(r"[,，、\s]+", text.strip()) if part]
        try:
            numbers = [Decimal(part) for part in parts]
        except InvalidOperation:
            raise forms.ValidationError(_("Write numbers separated by commas, e.g. 100,80,60,0.")) from None
        if any(not n.is_finite() or n < 0 or n > 1000 or n != n.quantize(Decimal("0.01")) for n in numbers):
            raise forms.ValidationError(_("Each number lies between 0 and 1000, with at most two decimals."))
        return [int(n) if n == n.to_integral_value() else float(n) for n in numbers]


class SessionForm(forms.Form):
    title = forms.CharField(label=_("title"), max_length=120)
    organizer = OrganizationCodeField(label=_("organizer (code)"))
    year = forms.IntegerField(label=_("year"), min_value=2000, max_value=2100)
    level = forms.ChoiceField(label=_("level"), choices=Level.choices)
    starts_on = forms.DateField(label=_("from"), **DATE)
    ends_on = forms.DateField(label=_("to"), **DATE)
    grade_set = forms.ChoiceField(label=_("grade set"), choices=GradeSet.choices)
    scored = forms.BooleanField(label=_("rate by scores instead of grades"), required=False)
    score_max = forms.IntegerField(label=_("highest score"), min_value=1, max_value=1000, initial=100)
    dimensions = forms.MultipleChoiceField(
        label=_("dimensions (scores only)"),
        choices=[(name, name) for name in DIMENSIONS],
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    points = NumbersField(
        label=_("points per grade, best first"),
        required=False,
        help_text=_("empty: 100, 80, 60, 0 for four grades; 100, 80, 0 for three"),
    )
    thresholds = NumbersField(
        label=_("final grade thresholds, best first"),
        required=False,
        help_text=_("empty: 90, 70, 60 (90, 70 for three grades), in percent of the highest score"),
    )
    veto = ShareField(label=_("veto share of the worst grade (empty or 0: no veto)"), initial="1/2", required=False)
    veto_strict = forms.BooleanField(label=_("veto only when the share is exceeded (not when reached)"), required=False)
    quorum = ShareField(label=_("quorum of a group's expected raters"), initial="2/3")
    cap = ShareField(label=_("cap on the top grade (empty: none)"), required=False)

    def __init__(self, *args, scope, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organizer"].scope = scope

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("starts_on") and cleaned.get("ends_on") and cleaned["ends_on"] < cleaned["starts_on"]:
            self.add_error("ends_on", _("The review cannot end before it starts."))
        return cleaned

    def service_fields(self):
        data = dict(self.cleaned_data)
        veto, quorum, cap = data.pop("veto") or (0, 1), data.pop("quorum"), data.pop("cap")
        data.update(
            veto_numerator=veto[0],
            veto_denominator=veto[1],
            quorum_numerator=quorum[0],
            quorum_denominator=quorum[1],
            cap_numerator=cap[0] if cap else None,
            cap_denominator=cap[1] if cap else None,
        )
        return data

    @staticmethod
    def initial_from(session):
        return {
            "title": session.title,
            "organizer": session.organizer.code,
            "year": session.year,
            "level": session.level,
            "starts_on": session.starts_on,
            "ends_on": session.ends_on,
            "grade_set": session.grade_set,
            "scored": session.scored,
            "score_max": session.score_max,
            "dimensions": session.dimensions,
            "points": ", ".join(str(p) for p in session.points),
            "thresholds": ", ".join(str(t) for t in session.thresholds),
            "veto": share_text(session.veto_numerator, session.veto_denominator) if session.veto_numerator else "",
            "veto_strict": session.veto_strict,
            "quorum": share_text(session.quorum_numerator, session.quorum_denominator),
            "cap": share_text(session.cap_numerator, session.cap_denominator),
        }


class VenueForm(forms.Form):
    name = forms.CharField(label=_("venue"), max_length=100)
    organization = OrganizationCodeField(label=_("held at (code)"))
    held_on = forms.DateField(label=_("held on"), **DATE)
    scrutineers = forms.CharField(label=_("scrutineers (监票人)"), max_length=200, required=False)
    tellers = forms.CharField(label=_("tellers (计票人)"), max_length=200, required=False)

    def __init__(self, *args, scope, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organization"].scope = scope


class GroupForm(forms.Form):
    name = forms.CharField(label=_("rater group"), max_length=50, widget=forms.TextInput(attrs={"list": "group-names"}))
    weight = forms.DecimalField(label=_("weight"), min_value=Decimal("0.01"), max_digits=5, decimal_places=2)
    expected = forms.IntegerField(label=_("expected raters"), min_value=1, max_value=100000)

    suggestions = RaterGroup.SUGGESTED


class ReporteesForm(forms.Form):
    organization = OrganizationCodeField(label=_("organization (code)"))
    below = forms.BooleanField(label=_("the organizations directly below it, not itself"), required=False)
    titles = forms.MultipleChoiceField(
        label=_("posts"),
        choices=PostTitle.choices,
        widget=forms.CheckboxSelectMultiple,
        initial=[PostTitle.SECRETARY],
    )
    venues = forms.ModelMultipleChoiceField(
        label=_("they rate at the venues"), queryset=None, required=False, widget=forms.CheckboxSelectMultiple
    )
    own_venue = forms.BooleanField(
        label=_("and at the venue held at their own organization"), required=False, initial=True
    )

    def __init__(self, *args, scope, venues, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organization"].scope = scope
        self.fields["venues"].queryset = venues


class ReporteeForm(forms.Form):
    order = forms.IntegerField(label=_("report order"), min_value=0, max_value=9999)
    on_stage = forms.BooleanField(label=_("reports on stage (else in writing)"), required=False)
    venues = forms.ModelMultipleChoiceField(
        label=_("venues"), queryset=None, required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, venues, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["venues"].queryset = venues


class ReportForm(forms.Form):
    report = forms.FileField(label=_("written report (PDF, Word, or photos of it)"))


class PrecheckForm(forms.Form):
    verdict = forms.ChoiceField(
        label=_("verdict"), choices=[c for c in Verdict.choices if c[0] != Verdict.PENDING], widget=forms.RadioSelect
    )
    notes = forms.CharField(
        label=_("notes (required unless consistent with the records)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class CommentForm(forms.Form):
    commented_by = forms.CharField(label=_("commented by (the superior secretary)"), max_length=50)
    comment = forms.CharField(label=_("comments (点评)"), widget=forms.Textarea(attrs={"rows": 4}))
    problem = forms.CharField(
        label=_("list a problem from the comments (optional)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    category = forms.CharField(label=_("problem category"), max_length=50, required=False)
    deadline = forms.DateField(label=_("deadline for rectification (整改时限)"), required=False, **DATE)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("problem"):
            if not cleaned.get("category"):
                self.add_error("category", _("Give the problem a category."))
            if not cleaned.get("deadline"):
                self.add_error("deadline", _("Give the deadline for rectification."))
        return cleaned

    def problems(self):
        data = self.cleaned_data
        if not data.get("problem"):
            return []
        return [{"description": data["problem"], "category": data["category"], "deadline": data["deadline"]}]


class CodesForm(forms.Form):
    count = forms.IntegerField(label=_("number of codes"), min_value=1, max_value=2000)


class PaperForm(forms.Form):
    """The tally sheet of one group plus a line per reportee: a count per grade and abstention
    (and the sum of scores when rating by scores)."""

    teller = forms.CharField(label=_("teller (计票人)"), max_length=50)
    present = forms.IntegerField(label=_("present (实到)"), min_value=0)
    issued = forms.IntegerField(label=_("issued (发出)"), min_value=0)
    collected = forms.IntegerField(label=_("collected (收回)"), min_value=0)
    valid = forms.IntegerField(label=_("valid (有效)"), min_value=0)
    invalid = forms.IntegerField(label=_("invalid (无效)"), min_value=0)

    HEADER = ["present", "issued", "collected", "valid", "invalid"]

    def __init__(self, *args, session, reportees, **kwargs):
        super().__init__(*args, **kwargs)
        self.session, self.reportees = session, list(reportees)
        self.lines = []
        for reportee in self.reportees:
            cells = []
            for index, label in enumerate(session.grades):
                name = f"r{reportee.pk}_grade_{index}"
                self.fields[name] = forms.IntegerField(label=label, min_value=0, initial=0, required=False)
                cells.append(name)
            name = f"r{reportee.pk}_abstained"
            self.fields[name] = forms.IntegerField(label=_("abstain"), min_value=0, initial=0, required=False)
            cells.append(name)
            if session.scored:
                name = f"r{reportee.pk}_score_sum"
                self.fields[name] = forms.DecimalField(
                    label=_("sum of scores"), min_value=0, decimal_places=2, initial=0, required=False
                )
                cells.append(name)
            self.lines.append((reportee, cells))

    def line_fields(self):
        return [(reportee, [self[name] for name in cells]) for reportee, cells in self.lines]

    def header(self):
        return {name: self.cleaned_data[name] for name in self.HEADER}

    def counts(self):
        counts = {}
        for reportee, cells in self.lines:
            row = {}
            for name in cells:
                row[name.split("_", 1)[1]] = self.cleaned_data.get(name) or 0
            counts[reportee.pk] = row
        return counts

    @staticmethod
    def initial_from(entry, reportees):
        initial = {"teller": entry.teller, **{name: getattr(entry, name) for name in PaperForm.HEADER}}
        for reportee in reportees:
            line = entry.counts.get(str(reportee.pk))
            if not line:
                continue
            for index in range(4):
                initial[f"r{reportee.pk}_grade_{index}"] = line[index]
            initial[f"r{reportee.pk}_abstained"] = line[4]
            initial[f"r{reportee.pk}_score_sum"] = line[5]
        return initial


class ConsequenceForm(forms.Form):
    status = forms.ChoiceField(label=_("decision"), choices=())
    decided_on = forms.DateField(label=_("decided on"), required=False, **DATE)
    done_on = forms.DateField(label=_("carried out on"), required=False, **DATE)
    notes = forms.CharField(label=_("notes"), required=False, max_length=500)

    def __init__(self, *args, choices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = choices


class CodeForm(forms.Form):
    """A ballot code, typed or filled in from the QR code's link (never part of a URL sent)."""

    code = forms.CharField(
        label=_("code on your slip"),
        max_length=40,
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false", "inputmode": "text"}
        ),
    )


class BallotForm(forms.Form):
    """One form for every reportee of the venue: a grade (or scores per dimension), or abstain,
    and an opinion."""

    code = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, *args, session, reportees, **kwargs):
        super().__init__(*args, **kwargs)
        self.session, self.reportees = session, list(reportees)
        self.rows = []
        abstain = ("abstain", _("abstain"))
        for reportee in self.reportees:
            names = []
            if session.scored:
                dimensions = session.dimensions or [""]
                for index, dimension in enumerate(dimensions):
                    name = f"r{reportee.pk}_score_{index}"
                    self.fields[name] = forms.DecimalField(
                        label=dimension or _("score"),
                        min_value=0,
                        max_value=session.score_max,
                        decimal_places=2,
                        required=False,
                        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "any"}),
                    )
                    names.append(name)
                name = f"r{reportee.pk}_abstain"
                self.fields[name] = forms.BooleanField(label=_("abstain"), required=False)
                names.append(name)
            else:
                name = f"r{reportee.pk}_grade"
                choices = [(str(i), label) for i, label in enumerate(session.grades)] + [abstain]
                self.fields[name] = forms.ChoiceField(
                    label=reportee.person.name, choices=choices, widget=forms.RadioSelect, required=False
                )
                names.append(name)
            comment = f"r{reportee.pk}_comment"
            self.fields[comment] = forms.CharField(label=_("opinion (optional)"), required=False, max_length=500)
            names.append(comment)
            self.rows.append((reportee, names))

    def clean(self):
        """Every reportee is rated or abstained: each one missing is marked on its own card."""
        cleaned = super().clean()
        for reportee in self.reportees:
            key = f"r{reportee.pk}"
            if self.session.scored:
                if cleaned.get(f"{key}_abstain"):
                    continue
                count = len(self.session.dimensions) or 1
                missing = [i for i in range(count) if cleaned.get(f"{key}_score_{i}") is None]
                for i in missing:
                    self.add_error(f"{key}_score_{i}", _("Give a score, or choose abstain."))
            elif not cleaned.get(f"{key}_grade"):
                self.add_error(f"{key}_grade", _("Choose a grade, or abstain."))
        return cleaned

    def rating_fields(self):
        return [(reportee, [self[name] for name in names]) for reportee, names in self.rows]

    def answers(self):
        data = self.cleaned_data
        answers = {}
        for reportee in self.reportees:
            key = f"r{reportee.pk}"
            answer = {"comment": data.get(f"{key}_comment", "")}
            if self.session.scored:
                answer["abstain"] = bool(data.get(f"{key}_abstain"))
                count = len(self.session.dimensions) or 1
                answer["scores"] = [data.get(f"{key}_score_{i}") for i in range(count)]
            else:
                value = data.get(f"{key}_grade") or ""
                answer["abstain"] = value == "abstain"
                answer["grade"] = int(value) if value.isdigit() else None
            answers[reportee.pk] = answer
        return answers
