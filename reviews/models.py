"""Work-report reviews (述职评议) with democratic evaluation (民主测评), DESIGN.md section 6.

Anonymity is a property of the tables themselves: a Ballot keeps its venue, rater group and
day, and its answers; nothing links it to a code, a user, a client or a time finer than the
day, no history is recorded for it, and its keys are random (tests/reviews/test_ballots.py
fails if a link is ever added). What an administrator with full database access can and
cannot learn is in the README.
"""

import uuid
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from checklists.models import Attachment
from config.models import Model
from organizations.models import Organization, Person, Post
from supervision.models import Admonishment, Problem


class Level(models.TextChoices):
    COUNTY_SECRETARIES = "county", _("county secretaries report to the city")
    TOWN_SECRETARIES = "town", _("town secretaries report to the county")
    VILLAGE_SECRETARIES = "village", _("village secretaries and two-committee cadres report to the town")
    VILLAGE_CADRES = "village_cadres", _("village cadres report to party members and villager representatives")


class State(models.TextChoices):
    PREPARING = "preparing", _("preparing")
    PRE_CHECK = "pre_check", _("pre-report check")
    OPEN = "open", _("rating open")
    CLOSED = "closed", pgettext_lazy("review state", "closed")
    PUBLISHED = "published", _("published")


class GradeSet(models.TextChoices):
    CADRE = "cadre", _("excellent / competent / basically competent / incompetent")
    PARTY_BUILDING = "party_building", _("good / fairly good / average / poor")
    SATISFACTION = "satisfaction", _("satisfied / basically satisfied / dissatisfied")


# The grades of each set, best first (DESIGN.md 6).
GRADES = {
    GradeSet.CADRE: [_("excellent"), _("competent"), _("basically competent"), _("incompetent")],
    GradeSet.PARTY_BUILDING: [_("good"), _("fairly good"), _("average"), _("poor")],
    GradeSet.SATISFACTION: [_("satisfied"), _("basically satisfied"), _("dissatisfied")],
}
# Defaults (DESIGN.md 6): a grade ballot is worth 100 / 80 / 60 / 0 points from the best grade
# down and the final grade goes by ≥ 90 / ≥ 70 / ≥ 60 / below. A three-grade set keeps the
# worst grade at 0 and takes the first thresholds: 100 / 80 / 0 and ≥ 90 / ≥ 70 / below.
DEFAULT_POINTS = {4: [100, 80, 60, 0], 3: [100, 80, 0]}
DEFAULT_THRESHOLDS = {4: [90, 70, 60], 3: [90, 70]}
MAX_GRADES = 4

DIMENSIONS = ["德", "能", "勤", "绩", "廉"]


class ReviewSession(Model):
    """A 述职评议 of one year, run by an organizer (the city, a county or a town)."""

    year = models.PositiveSmallIntegerField(_("year"))
    organizer = models.ForeignKey(
        Organization, verbose_name=_("organizer"), on_delete=models.PROTECT, related_name="review_sessions"
    )
    title = models.CharField(_("title"), max_length=120)
    level = models.CharField(_("level"), max_length=16, choices=Level.choices)
    state = models.CharField(_("state"), max_length=12, choices=State.choices, default=State.PREPARING)
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("to"))
    grade_set = models.CharField(_("grade set"), max_length=16, choices=GradeSet.choices, default=GradeSet.CADRE)
    # Rating by scores instead of grades; each score ballot then falls into a grade's band.
    scored = models.BooleanField(_("rate by scores"), default=False)
    score_max = models.PositiveSmallIntegerField(_("highest score"), default=100)
    dimensions = models.JSONField(_("dimensions"), default=list, blank=True)
    points = models.JSONField(_("points per grade"), default=list)
    thresholds = models.JSONField(_("grade thresholds"), default=list)
    # Veto (否决): the worst grade, pooled over the groups counted, reaching (or, when strict,
    # exceeding) veto_numerator / veto_denominator of the ballots that rated.
    veto_numerator = models.PositiveSmallIntegerField(_("veto share numerator"), default=1)
    veto_denominator = models.PositiveSmallIntegerField(_("veto share denominator"), default=2)
    veto_strict = models.BooleanField(_("veto only when the share is exceeded"), default=False)
    # Quorum: a group counts when its valid ballots reach this share of its expected raters.
    quorum_numerator = models.PositiveSmallIntegerField(_("quorum numerator"), default=2)
    quorum_denominator = models.PositiveSmallIntegerField(_("quorum denominator"), default=3)
    # Optional cap on the top grade (e.g. 15/100; 1/3 for 民主评议党员).
    cap_numerator = models.PositiveSmallIntegerField(_("top-grade cap numerator"), null=True, blank=True)
    cap_denominator = models.PositiveSmallIntegerField(_("top-grade cap denominator"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    results_at = models.DateTimeField(_("results computed at"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("review session")
        verbose_name_plural = _("review sessions")
        ordering = ["-year", "organizer__path", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_on__gte=models.F("starts_on")), name="review_dates_in_order"),
            models.CheckConstraint(
                condition=Q(veto_denominator__gt=0, quorum_denominator__gt=0), name="review_shares_positive"
            ),
            models.CheckConstraint(
                condition=Q(cap_numerator__isnull=True, cap_denominator__isnull=True)
                | Q(cap_numerator__isnull=False, cap_denominator__gt=0),
                name="review_cap_complete",
            ),
        ]

    def __str__(self):
        return f"{self.year} · {self.title}"

    @property
    def grades(self):
        return [str(label) for label in GRADES[self.grade_set]]

    @property
    def worst(self):
        return len(GRADES[self.grade_set]) - 1

    @property
    def points_decimal(self):
        return [Decimal(str(value)) for value in self.points]

    @property
    def is_editable(self):
        return self.state in {State.PREPARING, State.PRE_CHECK}


class Venue(Model):
    """会场: where reportees report and raters rate (Suixi rates each cadre at the town and
    again in the village: two venues)."""

    session = models.ForeignKey(
        ReviewSession, verbose_name=_("review"), on_delete=models.CASCADE, related_name="venues"
    )
    name = models.CharField(_("venue"), max_length=100)
    organization = models.ForeignKey(
        Organization, verbose_name=_("held at"), on_delete=models.PROTECT, related_name="review_venues"
    )
    held_on = models.DateField(_("held on"))
    scrutineers = models.CharField(_("scrutineers (监票人)"), max_length=200, blank=True)
    tellers = models.CharField(_("tellers (计票人)"), max_length=200, blank=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("venue")
        verbose_name_plural = _("venues")
        ordering = ["session", "position", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["session", "name"],
                name="venue_unique_name",
                violation_error_message=_("The review has a venue of this name already."),
            )
        ]

    def __str__(self):
        return self.name


class RaterGroup(Model):
    """A group of raters at a venue, with its weight and the number expected to rate."""

    SUGGESTED = ["上级领导", "镇领导班子", "镇干部", "下级书记", "党员", "两代表一委员", "村民代表", "群众"]

    venue = models.ForeignKey(Venue, verbose_name=_("venue"), on_delete=models.CASCADE, related_name="groups")
    name = models.CharField(_("rater group"), max_length=50)
    weight = models.DecimalField(
        _("weight"), max_digits=5, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))]
    )
    expected = models.PositiveIntegerField(_("expected raters"), validators=[MinValueValidator(1)])
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("rater group")
        verbose_name_plural = _("rater groups")
        ordering = ["venue", "position", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["venue", "name"],
                name="rater_group_unique_name",
                violation_error_message=_("The venue has a group of this name already."),
            ),
            models.CheckConstraint(condition=Q(weight__gt=0), name="rater_group_weight_positive"),
            models.CheckConstraint(condition=Q(expected__gt=0), name="rater_group_expected_positive"),
        ]

    def __str__(self):
        return f"{self.venue} · {self.name}"


class Verdict(models.TextChoices):
    PENDING = "pending", _("not checked yet")
    CONSISTENT = "consistent", _("consistent with the records")
    PARTLY = "partly", _("partly inconsistent: to be explained")
    INCONSISTENT = "inconsistent", _("inconsistent with the records")


class Reportee(Model):
    """A person who reports (述职), with the written report, the pre-report check (述前考核)
    and the superior's comments (点评)."""

    session = models.ForeignKey(
        ReviewSession, verbose_name=_("review"), on_delete=models.CASCADE, related_name="reportees"
    )
    person = models.ForeignKey(Person, verbose_name=_("person"), on_delete=models.PROTECT, related_name="reviews")
    post = models.ForeignKey(
        Post, verbose_name=_("post"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # Every current post at the organization ("书记、主任" for one who holds both).
    post_label = models.CharField(_("post"), max_length=100)
    organization = models.ForeignKey(
        Organization, verbose_name=_("organization"), on_delete=models.PROTECT, related_name="reportees"
    )
    venues = models.ManyToManyField(Venue, verbose_name=_("venues"), related_name="reportees")
    order = models.PositiveSmallIntegerField(_("report order"), default=0)
    on_stage = models.BooleanField(_("reports on stage"), default=True)
    report = models.ForeignKey(
        Attachment, verbose_name=_("written report"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    check_verdict = models.CharField(
        _("pre-report check"), max_length=14, choices=Verdict.choices, default=Verdict.PENDING
    )
    check_notes = models.TextField(_("check notes"), blank=True)
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("checked by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    checked_at = models.DateTimeField(_("checked at"), null=True, blank=True)
    comment = models.TextField(_("comments (点评)"), blank=True)
    commented_by = models.CharField(_("commented by"), max_length=50, blank=True)
    problems = models.ManyToManyField(
        Problem, verbose_name=_("problems listed from the comments"), blank=True, related_name="review_reportees"
    )
    history = HistoricalRecords(m2m_fields=[venues, problems])

    class Meta:
        verbose_name = _("reportee")
        verbose_name_plural = _("reportees")
        ordering = ["session", "order", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["session", "person"],
                name="reportee_once_per_session",
                violation_error_message=_("This person reports in this review already."),
            ),
            models.CheckConstraint(
                condition=Q(check_verdict="pending") | Q(checked_at__isnull=False), name="reportee_checked_has_time"
            ),
        ]

    def __str__(self):
        return f"{self.person} · {self.post_label}"


# --- phone ballots ---------------------------------------------------------------------------


class CodeBatch(Model):
    """One printing of one-time codes for a venue and group. The codes themselves are shown
    once, on the printed slips, and stored only as keyed hashes."""

    group = models.ForeignKey(
        RaterGroup, verbose_name=_("rater group"), on_delete=models.CASCADE, related_name="batches"
    )
    count = models.PositiveIntegerField(_("codes"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("printed by"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("printed at"), auto_now_add=True)
    voided = models.BooleanField(_("voided"), default=False)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("code batch")
        verbose_name_plural = _("code batches")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.group} · {self.count}"


class BallotCode(Model):
    """A one-time code as its keyed hash (HMAC-SHA256), and whether it has been used. No time,
    no user, no link to the ballot it produced."""

    batch = models.ForeignKey(CodeBatch, verbose_name=_("code batch"), on_delete=models.CASCADE, related_name="codes")
    digest = models.CharField(_("keyed hash"), max_length=64, unique=True)
    used = models.BooleanField(_("used"), default=False)

    class Meta:
        verbose_name = _("one-time code")
        verbose_name_plural = _("one-time codes")

    def __str__(self):
        return str(self.batch)


class Ballot(Model):
    """One rater's ballot: venue, group, the day, a random id. Nothing else, by design."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    venue = models.ForeignKey(Venue, verbose_name=_("venue"), on_delete=models.PROTECT, related_name="+")
    group = models.ForeignKey(RaterGroup, verbose_name=_("rater group"), on_delete=models.PROTECT, related_name="+")
    cast_on = models.DateField(_("cast on"))

    class Meta:
        verbose_name = _("ballot")
        verbose_name_plural = _("ballots")
        indexes = [models.Index(fields=["group"], name="ballot_group_idx")]

    def __str__(self):
        return f"{self.group} · {self.cast_on}"


class BallotAnswer(Model):
    """A ballot's rating of one reportee: a grade (index into the session's grade set, best = 0)
    and its points, or abstention (弃权: both empty). The group is copied from the ballot so that
    results are one pass over the answers."""

    pk = models.CompositePrimaryKey("ballot_id", "reportee_id")
    ballot = models.ForeignKey(Ballot, verbose_name=_("ballot"), on_delete=models.CASCADE, related_name="answers")
    reportee = models.ForeignKey(Reportee, verbose_name=_("reportee"), on_delete=models.PROTECT, related_name="+")
    group = models.ForeignKey(RaterGroup, verbose_name=_("rater group"), on_delete=models.PROTECT, related_name="+")
    grade = models.PositiveSmallIntegerField(_("grade"), null=True, blank=True)
    score = models.DecimalField(_("score"), max_digits=6, decimal_places=2, null=True, blank=True)
    dimension_scores = models.JSONField(_("scores per dimension"), null=True, blank=True)
    comment = models.TextField(_("opinion"), blank=True)

    class Meta:
        verbose_name = _("ballot answer")
        verbose_name_plural = _("ballot answers")
        indexes = [models.Index(fields=["reportee", "group"], name="answer_reportee_group_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(grade__isnull=True, score__isnull=True) | Q(grade__isnull=False, score__isnull=False),
                name="answer_grade_and_score_together",
            ),
            models.CheckConstraint(condition=Q(grade__lt=MAX_GRADES), name="answer_grade_in_set"),
        ]

    # --- paper ballots ---------------------------------------------------------------------------

    def __str__(self):
        return f"{self.group} · {self.reportee_id}"


class PaperEntry(Model):
    """One teller's count of a group's paper ballots (计票), entered twice by two people: the
    tally is accepted only when both entries agree. counts = {reportee id: [grade 0, …, grade 3,
    abstained, score sum]} (the score sum for score ballots only)."""

    group = models.ForeignKey(
        RaterGroup, verbose_name=_("rater group"), on_delete=models.CASCADE, related_name="paper_entries"
    )
    number = models.PositiveSmallIntegerField(_("entry"), validators=[MinValueValidator(1), MaxValueValidator(2)])
    teller = models.CharField(_("teller (计票人)"), max_length=50)
    present = models.PositiveIntegerField(_("present (实到)"))
    issued = models.PositiveIntegerField(_("issued (发出)"))
    collected = models.PositiveIntegerField(_("collected (收回)"))
    valid = models.PositiveIntegerField(_("valid (有效)"))
    invalid = models.PositiveIntegerField(_("invalid (无效)"))
    counts = models.JSONField(_("counts"), default=dict)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("entered by"), on_delete=models.PROTECT, related_name="+"
    )
    entered_at = models.DateTimeField(_("entered at"), auto_now=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("paper count entry")
        verbose_name_plural = _("paper count entries")
        ordering = ["group", "number"]
        constraints = [
            models.UniqueConstraint(fields=["group", "number"], name="paper_entry_twice_per_group"),
            models.CheckConstraint(condition=Q(number__in=[1, 2]), name="paper_entry_number"),
            models.CheckConstraint(condition=Q(collected__lte=models.F("issued")), name="paper_collected_le_issued"),
            models.CheckConstraint(condition=Q(valid__lte=models.F("collected")), name="paper_valid_le_collected"),
        ]

    def __str__(self):
        return f"{self.group} · {self.number} · {self.teller}"


class PaperTally(Model):
    """A group's paper count once both entries agreed; its lines are what results read."""

    group = models.OneToOneField(
        RaterGroup, verbose_name=_("rater group"), on_delete=models.CASCADE, related_name="tally"
    )
    present = models.PositiveIntegerField(_("present (实到)"))
    issued = models.PositiveIntegerField(_("issued (发出)"))
    collected = models.PositiveIntegerField(_("collected (收回)"))
    valid = models.PositiveIntegerField(_("valid (有效)"))
    invalid = models.PositiveIntegerField(_("invalid (无效)"))
    accepted_at = models.DateTimeField(_("accepted at"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("paper tally")
        verbose_name_plural = _("paper tallies")

    def __str__(self):
        return str(self.group)


class PaperTallyLine(Model):
    tally = models.ForeignKey(PaperTally, verbose_name=_("paper tally"), on_delete=models.CASCADE, related_name="lines")
    reportee = models.ForeignKey(Reportee, verbose_name=_("reportee"), on_delete=models.PROTECT, related_name="+")
    grade_0 = models.PositiveIntegerField(default=0)
    grade_1 = models.PositiveIntegerField(default=0)
    grade_2 = models.PositiveIntegerField(default=0)
    grade_3 = models.PositiveIntegerField(default=0)
    abstained = models.PositiveIntegerField(_("abstained"), default=0)
    score_sum = models.DecimalField(_("sum of scores"), max_digits=12, decimal_places=2, default=0)

    class Meta:
        verbose_name = _("paper tally line")
        verbose_name_plural = _("paper tally lines")
        constraints = [models.UniqueConstraint(fields=["tally", "reportee"], name="paper_line_once")]

    # --- results and consequences ----------------------------------------------------------------

    def __str__(self):
        return f"{self.tally} · {self.reportee_id}"


class GroupResult(Model):
    """A reportee's result in one rater group: ballots that rated, the grade distribution,
    the mean score, and whether the group counted (quorum)."""

    reportee = models.ForeignKey(
        Reportee, verbose_name=_("reportee"), on_delete=models.CASCADE, related_name="group_results"
    )
    group = models.ForeignKey(RaterGroup, verbose_name=_("rater group"), on_delete=models.CASCADE, related_name="+")
    valid_ballots = models.PositiveIntegerField(_("valid ballots of the group"))
    rated = models.PositiveIntegerField(_("ballots that rated"))
    abstained = models.PositiveIntegerField(_("abstained"))
    grade_0 = models.PositiveIntegerField(default=0)
    grade_1 = models.PositiveIntegerField(default=0)
    grade_2 = models.PositiveIntegerField(default=0)
    grade_3 = models.PositiveIntegerField(default=0)
    mean = models.DecimalField(_("mean score"), max_digits=6, decimal_places=2, null=True)
    counted = models.BooleanField(_("counted"))

    class Meta:
        verbose_name = _("group result")
        verbose_name_plural = _("group results")
        constraints = [models.UniqueConstraint(fields=["reportee", "group"], name="group_result_once")]

    def __str__(self):
        return f"{self.reportee} · {self.group}"

    @property
    def distribution(self):
        return [self.grade_0, self.grade_1, self.grade_2, self.grade_3]


class Outcome(models.TextChoices):
    RESULT = "result", _("graded")
    NO_QUORUM = "no_quorum", _("no group reached its quorum")
    NO_BALLOTS = "no_ballots", _("no ballot rated")


class ReviewResult(Model):
    reportee = models.OneToOneField(
        Reportee, verbose_name=_("reportee"), on_delete=models.CASCADE, related_name="result"
    )
    outcome = models.CharField(_("outcome"), max_length=12, choices=Outcome.choices)
    total = models.DecimalField(_("weighted score"), max_digits=6, decimal_places=2, null=True)
    grade = models.PositiveSmallIntegerField(_("final grade"), null=True)
    vetoed = models.BooleanField(_("vetoed"), default=False)
    capped = models.BooleanField(_("lowered by the top-grade cap"), default=False)
    worst_share = models.DecimalField(_("share of the worst grade"), max_digits=5, decimal_places=4, null=True)
    counted_groups = models.PositiveSmallIntegerField(_("groups counted"), default=0)
    computed_at = models.DateTimeField(_("computed at"))

    class Meta:
        verbose_name = _("review result")
        verbose_name_plural = _("review results")

    def __str__(self):
        return f"{self.reportee} · {self.total}"


class ConsequenceKind(models.TextChoices):
    NO_SUBSIDY = "no_subsidy", _("no performance subsidy")
    NO_AWARDS = "no_awards", _("no awards for one year")
    TALK = "talk", _("admonishment talk")
    RESIGN = "resign", _("recommendation to resign or be recalled")


class ConsequenceStatus(models.TextChoices):
    RECOMMENDED = "recommended", pgettext_lazy("consequence", "recommended")
    ADOPTED = "adopted", _("adopted by the party committee")
    NOT_ADOPTED = "not_adopted", _("not adopted")
    DONE = "done", _("carried out")


class Consequence(Model):
    """结果运用: recommended by the platform from a final grade, decided by the party committee,
    tracked until done; each linked to the result that caused it."""

    result = models.ForeignKey(
        ReviewResult, verbose_name=_("review result"), on_delete=models.PROTECT, related_name="consequences"
    )
    person = models.ForeignKey(Person, verbose_name=_("person"), on_delete=models.PROTECT, related_name="consequences")
    kind = models.CharField(_("consequence"), max_length=12, choices=ConsequenceKind.choices)
    # The year the bar applies to (no subsidy, no awards): the year after the review.
    applies_to = models.PositiveSmallIntegerField(_("applies to the year"))
    status = models.CharField(
        _("status"), max_length=12, choices=ConsequenceStatus.choices, default=ConsequenceStatus.RECOMMENDED
    )
    decided_on = models.DateField(_("decided on"), null=True, blank=True)
    done_on = models.DateField(_("carried out on"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    admonishment = models.OneToOneField(
        Admonishment,
        verbose_name=_("admonishment"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="review_consequence",
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("consequence")
        verbose_name_plural = _("consequences")
        ordering = ["result", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["result", "kind"], name="consequence_once_per_result"),
            models.CheckConstraint(
                condition=Q(status="recommended") | Q(decided_on__isnull=False), name="consequence_decided_has_date"
            ),
            models.CheckConstraint(
                condition=~Q(status="done") | Q(done_on__isnull=False), name="consequence_done_date"
            ),
        ]

    def __str__(self):
        return f"{self.person} · {self.get_kind_display()}"


class PastResult(Model):
    """A final grade from an earlier year, imported from the 历年测评结果 sheet (or typed), so
    that "不称职 two years running" can be seen for years before the platform."""

    person = models.ForeignKey(Person, verbose_name=_("person"), on_delete=models.PROTECT, related_name="past_results")
    organization = models.ForeignKey(
        Organization, verbose_name=_("organization"), on_delete=models.PROTECT, related_name="+"
    )
    post_label = models.CharField(_("post"), max_length=100)
    year = models.PositiveSmallIntegerField(_("year"))
    grade_label = models.CharField(_("grade"), max_length=10)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("past review result")
        verbose_name_plural = _("past review results")
        ordering = ["-year"]
        constraints = [models.UniqueConstraint(fields=["person", "year"], name="past_result_once_a_year")]

    def __str__(self):
        return f"{self.person} · {self.year} · {self.grade_label}"
