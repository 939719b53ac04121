"""The results of a review (DESIGN.md 6), with its defaults:

- a group's score is the mean of its ballots' points (a grade ballot is worth 100 / 80 / 60 / 0
  from the best grade down; a score ballot its score, the mean of its dimensions); abstentions
  are not counted;
- a group counts when its valid ballots (phone ballots plus accepted paper ones) reach the
  quorum, two thirds of its expected raters; no group at quorum → no result;
- the weighted score is Σ weight × group score / Σ weight over the groups counted (weights
  re-normalized over them);
- the final grade goes by the thresholds (≥ 90 / ≥ 70 / ≥ 60 / below); a veto — the worst
  grade, pooled over the groups counted, reaching one half of the ballots that rated — gives
  the worst grade whatever the score; an optional cap on the top grade lets only that share of
  the reportees keep it, in rank order, the rest falling to the next grade (reportees tied at
  the boundary are treated alike: if they do not all fit, none of them keeps it);
- every score and total is rounded to two decimals, half up, before it is compared or graded.

Counting is one pass of filtered aggregates over the ballot answers and one over the paper
tally lines (the database does the work that grows with the ballots); what is left — a few rows
per reportee and group — is combined here in exact Decimal arithmetic, the same on SQLite and
PostgreSQL, and written back in one transaction. Running it twice gives the same rows.
"""

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone

from .models import (
    MAX_GRADES,
    BallotAnswer,
    GroupResult,
    Outcome,
    PaperTally,
    PaperTallyLine,
    RaterGroup,
    Reportee,
    ReviewResult,
    ReviewSession,
    State,
)

CENT = Decimal("0.01")


def round2(value):
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def grade_of(score, thresholds):
    """The index of the grade a (rounded) score earns: the first threshold it reaches."""
    for index, threshold in enumerate(thresholds):
        if score >= Decimal(str(threshold)):
            return index
    return len(thresholds)


@dataclass
class Tally:
    """What the ballots of one group say about one reportee."""

    grades: list = field(default_factory=lambda: [0] * MAX_GRADES)
    abstained: int = 0
    score_sum: Decimal = Decimal(0)
    phone_ballots: int = 0  # answers from phone ballots (rated or abstained)

    @property
    def rated(self):
        return sum(self.grades)

    def add(self, grades, abstained, score_sum):
        self.grades = [a + (b or 0) for a, b in zip(self.grades, grades, strict=True)]
        self.abstained += abstained or 0
        self.score_sum += Decimal(score_sum or 0)


def _grade_counts(prefix=""):
    return {f"g{i}": Count(f"{prefix}grade", filter=Q(**{f"{prefix}grade": i})) for i in range(MAX_GRADES)}


def tallies(session):
    """{(reportee id, group id): Tally} from the phone answers and the accepted paper counts:
    two grouped queries, whatever the number of ballots."""
    found = {}
    phone = (
        BallotAnswer.objects.filter(group__venue__session=session)
        .values("reportee_id", "group_id")
        .annotate(
            abstained=Count("ballot_id", filter=Q(grade__isnull=True)),
            score_sum=Sum("score"),
            **_grade_counts(),
        )
        .order_by()
    )
    for row in phone:
        tally = found.setdefault((row["reportee_id"], row["group_id"]), Tally())
        grades = [row[f"g{i}"] for i in range(MAX_GRADES)]
        tally.add(grades, row["abstained"], row["score_sum"])
        tally.phone_ballots = sum(grades) + row["abstained"]
    paper = (
        PaperTallyLine.objects.filter(tally__group__venue__session=session)
        .values("reportee_id", "tally__group_id")
        .annotate(
            abstained_sum=Sum("abstained"),
            score=Sum("score_sum"),
            **{f"g{i}": Sum(f"grade_{i}") for i in range(MAX_GRADES)},
        )
        .order_by()
    )
    for row in paper:
        found.setdefault((row["reportee_id"], row["tally__group_id"]), Tally()).add(
            [row[f"g{i}"] for i in range(MAX_GRADES)], row["abstained_sum"], row["score"]
        )
    return found


def valid_ballots(session, found):
    """{group id: valid ballots}: phone ballots plus the valid ballots of accepted paper counts.
    Every phone ballot answers for every reportee of its venue (ballot_cast refuses one that does
    not, and who reports at a venue is fixed before rating opens), so a group's phone ballots
    are the answers of any one of its reportees: no second pass over the ballots is needed."""
    counts = {}
    for (_reportee_id, group_id), tally in found.items():
        if tally.phone_ballots > counts.get(group_id, 0):
            counts[group_id] = tally.phone_ballots
    for group_id, valid in PaperTally.objects.filter(group__venue__session=session).values_list("group_id", "valid"):
        counts[group_id] = counts.get(group_id, 0) + valid
    return counts


def at_quorum(session, valid, expected):
    return valid * session.quorum_denominator >= session.quorum_numerator * expected


def vetoed(session, worst, rated):
    if not rated or not session.veto_numerator:  # a veto share of 0 (or none): no veto
        return False
    left, right = worst * session.veto_denominator, session.veto_numerator * rated
    return left > right if session.veto_strict else left >= right


@dataclass
class Computed:
    reportee_id: int
    groups: list  # GroupResult (unsaved)
    outcome: str
    total: Decimal | None = None
    grade: int | None = None
    vetoed: bool = False
    capped: bool = False
    worst_share: Decimal | None = None


def compute_rows(session):
    """The results as unsaved rows, without writing: (reportee results, their group results)."""
    groups = {group.pk: group for group in RaterGroup.objects.filter(venue__session=session)}
    found = tallies(session)
    valid = valid_ballots(session, found)
    attends = {}
    memberships = Reportee.venues.through.objects.filter(reportee__session=session)
    for reportee_id, venue_id in memberships.values_list("reportee_id", "venue_id"):
        attends.setdefault(reportee_id, set()).add(venue_id)
    venue_groups = {}
    for group in groups.values():
        venue_groups.setdefault(group.venue_id, []).append(group)
    computed = []
    for reportee_id in session.reportees.order_by("order", "pk").values_list("pk", flat=True):
        rows = []
        for venue_id in sorted(attends.get(reportee_id, ())):
            for group in venue_groups.get(venue_id, []):
                tally = found.get((reportee_id, group.pk), Tally())
                mean = round2(tally.score_sum / tally.rated) if tally.rated else None
                quorum = at_quorum(session, valid.get(group.pk, 0), group.expected)
                rows.append(
                    GroupResult(
                        reportee_id=reportee_id,
                        group=group,
                        valid_ballots=valid.get(group.pk, 0),
                        rated=tally.rated,
                        abstained=tally.abstained,
                        **{f"grade_{i}": tally.grades[i] for i in range(MAX_GRADES)},
                        mean=mean,
                        counted=quorum and mean is not None,
                    )
                )
        computed.append(_reportee_result(session, reportee_id, rows))
    _cap_apply(session, computed)
    return computed


def _reportee_result(session, reportee_id, rows):
    counted = [row for row in rows if row.counted]
    if not any(at_quorum(session, row.valid_ballots, row.group.expected) for row in rows):
        return Computed(reportee_id, rows, Outcome.NO_QUORUM)
    if not counted:
        return Computed(reportee_id, rows, Outcome.NO_BALLOTS)
    weights = sum((row.group.weight for row in counted), Decimal(0))
    total = round2(sum((row.group.weight * row.mean for row in counted), Decimal(0)) / weights)
    worst = sum(row.distribution[session.worst] for row in counted)
    rated = sum(row.rated for row in counted)
    result = Computed(
        reportee_id,
        rows,
        Outcome.RESULT,
        total=total,
        grade=grade_of(total, session.thresholds),
        worst_share=(Decimal(worst) / rated).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP),
    )
    if vetoed(session, worst, rated):
        result.vetoed, result.grade = True, session.worst
    return result


def _cap_apply(session, computed):
    """The optional cap on the top grade: quota = ⌊reportees with a result × cap⌋."""
    if session.cap_numerator is None:
        return
    graded = [row for row in computed if row.outcome == Outcome.RESULT]
    quota = len(graded) * session.cap_numerator // session.cap_denominator
    top = sorted((row for row in graded if row.grade == 0), key=lambda row: row.total, reverse=True)
    kept, index = 0, 0
    while index < len(top):
        tied = [row for row in top[index:] if row.total == top[index].total]
        if kept + len(tied) <= quota:
            kept += len(tied)
        else:
            for row in top[index:]:
                row.grade, row.capped = 1, True
            return
        index += len(tied)


@transaction.atomic
def compute(session):
    """Work out and store the results of a review; idempotent (the rows are replaced). Only a
    closed review: once published, its results are final (a late or repeated job does nothing)."""
    session = ReviewSession.objects.select_for_update().get(pk=session.pk)
    if session.state != State.CLOSED:
        return None
    computed = compute_rows(session)
    now = timezone.now()
    # Results are worked out before publication, when no consequence refers to them yet.
    ReviewResult.objects.filter(reportee__session=session).delete()
    GroupResult.objects.filter(reportee__session=session).delete()
    GroupResult.objects.bulk_create([row for result in computed for row in result.groups], batch_size=1000)
    ReviewResult.objects.bulk_create(
        [
            ReviewResult(
                reportee_id=result.reportee_id,
                outcome=result.outcome,
                total=result.total,
                grade=result.grade,
                vetoed=result.vetoed,
                capped=result.capped,
                worst_share=result.worst_share,
                counted_groups=sum(1 for row in result.groups if row.counted),
                computed_at=now,
            )
            for result in computed
        ],
        batch_size=1000,
    )
    ReviewSession.objects.filter(pk=session.pk).update(results_at=now)
    return computed
