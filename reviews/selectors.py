"""Reads of the reviews app, scoped through the spine's permissions."""

from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Prefetch, Q
from django.utils import timezone

from checklists.selectors import checklist_facts, duty_facts
from organizations.models import Organization
from organizations.permissions import Action, has_permission, organizations_where
from organizations.subtree import children_with_rollup, rollup_by_child, within
from supervision.selectors import admonishment_counts, problem_facts

from .models import (
    Ballot,
    BallotAnswer,
    CodeBatch,
    Consequence,
    ConsequenceKind,
    GroupResult,
    Outcome,
    PaperEntry,
    PaperTally,
    RaterGroup,
    Reportee,
    ReviewResult,
    ReviewSession,
    State,
)

# DESIGN.md 6: no grade distribution is shown for a group with fewer than 5 ballots.
MIN_BALLOTS_FOR_DISTRIBUTION = 5


def _reporting_in(user):
    return Reportee.objects.filter(person__user=user).values("session")


def sessions_visible(user):
    """Reviews whose organizer the user may read the results of, or set up — except those in
    which the user reports: a reportee sees only his or her own result (DESIGN.md 6), even one
    who also holds a role at the organizer."""
    return ReviewSession.objects.filter(organizer__in=organizations_where(user, Action.READ_REVIEW_RESULTS)).exclude(
        pk__in=_reporting_in(user)
    )


def sessions_matching(user, query):
    """Review sessions the user may read, by title."""
    query = query.strip()
    if not query:
        return ReviewSession.objects.none()
    return sessions_visible(user).filter(title__contains=query).select_related("organizer").order_by("-year", "pk")


def sessions_manageable(user):
    return ReviewSession.objects.filter(organizer__in=organizations_where(user, Action.SET_UP_REVIEW))


def may_manage(user, session):
    return has_permission(user, Action.SET_UP_REVIEW, session.organizer)


def may_read_results(user, session):
    return (
        has_permission(user, Action.READ_REVIEW_RESULTS, session.organizer)
        and not session.reportees.filter(person__user=user).exists()
    )


def session_list(user, *, year=None):
    sessions = (
        sessions_visible(user)
        .select_related("organizer")
        .annotate(reportee_count=Count("reportees", distinct=True), venue_count=Count("venues", distinct=True))
    )
    if year:
        sessions = sessions.filter(year=year)
    return sessions.order_by("-year", "organizer__path", "-pk")


def reportees_of(session):
    return (
        session.reportees.select_related("person", "organization__parent__parent", "report", "checked_by")
        .prefetch_related("venues")
        .order_by("order", "pk")
    )


def venues_of(session):
    return (
        session.venues.select_related("organization__parent")
        .prefetch_related(Prefetch("groups", queryset=RaterGroup.objects.order_by("position", "pk")))
        .annotate(reportee_count=Count("reportees", distinct=True))
    )


def my_reportees(user):
    """The reviews in which the user (the person behind the account) reports."""
    return Reportee.objects.filter(person__user=user).select_related(
        "session__organizer", "organization__parent__parent", "result"
    )


# --- pre-report check --------------------------------------------------------------------------


def precheck_facts(reportees, *, year, today=None):
    """What the platform holds beside each report (DESIGN.md 6, 述前考核): completion scores
    and late / overdue items of the organization's checklists, duty-record months sent up and
    approved, open and overdue problems, admonishments of the person. A handful of grouped
    queries for the whole list, attached to each reportee as .facts."""
    today = today or timezone.localdate()
    reportees = list(reportees)
    organization_ids = {reportee.organization_id for reportee in reportees}
    checklists = checklist_facts(organization_ids, year=year, on=today)
    duty = duty_facts(organization_ids, year=year)
    problems = problem_facts(organization_ids, today=today)
    admonishments = admonishment_counts({reportee.person_id for reportee in reportees})
    for reportee in reportees:
        organization = reportee.organization_id
        reportee.facts = {
            "checklists": checklists.get(organization, []),
            "duty": duty.get(organization, {"sent": 0, "approved": 0}),
            "problems": problems.get(organization, {"open": 0, "overdue": 0}),
            "admonishments": admonishments.get(reportee.person_id, 0),
        }
    return reportees


# --- the meeting -----------------------------------------------------------------------------------


def live_tally(venue):
    """Per group of the venue: ballots in (phone ballots, and the valid ballots of an accepted
    paper count) against the expected number. Counts only: never a result while voting is open."""
    groups = list(venue.groups.order_by("position", "pk"))
    phone = dict(
        Ballot.objects.filter(venue=venue).values("group_id").annotate(n=Count("id")).values_list("group_id", "n")
    )
    paper = dict(PaperTally.objects.filter(group__venue=venue).values_list("group_id", "valid"))
    entries = dict(
        PaperEntry.objects.filter(group__venue=venue)
        .values("group_id")
        .annotate(n=Count("pk"))
        .values_list("group_id", "n")
    )
    codes = dict(
        CodeBatch.objects.filter(group__venue=venue, voided=False)
        .values("group_id")
        .annotate(n=Count("pk"))
        .values_list("group_id", "n")
    )
    for group in groups:
        group.phone = phone.get(group.pk, 0)
        group.paper = paper.get(group.pk)
        group.entry_count = entries.get(group.pk, 0)
        group.has_codes = bool(codes.get(group.pk))
        group.received = group.phone + (group.paper or 0)
        group.percent = min(100, group.received * 100 // group.expected) if group.expected else 0
        group.quorum_met = group.received * venue.session.quorum_denominator >= (
            venue.session.quorum_numerator * group.expected
        )
    return groups


def batches_of(venue):
    """The printings of code slips. How many of a printing's codes were used is not shown: a
    printing of one slip for a known person would tell whether, and when, that person voted."""
    return CodeBatch.objects.filter(group__venue=venue).select_related("group", "created_by").order_by("-created_at")


# --- results ---------------------------------------------------------------------------------------


def results_table(session):
    """Every reportee with its result and group results, ready to show: distributions hidden
    for groups with fewer than 5 ballots that rated."""
    reportees = list(
        reportees_of(session)
        .select_related("result")
        .prefetch_related(
            Prefetch(
                "group_results",
                queryset=GroupResult.objects.select_related("group__venue").order_by(
                    "group__venue__position", "group__position"
                ),
            )
        )
    )
    grades = session.grades
    for reportee in reportees:
        reportee.result_row = getattr(reportee, "result", None)
        for row in reportee.group_results.all():
            # Fewer than 5 ballots: neither distribution nor mean, which would give the ballots away.
            row.show_distribution = row.rated >= MIN_BALLOTS_FOR_DISTRIBUTION
            row.cells = list(zip(grades, row.distribution[: len(grades)], strict=True))
    return reportees


def opinions(session):
    """{reportee id: [opinion, …]}: what raters wrote in the 意见 box, for the organizer. The
    order is by text, not by ballot: nothing hints at which ballot wrote what."""
    found = {}
    for reportee_id, comment in (
        BallotAnswer.objects.filter(group__venue__session=session)
        .exclude(comment="")
        .order_by("reportee_id", "comment")
        .values_list("reportee_id", "comment")
    ):
        found.setdefault(reportee_id, []).append(comment)
    return found


def share_good(results):
    """The share rated the second grade (称职, 较好, 基本满意) or better, in percent, one decimal."""
    graded = [row for row in results if row.outcome == Outcome.RESULT]
    if not graded:
        return None
    good = sum(1 for row in graded if row.grade is not None and row.grade <= 1)
    return (Decimal(good) * 100 / len(graded)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def session_share(session):
    return share_good(ReviewResult.objects.filter(reportee__session=session))


def grade_shares_by_child(organization, user, *, year):
    """The share rated 称职 (or the set's second grade) or better over the published results of
    the year whose reportees work in each child's subtree (DESIGN.md 6: per town and county),
    one grouped query; children with no result are listed with no share."""
    results = ReviewResult.objects.filter(
        outcome=Outcome.RESULT,
        reportee__session__year=year,
        reportee__session__state=State.PUBLISHED,
        reportee__session__in=sessions_visible(user),
    )
    rollup = rollup_by_child(
        results,
        organization,
        through="reportee__organization__",
        graded=Count("pk"),
        good=Count("pk", filter=Q(grade__lte=1)),
    )
    children = Organization.objects.filter(parent=organization, pk__in=organizations_where(user, Action.VIEW))
    rows = children_with_rollup(children.order_by("code"), rollup, {"graded": 0, "good": 0})
    for row in rows:
        row.share = (
            (Decimal(row.good) * 100 / row.graded).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
            if row.graded
            else None
        )
    overall = results.filter(within(organization, through="reportee__organization__")).aggregate(
        graded=Count("pk"), good=Count("pk", filter=Q(grade__lte=1))
    )
    overall["share"] = (
        (Decimal(overall["good"]) * 100 / overall["graded"]).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
        if overall["graded"]
        else None
    )
    return rows, overall


def consequences_of(session):
    return (
        Consequence.objects.filter(result__reportee__session=session)
        .select_related("person", "result__reportee__organization__parent__parent", "decided_by", "admonishment")
        .order_by("result__reportee__order", "kind")
    )


def barred(organization, user, *, year, kind):
    """People barred in `year` (no performance subsidy, or no awards) by an adopted consequence
    of a review of organizations in the subtree — only of reviews whose results the user reads."""
    return (
        Consequence.objects.filter(
            within(organization, through="result__reportee__organization__"),
            result__reportee__session__in=sessions_visible(user) if user is not None else ReviewSession.objects.all(),
            applies_to=year,
            kind__in=[kind] if isinstance(kind, str) else kind,
            status__in=["adopted", "done"],
        )
        .select_related("person", "result__reportee__organization__parent__parent", "result__reportee__session")
        .order_by("result__reportee__organization__path")
    )


BARS = {ConsequenceKind.NO_SUBSIDY, ConsequenceKind.NO_AWARDS}


def venue_has_ballots(venue):
    return Ballot.objects.filter(venue=venue).exists()


def _secretary_results(organization_ids, year):
    from organizations.models import PostTitle

    return ReviewResult.objects.filter(
        outcome=Outcome.RESULT,
        reportee__organization_id__in=organization_ids,
        reportee__post__title=PostTitle.SECRETARY,
        reportee__session__year=year,
        reportee__session__state=State.PUBLISHED,
    ).order_by("reportee__session__ends_on", "reportee__session_id")


def secretary_review_totals(organization_ids, *, year):
    """{organization id: weighted review score of its secretary} from the published reviews of
    the year (DESIGN.md 5: the mass-evaluation component of scoring reads this, and only this);
    when a secretary reported in several, the latest review counts."""
    return dict(_secretary_results(organization_ids, year).values_list("reportee__organization_id", "total"))


def secretary_review_of(organization, *, year):
    """The review result secretary_review_totals takes for the organization, with its session and
    reportee, for scoring's explanation page; None if there is none."""
    return _secretary_results([organization.pk], year).select_related("reportee__session", "reportee__person").last()
