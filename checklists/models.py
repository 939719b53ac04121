"""Responsibility checklists, ledgers, meeting records and duty records (DESIGN.md section 3)."""

import calendar
import os
import uuid
from datetime import date, timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from config.models import Model
from organizations.models import Organization, Person


class Frequency(models.TextChoices):
    ONCE = "once", _("once")
    MONTHLY = "monthly", _("monthly")
    QUARTERLY = "quarterly", _("quarterly")
    HALF_YEARLY = "half_yearly", _("half-yearly")
    YEARLY = "yearly", _("yearly")


# The months that end each period of a frequency (DESIGN.md 3: 每月 12, 每季度 4, 每半年 2, 每年/一次 1).
PERIOD_END_MONTHS = {
    Frequency.MONTHLY: list(range(1, 13)),
    Frequency.QUARTERLY: [3, 6, 9, 12],
    Frequency.HALF_YEARLY: [6, 12],
}


def periods_from(frequency, year, deadline=None, effective_from=None):
    """The periods issued to a checklist effective from a date: those whose deadline is not
    before it (all when there is no effective date)."""
    return [
        period for period in periods(frequency, year, deadline) if not effective_from or period[2] >= effective_from
    ]


def periods(frequency, year, deadline=None):
    """[(index, period start, deadline)] of a frequency in a year. 一次/每年 end on the item's
    deadline; the others end each period on its last day."""
    if frequency in PERIOD_END_MONTHS:
        result, start = [], date(year, 1, 1)
        for index, month in enumerate(PERIOD_END_MONTHS[frequency], start=1):
            end = date(year, month, calendar.monthrange(year, month)[1])
            result.append((index, start, end))
            start = end + timedelta(days=1)
        return result
    return [(1, date(year, 1, 1), deadline or date(year, 12, 31))]


class MeetingKind(models.TextChoices):
    """The organizational-life meetings of 三会一课 and the yearly reviews (DESIGN.md 3)."""

    MEMBER_MEETING = "member_meeting", _("branch members' meeting")
    COMMITTEE_MEETING = "committee_meeting", _("branch committee meeting")
    GROUP_MEETING = "group_meeting", _("party group meeting")
    PARTY_LECTURE = "party_lecture", _("party lecture")
    THEME_DAY = "theme_day", _("theme party day")
    LIFE_MEETING = "life_meeting", _("organizational life meeting")
    MEMBER_REVIEW = "member_review", _("democratic review of members")


class ChecklistTemplate(Model):
    owner = models.ForeignKey(
        Organization, verbose_name=_("owner"), on_delete=models.PROTECT, related_name="checklist_templates"
    )
    year = models.PositiveSmallIntegerField(_("year"))
    name = models.CharField(_("checklist name"), max_length=100)
    # Party-organization types (organizations.PartyType values) the template is issued to.
    target_types = models.JSONField(_("targeted party organization types"), default=list)
    # Share of an item's score a late occurrence earns (DESIGN.md 3, default 0.5).
    late_share = models.DecimalField(_("share for late work"), max_digits=3, decimal_places=2, default=0.5)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("checklist template")
        verbose_name_plural = _("checklist templates")
        ordering = ["-year", "owner__path", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "year", "name"],
                name="template_unique_name",
                violation_error_message=_("The owner already has a checklist of this name for this year."),
            ),
            models.CheckConstraint(condition=Q(late_share__gte=0, late_share__lte=1), name="template_late_share"),
        ]

    name_relations = ()

    def __str__(self):
        return f"{self.year} · {self.name}"


class ItemFields(Model):
    """What a template item and each issued copy of it hold."""

    code = models.CharField(_("code"), max_length=20)
    category = models.CharField(_("category"), max_length=30)
    title = models.CharField(_("work item"), max_length=200)
    requirement = models.TextField(_("requirement"))
    evidence = models.CharField(_("proving record"), max_length=300, blank=True)
    frequency = models.CharField(_("frequency"), max_length=16, choices=Frequency.choices)
    deadline = models.DateField(_("deadline"), null=True, blank=True)
    score = models.DecimalField(_("score"), max_digits=6, decimal_places=2)
    meeting_kind = models.CharField(_("fulfilling meeting"), max_length=24, choices=MeetingKind.choices, blank=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    # A claim freezes these (DESIGN.md 3): changing one reopens the claim.
    FROZEN = ("title", "requirement", "frequency", "deadline", "score")

    class Meta:
        abstract = True

    # What __str__ reads beyond the row (organizations.selectors, for the timelines' names).
    name_relations = ()

    def __str__(self):
        return f"{self.code} {self.title}"

    def frozen_values(self):
        return {name: str(getattr(self, name) or "") for name in self.FROZEN}


class TemplateItem(ItemFields):
    template = models.ForeignKey(
        ChecklistTemplate, verbose_name=_("template"), on_delete=models.CASCADE, related_name="items"
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("template item")
        verbose_name_plural = _("template items")
        ordering = ["template", "position", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["template", "code"],
                name="template_item_unique_code",
                violation_error_message=_("This code is already used in the checklist."),
            ),
            models.CheckConstraint(
                condition=~Q(frequency__in=["once", "yearly"]) | Q(deadline__isnull=False),
                name="template_item_deadline_for_once_yearly",
                violation_error_message=_("A once or yearly item needs a deadline."),
            ),
            models.CheckConstraint(condition=Q(score__gte=0), name="template_item_score_positive"),
        ]


class Checklist(Model):
    """A template issued to one organization, claimed by its secretary (签字认领)."""

    template = models.ForeignKey(
        ChecklistTemplate, verbose_name=_("template"), on_delete=models.PROTECT, related_name="checklists"
    )
    organization = models.ForeignKey(
        Organization, verbose_name=_("organization"), on_delete=models.PROTECT, related_name="checklists"
    )
    claim_deadline = models.DateField(_("claim deadline"))
    # Periods whose deadline falls before it were not issued (DESIGN.md 3): a checklist issued
    # late is not overdue at once. Kept, so that issuing again and items added later keep to it.
    effective_from = models.DateField(_("effective from"), null=True, blank=True)
    issued_at = models.DateTimeField(_("issued at"), auto_now_add=True)
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("claimed by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    signature = models.CharField(_("signature"), max_length=50, blank=True)
    # Claimed after the claim deadline (逾期认领): set once and kept, also through a reopened claim.
    claimed_late = models.BooleanField(_("claimed late"), default=False)
    # The frozen item fields at the last claim: {item id: {field: value}}; kept when the claim
    # is reopened so that the differences can be shown.
    claim_snapshot = models.JSONField(_("claimed items"), default=dict, blank=True)
    reopened_at = models.DateTimeField(_("claim reopened at"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("checklist")
        verbose_name_plural = _("checklists")
        ordering = ["organization__path", "template"]
        constraints = [
            models.UniqueConstraint(fields=["template", "organization"], name="checklist_one_per_organization"),
            # A claim is the time, the user and the typed name together; a reopened claim has none.
            models.CheckConstraint(
                condition=Q(claimed_at__isnull=True, claimed_by__isnull=True, signature="")
                | (Q(claimed_at__isnull=False, claimed_by__isnull=False) & ~Q(signature="")),
                name="checklist_claim_all_or_nothing",
            ),
        ]

    name_relations = ("organization", "template")

    def __str__(self):
        return f"{self.organization.name_with_town} · {self.template.name}"

    @property
    def is_claimed(self):
        return self.claimed_at is not None


class ChecklistItem(ItemFields):
    checklist = models.ForeignKey(
        Checklist, verbose_name=_("checklist"), on_delete=models.CASCADE, related_name="items"
    )
    template_item = models.ForeignKey(
        TemplateItem,
        verbose_name=_("template item"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="issued",
    )
    # Responsible persons stay editable after the claim (DESIGN.md 3).
    responsible = models.ForeignKey(
        Person,
        verbose_name=_("responsible person"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="checklist_items",
    )
    # The assessor's year-end override of the item's completion score, with its reason.
    override_score = models.DecimalField(_("assessed score"), max_digits=6, decimal_places=2, null=True, blank=True)
    override_reason = models.TextField(_("reason for the assessed score"), blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("checklist item")
        verbose_name_plural = _("checklist items")
        ordering = ["checklist", "position", "code"]
        constraints = [
            models.UniqueConstraint(fields=["checklist", "code"], name="checklist_item_unique_code"),
            models.CheckConstraint(
                condition=Q(override_score__isnull=True) | ~Q(override_reason=""),
                name="checklist_item_override_has_reason",
                violation_error_message=_("An assessed score needs a reason."),
            ),
            models.CheckConstraint(condition=Q(score__gte=0), name="checklist_item_score_positive"),
            models.CheckConstraint(
                condition=Q(override_score__isnull=True)
                | Q(override_score__gte=0, override_score__lte=models.F("score")),
                name="checklist_item_override_within_score",
                violation_error_message=_("The assessed score must lie between 0 and the item's score."),
            ),
        ]


class Occurrence(Model):
    """One period of an item. Done and late are set when an entry for it is approved, in the
    same transaction, so that progress can be counted in the database; overdue is derived."""

    item = models.ForeignKey(
        ChecklistItem, verbose_name=_("checklist item"), on_delete=models.CASCADE, related_name="occurrences"
    )
    index = models.PositiveSmallIntegerField(_("period"))
    period_start = models.DateField(_("period start"))
    deadline = models.DateField(_("deadline"))
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    # A late mark stays after the work is done (DESIGN.md 3).
    late = models.BooleanField(_("late"), default=False)

    class Meta:
        verbose_name = _("occurrence")
        verbose_name_plural = _("occurrences")
        ordering = ["item", "index"]
        constraints = [models.UniqueConstraint(fields=["item", "index"], name="occurrence_unique_period")]
        indexes = [models.Index(fields=["deadline", "done_at"], name="occurrence_deadline_idx")]

    name_relations = ("item",)

    def __str__(self):
        return f"{self.item} · {self.period_label}"

    @property
    def period_label(self):
        frequency = self.item.frequency
        if frequency == Frequency.MONTHLY:
            return _("month %(month)s") % {"month": self.deadline.month}
        if frequency == Frequency.QUARTERLY:
            return _("quarter %(n)s") % {"n": self.index}
        if frequency == Frequency.HALF_YEARLY:
            return _("first half") if self.index == 1 else _("second half")
        return _("by %(date)s") % {"date": self.deadline.isoformat()}


# The stored file's extension, from the type detected in its content (checklists.services),
# never from the client's name: a PNG sent as "x.html" is stored as ".png".
EVIDENCE_EXTENSIONS = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/heic": ".heic",
    "image/heif": ".heic",
    "application/pdf": ".pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": ".pptx",
}


def evidence_path(instance, filename):
    """Evidence is stored under a random name with the extension of its detected type; the
    original name is kept in the database only (shown, and given to downloads)."""
    extension = EVIDENCE_EXTENSIONS.get(instance.content_type, ".bin")
    return f"evidence/{instance.organization_id}/{uuid.uuid4().hex}{extension}"


class Attachment(Model):
    """A file of an organization, linkable to several of its entries and meetings."""

    organization = models.ForeignKey(
        Organization, verbose_name=_("organization"), on_delete=models.PROTECT, related_name="attachments"
    )
    file = models.FileField(_("file"), upload_to=evidence_path)
    original_name = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(_("file type"), max_length=120)
    size = models.PositiveBigIntegerField(_("size"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("uploaded by"), on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["-uploaded_at"]

    # What a browser shows by itself (photos open full size, PDFs in the browser's viewer);
    # HEIC photos and Office files are downloaded.
    SHOWN_INLINE = frozenset({"image/jpeg", "image/png", "application/pdf"})
    PREVIEWED = frozenset({"image/jpeg", "image/png"})

    def __str__(self):
        return self.original_name

    @property
    def shown_inline(self):
        return self.content_type in self.SHOWN_INLINE

    @property
    def is_photo(self):
        return self.content_type in self.PREVIEWED

    @property
    def kind_label(self):
        """PDF, DOCX, HEIC…: what stands in for a preview."""
        return os.path.splitext(self.original_name)[1].lstrip(".").upper()[:4] or "?"


class ReviewStatus(models.TextChoices):
    SUBMITTED = "submitted", _("waiting for review")
    RETURNED = "returned", _("returned")
    APPROVED = "approved", _("approved")
    SUPERSEDED = "superseded", _("replaced by a newer version")


class Reviewed(Model):
    """What staff above approve or return with a comment."""

    status = models.CharField(_("status"), max_length=16, choices=ReviewStatus.choices, default=ReviewStatus.SUBMITTED)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("submitted by"), on_delete=models.PROTECT, related_name="+"
    )
    # The first submission decides lateness; a resubmission after a return keeps it.
    first_submitted_at = models.DateTimeField(_("first submitted at"))
    submitted_at = models.DateTimeField(_("submitted at"))
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewed by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    review_comment = models.TextField(_("review comment"), blank=True)

    class Meta:
        abstract = True
        constraints = [
            # Approved, returned (or approved and since replaced): reviewed, so with its time.
            models.CheckConstraint(
                condition=Q(status=ReviewStatus.SUBMITTED) | Q(reviewed_at__isnull=False),
                name="%(class)s_reviewed_has_time",
            ),
        ]


class MeetingRecord(Reviewed):
    """A structured record of an organizational-life meeting (三会一课). Recording it fulfils
    the occurrences of every item its kind fulfils, through entries it owns."""

    organization = models.ForeignKey(
        Organization, verbose_name=_("organization"), on_delete=models.PROTECT, related_name="meetings"
    )
    kind = models.CharField(_("meeting"), max_length=24, choices=MeetingKind.choices)
    date = models.DateField(_("date"))
    topic = models.CharField(_("topic"), max_length=200)
    expected = models.PositiveSmallIntegerField(_("expected to attend"))
    present = models.PositiveSmallIntegerField(_("attended"))
    # [{"name": …, "reason": …}] for those absent.
    absences = models.JSONField(_("absent, with reasons"), default=list, blank=True)
    minutes = models.TextField(_("minutes"))
    attachments = models.ManyToManyField(Attachment, verbose_name=_("attachments"), blank=True, related_name="meetings")
    history = HistoricalRecords(m2m_fields=[attachments])

    class Meta:
        verbose_name = _("meeting record")
        verbose_name_plural = _("meeting records")
        ordering = ["-date", "-pk"]
        constraints = [
            *Reviewed.Meta.constraints,
            models.CheckConstraint(
                condition=Q(present__lte=models.F("expected")),
                name="meeting_present_le_expected",
                violation_error_message=_("More attended than were expected."),
            ),
        ]

    def __str__(self):
        return f"{self.date} {self.get_kind_display()}：{self.topic}"


class LedgerEntry(Reviewed):
    """台账: the record of work done for an occurrence. Approved entries are locked; a change
    after approval is a new version (previous → this) that goes back to review, while the
    approved version keeps counting."""

    occurrence = models.ForeignKey(
        Occurrence, verbose_name=_("occurrence"), on_delete=models.PROTECT, related_name="entries"
    )
    organization = models.ForeignKey(
        Organization, verbose_name=_("organization"), on_delete=models.PROTECT, related_name="ledger_entries"
    )
    date = models.DateField(_("date"))
    content = models.TextField(_("content"))
    attachments = models.ManyToManyField(Attachment, verbose_name=_("attachments"), blank=True, related_name="entries")
    meeting = models.ForeignKey(
        MeetingRecord,
        verbose_name=_("meeting record"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="entries",
    )
    version = models.PositiveSmallIntegerField(_("version"), default=1)
    previous = models.OneToOneField(
        "self",
        verbose_name=_("previous version"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="next_version",
    )
    change_reason = models.TextField(_("reason for the change"), blank=True)
    history = HistoricalRecords(m2m_fields=[attachments])

    class Meta:
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")
        ordering = ["-date", "-pk"]
        indexes = [models.Index(fields=["organization", "status"], name="entry_org_status_idx")]
        constraints = [
            *Reviewed.Meta.constraints,
            # One entry of one's own waiting for review per period (entry_submit); the entries a
            # meeting owns follow their meeting (several meetings may fall in one period).
            models.UniqueConstraint(
                fields=["occurrence"],
                condition=Q(status=ReviewStatus.SUBMITTED, meeting__isnull=True),
                name="entry_one_submitted_per_occurrence",
            ),
        ]

    name_relations = ("occurrence",)

    def __str__(self):
        return f"{self.occurrence} · {self.date}"

    @property
    def submitted_late(self):
        """First submitted after the occurrence's deadline: the work counts as late (DESIGN.md 3)."""
        return timezone.localdate(self.first_submitted_at) > self.occurrence.deadline


class DutyKind(models.TextChoices):
    CHAIRED_MEETING = "chaired_meeting", _("chaired a meeting")
    GAVE_LECTURE = "gave_lecture", _("gave a party lecture")
    CONTACT_VISIT = "contact_visit", _("visited a contact point")
    DUAL_LIFE = "dual_life", _("dual organizational life")
    HEART_TALK = "heart_talk", _("heart-to-heart talk")
    OTHER = "other", _("other")


class DutyReport(Reviewed):
    """A month of a secretary's duty record, sent up for review (default monthly, DESIGN.md 3)."""

    organization = models.ForeignKey(
        Organization, verbose_name=_("organization"), on_delete=models.PROTECT, related_name="duty_reports"
    )
    month = models.DateField(_("month"))
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("monthly duty report")
        verbose_name_plural = _("monthly duty reports")
        ordering = ["-month"]
        constraints = [
            *Reviewed.Meta.constraints,
            models.UniqueConstraint(fields=["organization", "month"], name="duty_report_one_per_month"),
            models.CheckConstraint(condition=Q(month__day=1), name="duty_report_month_first_day"),
        ]

    def __str__(self):
        return f"{self.organization.name_with_town} · {self.month:%Y-%m}"


class DutyRecord(Model):
    """书记抓党建履责纪实, "一事一记": one thing the secretary personally did, as it happens."""

    organization = models.ForeignKey(
        Organization, verbose_name=_("organization"), on_delete=models.PROTECT, related_name="duty_records"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), on_delete=models.PROTECT, related_name="+"
    )
    date = models.DateField(_("date"))
    kind = models.CharField(_("kind"), max_length=24, choices=DutyKind.choices)
    content = models.TextField(_("what was done"))
    report = models.ForeignKey(
        DutyReport,
        verbose_name=_("monthly report"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="records",
    )
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("duty record")
        verbose_name_plural = _("duty records")
        ordering = ["-date", "-pk"]
        indexes = [models.Index(fields=["organization", "date"], name="duty_org_date_idx")]

    def __str__(self):
        return f"{self.date} {self.get_kind_display()}"


class ProgressSnapshot(Model):
    """An organization's checklist progress (its subtree's) for a month, kept monthly."""

    organization = models.ForeignKey(
        Organization, verbose_name=_("organization"), on_delete=models.CASCADE, related_name="progress_snapshots"
    )
    month = models.DateField(_("month"))
    due = models.PositiveIntegerField(_("due"))
    done = models.PositiveIntegerField(_("done"))
    overdue = models.PositiveIntegerField(_("overdue"))
    taken_at = models.DateTimeField(_("taken at"), auto_now_add=True)

    class Meta:
        verbose_name = _("progress snapshot")
        verbose_name_plural = _("progress snapshots")
        ordering = ["organization", "-month"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "month"], name="snapshot_one_per_month"),
            models.CheckConstraint(condition=Q(month__day=1), name="snapshot_month_first_day"),
        ]

    def __str__(self):
        return f"{self.organization.name_with_town} · {self.month:%Y-%m}"


class IssueStatus(models.TextChoices):
    RUNNING = "running", _("issuing")
    DONE = "done", _("issued")
    FAILED = "failed", _("failed")


class IssueRun(Model):
    """One issuing of a template to a subtree, run as a background job with its progress; one
    at a time per template."""

    template = models.ForeignKey(
        ChecklistTemplate, verbose_name=_("template"), on_delete=models.CASCADE, related_name="issue_runs"
    )
    root = models.ForeignKey(
        Organization, verbose_name=_("issued to the subtree of"), on_delete=models.PROTECT, related_name="+"
    )
    claim_deadline = models.DateField(_("claim deadline"))
    effective_from = models.DateField(_("effective from"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=IssueStatus.choices, default=IssueStatus.RUNNING)
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    checklists_created = models.PositiveIntegerField(_("new checklists"), default=0)
    items_added = models.PositiveIntegerField(_("items added"), default=0)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("requested by"), on_delete=models.PROTECT, related_name="+"
    )
    started_at = models.DateTimeField(_("started at"), auto_now_add=True)
    heartbeat_at = models.DateTimeField(_("last sign of life"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        verbose_name = _("issuing run")
        verbose_name_plural = _("issuing runs")
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(fields=["template"], condition=Q(status="running"), name="issue_single_flight"),
        ]

    def __str__(self):
        return f"{self.template} → {self.root.name_with_town} · {self.get_status_display()}"


class ProgressCount(Model):
    """How many occurrences one organization's own checklists of a year have per deadline, how
    many of them are done and how many were late: what the progress pages add up, a few rows
    per organization instead of every occurrence of a subtree (issue 10). Derived data: every
    service that creates, removes or completes occurrences recounts the organizations it
    touched in the same transaction (services.progress_counts_refresh), and a daily job
    recounts everything and says how many rows it had to correct."""

    # No index of its own: the unique constraint's (organization, year, deadline) serves it, and
    # on PostgreSQL a covering index of the same keys with the counts (migration 0008) lets the
    # progress pages read a subtree's rows from the index alone.
    organization = models.ForeignKey(
        Organization, verbose_name=_("organization"), on_delete=models.CASCADE, related_name="+", db_index=False
    )
    year = models.PositiveSmallIntegerField(_("year"))
    deadline = models.DateField(_("deadline"))
    occurrence_count = models.PositiveIntegerField(_("occurrences"))
    done_count = models.PositiveIntegerField(_("done"))
    late_count = models.PositiveIntegerField(_("late"))
    counted_at = models.DateTimeField(_("counted at"))

    class Meta:
        verbose_name = _("progress count")
        verbose_name_plural = _("progress counts")
        constraints = [
            models.UniqueConstraint(fields=["organization", "year", "deadline"], name="progress_count_unique"),
        ]

    def __str__(self):
        return f"{self.organization.name_with_town} · {self.deadline}"
