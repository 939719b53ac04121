"""Every write of the reviews app, each in one transaction with its operation-log rows, except
ballots: a ballot is anonymous by design, so casting one records no actor, time or history
(DESIGN.md 6; the code it used is marked spent in the same transaction)."""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from checklists.services import attachments_for
from config.numbers import plain
from notifications.services import notify
from organizations.models import Post, PostTitle
from supervision import services as supervision
from supervision.models import Source

from . import results
from .codes import code_digest, code_new, code_normalize
from .models import (
    DEFAULT_POINTS,
    DEFAULT_THRESHOLDS,
    DIMENSIONS,
    GRADES,
    MAX_GRADES,
    Ballot,
    BallotAnswer,
    BallotCode,
    CodeBatch,
    Consequence,
    ConsequenceKind,
    ConsequenceStatus,
    PaperEntry,
    PaperTally,
    PaperTallyLine,
    PastResult,
    RaterGroup,
    Reportee,
    ReviewResult,
    ReviewSession,
    State,
    Venue,
    Verdict,
)

MAX_CODES_PER_BATCH = 2000


def _save(instance, *, actor, reason):
    instance.full_clean()
    instance._history_user = actor
    instance._change_reason = reason
    instance.save()
    return instance


def _editable(session):
    if not session.is_editable:
        raise ValidationError(
            _("The review is %(state)s: its set-up can no longer change.") % {"state": session.get_state_display()}
        )


# --- sessions ------------------------------------------------------------------------------


def _rules_check(session):
    grades = len(GRADES[session.grade_set])
    top = Decimal(session.score_max) if session.scored else None
    if not session.points:
        session.points = DEFAULT_POINTS[grades]
    if not session.thresholds:
        # The default thresholds are in percent of the best: a score ballot out of 10 is graded
        # by 9 / 7 / 6, not by 90 / 70 / 60.
        scale = Decimal(session.score_max) / 100 if session.scored else Decimal(max(session.points)) / 100
        session.thresholds = [float(Decimal(t) * scale) for t in DEFAULT_THRESHOLDS[grades]]
    if len(session.points) != grades:
        raise ValidationError({"points": _("Give one point value per grade, best first.")})
    if list(session.points) != sorted(session.points, reverse=True):
        raise ValidationError({"points": _("Points go from the best grade down.")})
    if len(session.thresholds) != grades - 1:
        raise ValidationError({"thresholds": _("Give one threshold fewer than there are grades.")})
    if list(session.thresholds) != sorted(session.thresholds, reverse=True):
        raise ValidationError({"thresholds": _("Thresholds go from the best grade down.")})
    best = top if top is not None else Decimal(str(max(session.points)))
    if Decimal(str(session.thresholds[0])) > best:
        raise ValidationError(
            {"thresholds": _("A threshold above %(best)s can never be reached.") % {"best": plain(best)}}
        )
    if session.veto_numerator > session.veto_denominator or session.quorum_numerator > session.quorum_denominator:
        raise ValidationError(_("A share cannot be more than one whole."))
    if session.cap_numerator is not None and session.cap_numerator > session.cap_denominator:
        raise ValidationError({"cap": _("A share cannot be more than one whole.")})
    unknown = set(session.dimensions) - set(DIMENSIONS)
    if unknown or (session.dimensions and not session.scored):
        raise ValidationError({"dimensions": _("Dimensions (德、能、勤、绩、廉) are rated with scores.")})


@transaction.atomic
def session_create(*, actor, organizer, **fields):
    session = ReviewSession(organizer=organizer, created_by=actor, **fields)
    _rules_check(session)
    return _save(session, actor=actor, reason=_("created"))


@transaction.atomic
def session_update(*, actor, session, **fields):
    session = ReviewSession.objects.select_for_update().get(pk=session.pk)
    _editable(session)
    if "grade_set" in fields and fields["grade_set"] != session.grade_set:
        fields.setdefault("points", [])
        fields.setdefault("thresholds", [])
    for name, value in fields.items():
        setattr(session, name, value)
    _rules_check(session)
    return _save(session, actor=actor, reason=_("rules changed"))


# state → (states it may come from, verb of the operation log)
ADVANCES = {
    State.PRE_CHECK: ({State.PREPARING}, gettext_noop("pre-report check started")),
    State.PREPARING: ({State.PRE_CHECK}, gettext_noop("back to preparing")),
    State.OPEN: ({State.PRE_CHECK}, gettext_noop("rating opened")),
    State.CLOSED: ({State.OPEN}, gettext_noop("rating closed")),
    State.PUBLISHED: ({State.CLOSED}, gettext_noop("results published")),
}


@transaction.atomic
def session_advance(*, actor, session, to):
    """Move the review on: preparing → pre-check → open → closed → published. Each step checks
    what it needs; closing works out the results (a job) and publishing recommends the
    consequences. A conditional update, so two organizers cannot both move it."""
    sources, verb = ADVANCES[to]
    session = ReviewSession.objects.select_for_update().get(pk=session.pk)
    if session.state not in sources:
        raise ValidationError(
            _("This cannot be done now: the review is %(state)s.") % {"state": session.get_state_display()}
        )
    if to == State.PRE_CHECK:
        _ready_check(session)
    if to == State.OPEN:
        pending = session.reportees.filter(check_verdict=Verdict.PENDING).count()
        if pending:
            raise ValidationError(
                _("%(count)s pre-report checks are still pending: the rating cannot open.") % {"count": pending}
            )
    if to == State.CLOSED:
        _paper_agreed_check(session)
    if to == State.PUBLISHED and session.results_at is None:
        raise ValidationError(_("The results are still being worked out; publish them when they are ready."))
    session.state = to
    _save(session, actor=actor, reason=_(verb))
    if to == State.CLOSED:
        _codes_purge(session)
        from .tasks import results_compute

        results_compute.delay_on_commit(session.pk)
    if to == State.PUBLISHED:
        consequences_recommend(actor=actor, session=session)
        _notify_reportees(session)
    return session


def _ready_check(session):
    homeless = session.reportees.filter(venues__isnull=True).values_list("person__name", flat=True)
    if homeless:
        raise ValidationError(_("%(names)s are rated at no venue yet.") % {"names": "、".join(homeless)})
    venues = list(session.venues.all())
    if not venues:
        raise ValidationError(_("Add at least one venue first."))
    for venue in venues:
        if not venue.groups.exists():
            raise ValidationError(_("The venue %(venue)s has no rater group yet.") % {"venue": venue.name})
        if not venue.reportees.exists():
            raise ValidationError(_("Nobody reports at the venue %(venue)s yet.") % {"venue": venue.name})


def _paper_agreed_check(session):
    """Closing needs every paper count entered twice to agree: a group with one entry, or two
    that differ, would silently lose its ballots."""
    groups = RaterGroup.objects.filter(venue__session=session, paper_entries__isnull=False, tally__isnull=True)
    names = sorted({str(group) for group in groups})
    if names:
        raise ValidationError(
            _("The paper counts of %(groups)s have not been agreed by two tellers yet.") % {"groups": "、".join(names)}
        )


def _codes_purge(session):
    """Once rating is closed the codes serve nothing: their hashes are deleted (the batches keep
    the counts), so that nothing of them is left to be matched with a ballot."""
    BallotCode.objects.filter(batch__group__venue__session=session).delete()


def _notify_reportees(session):
    users = [
        reportee.person.user for reportee in session.reportees.select_related("person__user") if reportee.person.user
    ]
    notify(
        users=users,
        title=_("The results of %(session)s are published") % {"session": session.title},
        url=reverse("reviews:mine"),
        key=f"review-published:{session.pk}",
    )


# --- venues, groups, reportees ---------------------------------------------------------------


@transaction.atomic
def venue_add(*, actor, session, **fields):
    _editable(session)
    fields.setdefault("position", session.venues.count() + 1)
    return _save(Venue(session=session, **fields), actor=actor, reason=_("venue added"))


@transaction.atomic
def venue_update(*, actor, venue, **fields):
    _editable(venue.session)
    for name, value in fields.items():
        setattr(venue, name, value)
    return _save(venue, actor=actor, reason=_("venue changed"))


@transaction.atomic
def group_add(*, actor, venue, name, weight, expected):
    _editable(venue.session)
    group = RaterGroup(venue=venue, name=name.strip(), weight=weight, expected=expected)
    group.position = venue.groups.count() + 1
    return _save(group, actor=actor, reason=_("rater group added"))


@transaction.atomic
def group_update(*, actor, group, **fields):
    _editable(group.venue.session)
    for name, value in fields.items():
        setattr(group, name, value)
    return _save(group, actor=actor, reason=_("rater group changed"))


@transaction.atomic
def group_remove(*, actor, group):
    _editable(group.venue.session)
    if group.batches.exists() or group.paper_entries.exists():
        raise ValidationError(_("Codes were printed or paper counts entered for this group; it stays."))
    group._history_user, group._change_reason = actor, _("rater group removed")
    group.delete()


def _post_label(posts):
    return "、".join(str(post.get_title_display()) for post in posts)


@transaction.atomic
def reportees_add(*, actor, session, organizations, titles, venues=(), own_venue=True):
    """Everyone holding one of `titles` today at one of `organizations` reports, once each (one
    who holds two of the posts, "一肩挑", reports once, under both). They rate at `venues` and,
    with own_venue, at every venue of the session held at their own organization."""
    _editable(session)
    today = timezone.localdate()
    posts = (
        Post.objects.current(today)
        .filter(organization__in=organizations, title__in=titles)
        .select_related("person", "organization")
        .order_by("organization__path", "title", "pk")
    )
    by_person = {}
    for post in posts:
        by_person.setdefault((post.person_id, post.organization_id), []).append(post)
    rank = {title: index for index, title in enumerate(PostTitle)}
    existing = set(session.reportees.values_list("person_id", flat=True))
    order = session.reportees.count()
    added = []
    all_venues = list(session.venues.all())
    for (person_id, _organization_id), held in by_person.items():
        if person_id in existing:
            continue
        held.sort(key=lambda post: rank[post.title])
        order += 1
        reportee = _save(
            Reportee(
                session=session,
                person=held[0].person,
                post=held[0],
                post_label=_post_label(held),
                organization=held[0].organization,
                order=order,
            ),
            actor=actor,
            reason=_("reportee added"),
        )
        existing.add(person_id)
        attend = {venue.pk for venue in venues}
        if own_venue:
            attend |= {venue.pk for venue in all_venues if venue.organization_id == reportee.organization_id}
        reportee.venues.set(attend)
        added.append(reportee)
    return added


@transaction.atomic
def reportee_update(*, actor, reportee, **fields):
    _editable(reportee.session)
    venues = fields.pop("venues", None)
    for name, value in fields.items():
        setattr(reportee, name, value)
    _save(reportee, actor=actor, reason=_("reportee changed"))
    if venues is not None:
        reportee.venues.set(venues)
    return reportee


@transaction.atomic
def reportee_remove(*, actor, reportee):
    _editable(reportee.session)
    reportee._history_user, reportee._change_reason = actor, _("reportee removed")
    reportee.delete()


@transaction.atomic
def report_upload(*, actor, reportee, upload):
    """The written 述职报告, under the same upload rules as evidence (type checked by content,
    size limit), kept as a file of the reportee's organization."""
    reportee = Reportee.objects.select_for_update().select_related("session").get(pk=reportee.pk)
    if reportee.session.state not in {State.PREPARING, State.PRE_CHECK, State.OPEN}:
        raise ValidationError(_("The review is closed: the report can no longer change."))
    (attachment,) = attachments_for(actor=actor, organization=reportee.organization, uploads=[upload], existing_ids=[])
    reportee.report = attachment
    return _save(reportee, actor=actor, reason=_("report uploaded"))


# --- the pre-report check and the meeting ----------------------------------------------------


@transaction.atomic
def precheck_record(*, actor, reportee, verdict, notes=""):
    """述前考核: the checker's verdict on the report against the platform's records."""
    reportee = Reportee.objects.select_for_update().select_related("session").get(pk=reportee.pk)
    if reportee.session.state != State.PRE_CHECK:
        raise ValidationError(_("Pre-report checks are recorded while the review is in its pre-report check."))
    if verdict == Verdict.PENDING:
        raise ValidationError({"verdict": _("Choose a verdict.")})
    if verdict != Verdict.CONSISTENT and not notes.strip():
        raise ValidationError({"notes": _("Say what does not match the records.")})
    reportee.check_verdict, reportee.check_notes = verdict, notes.strip()
    reportee.checked_by, reportee.checked_at = actor, timezone.now()
    return _save(reportee, actor=actor, reason=_("pre-report check recorded"))


@transaction.atomic
def comment_record(*, actor, reportee, comment, commented_by, problems=()):
    """The superior's 点评 on a reportee; each point in `problems` ({category, description,
    deadline}) is listed straight into problem tracking (source 述职评议点评) through
    supervision's service, and linked back to the reportee."""
    reportee = Reportee.objects.select_for_update().select_related("session", "organization").get(pk=reportee.pk)
    if reportee.session.state not in {State.OPEN, State.CLOSED}:
        raise ValidationError(_("Comments are recorded at the meeting, once the rating has opened."))
    reportee.comment, reportee.commented_by = comment.strip(), commented_by.strip()
    _save(reportee, actor=actor, reason=_("comments recorded"))
    today = timezone.localdate()
    listed = []
    for point in problems:
        problem = supervision.problem_list(
            actor=actor,
            organization=reportee.organization,
            source=Source.REVIEW_COMMENT,
            category=point["category"],
            description=point["description"],
            found_on=today,
            found_by=commented_by.strip() or actor.full_name,
            deadline=point["deadline"],
            responsible_person=reportee.person,
        )
        listed.append(problem)
    if listed:
        reportee.problems.add(*listed)
    return reportee, listed


# --- one-time codes and phone ballots --------------------------------------------------------


@transaction.atomic
def codes_generate(*, actor, group, count):
    """Print `count` codes for a venue's group: returns the batch and the codes, which exist in
    plain text only in this return value (the printed slips); the database keeps keyed hashes."""
    if not 1 <= count <= MAX_CODES_PER_BATCH:
        raise ValidationError({"count": _("Between 1 and %(max)s codes at a time.") % {"max": MAX_CODES_PER_BATCH}})
    session = group.venue.session
    if session.state not in {State.PREPARING, State.PRE_CHECK, State.OPEN}:
        raise ValidationError(_("The rating is closed: no more codes."))
    group = RaterGroup.objects.select_for_update().get(pk=group.pk)
    printed = CodeBatch.objects.filter(group=group, voided=False).aggregate(n=Sum("count"))["n"] or 0
    if printed + count > group.expected:
        raise ValidationError(
            {
                "count": _(
                    "%(group)s expects %(expected)s raters and %(printed)s codes are printed already: "
                    "void the slips that were lost before printing more."
                )
                % {"group": group.name, "expected": group.expected, "printed": printed}
            }
        )
    batch = _save(CodeBatch(group=group, count=count, created_by=actor), actor=actor, reason=_("codes printed"))
    codes = set()
    while len(codes) < count:
        codes.add(code_new())
    codes = sorted(codes)  # sorted, not in the order drawn: nothing of the drawing is kept
    BallotCode.objects.bulk_create([BallotCode(batch=batch, digest=code_digest(code)) for code in codes])
    return batch, codes


@transaction.atomic
def batch_void(*, actor, batch):
    """Slips lost or printed by mistake: their unused codes stop working."""
    batch.voided = True
    _save(batch, actor=actor, reason=_("codes voided"))
    return BallotCode.objects.filter(batch=batch, used=False).delete()[0]


class BallotRefused(Exception):
    """Why a code cannot vote, in the rater's words; `guess` when the code is not one at all."""

    def __init__(self, message, *, guess=False):
        super().__init__(message)
        self.guess = guess


def ballot_code_lookup(code):
    """The code's venue and group if it can vote now, else BallotRefused with the reason."""
    if not code_normalize(code):
        raise BallotRefused(_("This is not a valid code: check the letters and digits on your slip."), guess=True)
    found = BallotCode.objects.filter(digest=code_digest(code)).select_related("batch__group__venue__session").first()
    if found is None or found.batch.voided:
        raise BallotRefused(
            _("This code is not valid. Check it against your slip, or ask the staff at the venue."), guess=True
        )
    if found.used:
        raise BallotRefused(_("This code has been used already: each code casts one ballot."))
    group = found.batch.group
    if group.venue.session.state != State.OPEN:
        raise BallotRefused(_("Rating is not open at the moment."))
    return group


def _answers_clean(session, reportees, answers):
    """answers = {reportee id: {"abstain": bool, "grade": int | None, "scores": [..] | None,
    "comment": str}} → BallotAnswer fields per reportee, or a ValidationError naming who."""
    cleaned = {}
    points = session.points_decimal
    for reportee in reportees:
        answer = answers.get(reportee.pk) or {}
        comment = (answer.get("comment") or "").strip()[:500]
        if answer.get("abstain"):
            cleaned[reportee.pk] = {"grade": None, "score": None, "dimension_scores": None, "comment": comment}
            continue
        if session.scored:
            scores = answer.get("scores") or []
            expected = len(session.dimensions) or 1
            if len(scores) != expected or any(score is None for score in scores):
                raise ValidationError(_("Give %(name)s a score (or choose abstain).") % {"name": reportee.person.name})
            if any(not 0 <= score <= session.score_max for score in scores):
                raise ValidationError(
                    _("Scores lie between 0 and %(max)s (%(name)s).")
                    % {"max": session.score_max, "name": reportee.person.name}
                )
            score = results.round2(sum(Decimal(str(s)) for s in scores) / len(scores))
            cleaned[reportee.pk] = {
                "grade": results.grade_of(score, session.thresholds),
                "score": score,
                "dimension_scores": [str(s) for s in scores] if session.dimensions else None,
                "comment": comment,
            }
        else:
            grade = answer.get("grade")
            if grade is None or not 0 <= grade < len(points):
                raise ValidationError(
                    _("Choose a grade for %(name)s (or choose abstain).") % {"name": reportee.person.name}
                )
            cleaned[reportee.pk] = {
                "grade": grade,
                "score": points[grade],
                "dimension_scores": None,
                "comment": comment,
            }
    return cleaned


@transaction.atomic
def ballot_cast(*, code, answers):
    """Cast one ballot with a one-time code: the code is spent by one conditional UPDATE, so
    of any number of simultaneous submissions of it exactly one casts a ballot. The ballot
    keeps its venue, group, day and answers; no actor, no code, no time of day."""
    group = ballot_code_lookup(code)
    session = group.venue.session
    reportees = list(group.venue.reportees.select_related("person").order_by("order", "pk"))
    cleaned = _answers_clean(session, reportees, answers)
    # No join in this UPDATE: Django would turn one into `id IN (SELECT …)`, and PostgreSQL does
    # not re-check a subquery after waiting for the row lock, so two submissions could both
    # spend the code. On the row itself, the second waits and then finds used = true. (Voiding
    # a batch deletes its unused codes, so the batch need not be looked at here.)
    spent = BallotCode.objects.filter(digest=code_digest(code), used=False).update(used=True)
    if not spent:
        raise BallotRefused(_("This code has been used already: each code casts one ballot."))
    ballot = Ballot.objects.create(venue_id=group.venue_id, group=group, cast_on=timezone.localdate())
    BallotAnswer.objects.bulk_create(
        [BallotAnswer(ballot=ballot, reportee_id=pk, group=group, **fields) for pk, fields in cleaned.items()]
    )
    return ballot


# --- paper ballots -----------------------------------------------------------------------------


def _paper_clean(session, group, header, counts):
    """The checks of a paper count (DESIGN.md 6): the tally sheet adds up, and no reportee has
    more ratings than there are valid ballots."""
    expected = group.expected
    phone = Ballot.objects.filter(group=group).count()
    if header["present"] + phone > expected:
        raise ValidationError(
            {
                "present": _(
                    "With %(phone)s ballots by phone, at most %(n)s can be present on paper (%(expected)s expected)."
                )
                % {"phone": phone, "n": max(0, expected - phone), "expected": expected}
            }
        )
    if header["issued"] > header["present"]:
        raise ValidationError({"issued": _("More ballots were issued than raters are present.")})
    if header["collected"] > header["issued"]:
        raise ValidationError({"collected": _("More ballots were collected than were issued.")})
    if header["valid"] + header["invalid"] != header["collected"]:
        raise ValidationError({"valid": _("Valid and invalid ballots must add up to those collected.")})
    grades = len(session.points)
    cleaned = {}
    for reportee in group.venue.reportees.select_related("person"):
        row = counts.get(reportee.pk) or {}
        line = [int(row.get(f"grade_{i}") or 0) for i in range(MAX_GRADES)]
        if any(value < 0 for value in line) or any(line[i] for i in range(grades, MAX_GRADES)):
            raise ValidationError(_("Counts are whole numbers of ballots (%(name)s).") % {"name": reportee.person.name})
        abstained = int(row.get("abstained") or 0)
        rated = sum(line)
        if rated + abstained > header["valid"]:
            raise ValidationError(
                _("%(name)s has %(n)s ratings, more than the %(valid)s valid ballots.")
                % {"name": reportee.person.name, "n": rated + abstained, "valid": header["valid"]}
            )
        if session.scored:
            score_sum = Decimal(str(row.get("score_sum") or 0))
            if not 0 <= score_sum <= session.score_max * rated:
                raise ValidationError(
                    _("The sum of scores of %(name)s cannot be more than %(max)s × the ballots that rated.")
                    % {"name": reportee.person.name, "max": session.score_max}
                )
        else:
            score_sum = sum((session.points_decimal[i] * line[i] for i in range(grades)), Decimal(0))
        cleaned[str(reportee.pk)] = [*line, abstained, str(score_sum)]
    return cleaned


@transaction.atomic
def paper_entry_save(*, actor, group, number, teller, counts, **header):
    """One teller's entry of a group's paper count; when both entries are in and agree, the
    tally is accepted. Returns (entry, tally or None, [differences])."""
    group = RaterGroup.objects.select_for_update().select_related("venue__session").get(pk=group.pk)
    session = group.venue.session
    if session.state != State.OPEN:
        raise ValidationError(_("Paper counts are entered while the rating is open."))
    if hasattr(group, "tally"):
        raise ValidationError(_("The two counts of this group agreed and were accepted; they can no longer change."))
    other = group.paper_entries.exclude(number=number).first()
    if other is not None and other.entered_by_id == actor.pk:
        raise ValidationError(_("The second count must be entered by another person."))
    if not teller.strip():
        raise ValidationError({"teller": _("Name the teller who counted.")})
    cleaned = _paper_clean(session, group, header, counts)
    entry = group.paper_entries.filter(number=number).first() or PaperEntry(group=group, number=number)
    entry.teller, entry.counts, entry.entered_by = teller.strip(), cleaned, actor
    for name, value in header.items():
        setattr(entry, name, value)
    _save(entry, actor=actor, reason=_("paper count entered"))
    if other is None:
        return entry, None, []
    differences = paper_differences(session, group, entry, other)
    if differences:
        return entry, None, differences
    tally = _save(PaperTally(group=group, **header), actor=actor, reason=_("paper count accepted"))
    PaperTallyLine.objects.bulk_create(
        [
            PaperTallyLine(
                tally=tally,
                reportee_id=int(pk),
                **{f"grade_{i}": line[i] for i in range(MAX_GRADES)},
                abstained=line[MAX_GRADES],
                score_sum=Decimal(line[MAX_GRADES + 1]),
            )
            for pk, line in cleaned.items()
        ]
    )
    return entry, tally, []


HEADER_FIELDS = ["present", "issued", "collected", "valid", "invalid"]


def paper_differences(session, group, first, second):
    """[(what, first entry's value, second's)] for every cell where the two counts differ."""
    differences = []
    for name in HEADER_FIELDS:
        if getattr(first, name) != getattr(second, name):
            label = PaperEntry._meta.get_field(name).verbose_name
            differences.append((str(label), getattr(first, name), getattr(second, name)))
    labels = [*session.grades, _("abstain")]
    if session.scored:
        labels = [*labels[: len(session.grades)], _("abstain"), _("sum of scores")]
    names = dict(group.venue.reportees.values_list("pk", "person__name"))
    for pk in sorted(set(first.counts) | set(second.counts), key=int):
        a, b = first.counts.get(pk, []), second.counts.get(pk, [])
        columns = [*range(len(session.grades)), MAX_GRADES] + ([MAX_GRADES + 1] if session.scored else [])
        for position, column in enumerate(columns):
            left = a[column] if column < len(a) else None
            right = b[column] if column < len(b) else None
            if left != right:
                differences.append((f"{names.get(int(pk), pk)} · {labels[position]}", left, right))
    return differences


# --- results and consequences --------------------------------------------------------------------


def results_compute_now(*, session_id):
    """The job run on closing (and again on demand): the results of every reportee, set-based."""
    session = ReviewSession.objects.get(pk=session_id)
    return results.compute(session)


@transaction.atomic
def results_recompute(*, actor, session):
    if session.state not in {State.CLOSED}:
        raise ValidationError(_("Results are worked out once the rating is closed and before they are published."))
    ReviewSession.objects.filter(pk=session.pk).update(results_at=None)
    ReviewSession.history.bulk_history_create(
        [ReviewSession.objects.get(pk=session.pk)],
        update=True,
        default_user=actor,
        default_change_reason=_("results recomputed"),
    )
    from .tasks import results_compute

    results_compute.delay_on_commit(session.pk)


# The worst grade of each set as the sheets write it (Chinese fixed values, never translated).
WORST_LABELS = ["不称职", "差", "不满意"]


@transaction.atomic
def consequences_recommend(*, actor, session):
    """结果运用 (DESIGN.md 6): for the worst grade (不称职), no performance subsidy, no awards for
    a year and an admonishment talk (recorded with supervision's admonishments); for the worst
    grade two years running, a recommendation to resign or be recalled. Safe to run twice."""
    worst = ReviewResult.objects.filter(reportee__session=session, grade=session.worst).select_related(
        "reportee__person", "reportee__organization"
    )
    created = []
    for result in worst:
        kinds = [ConsequenceKind.NO_SUBSIDY, ConsequenceKind.NO_AWARDS, ConsequenceKind.TALK]
        if _rated_worst_before(result, session):
            kinds.append(ConsequenceKind.RESIGN)
        for kind in kinds:
            if Consequence.objects.filter(result=result, kind=kind).exists():
                continue
            consequence = Consequence(
                result=result, person=result.reportee.person, kind=kind, applies_to=session.year + 1
            )
            if kind == ConsequenceKind.TALK:
                consequence.admonishment = supervision.admonishment_recommend(
                    actor=actor,
                    organization=result.reportee.organization,
                    person=result.reportee.person,
                    cause=_("rated %(grade)s in %(session)s")
                    % {"grade": session.grades[session.worst], "session": session.title},
                    on=timezone.localdate(),
                )
            created.append(_save(consequence, actor=actor, reason=_("recommended")))
    return created


def _rated_worst_before(result, session):
    person = result.reportee.person_id
    for earlier in ReviewResult.objects.filter(
        reportee__person_id=person, reportee__session__year=session.year - 1, reportee__session__state=State.PUBLISHED
    ).select_related("reportee__session"):
        if earlier.grade is not None and earlier.grade == earlier.reportee.session.worst:
            return True
    return PastResult.objects.filter(person_id=person, year=session.year - 1, grade_label__in=WORST_LABELS).exists()


@transaction.atomic
def consequence_decide(*, actor, consequence, status, decided_on=None, done_on=None, notes=""):
    """The party committee's decision, recorded by staff, then tracked until carried out. One
    conditional update: a decision taken meanwhile by someone else is not overwritten unread."""
    moves = {
        ConsequenceStatus.ADOPTED: {ConsequenceStatus.RECOMMENDED},
        ConsequenceStatus.NOT_ADOPTED: {ConsequenceStatus.RECOMMENDED},
        ConsequenceStatus.DONE: {ConsequenceStatus.ADOPTED},
    }
    if status not in moves:
        raise ValidationError({"status": _("Choose a decision.")})
    today = timezone.localdate()
    if status == ConsequenceStatus.DONE:
        if done_on is None or done_on > today:
            raise ValidationError({"done_on": _("Give the day it was carried out (not after today).")})
        fields = {"status": status, "done_on": done_on}
    else:
        if decided_on is None or decided_on > today:
            raise ValidationError({"decided_on": _("Give the day of the decision (not after today).")})
        fields = {"status": status, "decided_on": decided_on}
    if notes.strip():
        fields["notes"] = notes.strip()
    moved = Consequence.objects.filter(pk=consequence.pk, status__in=moves[status]).update(decided_by=actor, **fields)
    fresh = Consequence.objects.get(pk=consequence.pk)
    if not moved:
        raise ValidationError(
            _("This cannot be done now: the consequence is %(status)s.") % {"status": fresh.get_status_display()}
        )
    Consequence.history.bulk_history_create(
        [fresh], update=True, default_user=actor, default_change_reason=str(fresh.get_status_display())
    )
    return fresh


@transaction.atomic
def past_result_record(*, actor, person, organization, post_label, year, grade_label):
    found = PastResult.objects.filter(person=person, year=year).first()
    if found is None:
        found = PastResult(person=person, year=year)
    found.organization, found.post_label, found.grade_label = organization, post_label, grade_label
    return _save(found, actor=actor, reason=_("past result recorded"))
