"""Problem tracking "挂牌销号", rectification and supervision (DESIGN.md section 4)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from checklists.models import Attachment, ChecklistItem
from config.models import Model
from organizations.models import Organization, Person


class Source(models.TextChoices):
    SUPERVISION = "supervision", _("supervision check")
    INSPECTION = "inspection", _("inspection")
    MASS_REPORT = "mass_report", _("report from the masses")
    SELF_CHECK = "self_check", _("self-check")
    REVIEW_COMMENT = "review_comment", _("review-meeting comment")


class Severity(models.TextChoices):
    GENERAL = "general", _("general")
    SERIOUS = "serious", _("serious")
    MAJOR = "major", _("major")


class Status(models.TextChoices):
    LISTED = "listed", _("listed")
    CLAIMED = "claimed", _("signed for")
    RECTIFYING = "rectifying", _("being rectified")
    SUBMITTED = "submitted", _("closing requested")
    CLOSED = "closed", _("closed")
    CANCELLED = "cancelled", _("cancelled")
    CARRIED = "carried", _("carried over to the next year")


OPEN_STATUSES = (Status.LISTED, Status.CLAIMED, Status.RECTIFYING, Status.SUBMITTED)
# A problem belongs to an area through the organization concerned and through the responsible unit.
AREA_KEYS = ("organization", "responsible_unit")

# The categories of party-building work a problem falls in (DESIGN.md 3), offered where a
# problem is listed in one step from a visit.
CATEGORIES = [
    "组织建设",
    "组织生活",
    "党员教育",
    "党员管理",
    "党费管理",
    "阵地建设",
    "党务公开",
    "责任落实",
    "纪律要求",
]

# action → (statuses it may start from, status it leads to, the verb the operation log shows)
TRANSITIONS = {
    "claim": ({Status.LISTED}, Status.CLAIMED, _("signed for")),
    "plan": ({Status.CLAIMED}, Status.RECTIFYING, _("rectification plan made")),
    "request_closing": ({Status.RECTIFYING}, Status.SUBMITTED, _("closing requested")),
    "close": ({Status.SUBMITTED}, Status.CLOSED, _("closed")),
    "fail_check": ({Status.SUBMITTED}, Status.RECTIFYING, _("closing check failed")),
    "cancel": (set(OPEN_STATUSES), Status.CANCELLED, _("cancelled")),
    "carry_over": (set(OPEN_STATUSES), Status.CARRIED, _("carried over")),
}


class Problem(Model):
    """A problem in the 《存在问题台账》. Its status moves only through supervision.services."""

    organization = models.ForeignKey(
        Organization, verbose_name=_("organization concerned"), on_delete=models.PROTECT, related_name="problems"
    )
    # Often a county department, not the organization itself (DESIGN.md 4).
    responsible_unit = models.ForeignKey(
        Organization, verbose_name=_("responsible unit"), on_delete=models.PROTECT, related_name="problems_responsible"
    )
    year = models.PositiveSmallIntegerField(_("year"))
    source = models.CharField(_("source"), max_length=20, choices=Source.choices)
    category = models.CharField(_("category"), max_length=50)
    description = models.TextField(_("description"))
    found_on = models.DateField(_("found on"))
    found_by = models.CharField(_("found by"), max_length=100)
    responsible_person = models.ForeignKey(
        Person,
        verbose_name=_("responsible person"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="problems",
    )
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices, default=Severity.GENERAL)
    checklist_item = models.ForeignKey(
        ChecklistItem,
        verbose_name=_("checklist item"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="problems",
    )
    # The supervision visit whose "no" listed it (DESIGN.md 4: a "no" can list a problem in one step).
    visit = models.ForeignKey(
        "SupervisionVisit",
        verbose_name=_("listed at the supervision visit"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="problems",
    )
    original_deadline = models.DateField(_("original deadline"))
    deadline = models.DateField(_("deadline"), help_text=_("After an approved extension, the extended one."))
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.LISTED)
    carried_from = models.OneToOneField(
        "self",
        verbose_name=_("carried over from"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="carried_to",
    )
    listed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("listed by"), on_delete=models.PROTECT, null=True, related_name="+"
    )
    listed_at = models.DateTimeField(_("listed at"), auto_now_add=True)
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("signed for by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    claimed_at = models.DateTimeField(_("signed for at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    cancel_reason = models.TextField(_("reason for cancelling"), blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("problem")
        verbose_name_plural = _("problems")
        ordering = ["deadline", "pk"]
        indexes = [
            models.Index(fields=["organization", "status"], name="problem_org_status_idx"),
            models.Index(fields=["status", "deadline"], name="problem_status_deadline_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(deadline__gte=models.F("original_deadline")), name="problem_deadline_not_earlier"
            ),
            models.CheckConstraint(
                condition=~Q(status="cancelled") | ~Q(cancel_reason=""), name="problem_cancel_has_reason"
            ),
            models.CheckConstraint(
                condition=~Q(status="closed") | Q(closed_at__isnull=False), name="problem_closed_at"
            ),
        ]

    name_relations = ("organization",)

    def __str__(self):
        return f"{self.organization.name_with_town} · {self.description[:30]}"

    @property
    def is_open(self):
        return self.status in OPEN_STATUSES


class RectificationPlan(Model):
    """整改方案: measures, who, by when."""

    problem = models.OneToOneField(Problem, verbose_name=_("problem"), on_delete=models.CASCADE, related_name="plan")
    measures = models.TextField(_("measures"))
    person = models.CharField(_("person in charge"), max_length=50)
    deadline = models.DateField(_("planned completion"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("made by"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("made at"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("rectification plan")
        verbose_name_plural = _("rectification plans")

    name_relations = ("problem",)

    def __str__(self):
        return f"{self.problem} · {self.person}"


class RectificationRecord(Model):
    """A line of the 《问题整改台账》: progress and evidence."""

    problem = models.ForeignKey(Problem, verbose_name=_("problem"), on_delete=models.CASCADE, related_name="records")
    date = models.DateField(_("date"))
    content = models.TextField(_("progress"))
    attachments = models.ManyToManyField(
        Attachment, verbose_name=_("attachments"), blank=True, related_name="rectification_records"
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    history = HistoricalRecords(m2m_fields=[attachments])

    class Meta:
        verbose_name = _("rectification record")
        verbose_name_plural = _("rectification records")
        ordering = ["date", "pk"]

    name_relations = ()

    def __str__(self):
        return f"{self.date} {self.content[:30]}"


class ClosingRequest(Model):
    """销号申请 with its rectification report, and the check by staff above."""

    problem = models.ForeignKey(
        Problem, verbose_name=_("problem"), on_delete=models.CASCADE, related_name="closing_requests"
    )
    report = models.TextField(_("rectification report"))
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("submitted by"), on_delete=models.PROTECT, related_name="+"
    )
    submitted_at = models.DateTimeField(_("submitted at"), auto_now_add=True)
    passed = models.BooleanField(_("check passed"), null=True, blank=True)
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("checked by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    checked_at = models.DateTimeField(_("checked at"), null=True, blank=True)
    comment = models.TextField(_("check comment"), blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("closing request")
        verbose_name_plural = _("closing requests")
        ordering = ["-submitted_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["problem"], condition=Q(passed__isnull=True), name="closing_request_one_pending"
            ),
        ]

    name_relations = ("problem",)

    def __str__(self):
        return f"{self.problem} · {self.report[:20]}"


class Decision(models.TextChoices):
    PENDING = "pending", _("waiting for decision")
    APPROVED = "approved", _("approved")
    REJECTED = "rejected", _("rejected")


class Extension(Model):
    """An extension requested before or after the deadline, decided by staff above."""

    problem = models.ForeignKey(Problem, verbose_name=_("problem"), on_delete=models.CASCADE, related_name="extensions")
    reason = models.TextField(_("reason"))
    deadline_before = models.DateField(_("deadline before"))
    requested_deadline = models.DateField(_("requested deadline"))
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("requested by"), on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    after_deadline = models.BooleanField(_("requested after the deadline"))
    decision = models.CharField(_("decision"), max_length=10, choices=Decision.choices, default=Decision.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    comment = models.TextField(_("decision comment"), blank=True)
    # Set when the extended deadline passes with the problem still open.
    missed = models.BooleanField(_("extended deadline missed"), default=False)
    # Set once the daily job has judged an approved extension after its deadline (missed or
    # not: the facts of that day do not change), so that it is not examined again every day.
    examined = models.BooleanField(_("examined after its deadline"), default=False)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("extension")
        verbose_name_plural = _("extensions")
        ordering = ["requested_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(requested_deadline__gt=models.F("deadline_before")),
                name="extension_later_deadline",
                violation_error_message=_("The new deadline must be later than the current one."),
            ),
            models.UniqueConstraint(
                fields=["problem"],
                condition=Q(decision="pending"),
                name="extension_one_pending",
                violation_error_message=_("An extension request is already waiting for a decision."),
            ),
        ]

    name_relations = ("problem",)

    def __str__(self):
        return f"{self.problem} → {self.requested_deadline}"


class Admonishment(Model):
    """约谈 (诫勉 when staff so decide) recommended for a secretary: the one in post on the day an
    extended deadline was missed (DESIGN.md 4), or one rated 不称职 in a review (DESIGN.md 6,
    recorded by the reviews app without any extension as its cause). The platform records, it
    never files anything itself."""

    class Outcome(models.TextChoices):
        RECOMMENDED = "recommended", _("recommended")
        TALK = "talk", _("admonishment talk (约谈)")
        WARNING = "warning", _("admonition (诫勉)")
        DISMISSED = "dismissed", _("not pursued")

    organization = models.ForeignKey(
        Organization, verbose_name=_("organization"), on_delete=models.PROTECT, related_name="admonishments"
    )
    problem = models.ForeignKey(
        Problem,
        verbose_name=_("problem"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="admonishments",
    )
    extension = models.OneToOneField(
        Extension,
        verbose_name=_("missed extension"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="admonishment",
    )
    # Why it is recommended, when no missed extension is the cause (e.g. a review result).
    cause = models.CharField(_("cause"), max_length=200, blank=True)
    person = models.ForeignKey(
        Person,
        verbose_name=_("secretary in post"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="admonishments",
    )
    missed_on = models.DateField(_("due since"))
    outcome = models.CharField(_("decision"), max_length=12, choices=Outcome.choices, default=Outcome.RECOMMENDED)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    held_on = models.DateField(_("held on"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("admonishment")
        verbose_name_plural = _("admonishments")
        ordering = ["-missed_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(extension__isnull=False) | ~Q(cause=""), name="admonishment_has_a_cause"
            ),
        ]

    def __str__(self):
        return f"{self.person} · {self.missed_on}"


class FollowUpMethod(models.TextChoices):
    SITE_VISIT = "site_visit", _("site visit")
    PHONE = "phone", _("phone")
    UNANNOUNCED = "unannounced", _("unannounced visit")
    HOUSEHOLD = "household", _("household survey")
    MEETING = "meeting", _("discussion meeting")


class FollowUp(Model):
    organization = models.ForeignKey(
        Organization, verbose_name=_("organization"), on_delete=models.PROTECT, related_name="follow_ups"
    )
    problem = models.ForeignKey(
        Problem, verbose_name=_("problem"), on_delete=models.PROTECT, null=True, blank=True, related_name="follow_ups"
    )
    method = models.CharField(_("method"), max_length=12, choices=FollowUpMethod.choices)
    date = models.DateField(_("date"))
    findings = models.TextField(_("findings"))
    sample = models.ForeignKey(
        "UnannouncedSample",
        verbose_name=_("sample"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="follow_ups",
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-ups")
        ordering = ["-date", "-pk"]

    def __str__(self):
        return f"{self.date} {self.get_method_display()} · {self.organization.name_with_town}"


class UnannouncedSample(Model):
    """A random sample of organizations for unannounced visits. The seed and the population
    are kept so that anyone can draw the same sample again and check it."""

    root = models.ForeignKey(
        Organization, verbose_name=_("drawn from the subtree of"), on_delete=models.PROTECT, related_name="+"
    )
    kinds = models.JSONField(_("unit categories drawn from"), default=list)
    population = models.JSONField(_("codes drawn from"), default=list)
    size = models.PositiveSmallIntegerField(_("sample size"))
    seed = models.BigIntegerField(_("seed"))
    chosen = models.JSONField(_("codes chosen"), default=list)
    drawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("drawn by"), on_delete=models.PROTECT, related_name="+"
    )
    drawn_at = models.DateTimeField(_("drawn at"), auto_now_add=True)

    class Meta:
        verbose_name = _("unannounced-visit sample")
        verbose_name_plural = _("unannounced-visit samples")
        ordering = ["-drawn_at"]

    def __str__(self):
        return f"{self.root.name_with_town} · {self.size} · {self.seed}"


class Aspect(models.TextChoices):
    """The five-aspect check of a supervision visit (DESIGN.md 4)."""

    CLAIMED = "claimed", _("Were the problems signed for?")
    ANSWERED = "answered", _("Were the masses' opinions answered?")
    IDENTIFIED = "identified", _("Were the issues identified fully?")
    CONCRETE = "concrete", _("Are the measures concrete?")
    SOLVED = "solved", _("Were the hot issues solved?")


class SupervisionVisit(Model):
    organization = models.ForeignKey(
        Organization, verbose_name=_("organization"), on_delete=models.PROTECT, related_name="supervision_visits"
    )
    date = models.DateField(_("date"))
    # {aspect: {"ok": bool, "note": str}} for each of the five aspects.
    answers = models.JSONField(_("five-aspect check"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("supervision visit")
        verbose_name_plural = _("supervision visits")
        ordering = ["-date", "-pk"]

    def __str__(self):
        return f"{self.date} · {self.organization.name_with_town}"


class Notice(Model):
    """通报: an official notice numbered like 吴组通字〔2017〕3号 (hexagonal brackets, no zero
    padding), naming organizations and persons with points for their year-end deduction."""

    prefix = models.CharField(_("document prefix"), max_length=20, help_text=_("e.g. 吴组通字"))
    year = models.PositiveSmallIntegerField(_("year"))
    sequence = models.PositiveIntegerField(_("number"))
    title = models.CharField(_("title"), max_length=200)
    issued_on = models.DateField(_("issued on"))
    content = models.TextField(_("content"))
    issuer = models.ForeignKey(
        Organization, verbose_name=_("issued by"), on_delete=models.PROTECT, related_name="notices"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), on_delete=models.PROTECT, related_name="+"
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("notice")
        verbose_name_plural = _("notices")
        ordering = ["-year", "-sequence"]
        constraints = [
            models.UniqueConstraint(
                fields=["prefix", "year", "sequence"],
                name="notice_unique_number",
                violation_error_message=_("This document number is taken."),
            ),
        ]

    def __str__(self):
        return self.number

    @property
    def number(self):
        return f"{self.prefix}〔{self.year}〕{self.sequence}号"


class NoticeEntry(Model):
    """One organization or person named in a notice, with the points scoring deducts."""

    notice = models.ForeignKey(Notice, verbose_name=_("notice"), on_delete=models.CASCADE, related_name="entries")
    organization = models.ForeignKey(
        Organization, verbose_name=_("organization"), on_delete=models.PROTECT, related_name="notice_entries"
    )
    person = models.ForeignKey(
        Person, verbose_name=_("person"), on_delete=models.PROTECT, null=True, blank=True, related_name="notice_entries"
    )
    points = models.DecimalField(_("points deducted"), max_digits=5, decimal_places=2)
    reason = models.CharField(_("reason"), max_length=300)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("person or organization named")
        verbose_name_plural = _("people and organizations named")
        constraints = [models.CheckConstraint(condition=Q(points__gte=0), name="notice_entry_points_positive")]

    def __str__(self):
        return f"{self.notice} · {self.person or self.organization.name_with_town} · {self.points}"
