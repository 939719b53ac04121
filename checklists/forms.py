from datetime import datetime

from django import forms
from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from organizations.forms import OrganizationChoiceField, OrganizationCodeField
from organizations.models import PartyType, Person

from .models import DutyKind, DutyRecord, MeetingKind, MeetingRecord, TemplateItem


class TemplateForm(forms.Form):
    owner = OrganizationChoiceField(label=_("owner"), queryset=None)
    year = forms.IntegerField(label=_("year"), min_value=2000, max_value=2100)
    name = forms.CharField(label=_("checklist name"), max_length=100)
    target_types = forms.MultipleChoiceField(
        label=_("targeted party organization types"), choices=PartyType.choices, widget=forms.CheckboxSelectMultiple
    )
    late_share = forms.DecimalField(
        label=_("share for late work"), min_value=0, max_value=1, decimal_places=2, initial="0.5"
    )

    def __init__(self, *args, owners, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = owners


class TemplateItemForm(forms.ModelForm):
    class Meta:
        model = TemplateItem
        fields = [
            "code",
            "category",
            "title",
            "requirement",
            "evidence",
            "frequency",
            "deadline",
            "score",
            "meeting_kind",
            "position",
        ]
        widgets = {
            "requirement": forms.Textarea(attrs={"rows": 3}),
            "deadline": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        }

    def __init__(self, *args, template, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.template = template


class IssueForm(forms.Form):
    root = OrganizationCodeField(label=_("issue to the subtree of (code)"))
    claim_deadline = forms.DateField(
        label=_("claim deadline"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    effective_from = forms.DateField(
        label=_("effective from"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("Periods whose deadline falls before this day are not issued. Empty: the issue day."),
    )

    def __init__(self, *args, scope, year, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["root"].scope = scope
        self.fields["effective_from"].initial = timezone.localdate() if year >= timezone.localdate().year else None


class CopyForm(forms.Form):
    year = forms.IntegerField(label=_("copy to year"), min_value=2000, max_value=2100)
    name = forms.CharField(label=_("new name"), max_length=100)


class ClaimForm(forms.Form):
    signature = forms.CharField(label=_("sign with your name"), max_length=50)


class ResponsibleForm(forms.Form):
    responsible = forms.ModelChoiceField(label=_("responsible person"), queryset=Person.objects.none(), required=False)

    def __init__(self, *args, people, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["responsible"].queryset = people


class OverrideForm(forms.Form):
    score = forms.DecimalField(label=_("assessed score"), required=False, min_value=0, decimal_places=2)
    reason = forms.CharField(label=_("reason"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("score") is not None and not cleaned.get("reason", "").strip():
            self.add_error("reason", _("An assessed score needs a reason."))
        return cleaned


# The endings of the evidence types the service accepts by content (services.ALLOWED_TYPES).
EVIDENCE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".heic", ".heif", ".pdf", ".docx", ".xlsx", ".pptx")


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class AttachmentPicker(forms.CheckboxSelectMultiple):
    """Earlier files to attach, each with its preview, date and size, the latest first, and a
    search by name for older ones (issue 11, point 20)."""

    template_name = "checklists/widgets/attachment_picker.html"
    option_template_name = "checklists/widgets/attachment_option.html"
    latest = 30
    search_org = None

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        shown = sum(len(options) for _group, options, _index in context["widget"]["optgroups"])
        context["widget"].update(search_org=self.search_org, latest=shown)
        return context


class FilesField(forms.FileField):
    """Several files at once; each is checked by content in the service."""

    def __init__(self, **kwargs):
        kwargs.setdefault(
            "widget",
            MultipleFileInput(
                attrs={"accept": "image/jpeg,image/png,image/heic,.heic,application/pdf,.docx,.xlsx,.pptx"}
            ),
        )
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def clean(self, data, initial=None):
        if isinstance(data, list | tuple):
            return [super(FilesField, self).clean(item, initial) for item in data if item]
        return [super().clean(data, initial)] if data else []


class EvidenceMixin(forms.Form):
    files = FilesField(
        label=_("attachments (optional: sign-in sheet, minutes, photo…)"),
        help_text=_("JPEG, PNG, HEIC, PDF, Word, Excel or PowerPoint; photos are never required."),
    )
    existing = forms.ModelMultipleChoiceField(
        label=_("attach files already uploaded"), queryset=None, required=False, widget=AttachmentPicker
    )

    def __init__(self, *args, attachments, **kwargs):
        super().__init__(*args, **kwargs)
        organization = attachments.values_list("organization__code", flat=True).first()
        if organization is None:
            del self.fields["existing"]
        else:
            self.fields["existing"].queryset = self._pickable(attachments)
            self.fields["existing"].widget.search_org = organization
        # The same limits, checked in the browser before anything is sent (static/js/site.js):
        # a 25 MB photo over 3G takes minutes to be refused by the server.
        limit_mb = settings.EVIDENCE_MAX_FILE_BYTES // 1024 // 1024
        self.fields["files"].widget.attrs.update(
            {
                "data-max-bytes": settings.EVIDENCE_MAX_FILE_BYTES,
                "data-max-files": settings.EVIDENCE_MAX_FILES,
                "data-types": ",".join(EVIDENCE_EXTENSIONS),
                "data-too-big": gettext("%(name)s is larger than %(limit)s MB.")
                % {"name": "{name}", "limit": limit_mb},
                "data-too-many": gettext("At most %(limit)s files per record.")
                % {"limit": settings.EVIDENCE_MAX_FILES},
                "data-bad-type": gettext(
                    "%(name)s is not an accepted file: photos (JPEG, PNG, HEIC), PDF, Word, Excel or PowerPoint "
                    "files only."
                )
                % {"name": "{name}"},
                "data-sending": gettext("Sending… %(percent)s"),
            }
        )

    def _pickable(self, attachments):
        """The organization's latest files, plus those already chosen (kept on the record or
        found by the search and sent with the form): never every file the village ever sent."""
        chosen = set()
        initial = self.initial.get("existing")
        if initial is not None:
            chosen |= {getattr(item, "pk", item) for item in initial}
        if self.is_bound:
            key = self.add_prefix("existing")
            sent = self.data.getlist(key) if hasattr(self.data, "getlist") else self.data.get(key) or []
            chosen |= {int(value) for value in sent if str(value).isdigit()}
        latest = attachments.order_by("-uploaded_at", "-pk").values("pk")[: AttachmentPicker.latest]
        return attachments.filter(Q(pk__in=latest) | Q(pk__in=chosen)).order_by("-uploaded_at", "-pk")


class EntryForm(EvidenceMixin):
    date = forms.DateField(label=_("date"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    content = forms.CharField(label=_("what was done"), widget=forms.Textarea(attrs={"rows": 5}))
    field_order = ["date", "content", "files", "existing"]


class RevisionForm(EntryForm):
    change_reason = forms.CharField(label=_("reason for the change"), widget=forms.Textarea(attrs={"rows": 2}))


class ReviewForm(forms.Form):
    def clean_seen(self):
        try:
            return datetime.fromisoformat(self.cleaned_data["seen"]) if self.cleaned_data["seen"] else None
        except ValueError:
            return None

    # When the reviewer opened the record: a record changed since is not approved unread.
    seen = forms.CharField(widget=forms.HiddenInput, required=False)
    comment = forms.CharField(
        label=_("comment (required when returning)"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class MeetingForm(EvidenceMixin, forms.ModelForm):
    absences_text = forms.CharField(
        label=_("absent, with reasons"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One per line: name, then the reason (e.g. 张三 外出务工)."),
    )

    class Meta:
        model = MeetingRecord
        fields = ["kind", "date", "topic", "expected", "present", "minutes"]
        widgets = {
            "date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "minutes": forms.Textarea(attrs={"rows": 6}),
        }

    field_order = ["kind", "date", "topic", "expected", "present", "absences_text", "minutes", "files", "existing"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = MeetingKind.choices
        if self.instance.pk:
            self.initial["absences_text"] = "\n".join(
                f"{absence['name']} {absence['reason']}".strip() for absence in self.instance.absences
            )

    def clean_absences_text(self):
        absences = []
        for line in self.cleaned_data["absences_text"].splitlines():
            parts = line.strip().split(maxsplit=1)
            if parts:
                absences.append({"name": parts[0], "reason": parts[1] if len(parts) > 1 else ""})
        return absences


class DutyRecordForm(forms.ModelForm):
    class Meta:
        model = DutyRecord
        fields = ["date", "kind", "content"]
        widgets = {
            "date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "content": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = DutyKind.choices
