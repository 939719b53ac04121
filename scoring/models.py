"""Quantitative assessment (量化考核), large-panel judging (大评委制), the year-end aggregation and
secretary projects (书记项目), DESIGN.md section 5."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from checklists.models import Attachment, ChecklistItem, ChecklistTemplate
from config.models import Model
from organizations.models import Organization, Person

ZERO = Decimal(0)


class SchemeKind(models.TextChoices):
    ORGANIZATIONS = "organizations", _("quantitative assessment of organizations")
    PROJECTS = "projects", _("competitive evaluation of secretary projects")


class SchemeState(models.TextChoices):
    DRAFT = "draft", _("being set up")
    SCORING = "scoring", _("scoring")
    AGGREGATED = "aggregated", _("aggregated")
    PUBLISHED = "published", _("announced (appeals open)")
    FINAL = "final", _("final")
    SUPERSEDED = "superseded", _("replaced by a correction")


# Grades of the year-end assessment, best first (DESIGN.md 5: 优秀 ≥ 90, 良好 ≥ 80, 一般 ≥ 60, 较差).
GRADES = [_("excellent"), pgettext_lazy("assessment grade", "good"), _("fair"), _("poor performance")]
DEFAULT_THRESHOLDS = [90, 80, 60]

COMPONENTS = ["checklist", "panel", "mass", "ordinary"]
COMPONENT_LABELS = {
    "checklist": _("checklists"),
    "panel": _("panel scoring"),
    "mass": _("mass"),
    "ordinary": _("quarterly assessment"),
}


class Scheme(Model):
    """考核方案 for a year and a peer group. Components on 0–100 with weights summing to 100; a
    component with no data for an organization is left out and the other weights scaled up."""

    year = models.PositiveSmallIntegerField(_("year"))
    owner = models.ForeignKey(
        Organization, verbose_name=_("organizer"), on_delete=models.PROTECT, related_name="schemes"
    )
    name = models.CharField(_("scheme name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=16, choices=SchemeKind.choices, default=SchemeKind.ORGANIZATIONS)
    state = models.CharField(_("state"), max_length=12, choices=SchemeState.choices, default=SchemeState.DRAFT)
    version = models.PositiveSmallIntegerField(_("version"), default=1)
    previous = models.OneToOneField(
        "self",
        verbose_name=_("corrects"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="correction",
    )
    correction_reason = models.TextField(_("reason for the correction"), blank=True)
    weight_checklist = models.DecimalField(
        _("weight: checklist completion"), max_digits=5, decimal_places=2, default=40
    )
    weight_panel = models.DecimalField(_("weight: panel scoring"), max_digits=5, decimal_places=2, default=40)
    weight_mass = models.DecimalField(_("weight: mass evaluation"), max_digits=5, decimal_places=2, default=20)
    weight_ordinary = models.DecimalField(_("weight: quarterly assessments"), max_digits=5, decimal_places=2, default=0)
    # The checklist the checklist component reads; empty: every checklist of the year (their mean).
    checklist_template = models.ForeignKey(
        ChecklistTemplate,
        verbose_name=_("checklist"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="schemes",
    )
    scoring_date = models.DateField(_("scoring date of the checklists"))
    trim_min_judges = models.PositiveSmallIntegerField(
        _("drop the highest and lowest from this many judges on"), default=5, validators=[MinValueValidator(3)]
    )
    thresholds = models.JSONField(_("grade thresholds"), default=list)
    quota_count = models.PositiveSmallIntegerField(_("top-grade quota (number)"), null=True, blank=True)
    quota_numerator = models.PositiveSmallIntegerField(_("top-grade quota numerator"), null=True, blank=True)
    quota_denominator = models.PositiveSmallIntegerField(_("top-grade quota denominator"), null=True, blank=True)
    deduction_cap = models.DecimalField(
        _("cap on all deductions"), max_digits=6, decimal_places=2, null=True, blank=True
    )
    notice_cap = models.DecimalField(
        _("cap on deductions from notices"), max_digits=6, decimal_places=2, null=True, blank=True
    )
    overdue_problem_points = models.DecimalField(
        _("points per overdue problem"), max_digits=5, decimal_places=2, default=ZERO
    )
    overdue_problem_cap = models.DecimalField(
        _("cap on deductions for overdue problems"), max_digits=6, decimal_places=2, null=True, blank=True
    )
    late_item_points = models.DecimalField(
        _("points per late checklist item"), max_digits=5, decimal_places=2, default=ZERO
    )
    late_item_cap = models.DecimalField(
        _("cap on deductions for late items"), max_digits=6, decimal_places=2, null=True, blank=True
    )
    publication_ends_on = models.DateField(_("announcement (公示) ends on"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    aggregated_at = models.DateTimeField(_("aggregated at"), null=True, blank=True)
    # The last change to what the aggregation reads from the scheme itself (members, indicators,
    # panels, sheets, deductions, rules): a run that started before it does not write.
    inputs_changed_at = models.DateTimeField(_("inputs last changed at"), null=True, blank=True)
    history = HistoricalRecords(excluded_fields=["inputs_changed_at"])

    class Meta:
        verbose_name = _("assessment scheme")
        verbose_name_plural = _("assessment schemes")
        ordering = ["-year", "owner__path", "name", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "year", "name", "version"],
                name="scheme_unique_version",
                violation_error_message=_("The organizer has a scheme of this name for this year already."),
            ),
            models.CheckConstraint(
                condition=Q(weight_checklist__gte=0, weight_panel__gte=0, weight_mass__gte=0, weight_ordinary__gte=0),
                name="scheme_weights_positive",
            ),
            models.CheckConstraint(
                condition=Q(quota_numerator__isnull=True, quota_denominator__isnull=True)
                | Q(quota_numerator__isnull=False, quota_denominator__gt=0),
                name="scheme_quota_share_complete",
            ),
        ]

    def __str__(self):
        # The name says the year ("吴川市2026年度…"); a correction says its version.
        if self.version > 1:
            return _("%(name)s (version %(version)s)") % {"name": self.name, "version": self.version}
        return self.name

    @property
    def weights(self):
        return {
            "checklist": self.weight_checklist,
            "panel": self.weight_panel,
            "mass": self.weight_mass,
            "ordinary": self.weight_ordinary,
        }

    @property
    def grades(self):
        return [str(label) for label in GRADES]

    @property
    def is_editable(self):
        return self.state in {SchemeState.DRAFT, SchemeState.SCORING}


class SchemeMember(Model):
    """An organization of the peer group (for a project evaluation: the project's organization)."""

    scheme = models.ForeignKey(Scheme, verbose_name=_("scheme"), on_delete=models.CASCADE, related_name="members")
    organization = models.ForeignKey(
        Organization, verbose_name=_("organization"), on_delete=models.PROTECT, related_name="scheme_memberships"
    )
    project = models.ForeignKey(
        "Project",
        verbose_name=_("secretary project"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("organization assessed")
        verbose_name_plural = _("organizations assessed")
        ordering = ["scheme", "organization__path"]
        constraints = [models.UniqueConstraint(fields=["scheme", "organization"], name="scheme_member_once")]

    def __str__(self):
        return self.organization.name_with_town


class Indicator(Model):
    scheme = models.ForeignKey(Scheme, verbose_name=_("scheme"), on_delete=models.CASCADE, related_name="indicators")
    code = models.CharField(_("indicator code"), max_length=20)
    name = models.CharField(_("indicator"), max_length=100)
    max_score = models.DecimalField(
        _("maximum score"), max_digits=6, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))]
    )
    guide = models.TextField(_("scoring guide (评分标准)"), blank=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("indicator")
        verbose_name_plural = _("indicators")
        ordering = ["scheme", "position", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["scheme", "code"],
                name="indicator_unique_code",
                violation_error_message=_("This indicator code is used in the scheme already."),
            ),
            models.CheckConstraint(condition=Q(max_score__gt=0), name="indicator_max_positive"),
        ]

    def __str__(self):
        return f"{self.code} {self.name}"


class Panel(Model):
    """A panel of judges (大评委团) with the organizations it scores."""

    scheme = models.ForeignKey(Scheme, verbose_name=_("scheme"), on_delete=models.CASCADE, related_name="panels")
    name = models.CharField(_("panel"), max_length=60)
    judges = models.ManyToManyField(settings.AUTH_USER_MODEL, verbose_name=_("judges"), related_name="panels")
    organizations = models.ManyToManyField(Organization, verbose_name=_("organizations scored"), related_name="+")
    history = HistoricalRecords(m2m_fields=[judges, organizations])

    class Meta:
        verbose_name = _("panel")
        verbose_name_plural = _("panels")
        ordering = ["scheme", "name"]
        constraints = [models.UniqueConstraint(fields=["scheme", "name"], name="panel_unique_name")]

    def __str__(self):
        return self.name


class SheetStatus(models.TextChoices):
    OPEN = "open", _("being scored")
    SUBMITTED = "submitted", pgettext_lazy("judge's sheet", "submitted")


class JudgeSheet(Model):
    """What one judge scores of one organization: a score per indicator, saved as typed and
    locked once submitted (staff can reopen it, with a reason)."""

    scheme = models.ForeignKey(Scheme, verbose_name=_("scheme"), on_delete=models.CASCADE, related_name="sheets")
    panel = models.ForeignKey(Panel, verbose_name=_("panel"), on_delete=models.CASCADE, related_name="sheets")
    judge = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("judge"), on_delete=models.PROTECT, related_name="judge_sheets"
    )
    organization = models.ForeignKey(
        Organization, verbose_name=_("organization"), on_delete=models.PROTECT, related_name="judge_sheets"
    )
    status = models.CharField(_("status"), max_length=10, choices=SheetStatus.choices, default=SheetStatus.OPEN)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    reopen_reason = models.TextField(_("reason for reopening"), blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("judge's sheet")
        verbose_name_plural = _("judges' sheets")
        ordering = ["scheme", "judge", "organization__path"]
        constraints = [
            models.UniqueConstraint(fields=["scheme", "judge", "organization"], name="sheet_once_per_judge_and_org"),
            models.CheckConstraint(
                condition=Q(status="open") | Q(submitted_at__isnull=False), name="sheet_submitted_has_time"
            ),
        ]

    def __str__(self):
        return f"{self.judge} · {self.organization.name_with_town}"


class JudgeScore(Model):
    sheet = models.ForeignKey(
        JudgeSheet, verbose_name=_("judge's sheet"), on_delete=models.CASCADE, related_name="scores"
    )
    indicator = models.ForeignKey(
        Indicator, verbose_name=_("indicator"), on_delete=models.CASCADE, related_name="scores"
    )
    score = models.DecimalField(_("score"), max_digits=6, decimal_places=2, validators=[MinValueValidator(ZERO)])
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("judge's score")
        verbose_name_plural = _("judges' scores")
        constraints = [
            # DESIGN.md 5: each judge scores each assigned organization on each indicator once.
            models.UniqueConstraint(fields=["sheet", "indicator"], name="judge_scores_once"),
            models.CheckConstraint(condition=Q(score__gte=0), name="judge_score_not_negative"),
        ]

    def __str__(self):
        return f"{self.sheet} · {self.indicator.code} · {self.score}"


QUARTERS = [(1, _("first quarter")), (2, _("second quarter")), (3, _("third quarter")), (4, _("fourth quarter"))]


class QuarterlyScore(Model):
    """平时考核: an organization's score for a quarter (0–100); the year-end scheme reads the mean
    of the quarters held ("改变一锤定音")."""

    year = models.PositiveSmallIntegerField(_("year"))
    quarter = models.PositiveSmallIntegerField(
        _("quarter"), choices=QUARTERS, validators=[MinValueValidator(1), MaxValueValidator(4)]
    )
    organization = models.ForeignKey(
        Organization, verbose_name=_("organization"), on_delete=models.PROTECT, related_name="quarterly_scores"
    )
    score = models.DecimalField(
        _("score"), max_digits=5, decimal_places=2, validators=[MinValueValidator(ZERO), MaxValueValidator(100)]
    )
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("entered by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("quarterly assessment score")
        verbose_name_plural = _("quarterly assessment scores")
        ordering = ["-year", "organization__path", "quarter"]
        constraints = [
            models.UniqueConstraint(fields=["year", "quarter", "organization"], name="quarterly_once"),
            models.CheckConstraint(condition=Q(quarter__gte=1, quarter__lte=4), name="quarterly_quarter_1_4"),
            models.CheckConstraint(condition=Q(score__gte=0, score__lte=100), name="quarterly_score_0_100"),
        ]

    def __str__(self):
        return f"{self.organization.name_with_town} · {self.year}Q{self.quarter} · {self.score}"


class DeductionSource(models.TextChoices):
    NOTICE = "notice", _("notice (通报)")
    OVERDUE_PROBLEM = "overdue_problem", _("overdue problem")
    LATE_ITEM = "late_item", _("late checklist item")
    OTHER = "other", _("other")


class Deduction(Model):
    """A deduction entered by hand (other sources are read from supervision and checklists)."""

    scheme = models.ForeignKey(Scheme, verbose_name=_("scheme"), on_delete=models.CASCADE, related_name="deductions")
    organization = models.ForeignKey(
        Organization, verbose_name=_("organization"), on_delete=models.PROTECT, related_name="+"
    )
    points = models.DecimalField(
        _("points"), max_digits=5, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))]
    )
    reason = models.CharField(_("reason"), max_length=300)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("entered by"), on_delete=models.PROTECT, related_name="+"
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("deduction")
        verbose_name_plural = _("deductions")
        constraints = [models.CheckConstraint(condition=Q(points__gt=0), name="deduction_points_positive")]

    def __str__(self):
        return f"{self.organization.name_with_town} · {self.points}"


class RunStatus(models.TextChoices):
    RUNNING = "running", _("running")
    DONE = "done", _("done")
    FAILED = "failed", _("failed")


class AggregationRun(Model):
    """One year-end aggregation of a scheme, with its progress; one at a time per scheme."""

    scheme = models.ForeignKey(Scheme, verbose_name=_("scheme"), on_delete=models.CASCADE, related_name="runs")
    status = models.CharField(_("status"), max_length=10, choices=RunStatus.choices, default=RunStatus.RUNNING)
    step = models.CharField(_("step"), max_length=100, blank=True)
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("requested by"), on_delete=models.PROTECT, null=True, related_name="+"
    )
    started_at = models.DateTimeField(_("started at"), auto_now_add=True)
    heartbeat_at = models.DateTimeField(_("last sign of life"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        verbose_name = _("aggregation run")
        verbose_name_plural = _("aggregation runs")
        ordering = ["-started_at"]
        constraints = [
            # Single flight: at most one running aggregation per scheme, enforced by the database.
            models.UniqueConstraint(fields=["scheme"], condition=Q(status="running"), name="aggregation_single_flight"),
        ]

    def __str__(self):
        return f"{self.scheme} · {self.get_status_display()}"


class SchemeResult(Model):
    """An organization's year-end result: components, deductions, total, rank and grade."""

    scheme = models.ForeignKey(Scheme, verbose_name=_("scheme"), on_delete=models.CASCADE, related_name="results")
    organization = models.ForeignKey(
        Organization, verbose_name=_("organization"), on_delete=models.PROTECT, related_name="+"
    )
    checklist = models.DecimalField(_("checklist completion"), max_digits=6, decimal_places=2, null=True)
    panel = models.DecimalField(_("panel scoring"), max_digits=6, decimal_places=2, null=True)
    mass = models.DecimalField(_("mass evaluation"), max_digits=6, decimal_places=2, null=True)
    ordinary = models.DecimalField(_("quarterly assessments"), max_digits=6, decimal_places=2, null=True)
    deductions = models.DecimalField(_("deductions"), max_digits=6, decimal_places=2, default=ZERO)
    total = models.DecimalField(_("total"), max_digits=7, decimal_places=2)
    rank = models.PositiveIntegerField(_("rank"))
    grade = models.PositiveSmallIntegerField(_("grade"))
    capped = models.BooleanField(_("lowered by the top-grade quota"), default=False)
    # The weights used, after leaving out components with no data (they sum to 100).
    weights = models.JSONField(_("weights used"), default=dict)

    class Meta:
        verbose_name = _("assessment result")
        verbose_name_plural = _("assessment results")
        ordering = ["scheme", "rank", "organization__path"]
        constraints = [models.UniqueConstraint(fields=["scheme", "organization"], name="scheme_result_once")]

    def __str__(self):
        return f"{self.organization.name_with_town} · {self.total}"


class ResultDeduction(Model):
    """Each deduction behind a result, with its document, for the explanation page."""

    result = models.ForeignKey(
        SchemeResult, verbose_name=_("result"), on_delete=models.CASCADE, related_name="deduction_lines"
    )
    source = models.CharField(_("source"), max_length=16, choices=DeductionSource.choices)
    points = models.DecimalField(_("points"), max_digits=6, decimal_places=2)
    reason = models.CharField(_("reason"), max_length=300)
    reference = models.CharField(_("document"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("deduction of a result")
        verbose_name_plural = _("deductions of results")

    def __str__(self):
        return f"{self.result} · {self.points}"


class AppealStatus(models.TextChoices):
    PENDING = "pending", _("waiting for a decision")
    UPHELD = "upheld", _("upheld: corrected")
    REJECTED = "rejected", _("rejected")


class Appeal(Model):
    """申诉 during the announcement: filed by the organization's secretary, resolved by staff."""

    scheme = models.ForeignKey(Scheme, verbose_name=_("scheme"), on_delete=models.CASCADE, related_name="appeals")
    organization = models.ForeignKey(
        Organization, verbose_name=_("organization"), on_delete=models.PROTECT, related_name="+"
    )
    reason = models.TextField(_("reason"))
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("filed by"), on_delete=models.PROTECT, related_name="+"
    )
    filed_at = models.DateTimeField(_("filed at"), auto_now_add=True)
    status = models.CharField(_("status"), max_length=10, choices=AppealStatus.choices, default=AppealStatus.PENDING)
    resolution = models.TextField(_("resolution"), blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("resolved by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    correction = models.ForeignKey(
        Scheme, verbose_name=_("correction"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("appeal")
        verbose_name_plural = _("appeals")
        ordering = ["-filed_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="pending") | (Q(resolved_at__isnull=False) & ~Q(resolution="")),
                name="appeal_resolved_has_reason",
            ),
        ]

    def __str__(self):
        return f"{self.organization.name_with_town} · {self.get_status_display()}"


# --- secretary projects (书记项目) -----------------------------------------------------------------


class ProjectStatus(models.TextChoices):
    FILED = "filed", _("filed, waiting for review")
    RETURNED = "returned", _("returned for changes")
    APPROVED = "approved", _("in the project library")
    ACCEPTED = "accepted", _("accepted (验收)")
    NOT_ACCEPTED = "not_accepted", _("not accepted")


class Project(Model):
    """书记项目: the secretary's 立项书, reviewed (切口小、有难度、示范强、能落实) into the project
    library and the secretary's checklist; "年初建账、年中查账、年底交账"; acceptance (验收)."""

    year = models.PositiveSmallIntegerField(_("year"))
    organization = models.ForeignKey(
        Organization, verbose_name=_("organization"), on_delete=models.PROTECT, related_name="secretary_projects"
    )
    secretary = models.ForeignKey(
        Person, verbose_name=_("secretary"), on_delete=models.PROTECT, related_name="projects"
    )
    title = models.CharField(_("project"), max_length=120)
    background = models.TextField(_("background"))
    problem = models.TextField(_("problem to solve"))
    measures = models.TextField(pgettext_lazy("project", "measures"))
    schedule = models.TextField(_("schedule"))
    expected_result = models.TextField(_("expected result"))
    budget = models.DecimalField(_("budget (yuan)"), max_digits=12, decimal_places=2, default=ZERO)
    status = models.CharField(_("status"), max_length=14, choices=ProjectStatus.choices, default=ProjectStatus.FILED)
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("filed by"), on_delete=models.PROTECT, related_name="+"
    )
    filed_at = models.DateTimeField(_("filed at"), auto_now_add=True)
    # The review against 切口小、有难度、示范强、能落实 (DESIGN.md 5).
    small_scope = models.BooleanField(_("small in scope (切口小)"), null=True, blank=True)
    difficult = models.BooleanField(_("difficult (有难度)"), null=True, blank=True)
    exemplary = models.BooleanField(_("exemplary (示范强)"), null=True, blank=True)
    feasible = models.BooleanField(_("feasible (能落实)"), null=True, blank=True)
    review_comment = models.TextField(_("review comment"), blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewed by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    checklist_item = models.OneToOneField(
        ChecklistItem,
        verbose_name=_("checklist item"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="secretary_project",
    )
    acceptance_notes = models.TextField(_("acceptance notes"), blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("accepted by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("secretary project")
        verbose_name_plural = _("secretary projects")
        ordering = ["-year", "organization__path", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(budget__gte=0), name="project_budget_not_negative"),
            models.CheckConstraint(
                condition=Q(status__in=["filed", "returned"]) | Q(reviewed_at__isnull=False),
                name="project_reviewed_has_time",
            ),
        ]

    def __str__(self):
        return self.title


class ProjectStage(models.TextChoices):
    OPENING = "opening", _("set up the account at the start of the year (年初建账)")
    MIDYEAR = "midyear", _("check the account at mid-year (年中查账)")
    CLOSING = "closing", _("hand in the account at year end (年底交账)")


class ProjectReport(Model):
    project = models.ForeignKey(
        Project, verbose_name=_("secretary project"), on_delete=models.CASCADE, related_name="reports"
    )
    stage = models.CharField(_("stage"), max_length=10, choices=ProjectStage.choices)
    date = models.DateField(_("date"))
    content = models.TextField(_("progress"))
    attachments = models.ManyToManyField(Attachment, verbose_name=_("attachments"), blank=True, related_name="+")
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("submitted by"), on_delete=models.PROTECT, related_name="+"
    )
    history = HistoricalRecords(m2m_fields=[attachments])

    class Meta:
        verbose_name = _("project progress report")
        verbose_name_plural = _("project progress reports")
        ordering = ["project", "date", "pk"]

    def __str__(self):
        return f"{self.project} · {self.get_stage_display()}"


class Grant(Model):
    """专项党费 support for a project selected in a competitive evaluation."""

    project = models.OneToOneField(
        Project, verbose_name=_("secretary project"), on_delete=models.PROTECT, related_name="grant"
    )
    evaluation = models.ForeignKey(
        Scheme, verbose_name=_("selected in"), on_delete=models.PROTECT, null=True, blank=True, related_name="grants"
    )
    amount = models.DecimalField(
        _("amount (yuan)"), max_digits=12, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))]
    )
    awarded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("awarded by"), on_delete=models.PROTECT, related_name="+"
    )
    awarded_on = models.DateField(_("awarded on"))
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("special party-fee grant")
        verbose_name_plural = _("special party-fee grants")
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="grant_amount_positive")]

    def __str__(self):
        return f"{self.project} · {self.amount}"


class Spending(Model):
    """What a grant was spent on; never more than the grant in all."""

    grant = models.ForeignKey(Grant, verbose_name=_("grant"), on_delete=models.PROTECT, related_name="spendings")
    date = models.DateField(_("date"))
    purpose = models.CharField(_("purpose"), max_length=200)
    amount = models.DecimalField(
        _("amount (yuan)"), max_digits=12, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))]
    )
    receipt = models.ForeignKey(
        Attachment, verbose_name=_("receipt"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), on_delete=models.PROTECT, related_name="+"
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("spending")
        verbose_name_plural = _("spendings")
        ordering = ["grant", "date", "pk"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="spending_amount_positive")]

    def __str__(self):
        return f"{self.date} · {self.purpose} · {self.amount}"
